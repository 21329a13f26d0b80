//===- GpuMapLoops.cpp - the seqc-gpu-map-loops pass ----------------------===//
//
// Part of seqc.
//
//===----------------------------------------------------------------------===//

#include "seqc/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"

namespace mlir::seqc {
#define GEN_PASS_DEF_SEQCGPUMAPLOOPS
#include "seqc/Transforms/Passes.h.inc"
} // namespace mlir::seqc

using namespace mlir;

namespace {
struct SeqcGpuMapLoops : seqc::impl::SeqcGpuMapLoopsBase<SeqcGpuMapLoops> {
  using Base::Base;

  void runOnOperation() override {
    if (threads < 1 || threads > 1024) {
      getOperation()->emitError()
          << "seqc-gpu-map-loops: threads must be in [1, 1024]";
      return signalPassFailure();
    }
    // Outermost host loops only: kernels already written (gpu.launch) keep
    // their own loops.
    SmallVector<scf::ParallelOp> loops;
    getOperation()->walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (isa<gpu::LaunchOp, gpu::GPUModuleOp>(op))
        return WalkResult::skip();
      if (auto loop = dyn_cast<scf::ParallelOp>(op)) {
        loops.push_back(loop);
        return WalkResult::skip();
      }
      return WalkResult::advance();
    });
    for (scf::ParallelOp loop : loops) {
      SmallVector<int64_t> tiles(loop.getNumLoops(), 1);
      tiles.back() = threads;
      // Tiles outside, elements inside, guarded by an scf.if for the partial
      // last tile; gpu-map-parallel-loops then maps the outer loop to blocks
      // and the inner one to threads.
      scf::tileParallelLoop(loop, tiles, /*noMinMaxBounds=*/true);
    }
  }
};
} // namespace
