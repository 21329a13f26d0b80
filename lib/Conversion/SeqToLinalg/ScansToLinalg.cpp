//===- ScansToLinalg.cpp - scans and recurrences -> scf + linalg ----------===//
//
// Part of seqc. Every recurrence is the same time loop (buildTimeLoop): it
// carries the state, extracts the step's slices, updates the state with a
// linalg.generic over the state's shape and inserts the step's output. Only
// the state update differs:
//
//   scan                 c_t = c_{t-1} ⊕ x_t            (the combiner region)
//   linear_recurrence    h_t = a_t ⊙ h_{t-1} + b_t       (f32 state)
//   selective_scan       h_t = exp(Δ_t A) ⊙ h_{t-1} + Δ_t B_t u_t,
//                        y_t = C_t · h_t + D u_t          ([B,D,N] f32 state)
//   gated_linear_attn    S_t = diag(exp g_t) S_{t-1} + k_tᵀ v_t,
//                        o_t = scale · q_t S_t            ([B,H,K,V] f32 state)
//   recurrence           (s_t, y_t) = body(s_{t-1}, x_t)  (the body region)
//
// so no op materializes more than one step of its intermediates.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

#include "seq/IR/SeqOps.h"
#include "seq/IR/SeqTypeInference.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"

using namespace mlir;
using namespace mlir::seqc;
using namespace mlir::seqc::seq;

namespace {
using utils::IteratorType;

RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// `v` converted elementwise to `elementType` (f32 states to storage types
/// and back); `v` itself when the types agree.
Value convertTensor(ImplicitLocOpBuilder &b, Value v, Type elementType) {
  RankedTensorType type = tensorType(v);
  if (type.getElementType() == elementType)
    return v;
  return buildElementwise(
      b, v, identityMap(b.getContext(), type.getRank()),
      emptyTensor(b, type.getShape(), elementType),
      [&](ImplicitLocOpBuilder &nb, ValueRange args) -> SmallVector<Value> {
        ScalarMath m(nb);
        return {m.to(m.f32(args[0]), elementType)};
      })[0];
}

/// Clones the single block of `region` with its arguments bound to `args`
/// and returns the values its terminator yields.
SmallVector<Value> inlineBlock(ImplicitLocOpBuilder &b, Region &region,
                               ValueRange args) {
  Block &block = region.front();
  IRMapping mapping;
  mapping.map(block.getArguments(), args);
  for (Operation &op : block.without_terminator())
    b.clone(op, mapping);
  return llvm::map_to_vector(block.getTerminator()->getOperands(),
                             [&](Value v) { return mapping.lookupOrDefault(v); });
}

//===----------------------------------------------------------------------===//
// seq.scan
//===----------------------------------------------------------------------===//

struct ScanToLinalg : OpRewritePattern<ScanOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ScanOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(requireStaticShapes(op, rewriter)))
      return failure();
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    int64_t dim = op.getDim();
    bool reverse = op.getReverse(), exclusive = op.getExclusive();
    SmallVector<Value> inputs(op.getInputs());
    RankedTensorType inType = tensorType(inputs[0]);
    int64_t length = inType.getDimSize(dim);
    int64_t carryRank = inType.getRank() - 1;
    MLIRContext *ctx = op.getContext();

    // One combiner application over the carry shape, updating the carries
    // in place: c = c ⊕ x_t (the generic's outputs are the carries, its
    // inputs the step's elements).
    auto combine = [&](ImplicitLocOpBuilder &nb, ValueRange carries,
                       ValueRange steps) {
      SmallVector<AffineMap> maps(steps.size(), identityMap(ctx, carryRank));
      return buildElementwise(
          nb, steps, maps, carries,
          [&](ImplicitLocOpBuilder &bb, ValueRange args) {
            SmallVector<Value> lhsThenRhs(args.drop_front(steps.size()));
            lhsThenRhs.append(args.begin(), args.begin() + steps.size());
            return inlineBlock(bb, op.getCombiner(), lhsThenRhs);
          });
    };

    SmallVector<Value> outs = llvm::map_to_vector(inputs, [&](Value x) {
      return emptyTensor(b, inType.getShape(), tensorType(x).getElementType());
    });
    SmallVector<Value> carries(op.getInitial());
    int64_t begin = 0;
    if (carries.empty()) {
      // Inclusive without initial carries: the first step is the element
      // itself (scan_c5 rules out length 0 here).
      Value t0 = timeIndex(b, 0, length, reverse);
      for (auto [i, x] : llvm::enumerate(inputs)) {
        carries.push_back(extractStep(b, x, dim, t0));
        outs[i] = insertStep(b, carries.back(), outs[i], dim, t0);
      }
      begin = 1;
    }

    size_t n = inputs.size();
    SmallVector<Value> init(outs);
    init.append(carries);
    SmallVector<Value> final = buildTimeLoop(
        b, begin, length, length, reverse, init,
        [&](ImplicitLocOpBuilder &nb, Value t, ValueRange carried) {
          ValueRange curOuts = carried.take_front(n);
          ValueRange curCarries = carried.drop_front(n);
          SmallVector<Value> steps = llvm::map_to_vector(
              inputs, [&](Value x) { return extractStep(nb, x, dim, t); });
          // An exclusive scan stores the carry before the step updates it
          // (in place), an inclusive one after.
          SmallVector<Value> result(curOuts);
          if (exclusive)
            for (size_t i = 0; i < n; ++i)
              result[i] = insertStep(nb, curCarries[i], result[i], dim, t);
          SmallVector<Value> next = combine(nb, curCarries, steps);
          if (!exclusive)
            for (size_t i = 0; i < n; ++i)
              result[i] = insertStep(nb, next[i], result[i], dim, t);
          result.append(next);
          return result;
        });
    rewriter.replaceOp(op, final);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// seq.linear_recurrence
