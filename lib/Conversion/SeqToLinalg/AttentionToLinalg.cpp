//===- AttentionToLinalg.cpp - seq.attention -> online softmax ------------===//
//
// Part of seqc. FlashAttention-2's online softmax on tensors. For each
// (batch, query head, query tile) — an scf.forall, so the tiles run in
// parallel — a loop over key tiles carries, per query row,
//
//   m   running max of the visible scores
//   l   running Σ exp(s - m)
//   acc running Σ exp(s - m)·v
//
// and a key tile with scores S updates them by
//
//   m' = max(m, rowmax S),  α = exp(m - m'),  P = exp(S - m')
//   l' = α·l + rowsum P,    acc' = α·acc + P·V
//
// which is exact: every term is rescaled to the final max. At the end
// out = acc / l and lse = m + log l. A row that saw no visible key keeps
// m = -inf, l = 0 and yields out = 0, lse = -inf (the guards below keep
// -inf - -inf from producing NaN).
//
// Masks are index predicates. Query i sits at key position
// p = i + L - Sq (L = kv_lengths[b] or Skv); the key-tile loop runs only over
// [lo, hi), the keys any row of the query tile can see under `causal`,
// `window` and `L`, so fully masked tiles are never visited; inside a tile
// each score is masked by the same predicate per element.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

#include "seq/IR/SeqOps.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <limits>

using namespace mlir;
using namespace mlir::seqc;
using namespace mlir::seqc::seq;

namespace {
using utils::IteratorType;

/// Dot products and row reductions of a tile may be re-associated and
/// contracted (as every attention kernel does), so that they vectorize.
constexpr arith::FastMathFlags kReassociate =
    arith::FastMathFlags::reassoc | arith::FastMathFlags::contract;

/// A [rows, cols] slice of the 4-d tensor `t` at (i0, i1, row0, 0).
Value slice2d(ImplicitLocOpBuilder &b, Value t, Value i0, Value i1, Value row0,
              OpFoldResult rows) {
  RankedTensorType type = tensorType(t);
  int64_t cols = type.getDimSize(3);
  SmallVector<OpFoldResult> offsets = {i0, i1, row0, b.getIndexAttr(0)};
  SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1), b.getIndexAttr(1), rows,
                                     b.getIndexAttr(cols)};
  SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
  std::optional<int64_t> staticRows = getConstantIntValue(rows);
  auto resultType = RankedTensorType::get(
      {staticRows ? *staticRows : ShapedType::kDynamic, cols},
      type.getElementType());
  return tensor::ExtractSliceOp::create(b, resultType, t, offsets, sizes,
                                        strides);
}

