//===- SplitSmallMatmuls.cpp - the seqc-split-small-matmuls pass ----------===//
//
// Part of seqc.
//
//===----------------------------------------------------------------------===//

#include "seqc/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AffineExpr.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::seqc {
#define GEN_PASS_DEF_SEQCSPLITSMALLMATMULS
#include "seqc/Transforms/Passes.h.inc"
} // namespace mlir::seqc

using namespace mlir;

namespace {

/// The split of K for an M x N x K matmul: the smallest power of two S
/// that gives M·N·S >= minThreads, with K/S >= minChunk and S dividing K;
/// 1 when M·N alone is enough or no such S exists.
int64_t chooseSplit(int64_t m, int64_t n, int64_t k, int64_t minThreads,
                    int64_t minChunk) {
  int64_t split = 1;
  while (m * n * split < minThreads && k % (split * 2) == 0 &&
         k / (split * 2) >= std::max<int64_t>(minChunk, 1))
    split *= 2;
  return split;
}

struct SeqcSplitSmallMatmuls
    : seqc::impl::SeqcSplitSmallMatmulsBase<SeqcSplitSmallMatmuls> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<linalg::MatmulOp> matmuls;
    getOperation()->walk([&](linalg::MatmulOp op) {
      if (op.hasPureTensorSemantics() && op.getNumDpsInputs() == 2 &&
          !op.hasUserDefinedMaps())
        matmuls.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::MatmulOp op : matmuls)
      rewrite(rewriter, op);
  }

  void rewrite(IRRewriter &rewriter, linalg::MatmulOp op) {
    Value a = op.getDpsInputs()[0], b = op.getDpsInputs()[1];
    Value c = op.getDpsInits()[0];
    auto aType = dyn_cast<RankedTensorType>(a.getType());
    auto bType = dyn_cast<RankedTensorType>(b.getType());
    auto cType = dyn_cast<RankedTensorType>(c.getType());
    if (!aType || !bType || !cType || !aType.hasStaticShape() ||
        !bType.hasStaticShape() || !cType.hasStaticShape())
      return;
    Type elt = cType.getElementType();
    if (!isa<FloatType>(elt) || aType.getElementType() != elt ||
        bType.getElementType() != elt)
      return;
    int64_t m = aType.getDimSize(0), k = aType.getDimSize(1),
            n = bType.getDimSize(1);
    int64_t split = chooseSplit(m, n, k, minThreads, minChunk);
    if (split == 1)
      return;
    int64_t chunk = k / split;
    MLIRContext *ctx = &getContext();
    Location loc = op.getLoc();
    rewriter.setInsertionPoint(op);

    // partial[s, m, n] = sum_kk A[m, s*chunk + kk] * B[s*chunk + kk, n],
    // iterated (s, m, n, kk): n innermost of the parallel dims, so that
    // neighbouring threads read neighbouring columns of B.
    AffineExpr s, i, j, kk;
    bindDims(ctx, s, i, j, kk);
    // A [M, K] as [M, S, K/S] and B [K, N] as [S, K/S, N].
    Value a3 = tensor::ExpandShapeOp::create(
        rewriter, loc, RankedTensorType::get({m, split, chunk}, elt), a,
        SmallVector<ReassociationIndices>{{0}, {1, 2}});
    Value b3 = tensor::ExpandShapeOp::create(
        rewriter, loc, RankedTensorType::get({split, chunk, n}, elt), b,
        SmallVector<ReassociationIndices>{{0, 1}, {2}});
    auto partialType = RankedTensorType::get({split, m, n}, elt);
    Value zero = arith::ConstantOp::create(rewriter, loc, elt,
                                           rewriter.getFloatAttr(elt, 0.0));
    Value empty = tensor::EmptyOp::create(rewriter, loc, partialType.getShape(),
                                          elt);
    Value init =
        linalg::FillOp::create(rewriter, loc, zero, empty).getResult(0);
    SmallVector<AffineMap> maps = {
        AffineMap::get(4, 0, {i, s, kk}, ctx),
        AffineMap::get(4, 0, {s, kk, j}, ctx),
        AffineMap::get(4, 0, {s, i, j}, ctx)};
    SmallVector<utils::IteratorType> iterators = {
        utils::IteratorType::parallel, utils::IteratorType::parallel,
        utils::IteratorType::parallel, utils::IteratorType::reduction};
    auto partial = linalg::GenericOp::create(
        rewriter, loc, partialType, ValueRange{a3, b3}, ValueRange{init}, maps,
        iterators, [&](OpBuilder &nb, Location nl, ValueRange args) {
          Value product = arith::MulFOp::create(nb, nl, args[0], args[1]);
          Value sum = arith::AddFOp::create(nb, nl, args[2], product);
          linalg::YieldOp::create(nb, nl, sum);
        });
    // result[m, n] = C[m, n] + sum_s partial[s, m, n], iterated (m, n, s).
    AffineExpr r0, r1, r2;
    bindDims(ctx, r0, r1, r2);
    SmallVector<AffineMap> sumMaps = {AffineMap::get(3, 0, {r2, r0, r1}, ctx),
                                      AffineMap::get(3, 0, {r0, r1}, ctx)};
    SmallVector<utils::IteratorType> sumIterators = {
        utils::IteratorType::parallel, utils::IteratorType::parallel,
        utils::IteratorType::reduction};
    auto total = linalg::GenericOp::create(
        rewriter, loc, cType, ValueRange{partial.getResult(0)}, ValueRange{c},
        sumMaps, sumIterators,
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          linalg::YieldOp::create(
              nb, nl, arith::AddFOp::create(nb, nl, args[1], args[0]).getResult());
        });
    rewriter.replaceOp(op, total.getResults());
  }
};
} // namespace