//===----------------------------------------------------------------------===//

/// Rows of the recurrence that one vector carries: each lane is an
/// independent chain h = a·h + b, so two rows hide half the FMA latency that
/// serializes a single row, while keeping few memory streams (3 per row) for
/// the hardware prefetchers. Measured on the 2-core AVX-512 machine, 64M f32
/// elements along the last dim: rows x steps 2x64 ran at 24.5 GB/s, 4x64 at
/// 21.4, 4x32 at 19.1, 8x16 and 16x16 near 12.
constexpr int64_t kRowsPerBlock = 2;
/// Time steps per register tile of the innermost-dimension recurrence: four
/// 64-byte cache lines of f32 per row and tile.
constexpr int64_t kStepsPerTile = 64;

/// The recurrence along the innermost dimension of [batch..., R, L]. Blocks
/// of kRowsPerBlock rows run in parallel (scf.forall over the batch
/// dimensions and the row blocks); within a block the time loop keeps one f32
/// lane per row in a vector. No dimension is ever collapsed: the arguments
/// may have any outer strides, and collapsing them would copy.
LogicalResult lowerInnermostLinearRecurrence(LinearRecurrenceOp op,
                                             PatternRewriter &rewriter) {
  ImplicitLocOpBuilder b(op.getLoc(), rewriter);
  MLIRContext *ctx = op.getContext();
  RankedTensorType opType = tensorType(op.getA());
  Type elt = opType.getElementType(), f32 = f32Type(ctx);
  bool reverse = op.getReverse();

  // Rank 1 becomes [1, L] (an expansion never copies).
  Value a = op.getA(), bIn = op.getB(), h0 = op.getH0();
  if (opType.getRank() == 1) {
    auto matrix = RankedTensorType::get({1, opType.getDimSize(0)}, elt);
    SmallVector<ReassociationIndices> groups = {{0, 1}};
    a = tensor::ExpandShapeOp::create(b, matrix, a, groups);
    bIn = tensor::ExpandShapeOp::create(b, matrix, bIn, groups);
    if (h0)
      h0 = tensor::ExpandShapeOp::create(b, RankedTensorType::get({1}, elt),
                                         h0, ArrayRef<ReassociationIndices>{});
  }
  RankedTensorType type = tensorType(a);
  int64_t rank = type.getRank(), length = type.getDimSize(rank - 1);
  int64_t rowsDim = type.getDimSize(rank - 2);
  ArrayRef<int64_t> batchShape = type.getShape().drop_back(2);
  RankedTensorType stateType = dropDim(type, rank - 1);

  AffineMap column = AffineMap::get(2, 0, {b.getAffineDimExpr(0)}, ctx);
  Value c0 = arith::ConstantIndexOp::create(b, 0);
  Value zero = arith::ConstantOp::create(b, b.getZeroAttr(elt));

  // The [count, L] (or [count]) block at (batch..., row0) of a [batch..., R,
  // L] (or [batch..., R]) tensor, as a rank-reducing slice. (Which unit
  // dimensions a rank-reducing slice drops does not change the addresses,
  // and the extract and its insert below agree, so blocks bufferize in place.)
  auto blockSizes = [&](ImplicitLocOpBuilder &bb, size_t batchRank,
                        int64_t count, bool matrix) {
    SmallVector<OpFoldResult> sizes(batchRank, bb.getIndexAttr(1));
    sizes.push_back(bb.getIndexAttr(count));
    if (matrix)
      sizes.push_back(bb.getIndexAttr(length));
    return sizes;
  };
  auto blockOffsets = [&](ImplicitLocOpBuilder &bb, ValueRange batch,
                          Value row0, bool matrix) {
    SmallVector<OpFoldResult> offsets(batch.begin(), batch.end());
    offsets.push_back(row0);
    if (matrix)
      offsets.push_back(bb.getIndexAttr(0));
    return offsets;
  };
  auto blockSlice = [&](ImplicitLocOpBuilder &bb, Value t, ValueRange batch,
                        Value row0, int64_t count) -> Value {
    int64_t r = tensorType(t).getRank();
    bool matrix = r == rank;
    SmallVector<int64_t> shape = {count};
    if (matrix)
      shape.push_back(length);
    return tensor::ExtractSliceOp::create(
        bb, RankedTensorType::get(shape, elt), t,
        blockOffsets(bb, batch, row0, matrix),
        blockSizes(bb, batch.size(), count, matrix),
        SmallVector<OpFoldResult>(r, bb.getIndexAttr(1)));
  };
  // Inserts a block back where blockSlice took it, in a forall's terminator.
  auto insertBlock = [&](ImplicitLocOpBuilder &bb, Value block, Value dest,
                         ValueRange batch, Value row0) {
    int64_t r = tensorType(dest).getRank();
    bool matrix = r == rank;
    int64_t count = tensorType(block).getDimSize(0);
    tensor::ParallelInsertSliceOp::create(
        bb, block, dest, blockOffsets(bb, batch, row0, matrix),
        blockSizes(bb, batch.size(), count, matrix),
        SmallVector<OpFoldResult>(r, bb.getIndexAttr(1)));
  };

  // One block of `count` rows: runs the recurrence into the given [count, L]
  // and [count] destinations and returns them.
  auto block = [&](ImplicitLocOpBuilder &bb, ValueRange batch, Value row0,
                   int64_t count, Value outDest,
                   Value lastDest) -> std::pair<Value, Value> {
    auto storage = VectorType::get({count}, elt);
    auto state = VectorType::get({count}, f32);
    Value aBlk = blockSlice(bb, a, batch, row0, count);
    Value bBlk = blockSlice(bb, bIn, batch, row0, count);
    auto widen = [&](ImplicitLocOpBuilder &ib, Value v) -> Value {
      return elt == f32 ? v : arith::ExtFOp::create(ib, state, v).getResult();
    };
    auto narrow = [&](ImplicitLocOpBuilder &ib, Value v) -> Value {
      return elt == f32 ? v : arith::TruncFOp::create(ib, storage, v).getResult();
    };
    auto readColumn = [&](ImplicitLocOpBuilder &ib, Value blk, Value t) {
      SmallVector<Value> indices = {c0, t};
      return widen(ib, vector::TransferReadOp::create(ib, storage, blk, indices,
                                                      zero, column,
                                                      ArrayRef<bool>{true}));
    };
    auto writeColumn = [&](ImplicitLocOpBuilder &ib, Value h, Value dest,
                           Value t) -> Value {
      SmallVector<Value> indices = {c0, t};
      return vector::TransferWriteOp::create(ib, narrow(ib, h), dest, indices,
                                             column, ArrayRef<bool>{true})
          .getResult();
    };

    Value h;
    int64_t begin = 0;
    if (h0) {
      SmallVector<Value> indices = {c0};
      h = widen(bb, vector::TransferReadOp::create(
                        bb, storage, blockSlice(bb, h0, batch, row0, count),
                        indices, zero, ArrayRef<bool>{true}));
    } else {
      // Without h0 the first step is exactly h = b.
      Value t0 = timeIndex(bb, 0, length, reverse);
      h = readColumn(bb, bBlk, t0);
      outDest = writeColumn(bb, h, outDest, t0);
      begin = 1;
    }

    // Steps [begin, length) in processing order. Whole tiles of
    // kStepsPerTile steps read [count, T] blocks along time (every cache line
    // of every row is consumed at once, rather than one element per line per
    // step), transpose them in registers and run T steps; the few steps left
    // over go column by column.
    int64_t steps = length - begin;
    int64_t tiles = steps / kStepsPerTile, leftover = steps % kStepsPerTile;
    auto tileType = VectorType::get({count, kStepsPerTile}, elt);
    auto tileTypeT = VectorType::get({kStepsPerTile, count}, elt);
    // Time index of the first element of tile `i` (forward: steps begin..;
    // reverse: tiles are taken from the end and run backwards).
    auto tileStart = [&](ImplicitLocOpBuilder &ib, Value i) -> Value {
      Value scaled = arith::MulIOp::create(
          ib, i, arith::ConstantIndexOp::create(ib, kStepsPerTile));
      if (!reverse)
        return arith::AddIOp::create(
            ib, scaled, arith::ConstantIndexOp::create(ib, begin));
      Value top = arith::ConstantIndexOp::create(
          ib, length - begin - kStepsPerTile);
      return arith::SubIOp::create(ib, top, scaled);
    };
    auto fma = [&](ImplicitLocOpBuilder &ib, Value x, Value y, Value z) {
      return math::FmaOp::create(ib, x, y, z).getResult();
    };
    auto tileLoop = scf::ForOp::create(
        bb, arith::ConstantIndexOp::create(bb, 0),
        arith::ConstantIndexOp::create(bb, tiles),
        arith::ConstantIndexOp::create(bb, 1), ValueRange{h, outDest},
        [&](OpBuilder &nested, Location loc, Value i, ValueRange carried) {
          ImplicitLocOpBuilder ib(loc, nested);
          Value start = tileStart(ib, i);
          SmallVector<Value> at = {c0, start};
          auto readTile = [&](Value blk) -> Value {
            Value tile = vector::TransferReadOp::create(
                ib, tileType, blk, at, zero, ArrayRef<bool>{true, true});
            return vector::TransposeOp::create(ib, tile, ArrayRef<int64_t>{1, 0});
          };
          Value aT = readTile(aBlk), bT = readTile(bBlk);
          Value hCur = carried[0];
          Value outT = arith::ConstantOp::create(
              ib, DenseElementsAttr::get(tileTypeT, ib.getZeroAttr(elt)));
          for (int64_t k = 0; k < kStepsPerTile; ++k) {
            int64_t row = reverse ? kStepsPerTile - 1 - k : k;
            Value ak = widen(ib, vector::ExtractOp::create(ib, aT, row));
            Value bk = widen(ib, vector::ExtractOp::create(ib, bT, row));
            hCur = fma(ib, ak, hCur, bk);
            outT = vector::InsertOp::create(ib, narrow(ib, hCur), outT, row);
          }
          Value outTile =
              vector::TransposeOp::create(ib, outT, ArrayRef<int64_t>{1, 0});
          Value written = vector::TransferWriteOp::create(
                              ib, outTile, carried[1], at, ArrayRef<bool>{true, true})
                              .getResult();
          scf::YieldOp::create(ib, ValueRange{hCur, written});
        });
    // The leftover steps: forward, the last ones; reverse, the first indices,
    // i.e. loop steps length-leftover .. length of the reversed sequence.
    int64_t first = reverse ? length - leftover : begin + tiles * kStepsPerTile;
    SmallVector<Value> final = buildTimeLoop(
        bb, first, first + leftover, length, reverse,
        {tileLoop.getResult(0), tileLoop.getResult(1)},
        [&](ImplicitLocOpBuilder &ib, Value t, ValueRange carried) {
          Value next = fma(ib, readColumn(ib, aBlk, t), carried[0],
                           readColumn(ib, bBlk, t));
          return SmallVector<Value>{next, writeColumn(ib, next, carried[1], t)};
        });
    SmallVector<Value> lastIndices = {c0};
    Value last = vector::TransferWriteOp::create(bb, narrow(bb, final[0]),
                                                 lastDest, lastIndices,
                                                 ArrayRef<bool>{true})
                     .getResult();
    return {final[1], last};
  };

  // A parallel loop over the batch dimensions and `numBlocks` blocks of
  // `count` rows from `firstRow`, writing into (out, last).
  auto blocks = [&](Value out, Value last, int64_t numBlocks, int64_t count,
                    int64_t firstRow) -> std::pair<Value, Value> {
    SmallVector<int64_t> counts(batchShape);
    counts.push_back(numBlocks);
    auto forall = scf::ForallOp::create(b, getAsIndexOpFoldResult(ctx, counts),
                                        ValueRange{out, last}, std::nullopt);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(forall.getBody());
    SmallVector<Value> ivs = forall.getInductionVars();
    ValueRange batch = ArrayRef<Value>(ivs).drop_back();
    Value row0 = arith::AddIOp::create(
        b,
        arith::MulIOp::create(b, ivs.back(),
                              arith::ConstantIndexOp::create(b, count)),
        arith::ConstantIndexOp::create(b, firstRow));
    ValueRange shared = forall.getRegionIterArgs();
    auto [outBlk, lastBlk] =
        block(b, batch, row0, count, blockSlice(b, shared[0], batch, row0, count),
              blockSlice(b, shared[1], batch, row0, count));
    b.setInsertionPointToStart(forall.getTerminator().getBody());
    insertBlock(b, outBlk, shared[0], batch, row0);
    insertBlock(b, lastBlk, shared[1], batch, row0);
    return {forall.getResult(0), forall.getResult(1)};
  };

  // Results are written in place into tensors of the op's own shapes, so
  // that after bufferization they are the caller's buffers.
  Value out = emptyTensor(b, type.getShape(), elt);
  Value last = emptyTensor(b, stateType.getShape(), elt);
  int64_t perBlock = std::min(kRowsPerBlock, rowsDim);
  int64_t fullBlocks = rowsDim / perBlock, remainder = rowsDim % perBlock;
  std::tie(out, last) = blocks(out, last, fullBlocks, perBlock, 0);
  if (remainder > 0)
    std::tie(out, last) =
        blocks(out, last, 1, remainder, fullBlocks * perBlock);

  if (opType.getRank() == 1) {
    SmallVector<ReassociationIndices> groups = {{0, 1}};
    out = tensor::CollapseShapeOp::create(b, opType, out, groups);
    last = tensor::CollapseShapeOp::create(b, dropDim(opType, 0), last,
                                           ArrayRef<ReassociationIndices>{});
  }
  rewriter.replaceOp(op, {out, last});
  return success();
}

