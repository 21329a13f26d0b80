//===- GpuSinkScalarLoads.cpp - the seqc-gpu-sink-scalar-loads pass -------===//
//
// Part of seqc.
//
//===----------------------------------------------------------------------===//

#include "seqc/Transforms/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mlir::seqc {
#define GEN_PASS_DEF_SEQCGPUSINKSCALARLOADS
#include "seqc/Transforms/Passes.h.inc"
} // namespace mlir::seqc

using namespace mlir;

namespace {

/// Whether anything in `func` may write `arg`'s buffer: a use by an op
/// with a write effect on it (directly or through views), or by an op
/// whose effects are unknown (a launch writing through a view, a call).
bool mayBeWritten(BlockArgument arg) {
  SmallVector<Value> work = {arg};
  while (!work.empty()) {
    Value v = work.pop_back_val();
    for (OpOperand &use : v.getUses()) {
      Operation *user = use.getOwner();
      if (isa<ViewLikeOpInterface, memref::CastOp>(user)) {
        work.append(user->result_begin(), user->result_end());
        continue;
      }
      if (isa<memref::LoadOp>(user))
        continue;
      auto effects = dyn_cast<MemoryEffectOpInterface>(user);
      if (!effects)
        return true; // gpu.launch, func.call, ...: assume a write
      SmallVector<MemoryEffects::EffectInstance> list;
      effects.getEffectsOnValue(v, list);
      if (llvm::any_of(list, [](const MemoryEffects::EffectInstance &e) {
            return isa<MemoryEffects::Write, MemoryEffects::Free>(
                e.getEffect());
          }))
        return true;
    }
  }
  return false;
}

struct SeqcGpuSinkScalarLoads
    : seqc::impl::SeqcGpuSinkScalarLoadsBase<SeqcGpuSinkScalarLoads> {
  /// Ops the chain from a load to a launch may go through: pure scalar and
  /// index arithmetic, and views (metadata only).
  static bool isSinkable(Operation *op) {
    if (isa<ViewLikeOpInterface, memref::CastOp, affine::AffineApplyOp,
            affine::AffineMinOp, affine::AffineMaxOp>(op))
      return true;
    return op->getDialect() &&
           isa<arith::ArithDialect>(op->getDialect()) && isPure(op);
  }

  /// Whether `value` (defined above a launch) reads device memory on the
  /// host: a load from a read-only argument, or arithmetic and views of
  /// one. Other host loads are not sunk.
  bool readsDevice(Value value, DenseMap<Value, bool> &memo) {
    auto it = memo.find(value);
    if (it != memo.end())
      return it->second;
    bool result = false;
    Operation *def = value.getDefiningOp();
    if (auto load = dyn_cast_or_null<memref::LoadOp>(def)) {
      auto arg = dyn_cast<BlockArgument>(load.getMemRef());
      result = arg && isa<func::FuncOp>(arg.getOwner()->getParentOp()) &&
               !mayBeWritten(arg) &&
               llvm::all_of(load.getIndices(), [&](Value index) {
                 return !readsDevice(index, memo) &&
                        (isa<BlockArgument>(index) ||
                         index.getDefiningOp()->hasTrait<
                             OpTrait::ConstantLike>());
               });
    } else if (def && isSinkable(def)) {
      result = llvm::any_of(def->getOperands(), [&](Value operand) {
        return readsDevice(operand, memo);
      });
    }
    memo[value] = result;
    return result;
  }

  /// Clones the chain defining `value` into `builder`'s block (operands
  /// already in `mapping` are reused).
  Value clone(Value value, OpBuilder &builder, IRMapping &mapping,
              DenseMap<Value, bool> &memo) {
    if (Value mapped = mapping.lookupOrNull(value))
      return mapped;
    Operation *def = value.getDefiningOp();
    if (!def || !(readsDevice(value, memo) ||
                  def->hasTrait<OpTrait::ConstantLike>()))
      return value; // a value the launch may take as an argument
    for (Value operand : def->getOperands())
      clone(operand, builder, mapping, memo);
    Operation *copy = builder.clone(*def, mapping);
    return copy->getResult(cast<OpResult>(value).getResultNumber());
  }

  static void eraseDeadChain(Value value) {
    Operation *def = value.getDefiningOp();
    if (!def || !isOpTriviallyDead(def))
      return;
    SmallVector<Value> operands(def->getOperands());
    def->erase();
    for (Value operand : operands)
      eraseDeadChain(operand);
  }

  /// Whether `op` is inside a gpu.launch.
  static bool onDevice(Operation *op) {
    return op->getParentOfType<gpu::LaunchOp>() != nullptr;
  }

  /// Whether a host loop can run whole in one thread on the device: it
  /// has no results in use, holds no launch, and does only scalar work on
  /// memory (loads, stores, views, scf, arith and math), none of it on a
  /// host stack buffer from outside.
  static bool isScalarDeviceLoop(Operation *loop) {
    if (llvm::any_of(loop->getResults(),
                     [](Value r) { return !r.use_empty(); }))
      return false;
    bool stores = false;
    WalkResult walk = loop->walk([&](Operation *op) {
      if (op == loop)
        return WalkResult::advance();
      stores |= isa<memref::StoreOp>(op);
      Dialect *dialect = op->getDialect();
      bool scalar = isSinkable(op) ||
                    isa<memref::LoadOp, memref::StoreOp>(op) ||
                    (dialect && isa<scf::SCFDialect, arith::ArithDialect,
                                    math::MathDialect>(dialect));
      if (!scalar)
        return WalkResult::interrupt();
      for (Value operand : op->getOperands())
        if (operand.getDefiningOp<memref::AllocaOp>() &&
            !loop->isAncestor(operand.getDefiningOp()))
          return WalkResult::interrupt();
      return WalkResult::advance();
    });
    return !walk.wasInterrupted() && stores;
  }

  /// A loop left on the host that only does scalar work on device memory
  /// (a linalg.reduce to a scalar, after bufferization a sequential loop)
  /// runs whole in one one-thread launch. Split op by op (below), it would
  /// be a launch per iteration, and a host loop of 10^12 launches.
  void launchHostLoops(func::FuncOp func) {
    SmallVector<Operation *> loops;
    func.walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (isa<gpu::LaunchOp>(op))
        return WalkResult::skip();
      if (isa<scf::ForOp, scf::WhileOp>(op) && isScalarDeviceLoop(op)) {
        loops.push_back(op);
        return WalkResult::skip();
      }
      return WalkResult::advance();
    });
    for (Operation *loop : loops) {
      OpBuilder b(loop);
      Location loc = loop->getLoc();
      Value one = arith::ConstantIndexOp::create(b, loc, 1);
      auto launch = gpu::LaunchOp::create(b, loc, one, one, one, one, one, one);
      OpBuilder inside = OpBuilder::atBlockBegin(&launch.getBody().front());
      auto terminator = gpu::TerminatorOp::create(inside, loc);
      loop->moveBefore(terminator);
    }
  }

  /// A store left on the host (a loop nest of one iteration that
  /// canonicalization folded away, a 0-d linalg op) runs in a one-thread
  /// launch, with the loads and scalar arithmetic it depends on. Stores
  /// whose inputs come from elsewhere, or with a write between their loads
  /// and themselves, stay (and seqc-check-contract reports them).
  void launchHostStores(func::FuncOp func) {
    SmallVector<memref::StoreOp> stores;
    func.walk([&](memref::StoreOp store) {
      if (!onDevice(store) &&
          !store.getMemRef().getDefiningOp<memref::AllocaOp>())
        stores.push_back(store);
    });
    for (memref::StoreOp store : stores) {
      Block *block = store->getBlock();
      llvm::SetVector<Operation *> slice;
      bool ok = true;
      SmallVector<Value> work(store->getOperands());
      while (!work.empty() && ok) {
        Value v = work.pop_back_val();
        Operation *def = v.getDefiningOp();
        if (!def || def->getBlock() != block || slice.contains(def))
          continue;
        if (isa<memref::LoadOp>(def) || isSinkable(def) ||
            def->hasTrait<OpTrait::ConstantLike>()) {
          slice.insert(def);
          work.append(def->operand_begin(), def->operand_end());
        }
        // Anything else (an allocation, a block argument) the launch
        // captures.
      }
      // The loads move to the store's position: unless they all read
      // arguments nothing writes, nothing between the slice's first op
      // and the store may write memory.
      bool readOnly = llvm::all_of(slice, [](Operation *op) {
        auto load = dyn_cast<memref::LoadOp>(op);
        if (!load)
          return true;
        auto arg = dyn_cast<BlockArgument>(load.getMemRef());
        return arg && isa<func::FuncOp>(arg.getOwner()->getParentOp()) &&
               !mayBeWritten(arg);
      });
      Operation *first = store;
      for (Operation *op : slice)
        if (!readOnly && op->isBeforeInBlock(first))
          first = op;
      for (Operation *op = first; op != store.getOperation();
           op = op->getNextNode()) {
        if (slice.contains(op))
          continue;
        auto effects = dyn_cast<MemoryEffectOpInterface>(op);
        bool writes = !isMemoryEffectFree(op) &&
                      (!effects || effects.hasEffect<MemoryEffects::Write>() ||
                       effects.hasEffect<MemoryEffects::Free>());
        if (writes) {
          ok = false;
          break;
        }
      }
      if (!ok)
        continue;
      SmallVector<Operation *> ordered(slice.begin(), slice.end());
      llvm::sort(ordered, [](Operation *a, Operation *b) {
        return a->isBeforeInBlock(b);
      });
      OpBuilder b(store);
      Location loc = store.getLoc();
      Value one = arith::ConstantIndexOp::create(b, loc, 1);
      auto launch = gpu::LaunchOp::create(b, loc, one, one, one, one, one, one);
      OpBuilder inside = OpBuilder::atBlockBegin(&launch.getBody().front());
      IRMapping mapping;
      for (Operation *op : ordered)
        inside.clone(*op, mapping);
      inside.clone(*store, mapping);
      gpu::TerminatorOp::create(inside, loc);
      store->erase();
      for (Operation *op : llvm::reverse(ordered))
        if (isOpTriviallyDead(op))
          op->erase();
    }
  }

  void runOnOperation() override {
    getOperation()->walk([&](func::FuncOp func) {
      launchHostLoops(func);
      launchHostStores(func);
    });
    DenseMap<Value, bool> memo;
    getOperation()->walk([&](gpu::LaunchOp launch) {
      // Values from above that the launch uses and that read device memory.
      llvm::SetVector<Value> needed;
      launch.getBody().walk([&](Operation *op) {
        for (Value operand : op->getOperands())
          if (!launch.getBody().isAncestor(operand.getParentRegion()) &&
              readsDevice(operand, memo))
            needed.insert(operand);
      });
      if (needed.empty())
        return;
      OpBuilder builder(launch.getContext());
      builder.setInsertionPointToStart(&launch.getBody().front());
      IRMapping mapping;
      for (Value value : needed) {
        Value inside = clone(value, builder, mapping, memo);
        value.replaceUsesWithIf(inside, [&](OpOperand &use) {
          return launch->isProperAncestor(use.getOwner());
        });
      }
      // The host chains that fed only this launch are dead now.
      for (Value value : needed)
        eraseDeadChain(value);
    });
  }
};
} // namespace
