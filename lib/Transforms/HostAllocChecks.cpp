//===- HostAllocChecks.cpp - the seqc-host-alloc-checks pass ---------------===//
//
// Part of seqc.
//
//===----------------------------------------------------------------------===//

#include "seqc/Transforms/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::seqc {
#define GEN_PASS_DEF_SEQCHOSTALLOCCHECKS
#include "seqc/Transforms/Passes.h.inc"
} // namespace mlir::seqc

using namespace mlir;

namespace {

constexpr StringLiteral kAlloc = "seqcHostAlloc",
                        kAlignedAlloc = "seqcHostAlignedAlloc",
                        kFailed = "seqcHostAllocFailed";

struct SeqcHostAllocChecks
    : seqc::impl::SeqcHostAllocChecksBase<SeqcHostAllocChecks> {
  /// `name`'s declaration, created at the module's start if missing.
  LLVM::LLVMFuncOp declare(ModuleOp module, StringRef name,
                           LLVM::LLVMFunctionType type) {
    if (auto existing = module.lookupSymbol<LLVM::LLVMFuncOp>(name))
      return existing;
    OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
    return LLVM::LLVMFuncOp::create(b, module.getLoc(), name, type);
  }

  /// The block `func` returns from when an allocation failed (made once).
  Block *failureBlock(LLVM::LLVMFuncOp func, DenseMap<Operation *, Block *> &made) {
    Block *&block = made[func];
    if (block)
      return block;
    block = new Block();
    func.getBody().push_back(block);
    OpBuilder b = OpBuilder::atBlockEnd(block);
    Type result = func.getFunctionType().getReturnType();
    if (isa<LLVM::LLVMVoidType>(result)) {
      LLVM::ReturnOp::create(b, func.getLoc(), ValueRange{});
    } else {
      Value poison = LLVM::PoisonOp::create(b, func.getLoc(), result);
      LLVM::ReturnOp::create(b, func.getLoc(), poison);
    }
    return block;
  }

  /// After `call`, branches to `fail` when `condition(builder)` holds.
  void branchAfter(LLVM::CallOp call, Block *fail,
                   function_ref<Value(OpBuilder &)> condition) {
    Block *before = call->getBlock();
    Block *next = before->splitBlock(std::next(call->getIterator()));
    OpBuilder b = OpBuilder::atBlockEnd(before);
    Value failed = condition(b);
    LLVM::CondBrOp::create(b, call.getLoc(), failed, fail, ValueRange{}, next,
                           ValueRange{});
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    auto ptr = LLVM::LLVMPointerType::get(ctx);
    auto i64 = IntegerType::get(ctx, 64), i32 = IntegerType::get(ctx, 32);
    // Calls to check: allocations, and calls of the module's own functions.
    SmallVector<std::pair<LLVM::CallOp, bool>> calls; // (call, isAlloc)
    module.walk([&](LLVM::CallOp call) {
      auto func = dyn_cast<LLVM::LLVMFuncOp>(call->getParentOp());
      if (!func) // inside an OpenMP region: it cannot return
        return;
      std::optional<StringRef> callee = call.getCallee();
      if (!callee)
        return;
      if (*callee == "malloc" || *callee == "aligned_alloc") {
        calls.push_back({call, true});
        return;
      }
      auto target = module.lookupSymbol<LLVM::LLVMFuncOp>(*callee);
      if (target && !target.isExternal())
        calls.push_back({call, false});
    });
    if (calls.empty())
      return;
    declare(module, kAlloc, LLVM::LLVMFunctionType::get(ptr, {i64}));
    declare(module, kAlignedAlloc, LLVM::LLVMFunctionType::get(ptr, {i64, i64}));
    declare(module, kFailed, LLVM::LLVMFunctionType::get(i32, {}));
    DenseMap<Operation *, Block *> failureBlocks;
    for (auto [checked, isAlloc] : calls) {
      LLVM::CallOp call = checked;
      auto func = cast<LLVM::LLVMFuncOp>(call->getParentOp());
      Block *fail = failureBlock(func, failureBlocks);
      Location loc = call.getLoc();
      if (isAlloc) {
        call.setCallee(*call.getCallee() == "malloc" ? kAlloc : kAlignedAlloc);
        branchAfter(call, fail, [&](OpBuilder &b) {
          Value null = LLVM::ZeroOp::create(b, loc, ptr);
          return LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::eq,
                                      call.getResult(), null)
              .getResult();
        });
        continue;
      }
      branchAfter(call, fail, [&](OpBuilder &b) {
        Value flag = LLVM::CallOp::create(b, loc, TypeRange{i32}, kFailed,
                                          ValueRange{})
                         .getResult();
        Value zero = LLVM::ConstantOp::create(b, loc, i32, 0);
        return LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::ne, flag, zero)
            .getResult();
      });
    }
  }
};
} // namespace