struct LinearRecurrenceToLinalg : OpRewritePattern<LinearRecurrenceOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LinearRecurrenceOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(requireStaticShapes(op, rewriter)))
      return failure();
    // Along the innermost dimension each row is a contiguous stream: run rows
    // in blocks. Along any other dimension a time step is a contiguous slab,
    // which the generic time loop below already streams.
    RankedTensorType aType = tensorType(op.getA());
    if (static_cast<int64_t>(op.getDim()) == aType.getRank() - 1 &&
        aType.getNumElements() > 0)
      return lowerInnermostLinearRecurrence(op, rewriter);
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    MLIRContext *ctx = op.getContext();
    int64_t dim = op.getDim();
    bool reverse = op.getReverse();
    RankedTensorType type = tensorType(op.getA());
    Type elt = type.getElementType();
    int64_t length = type.getDimSize(dim);
    RankedTensorType stateType = dropDim(type, dim);
    int64_t stateRank = stateType.getRank();

    Value out = emptyTensor(b, type.getShape(), elt);
    Value h;
    int64_t begin = 0;
    if (Value h0 = op.getH0()) {
      h = convertTensor(b, h0, f32Type(ctx));
    } else if (length == 0) {
      h = filledTensor(b, stateType.getShape(), f32Type(ctx), 0.0);
    } else {
      // Without h0 the first step is exactly h = b.
      Value t0 = timeIndex(b, 0, length, reverse);
      Value b0 = extractStep(b, op.getB(), dim, t0);
      out = insertStep(b, b0, out, dim, t0);
      h = convertTensor(b, b0, f32Type(ctx));
      begin = 1;
    }

    SmallVector<Value> final = buildTimeLoop(
        b, begin, length, length, reverse, {out, h},
        [&](ImplicitLocOpBuilder &nb, Value t, ValueRange carried) {
          Value aT = extractStep(nb, op.getA(), dim, t);
          Value bT = extractStep(nb, op.getB(), dim, t);
          // The state is updated in place (the generic's first output).
          SmallVector<Value> outs = {carried[1]};
          if (elt != f32Type(ctx))
            outs.push_back(emptyTensor(nb, stateType.getShape(), elt));
          SmallVector<AffineMap> maps(2, identityMap(ctx, stateRank));
          SmallVector<Value> next = buildElementwise(
              nb, {aT, bT}, maps, outs,
              [&](ImplicitLocOpBuilder &bb, ValueRange args) {
                ScalarMath m(bb);
                Value hNew =
                    m.add(m.mul(m.f32(args[0]), args[2]), m.f32(args[1]));
                SmallVector<Value> yields = {hNew};
                if (outs.size() == 2)
                  yields.push_back(m.to(hNew, elt));
                return yields;
              });
          Value stored = next.size() == 2 ? next[1] : next[0];
          return SmallVector<Value>{insertStep(nb, stored, carried[0], dim, t),
                                    next[0]};
        });
    rewriter.replaceOp(op, {final[0], convertTensor(b, final[1], elt)});
    return success();
  }
};

