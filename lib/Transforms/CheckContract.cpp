//===- CheckContract.cpp - the seqc-check-contract pass -------------------===//
//
// Part of seqc.
//
//===----------------------------------------------------------------------===//

#include "seqc/Transforms/Passes.h"

#include "seq/IR/SeqDialect.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::seqc {
#define GEN_PASS_DEF_SEQCCHECKCONTRACT
#include "seqc/Transforms/Passes.h.inc"
} // namespace mlir::seqc

using namespace mlir;

namespace {
struct SeqcCheckContract
    : seqc::impl::SeqcCheckContractBase<SeqcCheckContract> {
  using Base::Base;

  void runOnOperation() override {
    bool llvmStage = stage == "llvm", gpuHostStage = stage == "gpu-host";
    if (!llvmStage && !gpuHostStage && stage != "linalg") {
      getOperation().emitError()
          << "seqc-check-contract: unknown stage '" << stage
          << "' (expected 'linalg', 'gpu-host' or 'llvm')";
      return signalPassFailure();
    }
    bool failed = false;
    if (gpuHostStage) {
      // Host functions of a GPU module: buffers are device memory, so only
      // views, allocation, launches and control flow may touch them.
      getOperation()->walk<WalkOrder::PreOrder>([&](Operation *op) {
        if (isa<gpu::LaunchOp, gpu::GPUModuleOp>(op))
          return WalkResult::skip();
        bool touchesMemory =
            isa<memref::LoadOp, memref::StoreOp, memref::CopyOp>(op) ||
            isa_and_nonnull<linalg::LinalgDialect, vector::VectorDialect>(
                op->getDialect()) ||
            isa<scf::ParallelOp, scf::ForallOp>(op);
        if (touchesMemory) {
          op->emitError() << "'" << op->getName()
                          << "' op would run on the host against device "
                             "memory (seqc-check-contract stage=gpu-host)";
          failed = true;
        }
        return WalkResult::advance();
      });
      if (failed)
        signalPassFailure();
      return;
    }
    getOperation()->walk([&](Operation *op) {
      Dialect *dialect = op->getDialect();
      // At the llvm stage, OpenMP ops remain for the OpenMP translation and
      // gpu.binary ops hold the kernels to embed, launched by the
      // gpu.launch_func ops their translation turns into runtime calls.
      bool bad = llvmStage
                     ? !isa<ModuleOp, gpu::BinaryOp, gpu::LaunchFuncOp>(op) &&
                           !isa_and_nonnull<LLVM::LLVMDialect,
                                            omp::OpenMPDialect>(dialect)
                     : isa_and_nonnull<seqc::seq::SeqDialect>(dialect);
      if (!bad)
        return;
      op->emitError() << "'" << op->getName() << "' op survived lowering to "
                      << stage << " (seqc-check-contract)";
      failed = true;
    });
    if (failed)
      signalPassFailure();
  }
};
} // namespace
