//===- RaiseScans.cpp - the seq-raise-scans pass --------------------------===//
//
// Part of seqc. Linear-recurrence scans (the combiner composing affine maps)
// become seq.linear_recurrence, whose lowerings are the chunked two-level
// scans at bandwidth; see ScanOp::raiseToLinearRecurrence.
//
//===----------------------------------------------------------------------===//

#include "seqc/Transforms/Passes.h"

#include "seq/IR/SeqOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/PatternMatch.h"

#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "seq-raise-scans"

namespace mlir::seqc {
#define GEN_PASS_DEF_SEQRAISESCANS
#include "seqc/Transforms/Passes.h.inc"
} // namespace mlir::seqc

using namespace mlir;

namespace {
struct SeqRaiseScans : seqc::impl::SeqRaiseScansBase<SeqRaiseScans> {
  using SeqRaiseScansBase::SeqRaiseScansBase;

  void runOnOperation() override {
    SmallVector<seqc::seq::ScanOp> scans;
    getOperation()->walk([&](seqc::seq::ScanOp op) { scans.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (seqc::seq::ScanOp scan : scans) {
      Location loc = scan.getLoc();
      std::string why;
      if (succeeded(scan.raiseToLinearRecurrence(rewriter, &why)))
        continue;
      LLVM_DEBUG(llvm::dbgs() << "[seq-raise-scans] not raised: " << why
                              << "\n");
      if (explain)
        emitRemark(loc) << "seq-raise-scans: not raised: " << why;
    }
  }
};
} // namespace
