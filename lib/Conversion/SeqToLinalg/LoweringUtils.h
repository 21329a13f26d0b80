//===- LoweringUtils.h - shared pieces of the seq lowerings -----*- C++ -*-===//
//
// Part of seqc. The one place for what every seq lowering needs: scalar math
// in f32 inside linalg.generic bodies, filled tensors, generic builders, and
// the time loop with its per-step slices. Each op's lowering composes these.
//
//===----------------------------------------------------------------------===//

#ifndef SEQC_LIB_CONVERSION_SEQTOLINALG_LOWERINGUTILS_H
#define SEQC_LIB_CONVERSION_SEQTOLINALG_LOWERINGUTILS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::seqc {

/// Scalar arithmetic for generic bodies. Values are computed in f32 whatever
/// the storage type: `f32()` widens, `to()` narrows back.
class ScalarMath {
public:
  /// `fastmath` flags go on every add, sub, mul, div and max: reductions
  /// that may be re-associated (dot products, row sums) say so, which lets
  /// LLVM vectorize them.
  explicit ScalarMath(ImplicitLocOpBuilder &b,
                      arith::FastMathFlags fastmath = arith::FastMathFlags::none)
      : b(b), fastmath(fastmath) {}

  Value f32(Value v);
  Value to(Value v, Type type);
  Value constant(double v);
  Value add(Value x, Value y);
  Value sub(Value x, Value y);
  Value mul(Value x, Value y);
  Value div(Value x, Value y);
  Value max(Value x, Value y);
  /// max ignoring NaN operands (llvm.maxnum): vectorizes as a reduction.
  Value maxnum(Value x, Value y);
  Value exp(Value x);
  Value log(Value x);
  Value tanh(Value x);
  Value rsqrt(Value x);
  /// x / (1 + exp(-x)).
  Value silu(Value x);
  /// log(1 + exp(x)), computed without overflow.
  Value softplus(Value x);
  Value select(Value cond, Value x, Value y);
  Value cmp(arith::CmpFPredicate pred, Value x, Value y);
  Value index(int64_t dim);
  Value indexConstant(int64_t v);
  Value indexToF32(Value v);

  ImplicitLocOpBuilder &b;
  arith::FastMathFlags fastmath;
};

/// Whether an attention row saw a key, given its softmax denominator `l`
/// (the sum of its exponentials): l != 0, unordered, so that a NaN sum (a
/// NaN score among the visible keys) counts as seen and the NaN reaches
/// the row's output and LSE. Rows with no visible key have l exactly 0 and
/// give 0 and -inf. (l > 0 had turned NaN rows into 0 and -inf.) Every
/// attention lowering, CPU and GPU, decides with this.
Value attentionRowSawKeys(ScalarMath &m, Value l);

/// A tensor of `shape` holding `value` everywhere.
Value filledTensor(ImplicitLocOpBuilder &b, ArrayRef<int64_t> shape,
                   Type elementType, double value);

/// A tensor of the dynamic-or-static `sizes` holding `value` everywhere.
Value filledTensor(ImplicitLocOpBuilder &b, ArrayRef<OpFoldResult> sizes,
                   Type elementType, double value);

/// An uninitialized tensor of `shape` (for outputs that are fully written).
Value emptyTensor(ImplicitLocOpBuilder &b, ArrayRef<int64_t> shape,
                  Type elementType);

/// An uninitialized tensor of dynamic-or-static `sizes`.
Value emptyTensor(ImplicitLocOpBuilder &b, ArrayRef<OpFoldResult> sizes,
                  Type elementType);

/// The body builder of a linalg.generic: block arguments in, yielded values
/// out.
using GenericBody =
    function_ref<SmallVector<Value>(ImplicitLocOpBuilder &, ValueRange)>;

/// A linalg.generic over `outs`' iteration space with the given maps (inputs
/// then outputs) and iterator types.
SmallVector<Value> buildGeneric(ImplicitLocOpBuilder &b, ValueRange ins,
                                ValueRange outs, ArrayRef<AffineMap> maps,
                                ArrayRef<utils::IteratorType> iterators,
                                GenericBody body);

