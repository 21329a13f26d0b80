//===- BoundaryLayouts.cpp - the seqc-boundary-layouts pass ---------------===//
//
// Part of seqc.
//
//===----------------------------------------------------------------------===//

#include "seqc/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::seqc {
#define GEN_PASS_DEF_SEQCBOUNDARYLAYOUTS
#include "seqc/Transforms/Passes.h.inc"
} // namespace mlir::seqc

using namespace mlir;

namespace {
/// `type` with unit innermost stride, other strides and the offset dynamic.
MemRefType unitInnermostStride(MemRefType type) {
  SmallVector<int64_t> strides(type.getRank(), ShapedType::kDynamic);
  strides.back() = 1;
  return MemRefType::get(
      type.getShape(), type.getElementType(),
      StridedLayoutAttr::get(type.getContext(), ShapedType::kDynamic, strides));
}

struct SeqcBoundaryLayouts
    : seqc::impl::SeqcBoundaryLayoutsBase<SeqcBoundaryLayouts> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (func.isPublic() && !func.isDeclaration())
        fixBoundary(func);
  }

  void fixBoundary(func::FuncOp func) {
    SmallVector<Type> argTypes(func.getArgumentTypes());
    SmallVector<Type> resultTypes(func.getResultTypes());
    Block &entry = func.front();
    OpBuilder b = OpBuilder::atBlockBegin(&entry);

    // Arguments: the body keeps seeing the fully dynamic type through a cast,
    // which canonicalization folds into the users.
    for (BlockArgument arg : entry.getArguments()) {
      auto type = dyn_cast<MemRefType>(arg.getType());
      if (!type || type.getRank() == 0)
        continue;
      MemRefType unit = unitInnermostStride(type);
      arg.setType(unit);
      auto cast = memref::CastOp::create(b, func.getLoc(), type, arg);
      arg.replaceAllUsesExcept(cast, cast);
      argTypes[arg.getArgNumber()] = unit;
    }

    // Results: return the contiguous allocation itself.
    func.walk([&](func::ReturnOp ret) {
      OpBuilder rb(ret);
      for (OpOperand &operand : ret->getOpOperands()) {
        auto type = dyn_cast<MemRefType>(operand.get().getType());
        if (!type || !type.hasStaticShape())
          continue;
        auto contiguous =
            MemRefType::get(type.getShape(), type.getElementType());
        Value value = operand.get();
        if (auto cast = value.getDefiningOp<memref::CastOp>())
          if (cast.getSource().getType() == contiguous)
            value = cast.getSource();
        if (value.getType() != contiguous) {
          Value copy = memref::AllocOp::create(rb, ret.getLoc(), contiguous);
          memref::CopyOp::create(rb, ret.getLoc(), value, copy);
          value = copy;
        }
        operand.set(value);
        resultTypes[operand.getOperandNumber()] = contiguous;
      }
    });
    func.setType(FunctionType::get(&getContext(), argTypes, resultTypes));
  }
};
} // namespace