//===----------------------------------------------------------------------===//
// seq.selective_scan
//===----------------------------------------------------------------------===//

struct SelectiveScanToLinalg : OpRewritePattern<SelectiveScanOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(SelectiveScanOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(requireStaticShapes(op, rewriter)))
      return failure();
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    MLIRContext *ctx = op.getContext();
    Type f32 = f32Type(ctx);
    RankedTensorType uType = tensorType(op.getU());
    Type elt = uType.getElementType();
    int64_t batch = uType.getDimSize(0), channels = uType.getDimSize(1),
            length = uType.getDimSize(2);
    int64_t states = tensorType(op.getA()).getDimSize(1);
    int64_t groups = tensorType(op.getB()).getDimSize(1);
    int64_t perGroup = channels / groups;
    bool softplus = op.getDeltaSoftplus();

    // Loops (b, d, n); channel d reads group d / perGroup of B and C.
    AffineExpr bd = getAffineDimExpr(0, ctx), dd = getAffineDimExpr(1, ctx),
               nd = getAffineDimExpr(2, ctx);
    AffineMap groupMap = AffineMap::get(3, 0, {bd, dd.floorDiv(perGroup), nd}, ctx);
    AffineMap bdMap = projectionMap(ctx, 3, {0, 1});
    AffineMap dnMap = projectionMap(ctx, 3, {1, 2});
    AffineMap bdnMap = identityMap(ctx, 3);

    Value h = filledTensor(b, {batch, channels, states}, f32, 0.0);
    Value y = emptyTensor(b, uType.getShape(), elt);
    SmallVector<Value> final = buildTimeLoop(
        b, 0, length, length, /*reverse=*/false, {y, h},
        [&](ImplicitLocOpBuilder &nb, Value t, ValueRange carried) {
          Value uT = extractStep(nb, op.getU(), 2, t);
          Value deltaT = extractStep(nb, op.getDelta(), 2, t);
          Value bT = extractStep(nb, op.getB(), 3, t);
          Value cT = extractStep(nb, op.getC(), 3, t);

          // Δ_t = softplus?(delta_t + delta_bias)
          SmallVector<Value> dtIns = {deltaT};
          SmallVector<AffineMap> dtMaps = {identityMap(ctx, 2)};
          if (Value bias = op.getDeltaBias()) {
            dtIns.push_back(bias);
            dtMaps.push_back(projectionMap(ctx, 2, {1}));
          }
          Value dt = buildElementwise(
              nb, dtIns, dtMaps, emptyTensor(nb, {batch, channels}, f32),
              [&](ImplicitLocOpBuilder &bb, ValueRange args) -> SmallVector<Value> {
                ScalarMath m(bb);
                Value v = m.f32(args[0]);
                if (dtIns.size() == 2)
                  v = m.add(v, m.f32(args[1]));
                return {softplus ? m.softplus(v) : v};
              })[0];

          // h_t = exp(Δ_t·A)·h_{t-1} + Δ_t·B_t·u_t
          Value hNew = buildElementwise(
              nb, {dt, op.getA(), bT, uT}, {bdMap, dnMap, groupMap, bdMap},
              carried[1],
              [&](ImplicitLocOpBuilder &bb, ValueRange args) -> SmallVector<Value> {
                ScalarMath m(bb);
                Value decay = m.exp(m.mul(args[0], m.f32(args[1])));
                Value input =
                    m.mul(m.mul(args[0], m.f32(args[2])), m.f32(args[3]));
                return {m.add(m.mul(decay, args[4]), input)};
              })[0];

          // y_t = Σ_n C_t·h_t
          Value yT = buildGeneric(
              nb, {cT, hNew}, filledTensor(nb, {batch, channels}, f32, 0.0),
              {groupMap, bdnMap, bdMap},
              {IteratorType::parallel, IteratorType::parallel,
               IteratorType::reduction},
              [&](ImplicitLocOpBuilder &bb, ValueRange args) -> SmallVector<Value> {
                ScalarMath m(bb);
                return {m.add(args[2], m.mul(m.f32(args[0]), args[1]))};
              })[0];

          // y_t += D·u_t; y_t *= silu(z_t)
          SmallVector<Value> ins = {yT, uT};
          SmallVector<AffineMap> maps = {identityMap(ctx, 2), identityMap(ctx, 2)};
          Value skip = op.getD(), gate = op.getZ();
          if (skip) {
            ins.push_back(skip);
            maps.push_back(projectionMap(ctx, 2, {1}));
          }
          if (gate) {
            ins.push_back(extractStep(nb, gate, 2, t));
            maps.push_back(identityMap(ctx, 2));
          }
          Value yOut = buildElementwise(
              nb, ins, maps, emptyTensor(nb, {batch, channels}, elt),
              [&](ImplicitLocOpBuilder &bb, ValueRange args) -> SmallVector<Value> {
                ScalarMath m(bb);
                Value v = args[0];
                unsigned next = 2;
                if (skip)
                  v = m.add(v, m.mul(m.f32(args[next++]), m.f32(args[1])));
                if (gate)
                  v = m.mul(v, m.silu(m.f32(args[next])));
                return {m.to(v, elt)};
              })[0];
          return SmallVector<Value>{insertStep(nb, yOut, carried[0], 2, t),
                                    hNew};
        });
    SmallVector<Value> results = {final[0]};
    if (op.getLastState())
      results.push_back(final[1]);
    rewriter.replaceOp(op, results);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// seq.gated_linear_attention
