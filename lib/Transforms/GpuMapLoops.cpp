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

/// Whether `a` (in loop `la`) and `b` (in loop `lb`) index the same element
/// in corresponding iterations: each pair is the same induction variable or
/// the same value from above both loops.
bool sameIndices(ValueRange a, scf::ParallelOp la, ValueRange b,
                 scf::ParallelOp lb) {
  if (a.size() != b.size())
    return false;
  // (getInductionVars returns a temporary: keep it.)
  SmallVector<Value> ivsA(la.getInductionVars()), ivsB(lb.getInductionVars());
  for (auto [x, y] : llvm::zip(a, b)) {
    auto ivX = llvm::find(ivsA, x);
    if (ivX != ivsA.end()) {
      if (y != ivsB[ivX - ivsA.begin()])
        return false;
      continue;
    }
    if (x != y || !la.isDefinedOutsideOfLoop(x) || !lb.isDefinedOutsideOfLoop(y))
      return false;
  }
  return true;
}

/// A temporary filled with a value and then reduced into, element for
/// element, by the next loop nest (a split-K matmul's zero-filled
/// partials): the reduction starts from the value instead of loading it,
/// and the fill (a kernel launch and a pass over the buffer) goes. Only for
/// a memref.alloc the reduction overwrites whole (same iteration space,
/// same element per iteration) and reads nowhere else.
bool forwardFill(scf::ParallelOp fill, scf::ParallelOp reduce) {
  // fill: one store of a value from above at the loop's element.
  Block *fillBody = fill.getBody();
  if (fillBody->getOperations().size() != 2)
    return false;
  auto store = dyn_cast<memref::StoreOp>(fillBody->front());
  if (!store || !fill.isDefinedOutsideOfLoop(store.getValueToStore()))
    return false;
  Value buffer = store.getMemRef();
  if (!buffer.getDefiningOp<memref::AllocOp>())
    return false;
  if (fill.getLowerBound() != reduce.getLowerBound() ||
      fill.getUpperBound() != reduce.getUpperBound() ||
      fill.getStep() != reduce.getStep() || !fill.getInitVals().empty() ||
      !reduce.getInitVals().empty())
    return false;
  // reduce: in its own block, one load (the accumulator's start) and one
  // store of that element, both unconditional; no other access.
  memref::LoadOp init;
  memref::StoreOp last;
  for (Operation *user : buffer.getUsers()) {
    if (user == store.getOperation())
      continue;
    if (!reduce->isAncestor(user)) {
      // Anything else (a view that could alias the reads) comes after.
      Operation *atTop = reduce->getBlock()->findAncestorOpInBlock(*user);
      if (!atTop || !reduce->isBeforeInBlock(atTop))
        return false;
      continue;
    }
    if (user->getBlock() != reduce.getBody())
      return false;
    if (auto load = dyn_cast<memref::LoadOp>(user)) {
      if (init)
        return false;
      init = load;
    } else if (auto s = dyn_cast<memref::StoreOp>(user)) {
      if (last || s.getMemRef() != buffer)
        return false;
      last = s;
    } else {
      return false;
    }
  }
  if (!init || !last || !init->isBeforeInBlock(last) ||
      !sameIndices(store.getIndices(), fill, init.getIndices(), reduce) ||
      !sameIndices(store.getIndices(), fill, last.getIndices(), reduce))
    return false;
  init.getResult().replaceAllUsesWith(store.getValueToStore());
  init->erase();
  fill->erase();
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
    // Fills whose every element the next loop nest overwrites, having
    // started its reduction from it.
    llvm::SmallPtrSet<Operation *, 8> erased;
    for (scf::ParallelOp loop : loops) {
      if (erased.contains(loop))
        continue;
      auto next = dyn_cast_or_null<scf::ParallelOp>(loop->getNextNode());
      if (next && forwardFill(loop, next))
        erased.insert(loop);
    }
    llvm::erase_if(loops, [&](scf::ParallelOp l) { return erased.contains(l); });
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