/// An all-parallel linalg.generic whose loops are the dimensions of `outs`
/// (all of one shape); `inMaps` maps those loops to each input.
SmallVector<Value> buildElementwise(ImplicitLocOpBuilder &b, ValueRange ins,
                                    ArrayRef<AffineMap> inMaps,
                                    ValueRange outs, GenericBody body);

/// The identity map of `rank` loops.
AffineMap identityMap(MLIRContext *ctx, int64_t rank);

/// The projection of `rank` loops onto `dims` (in that order).
AffineMap projectionMap(MLIRContext *ctx, int64_t rank, ArrayRef<int64_t> dims);

/// The slice of `tensor` at index `t` of `dim`, with `dim` dropped.
Value extractStep(ImplicitLocOpBuilder &b, Value tensor, int64_t dim, Value t);

/// Writes `step` (the shape of `dest` without `dim`) into `dest` at index
/// `t` of `dim`.
Value insertStep(ImplicitLocOpBuilder &b, Value step, Value dest, int64_t dim,
                 Value t);

/// The time loop of every recurrence: steps `begin..end` of a sequence of
/// `length`, visiting time index `t = step` (or `length - 1 - step` when
/// `reverse`), carrying `init`. Returns the carried values after the last
/// step.
using TimeStepBody = function_ref<SmallVector<Value>(
    ImplicitLocOpBuilder &, Value t, ValueRange carried)>;
SmallVector<Value> buildTimeLoop(ImplicitLocOpBuilder &b, int64_t begin,
                                 int64_t end, int64_t length, bool reverse,
                                 ValueRange init, TimeStepBody body);

/// The time index of `step` (a constant) in a possibly reversed sequence.
Value timeIndex(ImplicitLocOpBuilder &b, int64_t step, int64_t length,
                bool reverse);

/// acc + lhs·rhs in f32, for lhs [M, K], rhs [K, N] (any float storage) and
/// acc [M, N] f32, with M and N static (K may be dynamic). The register
/// micro-kernel of every tile matmul: blocks of kMatmulRows rows keep their
/// accumulator rows in vector registers across the whole K loop; each step
/// loads one row of rhs once for the block and does one broadcast FMA per
/// row (c[i, :] += a[i, k]·b[k, :]), so rhs rows stream from L1 and
/// accumulators never touch memory inside the loop.
Value buildMatmulAccumulate(ImplicitLocOpBuilder &b, Value lhs, Value rhs,
                            Value acc);

/// init[i] ⊕ (⊕_j mat[i, j]) for mat [M, N] f32 and init [M] f32, ⊕ being
/// `kind` (add, maxnumf, ...). With static N each row is one vector
/// reduction; a dynamic N falls back to a linalg.generic.
Value buildRowReduction(ImplicitLocOpBuilder &b, Value mat, Value init,
                        vector::CombiningKind kind);

/// Whether every operand and result of `op` has a static shape (what the
/// lowerings need).
bool hasStaticShapes(Operation *op);

/// Fails (with a match-failure note) unless hasStaticShapes(op).
LogicalResult requireStaticShapes(Operation *op, PatternRewriter &rewriter);

/// The ranked tensor type of `v`.
inline RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// The f32 type of `ctx`.
Type f32Type(MLIRContext *ctx);

/// Lowering patterns of each op family.
void populateAttentionToLinalgPatterns(RewritePatternSet &patterns,
                                       int64_t tileQ, int64_t tileKV);
void populateScansToLinalgPatterns(RewritePatternSet &patterns);
void populateRecurrenceToLinalgPatterns(RewritePatternSet &patterns);
void populateLayersToLinalgPatterns(RewritePatternSet &patterns);

} // namespace mlir::seqc

#endif // SEQC_LIB_CONVERSION_SEQTOLINALG_LOWERINGUTILS_H
