//===- LayersToLinalg.cpp - rms_norm, rope, causal_conv1d -> linalg -------===//
//
// Part of seqc. The layer helpers become linalg.generics that later passes
// fuse with their producers and consumers.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

#include "seq/IR/SeqOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cmath>

using namespace mlir;
using namespace mlir::seqc;
using namespace mlir::seqc::seq;

namespace {
using utils::IteratorType;

/// rms_norm: out = x · rsqrt(Σx²/D + eps) · w, as a reduction over the last
/// dimension followed by an elementwise scale.
struct RMSNormToLinalg : OpRewritePattern<RMSNormOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(RMSNormOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(requireStaticShapes(op, rewriter)))
      return failure();
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    MLIRContext *ctx = op.getContext();
    auto xType = cast<RankedTensorType>(op.getX().getType());
    int64_t rank = xType.getRank();
    int64_t width = xType.getDimSize(rank - 1);
    SmallVector<int64_t> rows(xType.getShape().drop_back());
    SmallVector<int64_t> rowDims =
        llvm::to_vector(llvm::seq<int64_t>(0, rank - 1));

    // sumsq[r] = Σ_i x[r, i]²
    Value zeros = filledTensor(b, rows, f32Type(ctx), 0.0);
    SmallVector<IteratorType> iterators(rank - 1, IteratorType::parallel);
    iterators.push_back(IteratorType::reduction);
    Value sumsq = buildGeneric(
        b, op.getX(), zeros,
        {identityMap(ctx, rank), projectionMap(ctx, rank, rowDims)}, iterators,
        [&](ImplicitLocOpBuilder &nb, ValueRange args) -> SmallVector<Value> {
          ScalarMath m(nb);
          Value x = m.f32(args[0]);
          return {m.add(args[1], m.mul(x, x))};
        })[0];

    double eps = op.getEps().convertToDouble();
    Value out = buildElementwise(
        b, {op.getX(), sumsq, op.getWeight()},
        {identityMap(ctx, rank), projectionMap(ctx, rank, rowDims),
         projectionMap(ctx, rank, {rank - 1})},
        emptyTensor(b, xType.getShape(), xType.getElementType()),
        [&](ImplicitLocOpBuilder &nb, ValueRange args) -> SmallVector<Value> {
          ScalarMath m(nb);
          Value meanSq = m.div(args[1], m.constant(double(width)));
          Value inv = m.rsqrt(m.add(meanSq, m.constant(eps)));
          Value y = m.mul(m.mul(m.f32(args[0]), inv), m.f32(args[2]));
          return {m.to(y, xType.getElementType())};
        })[0];
    rewriter.replaceOp(op, out);
    return success();
  }
};

/// rope: each output element pairs with one partner element of its row:
///   rotate-half  d < D/2: (x_d, x_{d+D/2}) with i = d,      sign -1
///                d ≥ D/2: (x_d, x_{d-D/2}) with i = d - D/2, sign +1
///   interleaved  (x_d, x_{d^1}) with i = d/2, sign -1 for even d
///   out_d = x_d·cos(pos·θ^(-2i/D)) + sign·x_partner·sin(pos·θ^(-2i/D)).
struct RoPEToLinalg : OpRewritePattern<RoPEOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(RoPEOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(requireStaticShapes(op, rewriter)))
      return failure();
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    MLIRContext *ctx = op.getContext();
    auto xType = cast<RankedTensorType>(op.getX().getType());
    int64_t dimSize = xType.getDimSize(3);
    int64_t half = dimSize / 2;
    bool interleaved = op.getInterleaved();
    double logTheta = std::log(op.getTheta().convertToDouble());
    auto posType = cast<RankedTensorType>(op.getPositions().getType());
    AffineMap posMap = posType.getRank() == 1
                           ? projectionMap(ctx, 4, {2})
                           : projectionMap(ctx, 4, {0, 2});
    Value x = op.getX();

    Value out = buildElementwise(
        b, {x, op.getPositions()}, {identityMap(ctx, 4), posMap},
        emptyTensor(b, xType.getShape(), xType.getElementType()),
        [&](ImplicitLocOpBuilder &nb, ValueRange args) -> SmallVector<Value> {
          ScalarMath m(nb);
          Value d = m.index(3);
          Value freqIndex, partner, firstOfPair;
          if (interleaved) {
            Value two = m.indexConstant(2);
            freqIndex = arith::DivUIOp::create(nb, d, two);
            Value parity = arith::RemUIOp::create(nb, d, two);
            firstOfPair = arith::CmpIOp::create(nb, arith::CmpIPredicate::eq,
                                                parity, m.indexConstant(0));
            partner = arith::SelectOp::create(
                nb, firstOfPair, arith::AddIOp::create(nb, d, m.indexConstant(1)),
                arith::SubIOp::create(nb, d, m.indexConstant(1)));
          } else {
            Value halfIdx = m.indexConstant(half);
            firstOfPair = arith::CmpIOp::create(nb, arith::CmpIPredicate::ult,
                                                d, halfIdx);
            freqIndex = arith::SelectOp::create(
                nb, firstOfPair, d, arith::SubIOp::create(nb, d, halfIdx));
            partner = arith::SelectOp::create(
                nb, firstOfPair, arith::AddIOp::create(nb, d, halfIdx),
                freqIndex);
          }
          // inv_freq_i = exp(-(2i/D)·ln θ), angle = pos·inv_freq_i (f32, as
          // the reference implementations compute it).
          Value exponent = m.mul(m.indexToF32(freqIndex),
                                 m.constant(-2.0 * logTheta / double(dimSize)));
          Value angle = m.mul(m.f32(args[1]), m.exp(exponent));
          Value cos = math::CosOp::create(nb, angle);
          Value sin = math::SinOp::create(nb, angle);
          Value other = tensor::ExtractOp::create(
              nb, x, ValueRange{m.index(0), m.index(1), m.index(2), partner});
          Value sign =
              m.select(firstOfPair, m.constant(-1.0), m.constant(1.0));
          Value y = m.add(m.mul(m.f32(args[0]), cos),
                          m.mul(sign, m.mul(m.f32(other), sin)));
          return {m.to(y, xType.getElementType())};
        })[0];
    rewriter.replaceOp(op, out);
    return success();
  }
};

