//===- TileMatmuls.cpp - the seqc-tile-matmuls pass -----------------------===//
//
// Part of seqc. Rewrites static linalg.matmul ops with an f32 result into
// row tiles (scf.forall, so both cores share them) of column blocks, each
// block the register micro-kernel of buildMatmulAccumulate.
//
//===----------------------------------------------------------------------===//

#include "seqc/Conversion/Passes.h"

#include "LoweringUtils.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::seqc {
#define GEN_PASS_DEF_SEQCTILEMATMULS
#include "seqc/Conversion/Passes.h.inc"
} // namespace mlir::seqc

using namespace mlir;
using namespace mlir::seqc;

namespace {

/// `v[offsets..][sizes..]` of a 2-d tensor with static sizes.
Value slice2d(ImplicitLocOpBuilder &b, Value v, OpFoldResult row,
              OpFoldResult col, int64_t rows, int64_t cols) {
  return tensor::ExtractSliceOp::create(
      b, v, ArrayRef<OpFoldResult>{row, col},
      ArrayRef<OpFoldResult>{b.getIndexAttr(rows), b.getIndexAttr(cols)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
}

Value insert2d(ImplicitLocOpBuilder &b, Value v, Value dest, OpFoldResult row,
               OpFoldResult col) {
  auto type = cast<RankedTensorType>(v.getType());
  return tensor::InsertSliceOp::create(
      b, v, dest, ArrayRef<OpFoldResult>{row, col},
      ArrayRef<OpFoldResult>{b.getIndexAttr(type.getDimSize(0)),
                             b.getIndexAttr(type.getDimSize(1))},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
}

struct TileMatmul : OpRewritePattern<linalg::MatmulOp> {
  TileMatmul(MLIRContext *ctx, int64_t tileRows, int64_t tileCols)
      : OpRewritePattern(ctx), tileRows(tileRows), tileCols(tileCols) {}

  LogicalResult matchAndRewrite(linalg::MatmulOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics() || op.hasUserDefinedMaps() ||
        !hasStaticShapes(op) ||
        !getElementTypeOrSelf(op.getResult(0).getType()).isF32() ||
        !llvm::all_of(op->getOperandTypes(), [](Type t) {
          return isa<FloatType>(getElementTypeOrSelf(t));
        }))
      return rewriter.notifyMatchFailure(op, "not a static float matmul "
                                             "with an f32 result");
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value lhs = op.getInputs()[0], rhs = op.getInputs()[1],
          acc = op.getOutputs()[0];
    auto accType = cast<RankedTensorType>(acc.getType());
    int64_t rows = accType.getDimSize(0), cols = accType.getDimSize(1),
            depth = cast<RankedTensorType>(lhs.getType()).getDimSize(1);

    // One row tile: column blocks of tileCols, then the leftover columns.
    auto rowTile = [&](ImplicitLocOpBuilder &rb, Value lhsRows,
                       Value accRows) -> Value {
      int64_t count = cast<RankedTensorType>(accRows.getType()).getDimSize(0);
      auto block = [&](ImplicitLocOpBuilder &bb, OpFoldResult col,
                       int64_t width, Value out) {
        Value accBlock = slice2d(bb, out, bb.getIndexAttr(0), col, count, width);
        Value rhsBlock = slice2d(bb, rhs, bb.getIndexAttr(0), col, depth, width);
        Value result = buildMatmulAccumulate(bb, lhsRows, rhsBlock, accBlock);
        return insert2d(bb, result, out, bb.getIndexAttr(0), col);
      };
      int64_t fullCols = cols / tileCols * tileCols;
      Value out = accRows;
      if (fullCols > 0) {
        auto loop = scf::ForOp::create(
            rb, arith::ConstantIndexOp::create(rb, 0),
            arith::ConstantIndexOp::create(rb, fullCols),
            arith::ConstantIndexOp::create(rb, tileCols), ValueRange{out},
            [&](OpBuilder &nested, Location loc, Value col, ValueRange iter) {
              ImplicitLocOpBuilder ib(loc, nested);
              scf::YieldOp::create(ib, block(ib, col, tileCols, iter[0]));
            });
        out = loop.getResult(0);
      }
      if (cols > fullCols)
        out = block(rb, rb.getIndexAttr(fullCols), cols - fullCols, out);
      return out;
    };

    int64_t tiles = rows / tileRows, fullRows = tiles * tileRows;
    Value out = acc;
    if (tiles > 0) {
      auto forall = scf::ForallOp::create(
          b, ArrayRef<OpFoldResult>{b.getIndexAttr(tiles)}, ValueRange{out},
          std::nullopt, [&](OpBuilder &nested, Location loc, ValueRange args) {
            ImplicitLocOpBuilder ib(loc, nested);
            Value row = arith::MulIOp::create(
                ib, args[0], arith::ConstantIndexOp::create(ib, tileRows));
            Value shared = args.back();
            Value result = rowTile(
                ib, slice2d(ib, lhs, row, ib.getIndexAttr(0), tileRows, depth),
                slice2d(ib, shared, row, ib.getIndexAttr(0), tileRows, cols));
            auto terminator = scf::InParallelOp::create(ib);
            ib.setInsertionPointToStart(terminator.getBody());
            tensor::ParallelInsertSliceOp::create(
                ib, result, shared, ArrayRef<OpFoldResult>{row, ib.getIndexAttr(0)},
                ArrayRef<OpFoldResult>{ib.getIndexAttr(tileRows),
                                       ib.getIndexAttr(cols)},
                ArrayRef<OpFoldResult>{ib.getIndexAttr(1), ib.getIndexAttr(1)});
          });
      out = forall.getResult(0);
    }
    if (rows > fullRows) {
      Value row = arith::ConstantIndexOp::create(b, fullRows);
      Value result = rowTile(
          b, slice2d(b, lhs, row, b.getIndexAttr(0), rows - fullRows, depth),
          slice2d(b, out, row, b.getIndexAttr(0), rows - fullRows, cols));
      out = insert2d(b, result, out, row, b.getIndexAttr(0));
    }
    rewriter.replaceOp(op, out);
    return success();
  }

  int64_t tileRows, tileCols;
};

struct SeqcTileMatmuls : seqc::impl::SeqcTileMatmulsBase<SeqcTileMatmuls> {
  using Base::Base;

  void runOnOperation() override {
    if (tileRows < 1 || tileCols < 1) {
      getOperation()->emitError()
          << "seqc-tile-matmuls: tile sizes must be positive";
      return signalPassFailure();
    }
    RewritePatternSet patterns(&getContext());
    patterns.add<TileMatmul>(&getContext(), tileRows, tileCols);
    // The rewritten matmuls leave no linalg.matmul behind, so one walk of
    // the greedy driver is enough; no folding of the rest of the IR.
    GreedyRewriteConfig config;
    config.enableFolding(false);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns),
                                     config)))
      signalPassFailure();
  }
};
} // namespace