//===----------------------------------------------------------------------===//

struct GatedLinearAttentionToLinalg
    : OpRewritePattern<GatedLinearAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(GatedLinearAttentionOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(requireStaticShapes(op, rewriter)))
      return failure();
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    MLIRContext *ctx = op.getContext();
    Type f32 = f32Type(ctx);
    RankedTensorType qType = tensorType(op.getQ());
    RankedTensorType vType = tensorType(op.getV());
    Type elt = qType.getElementType();
    int64_t batch = qType.getDimSize(0), heads = qType.getDimSize(1),
            length = qType.getDimSize(2), keyDim = qType.getDimSize(3),
            valueDim = vType.getDimSize(3);
    double scale = op.getEffectiveScale();
    Value gate = op.getG();
    bool scalarGate = gate && tensorType(gate).getRank() == 3;

    // Loops (b, h, k, v).
    AffineMap bhk = projectionMap(ctx, 4, {0, 1, 2});
    AffineMap bhv = projectionMap(ctx, 4, {0, 1, 3});
    AffineMap bh = projectionMap(ctx, 4, {0, 1});
    AffineMap bhkv = identityMap(ctx, 4);

    Value state = op.getInitialState()
                      ? convertTensor(b, op.getInitialState(), f32)
                      : filledTensor(b, {batch, heads, keyDim, valueDim}, f32, 0.0);
    Value o = emptyTensor(b, {batch, heads, length, valueDim}, elt);
    SmallVector<Value> final = buildTimeLoop(
        b, 0, length, length, /*reverse=*/false, {o, state},
        [&](ImplicitLocOpBuilder &nb, Value t, ValueRange carried) {
          Value qT = extractStep(nb, op.getQ(), 2, t);
          Value kT = extractStep(nb, op.getK(), 2, t);
          Value vT = extractStep(nb, op.getV(), 2, t);

          // S_t = diag(exp g_t)·S_{t-1} + k_tᵀ·v_t
          SmallVector<Value> ins = {kT, vT};
          SmallVector<AffineMap> maps = {bhk, bhv};
          if (gate) {
            ins.push_back(extractStep(nb, gate, 2, t));
            maps.push_back(scalarGate ? bh : bhk);
          }
          // Updated in place: the state is the generic's output.
          Value sNew = buildElementwise(
              nb, ins, maps, carried[1],
              [&](ImplicitLocOpBuilder &bb, ValueRange args) -> SmallVector<Value> {
                ScalarMath m(bb);
                Value s = args.back();
                if (gate)
                  s = m.mul(m.exp(m.f32(args[2])), s);
                return {m.add(s, m.mul(m.f32(args[0]), m.f32(args[1])))};
              })[0];

          // o_t = scale·q_t·S_t
          Value oT = buildGeneric(
              nb, {qT, sNew}, filledTensor(nb, {batch, heads, valueDim}, f32, 0.0),
              {bhk, bhkv, bhv},
              {IteratorType::parallel, IteratorType::parallel,
               IteratorType::reduction, IteratorType::parallel},
              [&](ImplicitLocOpBuilder &bb, ValueRange args) -> SmallVector<Value> {
                ScalarMath m(bb);
                return {m.add(args[2], m.mul(m.f32(args[0]), args[1]))};
              })[0];
          Value oOut = buildElementwise(
              nb, oT, identityMap(ctx, 3),
              emptyTensor(nb, {batch, heads, valueDim}, elt),
              [&](ImplicitLocOpBuilder &bb, ValueRange args) -> SmallVector<Value> {
                ScalarMath m(bb);
                return {m.to(m.mul(args[0], m.constant(scale)), elt)};
              })[0];
          return SmallVector<Value>{insertStep(nb, oOut, carried[0], 2, t),
                                    sNew};
        });
    SmallVector<Value> results = {final[0]};
    if (op.getFinalState())
      results.push_back(final[1]);
    rewriter.replaceOp(op, results);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// seq.recurrence
