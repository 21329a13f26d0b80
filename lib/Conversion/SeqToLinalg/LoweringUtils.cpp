//===- LoweringUtils.cpp - shared pieces of the seq lowerings -------------===//
//
// Part of seqc.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

#include "seq/IR/SeqTypeInference.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;

namespace mlir::seqc {

Type f32Type(MLIRContext *ctx) { return Float32Type::get(ctx); }

//===----------------------------------------------------------------------===//
// ScalarMath
//===----------------------------------------------------------------------===//

/// `type` with its element type replaced by `element` (scalars and vectors).
static Type withElementType(Type type, Type element) {
  if (auto vector = dyn_cast<VectorType>(type))
    return vector.clone(element);
  return element;
}

Value ScalarMath::f32(Value v) {
  Type f32 = f32Type(b.getContext());
  Type from = getElementTypeOrSelf(v.getType());
  if (from == f32)
    return v;
  Type to = withElementType(v.getType(), f32);
  if (isa<IntegerType>(from))
    return arith::SIToFPOp::create(b, to, v);
  if (cast<FloatType>(from).getWidth() < 32)
    return arith::ExtFOp::create(b, to, v);
  return arith::TruncFOp::create(b, to, v);
}

Value ScalarMath::to(Value v, Type type) {
  Type from = getElementTypeOrSelf(v.getType());
  if (from == type)
    return v;
  Type to = withElementType(v.getType(), type);
  if (cast<FloatType>(type).getWidth() < cast<FloatType>(from).getWidth())
    return arith::TruncFOp::create(b, to, v);
  return arith::ExtFOp::create(b, to, v);
}

Value ScalarMath::constant(double v) {
  return arith::ConstantOp::create(b, b.getF32FloatAttr(v));
}
Value ScalarMath::add(Value x, Value y) {
  return arith::AddFOp::create(b, x, y, fastmath);
}
Value ScalarMath::sub(Value x, Value y) {
  return arith::SubFOp::create(b, x, y, fastmath);
}
Value ScalarMath::mul(Value x, Value y) {
  return arith::MulFOp::create(b, x, y, fastmath);
}
Value ScalarMath::div(Value x, Value y) {
  return arith::DivFOp::create(b, x, y, fastmath);
}
Value ScalarMath::max(Value x, Value y) {
  return arith::MaximumFOp::create(b, x, y, fastmath);
}
Value ScalarMath::maxnum(Value x, Value y) {
  return arith::MaxNumFOp::create(b, x, y, fastmath);
}
Value ScalarMath::exp(Value x) { return math::ExpOp::create(b, x); }

Value attentionRowSawKeys(ScalarMath &m, Value l) {
  return m.cmp(arith::CmpFPredicate::UNE, l, m.constant(0.0));
}
Value ScalarMath::log(Value x) { return math::LogOp::create(b, x); }
Value ScalarMath::tanh(Value x) { return math::TanhOp::create(b, x); }
Value ScalarMath::rsqrt(Value x) { return math::RsqrtOp::create(b, x); }

Value ScalarMath::silu(Value x) {
  return div(x, add(constant(1.0), exp(sub(constant(0.0), x))));
}

Value ScalarMath::softplus(Value x) {
  // log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow for large |x|.
  Value absX = math::AbsFOp::create(b, x);
  Value tail = math::Log1pOp::create(b, exp(sub(constant(0.0), absX)));
  return add(max(x, constant(0.0)), tail);
}

Value ScalarMath::select(Value cond, Value x, Value y) {
  return arith::SelectOp::create(b, cond, x, y);
}
Value ScalarMath::cmp(arith::CmpFPredicate pred, Value x, Value y) {
  return arith::CmpFOp::create(b, pred, x, y);
}
Value ScalarMath::index(int64_t dim) { return linalg::IndexOp::create(b, dim); }
Value ScalarMath::indexConstant(int64_t v) {
  return arith::ConstantIndexOp::create(b, v);
}
Value ScalarMath::indexToF32(Value v) {
  Value i64 = arith::IndexCastOp::create(b, b.getI64Type(), v);
  return arith::SIToFPOp::create(b, f32Type(b.getContext()), i64);
}

//===----------------------------------------------------------------------===//
// Tensors and generics
//===----------------------------------------------------------------------===//

static TypedAttr scalarAttr(Builder &b, Type type, double value) {
  if (auto floatType = dyn_cast<FloatType>(type))
    return b.getFloatAttr(floatType, value);
  return b.getIntegerAttr(type, static_cast<int64_t>(value));
}

Value filledTensor(ImplicitLocOpBuilder &b, ArrayRef<OpFoldResult> sizes,
                   Type elementType, double value) {
  Value empty = tensor::EmptyOp::create(b, sizes, elementType);
  Value scalar =
      arith::ConstantOp::create(b, scalarAttr(b, elementType, value));
  return linalg::FillOp::create(b, scalar, empty).getResult(0);
}

Value filledTensor(ImplicitLocOpBuilder &b, ArrayRef<int64_t> shape,
                   Type elementType, double value) {
  return filledTensor(b, getAsIndexOpFoldResult(b.getContext(), shape),
                      elementType, value);
}

Value emptyTensor(ImplicitLocOpBuilder &b, ArrayRef<int64_t> shape,
                  Type elementType) {
  return tensor::EmptyOp::create(b, shape, elementType);
}

Value emptyTensor(ImplicitLocOpBuilder &b, ArrayRef<OpFoldResult> sizes,
                  Type elementType) {
  return tensor::EmptyOp::create(b, sizes, elementType);
}

SmallVector<Value> buildGeneric(ImplicitLocOpBuilder &b, ValueRange ins,
                                ValueRange outs, ArrayRef<AffineMap> maps,
                                ArrayRef<utils::IteratorType> iterators,
                                GenericBody body) {
  auto op = linalg::GenericOp::create(
      b, TypeRange(outs), ins, outs, maps, iterators,
      [&](OpBuilder &nested, Location loc, ValueRange args) {
        ImplicitLocOpBuilder nb(loc, nested);
        linalg::YieldOp::create(nb, body(nb, args));
      });
  return SmallVector<Value>(op->getResults());
}

AffineMap identityMap(MLIRContext *ctx, int64_t rank) {
  return AffineMap::getMultiDimIdentityMap(rank, ctx);
}

AffineMap projectionMap(MLIRContext *ctx, int64_t rank,
                        ArrayRef<int64_t> dims) {
  SmallVector<AffineExpr> exprs;
  for (int64_t d : dims)
    exprs.push_back(getAffineDimExpr(d, ctx));
  return AffineMap::get(rank, 0, exprs, ctx);
}

SmallVector<Value> buildElementwise(ImplicitLocOpBuilder &b, ValueRange ins,
                                    ArrayRef<AffineMap> inMaps,
                                    ValueRange outs, GenericBody body) {
  int64_t rank = cast<RankedTensorType>(outs[0].getType()).getRank();
  SmallVector<AffineMap> maps(inMaps);
  maps.append(outs.size(), identityMap(b.getContext(), rank));
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  return buildGeneric(b, ins, outs, maps, iterators, body);
}

//===----------------------------------------------------------------------===//
// Time loops
//===----------------------------------------------------------------------===//

/// Offsets, sizes and strides of the unit slice at `t` along `dim`.
static void stepSlice(ImplicitLocOpBuilder &b, RankedTensorType type,
                      int64_t dim, Value t, SmallVector<OpFoldResult> &offsets,
                      SmallVector<OpFoldResult> &sizes,
                      SmallVector<OpFoldResult> &strides) {
  for (int64_t i = 0; i < type.getRank(); ++i) {
    offsets.push_back(i == dim ? OpFoldResult(t) : b.getIndexAttr(0));
    sizes.push_back(b.getIndexAttr(i == dim ? 1 : type.getDimSize(i)));
    strides.push_back(b.getIndexAttr(1));
  }
}

// Steps are unit slices collapsed with an explicit reassociation, never
// rank-reducing slices: with several unit dimensions (batch 1, say) a
// rank-reducing slice does not say which one it drops.
Value extractStep(ImplicitLocOpBuilder &b, Value tensor, int64_t dim,
                  Value t) {
  auto type = cast<RankedTensorType>(tensor.getType());
  SmallVector<OpFoldResult> offsets, sizes, strides;
  stepSlice(b, type, dim, t, offsets, sizes, strides);
  Value slice =
      tensor::ExtractSliceOp::create(b, tensor, offsets, sizes, strides);
  return tensor::CollapseShapeOp::create(
      b, seq::dropDim(cast<RankedTensorType>(slice.getType()), dim), slice,
      seq::dropDimReassociation(type.getRank(), dim));
}

Value insertStep(ImplicitLocOpBuilder &b, Value step, Value dest, int64_t dim,
                 Value t) {
  auto type = cast<RankedTensorType>(dest.getType());
  SmallVector<OpFoldResult> offsets, sizes, strides;
  stepSlice(b, type, dim, t, offsets, sizes, strides);
  SmallVector<int64_t> unitShape(type.getShape());
  unitShape[dim] = 1;
  Value unit = tensor::ExpandShapeOp::create(
      b, RankedTensorType::get(unitShape, type.getElementType()), step,
      seq::dropDimReassociation(type.getRank(), dim));
  return tensor::InsertSliceOp::create(b, unit, dest, offsets, sizes, strides);
}

Value timeIndex(ImplicitLocOpBuilder &b, int64_t step, int64_t length,
                bool reverse) {
  return arith::ConstantIndexOp::create(b,
                                        reverse ? length - 1 - step : step);
}

SmallVector<Value> buildTimeLoop(ImplicitLocOpBuilder &b, int64_t begin,
                                 int64_t end, int64_t length, bool reverse,
                                 ValueRange init, TimeStepBody body) {
  if (begin >= end)
    return SmallVector<Value>(init);
  Value lb = arith::ConstantIndexOp::create(b, begin);
  Value ub = arith::ConstantIndexOp::create(b, end);
  Value one = arith::ConstantIndexOp::create(b, 1);
  auto loop = scf::ForOp::create(
      b, lb, ub, one, init,
      [&](OpBuilder &nested, Location loc, Value step, ValueRange carried) {
        ImplicitLocOpBuilder nb(loc, nested);
        Value t = step;
        if (reverse) {
          Value last = arith::ConstantIndexOp::create(nb, length - 1);
          t = arith::SubIOp::create(nb, last, step);
        }
        scf::YieldOp::create(nb, body(nb, t, carried));
      });
  return SmallVector<Value>(loop.getResults());
}

/// Rows per register block of the matmul micro-kernel: with N = 64 f32
/// columns (4 zmm each) 4 rows take 16 accumulator registers.
constexpr int64_t kMatmulRows = 4;

Value buildMatmulAccumulate(ImplicitLocOpBuilder &b, Value lhs, Value rhs,
                            Value acc) {
  auto accType = cast<RankedTensorType>(acc.getType());
  int64_t rows = accType.getDimSize(0), cols = accType.getDimSize(1);
  Type f32 = accType.getElementType();
  Type rhsElt = getElementTypeOrSelf(rhs.getType());
  auto rowType = VectorType::get({cols}, f32);
  auto rhsRowType = VectorType::get({cols}, rhsElt);
  Value c0 = arith::ConstantIndexOp::create(b, 0);
  Value one = arith::ConstantIndexOp::create(b, 1);
  Value depth = tensor::DimOp::create(b, lhs, 1);
  Value f32Zero = arith::ConstantOp::create(b, b.getZeroAttr(f32));
  Value rhsZero = arith::ConstantOp::create(b, b.getZeroAttr(rhsElt));

  // Rows [row0, row0 + count) of the result.
  auto block = [&](ImplicitLocOpBuilder &bb, Value row0, int64_t count,
                   Value out) -> Value {
    SmallVector<Value> rowIndex;
    for (int64_t r = 0; r < count; ++r)
      rowIndex.push_back(arith::AddIOp::create(
          bb, row0, arith::ConstantIndexOp::create(bb, r)));
    SmallVector<Value> init;
    for (Value i : rowIndex)
      init.push_back(vector::TransferReadOp::create(
          bb, rowType, out, ValueRange{i, c0}, f32Zero, ArrayRef<bool>{true}));
    auto loop = scf::ForOp::create(
        bb, c0, depth, one, init,
        [&](OpBuilder &nested, Location loc, Value k, ValueRange accs) {
          ImplicitLocOpBuilder ib(loc, nested);
          ScalarMath m(ib);
          Value rhsRow = m.f32(vector::TransferReadOp::create(
              ib, rhsRowType, rhs, ValueRange{k, c0}, rhsZero,
              ArrayRef<bool>{true}));
          SmallVector<Value> next;
          for (auto [i, accRow] : llvm::zip_equal(rowIndex, accs)) {
            Value a = m.f32(tensor::ExtractOp::create(ib, lhs, ValueRange{i, k}));
            Value splat = vector::BroadcastOp::create(ib, rowType, a);
            next.push_back(math::FmaOp::create(ib, splat, rhsRow, accRow));
          }
          scf::YieldOp::create(ib, next);
        });
    for (auto [i, accRow] : llvm::zip_equal(rowIndex, loop.getResults()))
      out = vector::TransferWriteOp::create(bb, accRow, out, ValueRange{i, c0},
                                            ArrayRef<bool>{true})
                .getResult();
    return out;
  };

  int64_t fullBlocks = rows / kMatmulRows, remainder = rows % kMatmulRows;
  Value out = acc;
  if (fullBlocks > 0) {
    auto loop = scf::ForOp::create(
        b, c0, arith::ConstantIndexOp::create(b, fullBlocks * kMatmulRows),
        arith::ConstantIndexOp::create(b, kMatmulRows), ValueRange{out},
        [&](OpBuilder &nested, Location loc, Value row0, ValueRange carried) {
          ImplicitLocOpBuilder ib(loc, nested);
          scf::YieldOp::create(ib, block(ib, row0, kMatmulRows, carried[0]));
        });
    out = loop.getResult(0);
  }
  if (remainder > 0)
    out = block(b, arith::ConstantIndexOp::create(b, fullBlocks * kMatmulRows),
                remainder, out);
  return out;
}

Value buildRowReduction(ImplicitLocOpBuilder &b, Value mat, Value init,
                        vector::CombiningKind kind) {
  auto matType = cast<RankedTensorType>(mat.getType());
  int64_t rows = matType.getDimSize(0), cols = matType.getDimSize(1);
  Type f32 = matType.getElementType();
  if (ShapedType::isDynamic(cols) || ShapedType::isDynamic(rows)) {
    MLIRContext *ctx = b.getContext();
    return buildGeneric(
        b, mat, init, {identityMap(ctx, 2), projectionMap(ctx, 2, {0})},
        {utils::IteratorType::parallel, utils::IteratorType::reduction},
        [&](ImplicitLocOpBuilder &bb, ValueRange args) -> SmallVector<Value> {
          return {vector::makeArithReduction(bb, bb.getLoc(), kind, args[1],
                                             args[0])};
        })[0];
  }
  auto rowType = VectorType::get({cols}, f32);
  Value c0 = arith::ConstantIndexOp::create(b, 0);
  Value zero = arith::ConstantOp::create(b, b.getZeroAttr(f32));
  auto loop = scf::ForOp::create(
      b, c0, arith::ConstantIndexOp::create(b, rows),
      arith::ConstantIndexOp::create(b, 1), ValueRange{init},
      [&](OpBuilder &nested, Location loc, Value i, ValueRange carried) {
        ImplicitLocOpBuilder ib(loc, nested);
        Value row = vector::TransferReadOp::create(
            ib, rowType, mat, ValueRange{i, c0}, zero, ArrayRef<bool>{true});
        Value acc = tensor::ExtractOp::create(ib, carried[0], ValueRange{i});
        Value reduced = vector::ReductionOp::create(ib, kind, row, acc);
        scf::YieldOp::create(
            ib, tensor::InsertOp::create(ib, reduced, carried[0], ValueRange{i})
                    .getResult());
      });
  return loop.getResult(0);
}

bool hasStaticShapes(Operation *op) {
  auto isStatic = [](Type type) {
    auto shaped = dyn_cast<ShapedType>(type);
    return !shaped || shaped.hasStaticShape();
  };
  return llvm::all_of(op->getOperandTypes(), isStatic) &&
         llvm::all_of(op->getResultTypes(), isStatic);
}

LogicalResult requireStaticShapes(Operation *op, PatternRewriter &rewriter) {
  if (hasStaticShapes(op))
    return success();
  return rewriter.notifyMatchFailure(op, "dynamic shapes are not supported");
}

} // namespace mlir::seqc