/// causal_conv1d: out[b,d,t] = act(bias[d] + Σ_i w[d,i]·xpad[b,d,t+i]) with
/// xpad = x padded by W-1 zeros in front, so causality is the padding.
struct CausalConv1dToLinalg : OpRewritePattern<CausalConv1dOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(CausalConv1dOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(requireStaticShapes(op, rewriter)))
      return failure();
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    MLIRContext *ctx = op.getContext();
    auto xType = cast<RankedTensorType>(op.getX().getType());
    int64_t width = cast<RankedTensorType>(op.getWeight().getType()).getDimSize(1);
    Type elt = xType.getElementType();

    SmallVector<OpFoldResult> low = {b.getIndexAttr(0), b.getIndexAttr(0),
                                     b.getIndexAttr(width - 1)};
    SmallVector<OpFoldResult> high(3, b.getIndexAttr(0));
    Value zero = arith::ConstantOp::create(b, b.getFloatAttr(elt, 0.0));
    Value padded = tensor::PadOp::create(
        b,
        RankedTensorType::get({xType.getDimSize(0), xType.getDimSize(1),
                               xType.getDimSize(2) + width - 1},
                              elt),
        op.getX(), low, high, zero);

    // Loops (b, d, t, i).
    AffineExpr bd = getAffineDimExpr(0, ctx), dd = getAffineDimExpr(1, ctx),
               td = getAffineDimExpr(2, ctx), id = getAffineDimExpr(3, ctx);
    AffineMap xMap = AffineMap::get(4, 0, {bd, dd, td + id}, ctx);
    Value acc = buildGeneric(
        b, {padded, op.getWeight()},
        filledTensor(b, xType.getShape(), f32Type(ctx), 0.0),
        {xMap, projectionMap(ctx, 4, {1, 3}), projectionMap(ctx, 4, {0, 1, 2})},
        {IteratorType::parallel, IteratorType::parallel,
         IteratorType::parallel, IteratorType::reduction},
        [&](ImplicitLocOpBuilder &nb, ValueRange args) -> SmallVector<Value> {
          ScalarMath m(nb);
          return {m.add(args[2], m.mul(m.f32(args[0]), m.f32(args[1])))};
        })[0];

    SmallVector<Value> ins = {acc};
    SmallVector<AffineMap> maps = {identityMap(ctx, 3)};
    if (Value bias = op.getBias()) {
      ins.push_back(bias);
      maps.push_back(projectionMap(ctx, 3, {1}));
    }
    bool silu = op.getSilu();
    Value out = buildElementwise(
        b, ins, maps, emptyTensor(b, xType.getShape(), elt),
        [&](ImplicitLocOpBuilder &nb, ValueRange args) -> SmallVector<Value> {
          ScalarMath m(nb);
          Value y = args[0];
          if (ins.size() == 2)
            y = m.add(y, m.f32(args[1]));
          if (silu)
            y = m.silu(y);
          return {m.to(y, elt)};
        })[0];
    rewriter.replaceOp(op, out);
    return success();
  }
};
} // namespace

void mlir::seqc::populateLayersToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<RMSNormToLinalg, RoPEToLinalg, CausalConv1dToLinalg>(
      patterns.getContext());
}
