//===- ReadonlyArguments.cpp - the seqc-readonly-arguments pass -----------===//
//
// Part of seqc.
//
//===----------------------------------------------------------------------===//

#include "seqc/Transforms/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "seq/IR/SeqDialect.h"

#include "llvm/ADT/DenseSet.h"

namespace mlir::seqc {
#define GEN_PASS_DEF_SEQCREADONLYARGUMENTS
#include "seqc/Transforms/Passes.h.inc"
} // namespace mlir::seqc

using namespace mlir;

namespace {
struct SeqcReadonlyArguments
    : seqc::impl::SeqcReadonlyArgumentsBase<SeqcReadonlyArguments> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (!func.isPublic() || func.isDeclaration())
        continue;
      // Arguments that a result is written into (`seq.in_place`) are the
      // caller's state buffers: writable.
      llvm::SmallDenseSet<int64_t> inPlace;
      for (unsigned r = 0, e = func.getNumResults(); r < e; ++r)
        if (auto arg = func.getResultAttrOfType<IntegerAttr>(
                r, seqc::seq::SeqDialect::kInPlaceAttrName))
          inPlace.insert(arg.getInt());
      for (auto [i, type] : llvm::enumerate(func.getArgumentTypes()))
        if (isa<TensorType>(type))
          func.setArgAttr(
              i, bufferization::BufferizationDialect::kWritableAttrName,
              BoolAttr::get(&getContext(), inPlace.contains(i)));
    }
  }
};
} // namespace
