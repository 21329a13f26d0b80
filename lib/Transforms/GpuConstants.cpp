//===- GpuConstants.cpp - the seqc-gpu-constants pass ---------------------===//
//
// Part of seqc.
//
//===----------------------------------------------------------------------===//

#include "seqc/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::seqc {
#define GEN_PASS_DEF_SEQCGPUCONSTANTS
#include "seqc/Transforms/Passes.h.inc"
} // namespace mlir::seqc

using namespace mlir;

namespace {
struct SeqcGpuConstants : seqc::impl::SeqcGpuConstantsBase<SeqcGpuConstants> {
  void runOnOperation() override {
    SmallVector<arith::ConstantOp> constants;
    getOperation()->walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (isa<gpu::GPUModuleOp, gpu::LaunchOp>(op))
        return WalkResult::skip();
      if (auto constant = dyn_cast<arith::ConstantOp>(op);
          constant && isa<RankedTensorType>(constant.getType()))
        constants.push_back(constant);
      return WalkResult::advance();
    });
    IRRewriter rewriter(&getContext());
    bool failed = false;
    for (arith::ConstantOp constant : constants) {
      auto type = cast<RankedTensorType>(constant.getType());
      auto dense = dyn_cast<DenseElementsAttr>(constant.getValue());
      if (!dense || !dense.isSplat()) {
        constant.emitOpError()
            << "is a non-splat constant tensor, which the cuda target cannot "
               "place on the device yet (pass it as an argument)";
        failed = true;
        continue;
      }
      rewriter.setInsertionPoint(constant);
      Location loc = constant.getLoc();
      Value empty = tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                            type.getElementType());
      Value scalar = arith::ConstantOp::create(
          rewriter, loc, type.getElementType(),
          cast<TypedAttr>(dense.getSplatValue<Attribute>()));
      rewriter.replaceOp(constant, linalg::FillOp::create(rewriter, loc,
                                                          scalar, empty)
                                       ->getResults());
    }
    if (failed)
      signalPassFailure();
  }
};
} // namespace
