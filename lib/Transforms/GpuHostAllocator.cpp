//===- GpuHostAllocator.cpp - the seqc-gpu-host-allocator pass ------------===//
//
// Part of seqc.
//
//===----------------------------------------------------------------------===//

#include "seqc/Transforms/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::seqc {
#define GEN_PASS_DEF_SEQCGPUHOSTALLOCATOR
#include "seqc/Transforms/Passes.h.inc"
} // namespace mlir::seqc

using namespace mlir;

namespace {
struct SeqcGpuHostAllocator
    : seqc::impl::SeqcGpuHostAllocatorBase<SeqcGpuHostAllocator> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    const std::pair<StringRef, StringRef> renames[] = {
        {"malloc", "seqcDeviceMalloc"},
        {"aligned_alloc", "seqcDeviceAlignedAlloc"},
        {"free", "seqcDeviceFree"}};
    for (auto [from, to] : renames) {
      auto decl = module.lookupSymbol<LLVM::LLVMFuncOp>(from);
      if (!decl)
        continue;
      // Host functions are the module's direct children; kernels live in
      // gpu.modules, which have symbol tables of their own.
      if (failed(SymbolTable::replaceAllSymbolUses(
              decl, StringAttr::get(&getContext(), to), module)))
        return signalPassFailure();
      SymbolTable::setSymbolName(decl, to);
    }
  }
};
} // namespace
