//===- InPlaceResults.cpp - the seqc-in-place-results pass ----------------===//
//
// Part of seqc.
//
//===----------------------------------------------------------------------===//

#include "seqc/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "seq/IR/SeqDialect.h"

#include "llvm/ADT/BitVector.h"

namespace mlir::seqc {
#define GEN_PASS_DEF_SEQCINPLACERESULTS
#include "seqc/Transforms/Passes.h.inc"
} // namespace mlir::seqc

using namespace mlir;

namespace {

/// `value` without the casts and views in front of it.
Value source(Value value) {
  while (Operation *def = value.getDefiningOp()) {
    if (auto cast = dyn_cast<memref::CastOp>(def))
      value = cast.getSource();
    else if (auto view = dyn_cast<ViewLikeOpInterface>(def))
      value = view.getViewSource();
    else
      break;
  }
  return value;
}

/// `value` without the casts in front of it (a view is not the buffer).
Value withoutCasts(Value value) {
  while (auto cast = value.getDefiningOp<memref::CastOp>())
    value = cast.getSource();
  return value;
}

struct SeqcInPlaceResults
    : seqc::impl::SeqcInPlaceResultsBase<SeqcInPlaceResults> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (!func.isPublic() || func.isDeclaration())
        continue;
      if (failed(rewrite(func)))
        return signalPassFailure();
    }
  }

  LogicalResult rewrite(func::FuncOp func) {
    llvm::BitVector drop(func.getNumResults());
    SmallVector<std::pair<unsigned, int64_t>> tied;
    for (unsigned r = 0, e = func.getNumResults(); r < e; ++r)
      if (auto arg = func.getResultAttrOfType<IntegerAttr>(
              r, seqc::seq::SeqDialect::kInPlaceAttrName)) {
        tied.push_back({r, arg.getInt()});
        drop.set(r);
      }
    if (tied.empty())
      return success();
    SmallVector<func::ReturnOp> returns;
    func.walk([&](func::ReturnOp ret) { returns.push_back(ret); });
    for (func::ReturnOp ret : returns) {
      OpBuilder b(ret);
      for (auto [r, argIndex] : tied) {
        Value arg = func.getArgument(argIndex);
        if (!isa<BaseMemRefType>(arg.getType()))
          return func.emitError()
                 << "result #" << r << " is in place into argument #"
                 << argIndex << ", which did not bufferize to a memref";
        Value value = ret.getOperand(r);
        if (withoutCasts(value) == arg)
          continue; // bufferized in place
        // The copy below changes the argument's buffer before the other
        // results are copied out: one that is (a view of) it would read the
        // new state instead of the old.
        for (auto [other, otherValue] : llvm::enumerate(ret.getOperands()))
          if (!drop.test(other) && source(otherValue) == arg)
            return ret.emitError()
                   << "result #" << other << " returns (a view of) argument #"
                   << argIndex << ", which result #" << r
                   << " updates in place; return a copy";
        memref::CopyOp::create(b, ret.getLoc(), value, arg);
      }
      SmallVector<Value> kept;
      for (auto [i, value] : llvm::enumerate(ret.getOperands()))
        if (!drop.test(i))
          kept.push_back(value);
      ret->setOperands(kept);
    }
    if (failed(func.eraseResults(drop)))
      return func.emitError() << "cannot remove the in-place results";
    return success();
  }
};
} // namespace
