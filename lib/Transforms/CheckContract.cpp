//===- CheckContract.cpp - the seqc-check-contract pass -------------------===//
//
// Part of seqc.
//
//===----------------------------------------------------------------------===//

#include "seqc/Transforms/Passes.h"

#include "seq/IR/SeqDialect.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
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
    bool llvmStage = stage == "llvm";
    if (!llvmStage && stage != "linalg") {
      getOperation().emitError()
          << "seqc-check-contract: unknown stage '" << stage
          << "' (expected 'linalg' or 'llvm')";
      return signalPassFailure();
    }
    bool failed = false;
    getOperation()->walk([&](Operation *op) {
      Dialect *dialect = op->getDialect();
      // At the llvm stage, OpenMP ops remain for the OpenMP translation.
      bool bad = llvmStage
                     ? !isa<ModuleOp>(op) &&
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
