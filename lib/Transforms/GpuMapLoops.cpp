//===- GpuMapLoops.cpp - the seqc-gpu-map-loops pass ----------------------===//
//
// Part of seqc.
//
//===----------------------------------------------------------------------===//

#include "seqc/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::seqc {
#define GEN_PASS_DEF_SEQCGPUMAPLOOPS
#include "seqc/Transforms/Passes.h.inc"
} // namespace mlir::seqc

using namespace mlir;

namespace {

/// Keeps a reduction loop's accumulator in a register: in
///
///   scf.for %k ... { %a = memref.load %out[%i]; ...; memref.store %s, %out[%i] }
///
/// with %out[%i] loop-invariant and no other write in the loop, the load
/// moves before the loop, the value is carried as an iter_arg and stored
/// once after it. Without this every iteration stores to global memory and
/// the next iteration's loads may not pass that store (they could alias):
/// a GEMV thread waits a memory latency per product. The loops come from
/// linalg ops, whose inputs and outputs bufferization keeps from
/// overlapping, so the other loads do not read %out.
bool promoteAccumulator(RewriterBase &rewriter, scf::ForOp loop) {
  Block *body = loop.getBody();
  memref::StoreOp store;
  for (Operation &op : *body) {
    if (auto s = dyn_cast<memref::StoreOp>(op)) {
      if (store)
        return false;
      store = s;
      continue;
    }
    // Nothing else may write, nested ops included (inner loops were
    // promoted first, so their stores are after them, outside).
    WalkResult writes = op.walk([](Operation *nested) {
      if (nested->hasTrait<OpTrait::HasRecursiveMemoryEffects>() ||
          isa<memref::LoadOp>(nested) || isMemoryEffectFree(nested))
        return WalkResult::advance();
      return WalkResult::interrupt();
    });
    if (writes.wasInterrupted())
      return false;
  }
  if (!store || !loop.isDefinedOutsideOfLoop(store.getMemRef()) ||
      !llvm::all_of(store.getIndices(),
                    [&](Value v) { return loop.isDefinedOutsideOfLoop(v); }))
    return false;
  // One load of the stored element, before the store, in the loop's own
  // block; no other access to that buffer in the loop.
  memref::LoadOp load;
  for (Operation *user : store.getMemRef().getUsers()) {
    if (user == store.getOperation() || !loop->isAncestor(user))
      continue;
    auto l = dyn_cast<memref::LoadOp>(user);
    if (!l || load || l->getBlock() != body ||
        l.getIndices() != store.getIndices() || !l->isBeforeInBlock(store))
      return false;
    load = l;
  }
  if (!load)
    return false;
  rewriter.setInsertionPoint(loop);
  Value init = memref::LoadOp::create(rewriter, load.getLoc(),
                                      store.getMemRef(), store.getIndices());
  Value stored = store.getValueToStore();
  FailureOr<LoopLikeOpInterface> grown = loop.replaceWithAdditionalYields(
      rewriter, ValueRange{init}, /*replaceInitOperandUsesInLoop=*/false,
      [&](OpBuilder &, Location, ArrayRef<BlockArgument>) {
        return SmallVector<Value>{stored};
      });
  if (failed(grown))
    return false;
  auto newLoop = cast<scf::ForOp>(grown->getOperation());
  rewriter.replaceAllUsesWith(load.getResult(),
                              newLoop.getRegionIterArgs().back());
  rewriter.setInsertionPointAfter(newLoop);
  memref::StoreOp::create(rewriter, store.getLoc(), newLoop.getResults().back(),
                          store.getMemRef(), store.getIndices());
  rewriter.eraseOp(store);
  rewriter.eraseOp(load);
  return true;
}

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
    IRRewriter rewriter(&getContext());
    for (scf::ParallelOp loop : loops) {
      // Inner loops first (post-order), so an outer reduction loop sees
      // the inner one's single store.
      SmallVector<scf::ForOp> reductions;
      loop.walk([&](scf::ForOp inner) { reductions.push_back(inner); });
      for (scf::ForOp inner : reductions)
        promoteAccumulator(rewriter, inner);
    }
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
