//===- GpuMathIntrinsics.cpp - the seqc-gpu-math-intrinsics pass ----------===//
//
// Part of seqc.
//
//===----------------------------------------------------------------------===//

#include "seqc/Transforms/Passes.h"

#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/TypeSwitch.h"

namespace mlir::seqc {
#define GEN_PASS_DEF_SEQCGPUMATHINTRINSICS
#include "seqc/Transforms/Passes.h.inc"
} // namespace mlir::seqc

using namespace mlir;

namespace {
struct SeqcGpuMathIntrinsics
    : seqc::impl::SeqcGpuMathIntrinsicsBase<SeqcGpuMathIntrinsics> {
  void runOnOperation() override {
    // The arith ops LLVM has no instruction for (ceil/floor divisions).
    // Not the rest of arith-expand: it turns maxnumf/minnumf into compares
    // and selects, where NVPTX has max.f32/min.f32.
    RewritePatternSet divisions(&getContext());
    arith::populateCeilFloorDivExpandOpsPatterns(divisions);
    if (failed(applyPatternsGreedily(getOperation(), std::move(divisions))))
      return signalPassFailure();
    IRRewriter rewriter(&getContext());
    getOperation()->walk([&](Operation *op) {
      StringRef base = llvm::TypeSwitch<Operation *, StringRef>(op)
                           .Case<math::FmaOp>([](auto) { return "llvm.fma"; })
                           .Case<math::SqrtOp>([](auto) { return "llvm.sqrt"; })
                           .Case<math::AbsFOp>([](auto) { return "llvm.fabs"; })
                           .Case<math::FloorOp>([](auto) { return "llvm.floor"; })
                           .Case<math::CeilOp>([](auto) { return "llvm.ceil"; })
                           .Default([](Operation *) { return StringRef(); });
      if (base.empty() || op->getNumResults() != 1)
        return;
      // Scalars of the types LLVM names (f16/f32/f64); others are left for
      // the upstream lowering.
      Type type = op->getResult(0).getType();
      std::string suffix;
      if (type.isF16())
        suffix = ".f16";
      else if (type.isF32())
        suffix = ".f32";
      else if (type.isF64())
        suffix = ".f64";
      else
        return;
      rewriter.setInsertionPoint(op);
      auto call = LLVM::CallIntrinsicOp::create(
          rewriter, op->getLoc(), type,
          rewriter.getStringAttr(base.str() + suffix), op->getOperands());
      rewriter.replaceOp(op, call->getResults());
    });
  }
};
} // namespace
