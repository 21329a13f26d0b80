//===- SeqCanonicalize.cpp - seq canonicalization patterns ----------------===//
//
// Part of seqc. Canonical forms of the scan family:
//
//  - A two-input `seq.scan` whose combiner is the affine-map composition
//      (a1, b1) ∘ (a2, b2) = (a1·a2, a2·b1 + b2)
//    computes, in its second output, h_t = a_t·h_{t-1} + b_t (unrolling the
//    composition of x -> a_t·x + b_t), which is `seq.linear_recurrence`; its
//    first output is the running product of `a`, a one-input `mul` scan that
//    is only kept when used.
//  - Scans of length 1 with no initial carry are the identity (carry =
//    the single element); scans over tensors with a zero-sized dimension
//    produce empty outputs, and carries that are either empty or, for a
//    zero-length scan dimension, the initial carries.
//
//===----------------------------------------------------------------------===//

#include "seq/IR/SeqOps.h"
#include "seq/IR/SeqTypeInference.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace mlir::seqc::seq;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// `source` with its unit dimension `dim` collapsed away.
static Value collapseUnitDim(PatternRewriter &rewriter, Location loc,
                             Value source, int64_t dim) {
  auto type = cast<RankedTensorType>(source.getType());
  return tensor::CollapseShapeOp::create(
      rewriter, loc, dropDim(type, dim), source,
      dropDimReassociation(type.getRank(), dim));
}

/// An empty tensor of `source`'s sizes without `dim` (for results that have
/// no elements).
static Value emptyWithoutDim(PatternRewriter &rewriter, Location loc,
                             Value source, int64_t dim) {
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(rewriter, loc, source);
  sizes.erase(sizes.begin() + dim);
  return tensor::EmptyOp::create(rewriter, loc, sizes,
                                 getElementTypeOrSelf(source.getType()));
}

/// `value` as `type`, through a tensor.cast where the two differ only in
/// which sizes are static (the verifiers accept compatible result types).
static Value castTo(PatternRewriter &rewriter, Location loc, Value value,
                    Type type) {
  if (value.getType() == type)
    return value;
  return tensor::CastOp::create(rewriter, loc, type, value);
}

/// Replaces `op` with `values`, cast to the op's result types.
static void replaceWithCasts(PatternRewriter &rewriter, Operation *op,
                             SmallVector<Value> values) {
  for (auto [value, result] : llvm::zip_equal(values, op->getResults()))
    value = castTo(rewriter, op->getLoc(), value, result.getType());
  rewriter.replaceOp(op, values);
}

static bool hasZeroSize(Type type) {
  return llvm::is_contained(cast<RankedTensorType>(type).getShape(), 0);
}

/// `v` is `x * y` or `y * x`.
static bool isProductOf(Value v, Value x, Value y) {
  auto mul = v.getDefiningOp<arith::MulFOp>();
  return mul && ((mul.getLhs() == x && mul.getRhs() == y) ||
                 (mul.getLhs() == y && mul.getRhs() == x));
}

bool ScanOp::isLinearRecurrenceCombiner() {
  if (getInputs().size() != 2)
    return false;
  Block &body = getCombiner().front();
  auto yield = cast<YieldOp>(body.getTerminator());
  Value a1 = body.getArgument(0), b1 = body.getArgument(1);
  Value a2 = body.getArgument(2), b2 = body.getArgument(3);
  // The carry's combined decay a1·a2.
  if (!isProductOf(yield.getValues()[0], a1, a2))
    return false;
  // The carry's combined offset a2·b1 + b2, in either operand order, or
  // fused as fma(a2, b1, b2).
  Value offset = yield.getValues()[1];
  if (auto fma = offset.getDefiningOp<math::FmaOp>())
    return fma.getC() == b2 &&
           ((fma.getA() == a2 && fma.getB() == b1) ||
            (fma.getA() == b1 && fma.getB() == a2));
  auto add = offset.getDefiningOp<arith::AddFOp>();
  return add && ((isProductOf(add.getLhs(), a2, b1) && add.getRhs() == b2) ||
                 (isProductOf(add.getRhs(), a2, b1) && add.getLhs() == b2));
}

LogicalResult ScanOp::raiseToLinearRecurrence(RewriterBase &rewriter,
                                              std::string *why) {
  auto fail = [&](const char *reason) {
    if (why)
      *why = reason;
    return failure();
  };
  if (!isLinearRecurrenceCombiner())
    return fail("the combiner is not (a1, b1), (a2, b2) -> (a1*a2, a2*b1 + b2)");
  // The exclusive form would shift h by one step; keep it as a scan.
  if (getExclusive())
    return fail("the scan is exclusive");
  Value a = getInputs()[0], b = getInputs()[1];
  if (a.getType() != b.getType())
    return fail("the decays and offsets differ in type");

  Location loc = getLoc();
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(*this);
  ValueRange initial = getInitial();
  // With an initial carry (a0, b0), h_{-1} = b0; a0 only scales the decay
  // product.
  Value h0 = initial.empty() ? Value() : initial[1];
  auto recurrence = LinearRecurrenceOp::create(
      rewriter, loc, getResult(1).getType(), getResult(3).getType(), a, b, h0,
      getDimAttr(), getReverseAttr());

  Value decays = getResult(0), decayCarry = getResult(2);
  if (!decays.use_empty() || !decayCarry.use_empty()) {
    auto product = ScanOp::create(
        rewriter, loc, TypeRange{decays.getType(), decayCarry.getType()},
        ValueRange{a}, initial.empty() ? ValueRange() : initial.take_front(),
        getDimAttr(), getReverseAttr(), getExclusiveAttr());
    Type elt = getElementTypeOrSelf(a.getType());
    Block *block = rewriter.createBlock(&product.getCombiner(), {},
                                        {elt, elt}, {loc, loc});
    Value mul = arith::MulFOp::create(rewriter, loc, block->getArgument(0),
                                      block->getArgument(1));
    YieldOp::create(rewriter, loc, mul);
    decays = product.getResult(0);
    decayCarry = product.getResult(1);
  }
  rewriter.replaceOp(*this, {decays, recurrence.getH(), decayCarry,
                             recurrence.getLast()});
  return success();
}

