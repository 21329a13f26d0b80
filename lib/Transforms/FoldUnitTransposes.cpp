//===- FoldUnitTransposes.cpp - the seqc-fold-unit-transposes pass ---------===//
//
// Part of seqc.
//
//===----------------------------------------------------------------------===//

#include "seqc/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::seqc {
#define GEN_PASS_DEF_SEQCFOLDUNITTRANSPOSES
#include "seqc/Transforms/Passes.h.inc"
} // namespace mlir::seqc

using namespace mlir;

namespace {
struct UnitTransposeToReshape : OpRewritePattern<linalg::TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(linalg::TransposeOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics())
      return failure();
    auto inType = dyn_cast<RankedTensorType>(op.getInput().getType());
    auto outType = dyn_cast<RankedTensorType>(op->getResult(0).getType());
    if (!inType || !outType || !inType.hasStaticShape())
      return failure();
    // The input dimensions larger than 1, in the order the result takes
    // them, must be in increasing order: then the elements keep their
    // row-major order.
    ArrayRef<int64_t> perm = op.getPermutation();
    SmallVector<int64_t> kept;
    int64_t previous = -1;
    for (int64_t d : perm) {
      if (inType.getDimSize(d) == 1)
        continue;
      if (d < previous)
        return failure();
      previous = d;
      kept.push_back(inType.getDimSize(d));
    }
    auto reassociationIn =
        getReassociationIndicesForCollapse(inType.getShape(), kept);
    auto reassociationOut =
        getReassociationIndicesForCollapse(outType.getShape(), kept);
    if (!reassociationIn || !reassociationOut)
      return failure();
    Location loc = op.getLoc();
    auto flatType = RankedTensorType::get(kept, inType.getElementType());
    Value flat = tensor::CollapseShapeOp::create(rewriter, loc, flatType,
                                                 op.getInput(), *reassociationIn);
    rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(op, outType, flat,
                                                       *reassociationOut);
    return success();
  }
};

struct SeqcFoldUnitTransposes
    : seqc::impl::SeqcFoldUnitTransposesBase<SeqcFoldUnitTransposes> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<UnitTransposeToReshape>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
