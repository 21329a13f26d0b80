//===- GpuHostBuffers.cpp - the seqc-gpu-host-buffers pass ----------------===//
//
// Part of seqc.
//
//===----------------------------------------------------------------------===//

#include "seqc/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::seqc {
#define GEN_PASS_DEF_SEQCGPUHOSTBUFFERS
#include "seqc/Transforms/Passes.h.inc"
} // namespace mlir::seqc

using namespace mlir;

namespace {

/// Whether `value` (or a view of it) leaves its block through the block's
/// terminator.
bool escapes(Value value) {
  Operation *terminator = value.getParentBlock()->getTerminator();
  SmallVector<Value> work = {value};
  while (!work.empty()) {
    Value v = work.pop_back_val();
    for (OpOperand &use : v.getUses()) {
      Operation *user = use.getOwner();
      if (user == terminator)
        return true;
      // Views alias the buffer: follow them.
      if (isa<ViewLikeOpInterface>(user) || isa<memref::CastOp>(user))
        work.append(user->result_begin(), user->result_end());
    }
  }
  return false;
}

struct SeqcGpuHostBuffers
    : seqc::impl::SeqcGpuHostBuffersBase<SeqcGpuHostBuffers> {
  void runOnOperation() override {
    SmallVector<memref::AllocOp> allocs;
    getOperation()->walk([&](func::FuncOp func) {
      func.walk<WalkOrder::PreOrder>([&](Operation *op) {
        if (isa<gpu::LaunchOp>(op))
          return WalkResult::skip();
        if (auto alloc = dyn_cast<memref::AllocOp>(op))
          allocs.push_back(alloc);
        return WalkResult::advance();
      });
    });
    IRRewriter rewriter(&getContext());
    for (memref::AllocOp alloc : allocs) {
      Value buffer = alloc.getMemref();
      bool freed = llvm::any_of(buffer.getUsers(), [](Operation *user) {
        return isa<memref::DeallocOp>(user);
      });
      if (freed || escapes(buffer))
        continue;
      rewriter.setInsertionPoint(buffer.getParentBlock()->getTerminator());
      memref::DeallocOp::create(rewriter, alloc.getLoc(), buffer);
    }
  }
};
} // namespace
