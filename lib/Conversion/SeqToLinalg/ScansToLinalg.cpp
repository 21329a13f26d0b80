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
#include "mlir/Dialect/Tensor/IR/Tensor.h"
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

struct LinearRecurrenceToLinalg : OpRewritePattern<LinearRecurrenceOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LinearRecurrenceOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(requireStaticShapes(op, rewriter)))
      return failure();
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
