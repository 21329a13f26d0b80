//===- ReadonlyArguments.cpp - the seqc-readonly-arguments pass -----------===//
//
// Part of seqc.
//
//===----------------------------------------------------------------------===//

#include "seqc/Transforms/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::seqc {
#define GEN_PASS_DEF_SEQCREADONLYARGUMENTS
#include "seqc/Transforms/Passes.h.inc"
} // namespace mlir::seqc

using namespace mlir;

namespace {
struct SeqcReadonlyArguments
    : seqc::impl::SeqcReadonlyArgumentsBase<SeqcReadonlyArguments> {
  void runOnOperation() override {
    auto readonly = BoolAttr::get(&getContext(), false);
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (!func.isPublic() || func.isDeclaration())
        continue;
      for (auto [i, type] : llvm::enumerate(func.getArgumentTypes()))
        if (isa<TensorType>(type))
          func.setArgAttr(
              i, bufferization::BufferizationDialect::kWritableAttrName,
              readonly);
    }
  }
};
} // namespace
