//===- MathApproximations.cpp - the seqc-math-approximations pass ---------===//
//
// Part of seqc.
//
//===----------------------------------------------------------------------===//

#include "seqc/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Approximation.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::seqc {
#define GEN_PASS_DEF_SEQCMATHAPPROXIMATIONS
#include "seqc/Transforms/Passes.h.inc"
} // namespace mlir::seqc

using namespace mlir;

namespace {
struct SeqcMathApproximations
    : seqc::impl::SeqcMathApproximationsBase<SeqcMathApproximations> {
  void runOnOperation() override {
    // The functions seq's lowerings use (by operation name); f16/bf16 go
    // through f32 first.
    auto approximated = [](StringRef name) {
      return llvm::is_contained(
          {math::ExpOp::getOperationName(), math::ExpM1Op::getOperationName(),
           math::LogOp::getOperationName(), math::Log1pOp::getOperationName(),
           math::Log2Op::getOperationName(), math::TanhOp::getOperationName(),
           math::SinOp::getOperationName(), math::CosOp::getOperationName()},
          name);
    };
    RewritePatternSet patterns(&getContext());
    populateMathF32ExpansionPatterns(patterns, approximated);
    populateMathPolynomialApproximationPatterns(patterns, approximated);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
