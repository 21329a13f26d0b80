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
//
// (seq.recurrence, whose body is user code, has its own file.)
// so no op materializes more than one step of its intermediates.
//
// The linear recurrence along the innermost (contiguous) dimension is the
// exception: each row is split into vector-wide tiles, each tile is a
// two-level scan (a log-depth composition of affine maps in registers, then
// one carry FMA), and rows run in parallel.
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

/// Rows per parallel iteration of the innermost-dimension recurrence (each
/// row streams on its own: three memory streams per row).
constexpr int64_t kRowsPerBlock = 1;
/// Time steps per tile of the in-register scan (two 512-bit vectors of f32).
/// Measured on the 2-core AVX-512 machine, 64M f32 elements along the last
/// dimension (rows per block x steps per tile): 1x32 ran at 58 GB/s, 2x32 at
/// 54, 1x16 at 37, 2x16 at 39, 2x64 at 37, 2x128 at 34. (The earlier form,
/// transposed register tiles with one lane per row, peaked at 25 GB/s.)
constexpr int64_t kStepsPerTile = 32;

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
  // and [count] destinations and returns them. Each row goes tile by tile
  // (kStepsPerTile contiguous steps, one vector). Within a tile the affine
  // maps x -> a_t·x + b_t are composed by a log-depth in-register scan: after
  // the rounds s = 1, 2, 4, ..., lane t holds (A_t, B_t) with
  //   A_t = a_t·...·a_0,   B_t = Σ_k (a_t·...·a_{k+1})·b_k   (within the tile)
  // (each round combines lane t with lane t - s: B_t += A_t·B_{t-s},
  // A_t *= A_{t-s}; lanes with t < s combine with the identity (1, 0)), so
  // h_t = A_t·h_in + B_t with h_in the carry from the previous tile. Only the
  // carry is sequential: one FMA per tile instead of one per step.
  auto block = [&](ImplicitLocOpBuilder &bb, ValueRange batch, Value row0,
                   int64_t count, Value outDest,
                   Value lastDest) -> std::pair<Value, Value> {
    constexpr int64_t T = kStepsPerTile;
    auto tileType = VectorType::get({T}, f32);
    auto storage = VectorType::get({T}, elt);
    Value aBlk = blockSlice(bb, a, batch, row0, count);
    Value bBlk = blockSlice(bb, bIn, batch, row0, count);
    Value h0Blk = h0 ? blockSlice(bb, h0, batch, row0, count) : Value();
    int64_t tiles = length / T, leftover = length % T;
    Value f32One = arith::ConstantOp::create(bb, bb.getF32FloatAttr(1.0));
    Value f32Zero = arith::ConstantOp::create(bb, bb.getF32FloatAttr(0.0));
    Value ones = vector::BroadcastOp::create(bb, tileType, f32One);
    Value zeros = vector::BroadcastOp::create(bb, tileType, f32Zero);
    // Lane t of the reversed tile is lane T-1-t: a reverse recurrence runs
    // the same forward scan on reversed tiles.
    SmallVector<int64_t> reversal;
    for (int64_t t = T - 1; t >= 0; --t)
      reversal.push_back(t);
    auto orient = [&](ImplicitLocOpBuilder &ib, Value v) -> Value {
      return reverse ? vector::ShuffleOp::create(ib, v, v, reversal).getResult()
                     : v;
    };
    // Storage <-> f32 conversions, for vectors and scalars alike.
    auto widen = [](ImplicitLocOpBuilder &ib, Value v) {
      return ScalarMath(ib).f32(v);
    };
    auto narrow = [&](ImplicitLocOpBuilder &ib, Value v) {
      return ScalarMath(ib).to(v, elt);
    };
    // (A, B) of a tile, scanned.
    auto scanTile = [&](ImplicitLocOpBuilder &ib, Value av,
                        Value bv) -> std::pair<Value, Value> {
      for (int64_t shift = 1; shift < T; shift *= 2) {
        SmallVector<int64_t> mask;
        for (int64_t t = 0; t < T; ++t)
          mask.push_back(t >= shift ? t - shift : T + t);
        Value aPrev = vector::ShuffleOp::create(ib, av, ones, mask);
        Value bPrev = vector::ShuffleOp::create(ib, bv, zeros, mask);
        bv = math::FmaOp::create(ib, av, bPrev, bv);
        av = arith::MulFOp::create(ib, av, aPrev);
      }
      return {av, bv};
    };

    Value out = outDest;
    SmallVector<Value> lasts;
    for (int64_t r = 0; r < count; ++r) {
      Value rowIdx = arith::ConstantIndexOp::create(bb, r);
      // Tile i starts at time i·T (forward) or L - (i+1)·T (reverse).
      auto tileStart = [&](ImplicitLocOpBuilder &ib, Value i) -> Value {
        Value scaled =
            arith::MulIOp::create(ib, i, arith::ConstantIndexOp::create(ib, T));
        if (!reverse)
          return scaled;
        return arith::SubIOp::create(
            ib, arith::ConstantIndexOp::create(ib, length - T), scaled);
      };
      // Without h0 the first tile has no carry to apply: h = B exactly (as
      // the first step h = b).
      Value carry = h0 ? widen(bb, tensor::ExtractOp::create(
                                             bb, h0Blk, ValueRange{rowIdx}))
                       : f32Zero;
      int64_t firstTile = 0;
      auto emitTile = [&](ImplicitLocOpBuilder &ib, Value i, Value h,
                          Value dest, bool applyCarry) -> std::pair<Value, Value> {
        Value start = tileStart(ib, i);
        SmallVector<Value> at = {rowIdx, start};
        auto load = [&](Value blk) {
          return orient(ib, widen(ib, vector::TransferReadOp::create(
                                             ib, storage, blk, at, zero,
                                             ArrayRef<bool>{true})));
        };
        auto [av, bv] = scanTile(ib, load(aBlk), load(bBlk));
        Value hv = applyCarry
                       ? math::FmaOp::create(
                             ib, av, vector::BroadcastOp::create(ib, tileType, h),
                             bv)
                             .getResult()
                       : bv;
        Value next = vector::ExtractOp::create(ib, hv, T - 1);
        Value written = vector::TransferWriteOp::create(
                            ib, narrow(ib, orient(ib, hv)), dest, at,
                            ArrayRef<bool>{true})
                            .getResult();
        return {next, written};
      };
      if (!h0 && tiles > 0) {
        std::tie(carry, out) =
            emitTile(bb, arith::ConstantIndexOp::create(bb, 0), carry, out,
                     /*applyCarry=*/false);
        firstTile = 1;
      }
      auto tileLoop = scf::ForOp::create(
          bb, arith::ConstantIndexOp::create(bb, firstTile),
          arith::ConstantIndexOp::create(bb, tiles),
          arith::ConstantIndexOp::create(bb, 1), ValueRange{carry, out},
          [&](OpBuilder &nested, Location loc, Value i, ValueRange carried) {
            ImplicitLocOpBuilder ib(loc, nested);
            auto [next, written] =
                emitTile(ib, i, carried[0], carried[1], /*applyCarry=*/true);
            scf::YieldOp::create(ib, ValueRange{next, written});
          });
      carry = tileLoop.getResult(0);
      out = tileLoop.getResult(1);
      // Steps the tiles leave over, one at a time: forward the last ones,
      // reverse the first indices (loop steps length-leftover.. of the
      // reversed sequence). Without h0 and without any tile, the very first
      // step is h = b.
      int64_t begin = reverse ? length - leftover : tiles * T;
      int64_t end = begin + leftover;
      if (!h0 && tiles == 0 && leftover > 0) {
        Value t0 = timeIndex(bb, 0, length, reverse);
        Value b0 = tensor::ExtractOp::create(bb, bBlk, ValueRange{rowIdx, t0});
        carry = widen(bb, b0);
        out = tensor::InsertOp::create(bb, b0, out, ValueRange{rowIdx, t0});
        ++begin;
      }
      SmallVector<Value> final = buildTimeLoop(
          bb, begin, end, length, reverse, {carry, out},
          [&](ImplicitLocOpBuilder &ib, Value t, ValueRange carried) {
            Value at = widen(
                ib, tensor::ExtractOp::create(ib, aBlk, ValueRange{rowIdx, t}));
            Value bt = widen(
                ib, tensor::ExtractOp::create(ib, bBlk, ValueRange{rowIdx, t}));
            Value next = math::FmaOp::create(ib, at, carried[0], bt);
            Value written = tensor::InsertOp::create(
                ib, narrow(ib, next), carried[1], ValueRange{rowIdx, t});
            return SmallVector<Value>{next, written};
          });
      carry = final[0];
      out = final[1];
      lasts.push_back(narrow(bb, carry));
    }
    Value last = lastDest;
    for (int64_t r = 0; r < count; ++r)
      last = tensor::InsertOp::create(
          bb, lasts[r], last,
          ValueRange{arith::ConstantIndexOp::create(bb, r)});
    return {out, last};
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

/// The time loop of a recurrence along an outer dimension `dim`: each step
/// is a contiguous slab, updated in place as an f32 state. Writes every h
/// into `outInit` (a tensor of a's shape and storage type) and returns it with
/// the final f32 state.
std::pair<Value, Value> buildOuterTimeLoop(ImplicitLocOpBuilder &b, Value a,
                                           Value bIn, Value h0, Value outInit,
                                           int64_t dim, bool reverse) {
  MLIRContext *ctx = b.getContext();
  Type f32 = f32Type(ctx);
  RankedTensorType type = tensorType(a);
  Type elt = type.getElementType();
  int64_t length = type.getDimSize(dim);
  RankedTensorType stateType = dropDim(type, dim);
  int64_t stateRank = stateType.getRank();

  Value out = outInit;
  Value h;
  int64_t begin = 0;
  if (h0) {
    h = convertTensor(b, h0, f32);
  } else if (length == 0) {
    h = filledTensor(b, stateType.getShape(), f32, 0.0);
  } else {
    // Without h0 the first step is exactly h = b.
    Value t0 = timeIndex(b, 0, length, reverse);
    Value b0 = extractStep(b, bIn, dim, t0);
    out = insertStep(b, b0, out, dim, t0);
    h = convertTensor(b, b0, f32);
    begin = 1;
  }
  SmallVector<Value> final = buildTimeLoop(
      b, begin, length, length, reverse, {out, h},
      [&](ImplicitLocOpBuilder &nb, Value t, ValueRange carried) {
        Value aT = extractStep(nb, a, dim, t);
        Value bT = extractStep(nb, bIn, dim, t);
        // The state is updated in place (the generic's first output).
        SmallVector<Value> outs = {carried[1]};
        if (elt != f32)
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
  return {final[0], final[1]};
}

/// Columns of the last dimension per parallel slab of a recurrence along an
/// outer dimension: 32 KiB of f32 per step and slab, long enough to stream.
/// Measured on 2048x32768 f32 along dim 0 (2 cores): 8192 columns ran at
/// 31 GB/s, 16384 at 29, 4096 at 23, 256 at 19; unsplit (one core) 22.
constexpr int64_t kColumnsPerSlab = 8192;

struct LinearRecurrenceToLinalg : OpRewritePattern<LinearRecurrenceOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LinearRecurrenceOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(requireStaticShapes(op, rewriter)))
      return failure();
    // Along the innermost dimension each row is a contiguous stream: a
    // chunked scan per row. Along any other dimension a time step is a
    // contiguous slab: a time loop, run in parallel over column slabs of the
    // last dimension (each writing its part of the result in place).
    RankedTensorType type = tensorType(op.getA());
    int64_t rank = type.getRank(), dim = op.getDim();
    if (dim == rank - 1 && type.getNumElements() > 0)
      return lowerInnermostLinearRecurrence(op, rewriter);
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    MLIRContext *ctx = op.getContext();
    Type elt = type.getElementType();
    bool reverse = op.getReverse();
    RankedTensorType stateType = dropDim(type, dim);
    int64_t columns = type.getShape().back();
    int64_t slabs = type.getNumElements() > 0 ? columns / kColumnsPerSlab : 0;
    if (slabs < 2) {
      auto [h, last] = buildOuterTimeLoop(
          b, op.getA(), op.getB(), op.getH0(),
          emptyTensor(b, type.getShape(), elt), dim, reverse);
      rewriter.replaceOp(op, {h, convertTensor(b, last, elt)});
      return success();
    }

    // The slab [..., col0 : col0 + width] of `t` (its last dimension).
    auto slabOffsets = [&](ImplicitLocOpBuilder &bb, int64_t r, Value col0) {
      SmallVector<OpFoldResult> offsets(r, bb.getIndexAttr(0));
      offsets.back() = col0;
      return offsets;
    };
    auto slabSizes = [&](RankedTensorType t, int64_t width) {
      SmallVector<OpFoldResult> sizes = getAsIndexOpFoldResult(ctx, t.getShape());
      sizes.back() = b.getIndexAttr(width);
      return sizes;
    };
    auto slab = [&](ImplicitLocOpBuilder &bb, Value t, Value col0,
                    int64_t width) -> Value {
      RankedTensorType tType = tensorType(t);
      return tensor::ExtractSliceOp::create(
          bb, t, slabOffsets(bb, tType.getRank(), col0),
          slabSizes(tType, width),
          SmallVector<OpFoldResult>(tType.getRank(), bb.getIndexAttr(1)));
    };
    // Runs one slab into slices of (out, last); returns (h, last) parts.
    auto runSlab = [&](ImplicitLocOpBuilder &bb, Value col0, int64_t width,
                       Value out) -> std::pair<Value, Value> {
      Value h0 = op.getH0() ? slab(bb, op.getH0(), col0, width) : Value();
      auto [h, last] = buildOuterTimeLoop(
          bb, slab(bb, op.getA(), col0, width), slab(bb, op.getB(), col0, width),
          h0, slab(bb, out, col0, width), dim, reverse);
      return {h, convertTensor(bb, last, elt)};
    };

    auto forall = scf::ForallOp::create(
        b, getAsIndexOpFoldResult(ctx, ArrayRef<int64_t>{slabs}),
        ValueRange{emptyTensor(b, type.getShape(), elt),
                   emptyTensor(b, stateType.getShape(), elt)},
        std::nullopt);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(forall.getBody());
      Value col0 = arith::MulIOp::create(
          b, forall.getInductionVars()[0],
          arith::ConstantIndexOp::create(b, kColumnsPerSlab));
      ValueRange shared = forall.getRegionIterArgs();
      auto [h, last] = runSlab(b, col0, kColumnsPerSlab, shared[0]);
      b.setInsertionPointToStart(forall.getTerminator().getBody());
      for (auto [part, dest, partType] :
           {std::tuple{h, shared[0], type}, {last, shared[1], stateType}})
        tensor::ParallelInsertSliceOp::create(
            b, part, dest, slabOffsets(b, partType.getRank(), col0),
            slabSizes(partType, kColumnsPerSlab),
            SmallVector<OpFoldResult>(partType.getRank(), b.getIndexAttr(1)));
    }
    Value h = forall.getResult(0), last = forall.getResult(1);
    if (int64_t remainder = columns % kColumnsPerSlab) {
      Value col0 = arith::ConstantIndexOp::create(b, slabs * kColumnsPerSlab);
      auto [hPart, lastPart] = runSlab(b, col0, remainder, h);
      h = tensor::InsertSliceOp::create(
          b, hPart, h, slabOffsets(b, rank, col0), slabSizes(type, remainder),
          SmallVector<OpFoldResult>(rank, b.getIndexAttr(1)));
      last = tensor::InsertSliceOp::create(
          b, lastPart, last, slabOffsets(b, rank - 1, col0),
          slabSizes(stateType, remainder),
          SmallVector<OpFoldResult>(rank - 1, b.getIndexAttr(1)));
    }
    rewriter.replaceOp(op, {h, last});
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

} // namespace

void mlir::seqc::populateScansToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<ScanToLinalg, LinearRecurrenceToLinalg, SelectiveScanToLinalg,
               GatedLinearAttentionToLinalg>(
      patterns.getContext());
}