struct AttentionToLinalg : OpRewritePattern<AttentionOp> {
  AttentionToLinalg(MLIRContext *ctx, int64_t tileQ, int64_t tileKV)
      : OpRewritePattern(ctx), tileQ(tileQ), tileKV(tileKV) {}

  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(requireStaticShapes(op, rewriter)))
      return failure();
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    MLIRContext *ctx = op.getContext();
    Type f32 = f32Type(ctx);
    RankedTensorType qType = tensorType(op.getQuery());
    RankedTensorType kType = tensorType(op.getKey());
    RankedTensorType vType = tensorType(op.getValue());
    Type elt = qType.getElementType();
    int64_t batch = qType.getDimSize(0), heads = qType.getDimSize(1),
            seqQ = qType.getDimSize(2), seqKV = kType.getDimSize(2),
            valueDim = vType.getDimSize(3), headDim = qType.getDimSize(3);
    int64_t group = op.getGroupSize();
    int64_t tq = std::max<int64_t>(1, std::min(tileQ, seqQ));
    int64_t tk = std::max<int64_t>(1, std::min(tileKV, seqKV));
    bool causal = op.getCausal();
    int64_t left = op.getWindow()[0], right = op.getWindow()[1];
    double scale = op.getEffectiveScale();
    std::optional<double> softcap;
    if (std::optional<APFloat> cap = op.getSoftcap())
      softcap = cap->convertToDouble();
    Value qSeg = op.getQSegmentIds(), kvSeg = op.getKvSegmentIds();
    bool withLse = bool(op.getLse());
    const double negInf = -std::numeric_limits<double>::infinity();

    SmallVector<Value> sharedOuts = {
        emptyTensor(b, {batch, heads, seqQ, valueDim}, elt)};
    if (withLse)
      sharedOuts.push_back(emptyTensor(b, {batch, heads, seqQ}, f32));

    // Query tiles have static sizes: `numTiles` tiles of `tileRows` rows from
    // row `firstRow`, for every (batch, head), in parallel. Full tiles go
    // first; the remainder of Sq is one more parallel loop of smaller tiles.
    auto emitQueryTiles = [&](ValueRange outs, int64_t numTiles,
                              int64_t tileRows,
                              int64_t firstRow) -> SmallVector<Value> {
    OpBuilder::InsertionGuard guard(b);
    auto forall = scf::ForallOp::create(
        b, getAsIndexOpFoldResult(ctx, {batch, heads, numTiles}), outs,
        std::nullopt);
    b.setInsertionPointToStart(forall.getBody());
    SmallVector<Value> ivs = forall.getInductionVars();
    Value bIdx = ivs[0], hIdx = ivs[1];

    // The query tile: rows [q0, q0 + rows).
    AffineExpr d0 = b.getAffineDimExpr(0);
    Value q0 = affine::AffineApplyOp::create(b, d0 * tileRows + firstRow,
                                             ivs[2]);
    OpFoldResult rows = b.getIndexAttr(tileRows);
    Value rowsVal = arith::ConstantIndexOp::create(b, tileRows);
    Value kvHead = hIdx;
    if (group > 1)
      kvHead = arith::DivUIOp::create(
          b, hIdx, arith::ConstantIndexOp::create(b, group));
    Value qTile = slice2d(b, op.getQuery(), bIdx, hIdx, q0, rows);

    // L and the offset of query positions, p = i + L - Sq.
    auto cst = [&](int64_t v) { return arith::ConstantIndexOp::create(b, v); };
    Value length = cst(seqKV);
    if (Value lengths = op.getKvLengths()) {
      Value raw = tensor::ExtractOp::create(b, lengths, ValueRange{bIdx});
      Value idx = arith::IndexCastOp::create(b, b.getIndexType(), raw);
      // Lengths outside [0, Skv] are clamped: keys past Skv do not exist.
      length = arith::MinSIOp::create(
          b, arith::MaxSIOp::create(b, idx, cst(0)), cst(seqKV));
    }
    Value offset = arith::SubIOp::create(b, length, cst(seqQ));
    Value pFirst = arith::AddIOp::create(b, q0, offset);
    Value pLast = arith::SubIOp::create(
        b, arith::AddIOp::create(b, pFirst, rowsVal), cst(1));

    // Keys any row of the tile may see: [lo, hi).
    Value hi = length, lo = cst(0);
    if (causal)
      hi = arith::MinSIOp::create(b, hi,
                                  arith::AddIOp::create(b, pLast, cst(1)));
    if (right >= 0)
      hi = arith::MinSIOp::create(
          b, hi, arith::AddIOp::create(b, pLast, cst(right + 1)));
    if (left >= 0)
      lo = arith::MaxSIOp::create(b, lo,
                                  arith::SubIOp::create(b, pFirst, cst(left)));

    AffineMap id2 = identityMap(ctx, 2);
    AffineMap row2 = projectionMap(ctx, 2, {0});
    Value mInit = filledTensor(b, {rows}, f32, negInf);
    Value lInit = filledTensor(b, {rows}, f32, 0.0);
    Value accInit =
        filledTensor(b, {rows, b.getIndexAttr(valueDim)}, f32, 0.0);

    // One online-softmax step over keys [j0, j0 + cols): (m, l, acc) in,
    // (m, l, acc) out.
    auto keyStep = [&](ImplicitLocOpBuilder &nb, Value j0, OpFoldResult cols,
                       Value m, Value l, Value acc) -> SmallVector<Value> {
          Value kTile = slice2d(nb, op.getKey(), bIdx, kvHead, j0, cols);
          Value vTile = slice2d(nb, op.getValue(), bIdx, kvHead, j0, cols);
          SmallVector<OpFoldResult> scoreSizes = {rows, cols};

          // S = Q·Kᵀ in f32. The key tile is transposed once ([D, cols]) so
          // that S's rows are c[i, :] += q[i, d]·kᵀ[d, :]: for a static tile
          // the register micro-kernel, else (the dynamic tail) a generic in
          // the same loop order.
          Value kTileT = linalg::TransposeOp::create(
                             nb, kTile,
                             emptyTensor(nb, {nb.getIndexAttr(headDim), cols},
                                         kType.getElementType()),
                             ArrayRef<int64_t>{1, 0})
                             .getResult()[0];
          Value scores;
          if (getConstantIntValue(cols)) {
            scores = buildMatmulAccumulate(
                nb, qTile, kTileT, filledTensor(nb, scoreSizes, f32, 0.0));
          } else {
            scores = buildGeneric(
                nb, {qTile, kTileT}, filledTensor(nb, scoreSizes, f32, 0.0),
                {projectionMap(ctx, 3, {0, 1}), projectionMap(ctx, 3, {1, 2}),
                 projectionMap(ctx, 3, {0, 2})},
                {IteratorType::parallel, IteratorType::reduction,
                 IteratorType::parallel},
                [&](ImplicitLocOpBuilder &bb, ValueRange args) -> SmallVector<Value> {
                  ScalarMath mm(bb, kReassociate);
                  return {mm.add(args[2], mm.mul(mm.f32(args[0]), mm.f32(args[1])))};
                })[0];
          }

          // Scale, softcap and mask: s = visible ? cap(scale·s) : -inf.
          Value masked = buildElementwise(
              nb, scores, id2, emptyTensor(nb, scoreSizes, f32),
              [&](ImplicitLocOpBuilder &bb, ValueRange args) -> SmallVector<Value> {
                ScalarMath mm(bb);
                Value s = mm.mul(args[0], mm.constant(scale));
                if (softcap)
                  s = mm.mul(mm.constant(*softcap),
                             mm.tanh(mm.div(s, mm.constant(*softcap))));
                Value i = arith::AddIOp::create(bb, q0, mm.index(0));
                Value j = arith::AddIOp::create(bb, j0, mm.index(1));
                Value p = arith::AddIOp::create(bb, i, offset);
                // j < L: static key tiles may run past the keys in range.
                Value visible = arith::CmpIOp::create(
                    bb, arith::CmpIPredicate::slt, j, length);
                auto both = [&](arith::CmpIPredicate pred, Value x, Value y) {
                  visible = arith::AndIOp::create(
                      bb, visible, arith::CmpIOp::create(bb, pred, x, y));
                };
                if (causal)
                  both(arith::CmpIPredicate::sle, j, p);
                if (left >= 0)
                  both(arith::CmpIPredicate::sge, j,
                       arith::SubIOp::create(bb, p, mm.indexConstant(left)));
                if (right >= 0)
                  both(arith::CmpIPredicate::sle, j,
                       arith::AddIOp::create(bb, p, mm.indexConstant(right)));
                if (qSeg) {
                  Value si = tensor::ExtractOp::create(bb, qSeg, ValueRange{bIdx, i});
                  Value sj = tensor::ExtractOp::create(bb, kvSeg, ValueRange{bIdx, j});
                  both(arith::CmpIPredicate::eq, si, sj);
                }
                return {mm.select(visible, s, mm.constant(negInf))};
              })[0];

          // Every carried value is updated in place (each generic's output
          // is the carried tensor), so bufferization keeps one buffer per
          // value across key tiles. Old m is only read before m is updated.
          // Masked scores are -inf, never NaN: maxnum is exact here.
          Value tileMax = buildRowReduction(
              nb, masked, filledTensor(nb, {rows}, f32, negInf),
              vector::CombiningKind::MAXNUMF);
          Value negInfVal = ScalarMath(nb).constant(negInf);
          AffineMap id1 = identityMap(ctx, 1);
          // α = exp(m - m'), 0 while no key was visible (acc and l are 0).
          Value alpha = buildElementwise(
              nb, {m, tileMax}, {id1, id1}, emptyTensor(nb, {rows}, f32),
              [&](ImplicitLocOpBuilder &bb, ValueRange args) -> SmallVector<Value> {
                ScalarMath mm(bb);
                Value none = mm.cmp(arith::CmpFPredicate::OEQ, args[0], negInfVal);
                Value mNext = mm.max(args[0], args[1]);
                return {mm.select(none, mm.constant(0.0),
                                  mm.exp(mm.sub(args[0], mNext)))};
              })[0];
          // m' = max(m, rowmax S)
          Value mNew = buildElementwise(
              nb, tileMax, id1, m,
              [&](ImplicitLocOpBuilder &bb, ValueRange args) -> SmallVector<Value> {
                return {ScalarMath(bb).max(args[1], args[0])};
              })[0];
          // P = exp(S - m'), 0 where s = -inf (in place over S).
          Value probs = buildElementwise(
              nb, mNew, row2, masked,
              [&](ImplicitLocOpBuilder &bb, ValueRange args) -> SmallVector<Value> {
                ScalarMath mm(bb);
                Value isMasked =
                    mm.cmp(arith::CmpFPredicate::OEQ, args[1], negInfVal);
                return {mm.select(isMasked, mm.constant(0.0),
                                  mm.exp(mm.sub(args[1], args[0])))};
              })[0];
          // l' = α·l + rowsum P
          Value lScaled = buildElementwise(
              nb, alpha, id1, l,
              [&](ImplicitLocOpBuilder &bb, ValueRange args) -> SmallVector<Value> {
                return {ScalarMath(bb).mul(args[1], args[0])};
              })[0];
          Value lNew =
              buildRowReduction(nb, probs, lScaled, vector::CombiningKind::ADD);
          // acc' = α·acc + P·V
          Value accScaled = buildElementwise(
              nb, alpha, row2, acc,
              [&](ImplicitLocOpBuilder &bb, ValueRange args) -> SmallVector<Value> {
                return {ScalarMath(bb).mul(args[1], args[0])};
              })[0];
          // acc' += P·V with the micro-kernel (Dv static, any number of keys).
          Value accNew = buildMatmulAccumulate(nb, probs, vTile, accScaled);
          return {mNew, lNew, accNew};
    };

    // Key tiles have the static size tk wherever they fit in [0, Skv):
    // ceil((hi - lo) / tk) of them, but no tile may end past Skv. Keys of a
    // static tile past hi are masked by the per-element predicate (j < L is
    // part of it). What the static tiles leave of [lo, hi) (only at the end
    // of the sequence) is one tile of dynamic size.
    Value span = arith::MaxSIOp::create(b, arith::SubIOp::create(b, hi, lo),
                                        cst(0));
    Value wanted = arith::CeilDivSIOp::create(b, span, cst(tk));
    Value fitting = arith::FloorDivSIOp::create(
        b, arith::SubIOp::create(b, cst(seqKV), lo), cst(tk));
    Value numStatic = arith::MinSIOp::create(b, wanted, fitting);
    auto staticLoop = scf::ForOp::create(
        b, cst(0), numStatic, cst(1), ValueRange{mInit, lInit, accInit},
        [&](OpBuilder &nested, Location loc, Value t, ValueRange carried) {
          ImplicitLocOpBuilder nb(loc, nested);
          Value j0 = arith::AddIOp::create(
              nb, lo, arith::MulIOp::create(nb, t, cst(tk)));
          scf::YieldOp::create(nb, keyStep(nb, j0, nb.getIndexAttr(tk),
                                           carried[0], carried[1], carried[2]));
        });
    Value tailStart = arith::AddIOp::create(
        b, lo, arith::MulIOp::create(b, numStatic, cst(tk)));
    auto tailLoop = scf::ForOp::create(
        b, tailStart, hi, cst(tk), staticLoop.getResults(),
        [&](OpBuilder &nested, Location loc, Value j0, ValueRange carried) {
          ImplicitLocOpBuilder nb(loc, nested);
          Value cols = arith::SubIOp::create(nb, hi, j0);
          scf::YieldOp::create(nb, keyStep(nb, j0, cols, carried[0],
                                           carried[1], carried[2]));
        });
    Value m = tailLoop.getResult(0), l = tailLoop.getResult(1),
          acc = tailLoop.getResult(2);

    // out = acc / l (0 for rows without visible keys), lse = m + log l.
    Value outTile = buildElementwise(
        b, {acc, l}, {id2, row2},
        emptyTensor(b, {rows, b.getIndexAttr(valueDim)}, elt),
        [&](ImplicitLocOpBuilder &bb, ValueRange args) -> SmallVector<Value> {
          ScalarMath mm(bb);
          Value any = attentionRowSawKeys(mm, args[1]);
          Value v = mm.select(any, mm.div(args[0], args[1]), mm.constant(0.0));
          return {mm.to(v, elt)};
        })[0];
    Value lseTile;
    if (withLse)
      lseTile = buildElementwise(
          b, {m, l}, {identityMap(ctx, 1), identityMap(ctx, 1)},
          emptyTensor(b, {rows}, f32),
          [&](ImplicitLocOpBuilder &bb, ValueRange args) -> SmallVector<Value> {
            ScalarMath mm(bb);
            Value any = attentionRowSawKeys(mm, args[1]);
            return {mm.select(any, mm.add(args[0], mm.log(args[1])),
                              mm.constant(negInf))};
          })[0];

    // Publish the tile.
    b.setInsertionPointToStart(forall.getTerminator().getBody());
    ValueRange outArgs = forall.getRegionIterArgs();
    OpFoldResult one = b.getIndexAttr(1), zero = b.getIndexAttr(0);
    tensor::ParallelInsertSliceOp::create(
        b, outTile, outArgs[0],
        SmallVector<OpFoldResult>{bIdx, hIdx, q0, zero},
        SmallVector<OpFoldResult>{one, one, rows, b.getIndexAttr(valueDim)},
        SmallVector<OpFoldResult>(4, one));
    if (withLse)
      tensor::ParallelInsertSliceOp::create(
          b, lseTile, outArgs[1], SmallVector<OpFoldResult>{bIdx, hIdx, q0},
          SmallVector<OpFoldResult>{one, one, rows},
          SmallVector<OpFoldResult>(3, one));
    return SmallVector<Value>(forall.getResults());
    };

    int64_t fullTiles = seqQ / tq, remainder = seqQ % tq;
    SmallVector<Value> results = sharedOuts;
    if (fullTiles > 0)
      results = emitQueryTiles(results, fullTiles, tq, 0);
    if (remainder > 0)
      results = emitQueryTiles(results, 1, remainder, fullTiles * tq);
    rewriter.replaceOp(op, results);
    return success();
  }

  int64_t tileQ, tileKV;
};
} // namespace

void mlir::seqc::populateAttentionToLinalgPatterns(RewritePatternSet &patterns,
                                                   int64_t tileQ,
                                                   int64_t tileKV) {
  patterns.add<AttentionToLinalg>(patterns.getContext(), tileQ, tileKV);
}
