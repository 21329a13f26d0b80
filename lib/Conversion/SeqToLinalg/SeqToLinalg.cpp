//===- SeqToLinalg.cpp - the convert-seq-to-linalg pass -------------------===//
//
// Part of seqc.
//
//===----------------------------------------------------------------------===//

#include "seqc/Conversion/Passes.h"

#include "LoweringUtils.h"

#include "seq/IR/SeqDialect.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::seqc {
#define GEN_PASS_DEF_CONVERTSEQTOLINALG
#include "seqc/Conversion/Passes.h.inc"
} // namespace mlir::seqc

using namespace mlir;
using namespace mlir::seqc;

void mlir::seqc::populateSeqToLinalgPatterns(RewritePatternSet &patterns,
                                             const AttentionTiling &tiling) {
  populateAttentionToLinalgPatterns(patterns, tiling.tileQ, tiling.tileKV);
  populateScansToLinalgPatterns(patterns);
  populateRecurrenceToLinalgPatterns(patterns);
  populateLayersToLinalgPatterns(patterns);
}

namespace {
struct ConvertSeqToLinalg
    : seqc::impl::ConvertSeqToLinalgBase<ConvertSeqToLinalg> {
  using Base::Base;

  void runOnOperation() override {
    if (attentionTileQ < 1 || attentionTileKV < 1) {
      getOperation().emitError()
          << "convert-seq-to-linalg: attention tile sizes must be positive";
      return signalPassFailure();
    }
    // Name the one thing the patterns cannot handle, rather than leave a
    // generic "failed to legalize".
    WalkResult dynamic = getOperation()->walk([](Operation *op) {
      if (!isa<seq::SeqDialect>(op->getDialect()))
        return WalkResult::advance();
      if (hasStaticShapes(op))
        return WalkResult::advance();
      op->emitOpError()
          << "has dynamic shapes; convert-seq-to-linalg needs static sizes";
      return WalkResult::interrupt();
    });
    if (dynamic.wasInterrupted())
      return signalPassFailure();
    RewritePatternSet patterns(&getContext());
    populateSeqToLinalgPatterns(patterns,
                                AttentionTiling{attentionTileQ, attentionTileKV});
    ConversionTarget target(getContext());
    target.addIllegalDialect<seq::SeqDialect>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