//===----------------------------------------------------------------------===//
// ScanOp patterns
//===----------------------------------------------------------------------===//

namespace {
/// seq.scan with the linear-recurrence combiner -> seq.linear_recurrence
/// (plus a `mul` scan for the decays' running product, when it is used).
struct ScanToLinearRecurrence : OpRewritePattern<ScanOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ScanOp op,
                                PatternRewriter &rewriter) const override {
    std::string why;
    if (failed(op.raiseToLinearRecurrence(rewriter, &why)))
      return rewriter.notifyMatchFailure(op, why);
    return success();
  }
};

/// An inclusive scan of length 1 without initial carries returns its inputs;
/// the carries are the single elements.
struct FoldUnitScan : OpRewritePattern<ScanOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ScanOp op,
                                PatternRewriter &rewriter) const override {
    int64_t dim = op.getDim();
    if (cast<RankedTensorType>(op.getInputs()[0].getType()).getDimSize(dim) !=
        1)
      return rewriter.notifyMatchFailure(op, "scan length is not 1");
    if (!op.getInitial().empty() || op.getExclusive())
      return rewriter.notifyMatchFailure(op, "initial carries are combined");
    SmallVector<Value> replacements(op.getInputs());
    for (Value input : op.getInputs())
      replacements.push_back(
          collapseUnitDim(rewriter, op.getLoc(), input, dim));
    replaceWithCasts(rewriter, op, replacements);
    return success();
  }
};

/// Scans over tensors with no elements: the outputs are the (empty) inputs;
/// the carries are the initial carries for a zero-length scan dimension,
/// else empty.
struct FoldEmptyScan : OpRewritePattern<ScanOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ScanOp op,
                                PatternRewriter &rewriter) const override {
    if (!hasZeroSize(op.getInputs()[0].getType()))
      return rewriter.notifyMatchFailure(op, "inputs are not empty");
    int64_t dim = op.getDim();
    bool zeroLength =
        cast<RankedTensorType>(op.getInputs()[0].getType()).getDimSize(dim) ==
        0;
    SmallVector<Value> replacements(op.getInputs());
    for (auto [i, input] : llvm::enumerate(op.getInputs())) {
      // Carries without a zero dimension of their own come from `initial`,
      // which scan_c5 guarantees for zero-length scans.
      if (zeroLength && !hasZeroSize(op.getCarries()[i].getType()))
        replacements.push_back(op.getInitial()[i]);
      else
        replacements.push_back(
            emptyWithoutDim(rewriter, op.getLoc(), input, dim));
    }
    replaceWithCasts(rewriter, op, replacements);
    return success();
  }
};
} // namespace

void ScanOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                         MLIRContext *context) {
  results.add<ScanToLinearRecurrence, FoldUnitScan, FoldEmptyScan>(context);
}

//===----------------------------------------------------------------------===//
// LinearRecurrenceOp patterns
//===----------------------------------------------------------------------===//

namespace {
/// Length 1 without h0: the first step is h = b exactly.
struct FoldUnitLinearRecurrence : OpRewritePattern<LinearRecurrenceOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LinearRecurrenceOp op,
                                PatternRewriter &rewriter) const override {
    int64_t dim = op.getDim();
    if (cast<RankedTensorType>(op.getB().getType()).getDimSize(dim) != 1)
      return rewriter.notifyMatchFailure(op, "length is not 1");
    if (op.getH0())
      return rewriter.notifyMatchFailure(op, "h0 is combined with a and b");
    replaceWithCasts(
        rewriter, op,
        {op.getB(), collapseUnitDim(rewriter, op.getLoc(), op.getB(), dim)});
    return success();
  }
};

/// No elements: h is the (empty) b; the last state is h0 (zeros without it)
/// for a zero-length dimension, else empty.
struct FoldEmptyLinearRecurrence : OpRewritePattern<LinearRecurrenceOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LinearRecurrenceOp op,
                                PatternRewriter &rewriter) const override {
    if (!hasZeroSize(op.getB().getType()))
      return rewriter.notifyMatchFailure(op, "operands are not empty");
    int64_t dim = op.getDim();
    auto lastType = cast<RankedTensorType>(op.getLast().getType());
    Value last;
    if (hasZeroSize(lastType)) {
      last = emptyWithoutDim(rewriter, op.getLoc(), op.getB(), dim);
    } else if (Value h0 = op.getH0()) {
      last = h0;
    } else {
      if (!lastType.hasStaticShape())
        return rewriter.notifyMatchFailure(op, "dynamic zero state");
      last = arith::ConstantOp::create(
          rewriter, op.getLoc(),
          DenseElementsAttr::get(
              lastType, rewriter.getZeroAttr(lastType.getElementType())));
    }
    replaceWithCasts(rewriter, op, {op.getB(), last});
    return success();
  }
};
} // namespace

void LinearRecurrenceOp::getCanonicalizationPatterns(
    RewritePatternSet &results, MLIRContext *context) {
  results.add<FoldUnitLinearRecurrence, FoldEmptyLinearRecurrence>(context);
}
