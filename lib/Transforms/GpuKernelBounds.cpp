//===- GpuKernelBounds.cpp - the seqc-gpu-kernel-bounds pass ---------------===//
//
// Part of seqc.
//
//===----------------------------------------------------------------------===//

#include "seqc/Transforms/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"

namespace mlir::seqc {
#define GEN_PASS_DEF_SEQCGPUKERNELBOUNDS
#include "seqc/Transforms/Passes.h.inc"
} // namespace mlir::seqc

using namespace mlir;

namespace {
struct SeqcGpuKernelBounds
    : seqc::impl::SeqcGpuKernelBoundsBase<SeqcGpuKernelBounds> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<gpu::GPUFuncOp>()) {
      IntegerAttr bound;
      WalkResult result = func.walk([&](Operation *op) {
        auto attr = op->getAttrOfType<IntegerAttr>(seqc::kMinBlocksPerSMAttr);
        if (!attr)
          return WalkResult::advance();
        op->removeAttr(seqc::kMinBlocksPerSMAttr);
        if (bound && bound != attr) {
          func.emitError() << "seqc-gpu-kernel-bounds: kernel asks for "
                           << bound.getInt() << " and " << attr.getInt()
                           << " blocks a multiprocessor";
          return WalkResult::interrupt();
        }
        bound = attr;
        return WalkResult::advance();
      });
      if (result.wasInterrupted())
        return signalPassFailure();
      if (bound && func.isKernel())
        func->setAttr("nvvm.minctasm", bound);
    }
  }
};
} // namespace
