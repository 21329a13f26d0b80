//===- GpuDynamicShared.cpp - the seqc-gpu-dynamic-shared pass -------------===//
//
// Part of seqc.
//
//===----------------------------------------------------------------------===//

#include "seqc/Transforms/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::seqc {
#define GEN_PASS_DEF_SEQCGPUDYNAMICSHARED
#include "seqc/Transforms/Passes.h.inc"
} // namespace mlir::seqc

using namespace mlir;

namespace {
/// The shared address space's number (NVVM) and the alignment that
/// upstream's lowering of gpu.dynamic_shared_memory asks of the symbol it
/// reuses (16 bytes: a 128-bit alignment over i8 elements).
constexpr unsigned kSharedAddressSpace = 3;
constexpr uint64_t kDynamicAlignment = 16;

struct SeqcGpuDynamicShared
    : seqc::impl::SeqcGpuDynamicSharedBase<SeqcGpuDynamicShared> {
  void runOnOperation() override {
    gpu::GPUModuleOp module = getOperation();
    bool uses = module
                    .walk([](gpu::DynamicSharedMemoryOp) {
                      return WalkResult::interrupt();
                    })
                    .wasInterrupted();
    if (!uses)
      return;
    // The lowering takes the first zero-size array global of the shared
    // space with that alignment: where there is one, it is made external;
    // else ours goes first.
    for (auto global : module.getBody()->getOps<LLVM::GlobalOp>()) {
      auto array = dyn_cast<LLVM::LLVMArrayType>(global.getType());
      if (array && array.getNumElements() == 0 &&
          global.getAddrSpace() == kSharedAddressSpace &&
          global.getAlignment().value_or(0) == kDynamicAlignment) {
        global.setLinkage(LLVM::Linkage::External);
        return;
      }
    }
    SymbolTable symbols(module);
    OpBuilder b(&getContext());
    auto global = LLVM::GlobalOp::create(
        b, module.getLoc(),
        LLVM::LLVMArrayType::get(IntegerType::get(&getContext(), 8), 0),
        /*isConstant=*/false, LLVM::Linkage::External,
        "__seqc_dynamic_shared", /*value=*/Attribute(), kDynamicAlignment,
        kSharedAddressSpace);
    // (Renamed if a kernel's module has that name already.)
    symbols.insert(global, module.getBody()->begin());
  }
};
} // namespace
