//===- GpuNameKernels.cpp - the seqc-gpu-name-kernels pass -----------------===//
//
// Part of seqc.
//
//===----------------------------------------------------------------------===//

#include "seqc/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

namespace mlir::seqc {
#define GEN_PASS_DEF_SEQCGPUNAMEKERNELS
#include "seqc/Transforms/Passes.h.inc"
} // namespace mlir::seqc

using namespace mlir;

namespace {
/// Whether `value` is the constant 1.
bool isOne(Value value) {
  auto constant = value.getDefiningOp<arith::ConstantIndexOp>();
  return constant && constant.value() == 1;
}

struct SeqcGpuNameKernels
    : seqc::impl::SeqcGpuNameKernelsBase<SeqcGpuNameKernels> {
  void runOnOperation() override {
    getOperation()->walk([&](gpu::LaunchOp launch) {
      // Outlining copies the body's ops with their attributes but drops
      // the launch's own: the occupancy bound rides on the first op.
      if (Attribute bound = launch->removeAttr(seqc::kMinBlocksPerSMAttr)) {
        Operation &first = launch.getBody().front().front();
        if (!first.hasTrait<OpTrait::IsTerminator>())
          first.setAttr(seqc::kMinBlocksPerSMAttr, bound);
      }
      if (launch.getFunctionAttr())
        return;
      auto func = launch->getParentOfType<FunctionOpInterface>();
      std::string name = func ? func.getName().str() : "kernel";
      Value sizes[] = {launch.getGridSizeX(),  launch.getGridSizeY(),
                       launch.getGridSizeZ(),  launch.getBlockSizeX(),
                       launch.getBlockSizeY(), launch.getBlockSizeZ()};
      bool loops = launch.getBody()
                       .walk([](Operation *op) {
                         return isa<scf::ForOp, scf::WhileOp>(op)
                                    ? WalkResult::interrupt()
                                    : WalkResult::advance();
                       })
                       .wasInterrupted();
      if (llvm::all_of(sizes, isOne))
        name += "_serial";
      else
        name += loops ? "_reduce" : "_map";
      launch.setFunctionAttr(
          FlatSymbolRefAttr::get(launch.getContext(), name));
    });
  }
};
} // namespace