//===----------------------------------------------------------------------===//

struct RecurrenceToLinalg : OpRewritePattern<RecurrenceOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(RecurrenceOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(requireStaticShapes(op, rewriter)))
      return failure();
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    int64_t dim = op.getDim();
    bool reverse = op.getReverse();
    int64_t length = tensorType(op.getInputs()[0]).getDimSize(dim);
    size_t numOutputs = op.getOutputs().size();

    SmallVector<Value> init = llvm::map_to_vector(op.getOutputs(), [&](Value y) {
      RankedTensorType t = tensorType(y);
      return emptyTensor(b, t.getShape(), t.getElementType());
    });
    init.append(op.getInit().begin(), op.getInit().end());
    SmallVector<Value> final = buildTimeLoop(
        b, 0, length, length, reverse, init,
        [&](ImplicitLocOpBuilder &nb, Value t, ValueRange carried) {
          SmallVector<Value> args(carried.drop_front(numOutputs));
          for (Value x : op.getInputs())
            args.push_back(extractStep(nb, x, dim, t));
          SmallVector<Value> yielded = inlineBlock(nb, op.getBody(), args);
          size_t numStates = op.getInit().size();
          SmallVector<Value> next;
          for (size_t i = 0; i < numOutputs; ++i)
            next.push_back(insertStep(nb, yielded[numStates + i], carried[i],
                                      dim, t));
          next.append(yielded.begin(), yielded.begin() + numStates);
          return next;
        });
    rewriter.replaceOp(op, final);
    return success();
  }
};
} // namespace

void mlir::seqc::populateScansToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<ScanToLinalg, LinearRecurrenceToLinalg, SelectiveScanToLinalg,
               GatedLinearAttentionToLinalg, RecurrenceToLinalg>(
      patterns.getContext());
}
