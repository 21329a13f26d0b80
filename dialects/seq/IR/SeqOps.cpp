//===- SeqOps.cpp - seq dialect op verifiers ------------------------------===//
//
// Part of seqc. Every check cites the constraint of dialects/seq/README.md it
// enforces (`// attention_c3`); invalid.mlir has one case per constraint.
// Sizes are only compared where both are static: dynamic sizes are the
// runtime's to check.
//
//===----------------------------------------------------------------------===//

#include "seq/IR/SeqOps.h"
#include "seq/IR/SeqTypeInference.h"

#include "mlir/IR/TypeUtilities.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

#include <cmath>

using namespace mlir;
using namespace mlir::seqc::seq;

//===----------------------------------------------------------------------===//
// Shared checks
//===----------------------------------------------------------------------===//

namespace {
/// The dialect's standard diagnostics. Each helper names the operands and
/// both sizes involved, so that a message alone locates the mistake.
class Checker {
public:
  explicit Checker(Operation *op) : op(op) {}

  /// `name` has rank `rank`; `layout` spells the expected dimensions.
  LogicalResult rank(StringRef name, Type type, int64_t rank,
                     StringRef layout) {
    int64_t actual = cast<RankedTensorType>(type).getRank();
    if (actual == rank)
      return success();
    return op->emitOpError() << name << " must have rank " << rank << " ("
                             << layout << "), got rank " << actual;
  }

  /// Dimension `i` of `a` equals dimension `j` of `b` where both are static;
  /// `what` names the dimension in the message.
  LogicalResult sameSize(StringRef what, StringRef aName, Type a, int64_t i,
                         StringRef bName, Type b, int64_t j) {
    int64_t x = cast<RankedTensorType>(a).getDimSize(i);
    int64_t y = cast<RankedTensorType>(b).getDimSize(j);
    if (succeeded(mergeSizes(x, y)))
      return success();
    return op->emitOpError() << aName << " " << what << " (" << x
                             << ") does not match " << bName << " " << what
                             << " (" << y << ")";
  }

  /// `actual` has the shape and element type of `expected` (dynamic sizes
  /// are compatible with static ones).
  LogicalResult type(StringRef name, Type actual, Type expected) {
    if (getElementTypeOrSelf(actual) == getElementTypeOrSelf(expected) &&
        succeeded(verifyCompatibleShape(actual, expected)))
      return success();
    return op->emitOpError() << name << " must have type " << expected
                             << ", got " << actual;
  }

  /// `dim` indexes a dimension of a tensor of rank `rank`.
  LogicalResult dimInRange(int64_t dim, int64_t rank, StringRef of) {
    if (dim >= 0 && dim < rank)
      return success();
    return op->emitOpError() << "dim " << dim << " is out of range for " << of
                             << " of rank " << rank;
  }

  /// An optional f32 attribute is finite and, when `positive`, above zero.
  LogicalResult finite(StringRef name, std::optional<APFloat> value,
                       bool positive) {
    if (!value)
      return success();
    if (value->isFinite() && (!positive || (!value->isNegative() && !value->isZero())))
      return success();
    return op->emitOpError() << name << " must be "
                             << (positive ? "positive and finite" : "finite")
                             << ", got " << toString(*value);
  }

  /// The value as written (`-10000`, `+Inf`, `NaN`).
  static std::string toString(const APFloat &value) {
    SmallString<16> text;
    value.toString(text, /*FormatPrecision=*/0, /*FormatMaxPadding=*/8);
    return std::string(text);
  }

private:
  Operation *op;
};

RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}
} // namespace

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

double AttentionOp::getEffectiveScale() {
  if (std::optional<APFloat> scale = getScale())
    return scale->convertToDouble();
  return 1.0 / std::sqrt(double(tensorType(getQuery()).getDimSize(3)));
}

int64_t AttentionOp::getGroupSize() {
  int64_t hq = tensorType(getQuery()).getDimSize(1);
  int64_t hkv = tensorType(getKey()).getDimSize(1);
  if (ShapedType::isDynamic(hq) || ShapedType::isDynamic(hkv) || hkv == 0)
    return 0;
  return hq / hkv;
}

LogicalResult AttentionOp::verify() {
  Checker check(*this);
  Type q = getQuery().getType(), k = getKey().getType(),
       v = getValue().getType();
  // attention_c1
  if (failed(check.rank("query", q, 4, "[B, Hq, Sq, D]")) ||
      failed(check.rank("key", k, 4, "[B, Hkv, Skv, D]")) ||
      failed(check.rank("value", v, 4, "[B, Hkv, Skv, Dv]")))
    return failure();
  // attention_c2
  Type elt = getElementTypeOrSelf(q);
  if (getElementTypeOrSelf(k) != elt || getElementTypeOrSelf(v) != elt)
    return emitOpError() << "query, key and value must have one element type, "
                            "got "
                         << elt << ", " << getElementTypeOrSelf(k) << " and "
                         << getElementTypeOrSelf(v);
  // attention_c3
  if (failed(check.sameSize("batch size", "key", k, 0, "query", q, 0)) ||
      failed(check.sameSize("batch size", "value", v, 0, "query", q, 0)))
    return failure();
  // attention_c4
  if (failed(check.sameSize("heads", "value", v, 1, "key", k, 1)))
    return failure();
  // attention_c5
  int64_t hq = tensorType(getQuery()).getDimSize(1);
  int64_t hkv = tensorType(getKey()).getDimSize(1);
  if (!ShapedType::isDynamic(hq) && !ShapedType::isDynamic(hkv) &&
      (hkv == 0 || hq % hkv != 0))
    return emitOpError() << "query heads (" << hq
                         << ") must be a multiple of key/value heads (" << hkv
                         << ")";
  // attention_c6
  if (failed(check.sameSize("head dim", "key", k, 3, "query", q, 3)))
    return failure();
  // attention_c7
  if (failed(check.sameSize("sequence length", "value", v, 2, "key", k, 2)))
    return failure();
  // attention_c8
  ArrayRef<int64_t> window = getWindow();
  if (window.size() != 2)
    return emitOpError() << "window must have 2 entries [left, right], got "
                         << window.size();
  for (int64_t w : window)
    if (w < -1)
      return emitOpError() << "window entries must be -1 (unbounded) or "
                              "non-negative, got "
                           << w;
  // attention_c9, attention_c10
  if (failed(check.finite("scale", getScale(), /*positive=*/false)) ||
      failed(check.finite("softcap", getSoftcap(), /*positive=*/true)))
    return failure();
  // attention_c11
  if (Value lengths = getKvLengths()) {
    Type l = lengths.getType();
    if (failed(check.rank("kv_lengths", l, 1, "[B]")) ||
        failed(check.sameSize("batch size", "kv_lengths", l, 0, "query", q, 0)))
      return failure();
  }
  // attention_c12
  Value qSeg = getQSegmentIds(), kvSeg = getKvSegmentIds();
  if (bool(qSeg) != bool(kvSeg))
    return emitOpError()
           << "q_segment_ids and kv_segment_ids must be given together";
  if (qSeg) {
    Type qs = qSeg.getType(), ks = kvSeg.getType();
    if (failed(check.rank("q_segment_ids", qs, 2, "[B, Sq]")) ||
        failed(check.rank("kv_segment_ids", ks, 2, "[B, Skv]")) ||
        failed(check.sameSize("batch size", "q_segment_ids", qs, 0, "query", q,
                              0)) ||
        failed(check.sameSize("sequence length", "q_segment_ids", qs, 1,
                              "query", q, 2)) ||
        failed(check.sameSize("batch size", "kv_segment_ids", ks, 0, "key", k,
                              0)) ||
        failed(check.sameSize("sequence length", "kv_segment_ids", ks, 1, "key",
                              k, 2)))
      return failure();
    if (getElementTypeOrSelf(qs) != getElementTypeOrSelf(ks))
      return emitOpError() << "q_segment_ids and kv_segment_ids must have one "
                              "element type, got "
                           << getElementTypeOrSelf(qs) << " and "
                           << getElementTypeOrSelf(ks);
  }
  // attention_c13
  if (failed(check.type("output", getOutput().getType(),
                        inferAttentionOutputType(tensorType(getQuery()),
                                                 tensorType(getValue())))))
    return failure();
  // attention_c14
  if (Value lse = getLse())
    return check.type("lse", lse.getType(),
                      inferAttentionLseType(tensorType(getQuery())));
  return success();
}

//===----------------------------------------------------------------------===//
// ScanOp
//===----------------------------------------------------------------------===//

LogicalResult ScanOp::verify() {
  Checker check(*this);
  OperandRange inputs = getInputs();
  // scan_c1
  if (inputs.empty())
    return emitOpError() << "needs at least one input";
  RankedTensorType first = tensorType(inputs[0]);
  for (auto [i, input] : llvm::enumerate(inputs.drop_front()))
    if (failed(verifyCompatibleShape(first, input.getType())))
      return emitOpError() << "input #" << i + 1 << " of type "
                           << input.getType()
                           << " does not have the shape of input #0 of type "
                           << first;
  // scan_c2
  int64_t dim = getDim();
  if (failed(check.dimInRange(dim, first.getRank(), "inputs")))
    return failure();
  size_t n = inputs.size();
  // scan_c3
  OperandRange initial = getInitial();
  if (!initial.empty() && initial.size() != n)
    return emitOpError() << "expects 0 or " << n
                         << " initial carries (one per input), got "
                         << initial.size();
  for (auto [i, init] : llvm::enumerate(initial))
    if (failed(check.type(("initial carry #" + Twine(i)).str(), init.getType(),
                          dropDim(tensorType(inputs[i]), dim))))
      return failure();
  // scan_c4
  if (getExclusive() && initial.empty())
    return emitOpError() << "exclusive scan needs initial carries";
  // scan_c5
  if (first.getDimSize(dim) == 0 && initial.empty())
    return emitOpError() << "scan of length 0 needs initial carries (its "
                            "final carries are otherwise undefined)";
  // scan_c6
  if (getNumResults() != 2 * n)
    return emitOpError() << "expects " << 2 * n << " results (" << n
                         << " scanned tensors, then " << n
                         << " final carries), got " << getNumResults();
  for (size_t i = 0; i < n; ++i) {
    RankedTensorType in = tensorType(inputs[i]);
    if (failed(check.type(("result #" + Twine(i)).str(),
                          getResult(i).getType(), in)) ||
        failed(check.type(("result #" + Twine(n + i)).str(),
                          getResult(n + i).getType(), dropDim(in, dim))))
      return failure();
  }
  return success();
}

LogicalResult ScanOp::verifyRegions() {
  Block &body = getCombiner().front();
  size_t n = getInputs().size();
  // scan_c7
  if (body.getNumArguments() != 2 * n)
    return emitOpError() << "combiner must take " << 2 * n
                         << " arguments (lhs then rhs of each input), got "
                         << body.getNumArguments();
  for (BlockArgument arg : body.getArguments()) {
    Type expected = getElementTypeOrSelf(getInputs()[arg.getArgNumber() % n]);
    if (arg.getType() != expected)
      return emitOpError() << "combiner argument #" << arg.getArgNumber()
                           << " must have type " << expected << ", got "
                           << arg.getType();
  }
  // scan_c8
  auto yield = body.empty() ? YieldOp() : dyn_cast<YieldOp>(body.back());
  if (!yield)
    return emitOpError() << "combiner must end with seq.yield";
  if (yield.getValues().size() != n)
    return emitOpError() << "combiner must yield " << n << " values, got "
                         << yield.getValues().size();
  for (auto [i, value] : llvm::enumerate(yield.getValues())) {
    Type expected = getElementTypeOrSelf(getInputs()[i]);
    if (value.getType() != expected)
      return emitOpError() << "combiner result #" << i << " must have type "
                           << expected << ", got " << value.getType();
  }
  // scan_c9: lowerings evaluate the combiner any number of times, in any
  // association, so it must not have effects.
  WalkResult effects = body.walk([](Operation *nested) {
    return isMemoryEffectFree(nested) ? WalkResult::advance()
                                      : WalkResult::interrupt();
  });
  if (effects.wasInterrupted())
    return emitOpError() << "combiner must be free of side effects";
  return success();
}

//===----------------------------------------------------------------------===//
// LinearRecurrenceOp
//===----------------------------------------------------------------------===//

LogicalResult LinearRecurrenceOp::verify() {
  Checker check(*this);
  RankedTensorType a = tensorType(getA());
  // linear_recurrence_c1
  if (failed(check.type("b", getB().getType(), a)))
    return failure();
  // linear_recurrence_c2
  int64_t dim = getDim();
  if (failed(check.dimInRange(dim, a.getRank(), "a and b")))
    return failure();
  RankedTensorType state = dropDim(a, dim);
  // linear_recurrence_c3
  if (Value h0 = getH0())
    if (failed(check.type("h0", h0.getType(), state)))
      return failure();
  // linear_recurrence_c4
  if (failed(check.type("h", getH().getType(), a)))
    return failure();
  return check.type("last", getLast().getType(), state);
}

//===----------------------------------------------------------------------===//
// SelectiveScanOp
//===----------------------------------------------------------------------===//

LogicalResult SelectiveScanOp::verify() {
  Checker check(*this);
  Type u = getU().getType(), a = getA().getType(), b = getB().getType();
  // selective_scan_c1
  if (failed(check.rank("u", u, 3, "[B, D, L]")) ||
      failed(check.type("delta", getDelta().getType(), u)))
    return failure();
  // selective_scan_c2
  if (failed(check.rank("A", a, 2, "[D, N]")) ||
      failed(check.sameSize("channels", "A", a, 0, "u", u, 1)))
    return failure();
  // selective_scan_c3
  if (failed(check.rank("B", b, 4, "[B, G, N, L]")) ||
      failed(check.type("C", getC().getType(), b)) ||
      failed(check.sameSize("batch size", "B", b, 0, "u", u, 0)) ||
      failed(check.sameSize("state size", "B", b, 2, "A", a, 1)) ||
      failed(check.sameSize("sequence length", "B", b, 3, "u", u, 2)))
    return failure();
  // selective_scan_c4
  int64_t channels = tensorType(getU()).getDimSize(1);
  int64_t groups = tensorType(getB()).getDimSize(1);
  if (!ShapedType::isDynamic(channels) && !ShapedType::isDynamic(groups) &&
      (groups == 0 || channels % groups != 0))
    return emitOpError() << "u channels (" << channels
                         << ") must be a multiple of B/C groups (" << groups
                         << ")";
  // selective_scan_c5
  for (auto [name, vec] : {std::pair<StringRef, Value>{"D", getD()},
                           {"delta_bias", getDeltaBias()}})
    if (vec && (failed(check.rank(name, vec.getType(), 1, "[D]")) ||
                failed(check.sameSize("size", name, vec.getType(), 0,
                                      "u channel", u, 1))))
      return failure();
  // selective_scan_c6
  if (Value z = getZ())
    if (failed(check.type("z", z.getType(), u)))
      return failure();
  // selective_scan_c7
  if (failed(check.type("y", getY().getType(), u)))
    return failure();
  if (Value state = getLastState())
    return check.type(
        "last_state", state.getType(),
        inferSelectiveScanStateType(tensorType(getU()), tensorType(getA())));
  return success();
}

//===----------------------------------------------------------------------===//
// GatedLinearAttentionOp
//===----------------------------------------------------------------------===//

double GatedLinearAttentionOp::getEffectiveScale() {
  if (std::optional<APFloat> scale = getScale())
    return scale->convertToDouble();
  return 1.0 / std::sqrt(double(tensorType(getQ()).getDimSize(3)));
}

LogicalResult GatedLinearAttentionOp::verify() {
  Checker check(*this);
  Type q = getQ().getType(), k = getK().getType(), v = getV().getType();
  // gated_linear_attention_c1
  if (failed(check.rank("q", q, 4, "[B, H, T, K]")) ||
      failed(check.rank("v", v, 4, "[B, H, T, V]")))
    return failure();
  // gated_linear_attention_c2
  if (failed(check.type("k", k, q)))
    return failure();
  if (getElementTypeOrSelf(v) != getElementTypeOrSelf(q))
    return emitOpError() << "v element type " << getElementTypeOrSelf(v)
                         << " does not match q element type "
                         << getElementTypeOrSelf(q);
  // gated_linear_attention_c3
  if (failed(check.sameSize("batch size", "v", v, 0, "q", q, 0)) ||
      failed(check.sameSize("heads", "v", v, 1, "q", q, 1)) ||
      failed(check.sameSize("sequence length", "v", v, 2, "q", q, 2)))
    return failure();
  // gated_linear_attention_c4
  if (Value g = getG()) {
    auto gType = tensorType(g);
    if (gType.getRank() != 4 && gType.getRank() != 3)
      return emitOpError() << "g must have rank 4 ([B, H, T, K], per key dim) "
                              "or 3 ([B, H, T], scalar), got rank "
                           << gType.getRank();
    for (int64_t i = 0; i < gType.getRank(); ++i)
      if (failed(mergeSizes(gType.getDimSize(i),
                            tensorType(getK()).getDimSize(i))))
        return emitOpError() << "g of type " << gType
                             << " does not match the shape of k " << k;
  }
  RankedTensorType state =
      inferGLAStateType(tensorType(getK()), tensorType(getV()));
  // gated_linear_attention_c5
  if (Value s0 = getInitialState())
    if (failed(verifyCompatibleShape(s0.getType(), state)))
      return emitOpError() << "initial_state of type " << s0.getType()
                           << " does not have the state shape [B, H, K, V] "
                           << state;
  // gated_linear_attention_c6
  if (failed(check.finite("scale", getScale(), /*positive=*/false)))
    return failure();
  // gated_linear_attention_c7
  if (failed(check.type("o", getO().getType(),
                        inferGLAOutputType(tensorType(getQ()),
                                           tensorType(getV())))))
    return failure();
  if (Value s = getFinalState())
    return check.type("final_state", s.getType(), state);
  return success();
}

//===----------------------------------------------------------------------===//
// RecurrenceOp
//===----------------------------------------------------------------------===//

LogicalResult RecurrenceOp::verify() {
  Checker check(*this);
  // recurrence_c1
  if (getInit().empty() || getInputs().empty())
    return emitOpError() << "needs at least one state and one input";
  // recurrence_c2
  int64_t dim = getDim();
  RankedTensorType first = tensorType(getInputs()[0]);
  for (auto [i, input] : llvm::enumerate(getInputs())) {
    RankedTensorType t = tensorType(input);
    if (failed(check.dimInRange(dim, t.getRank(),
                                ("input #" + Twine(i)).str())))
      return failure();
    if (failed(mergeSizes(t.getDimSize(dim), first.getDimSize(dim))))
      return emitOpError() << "input #" << i << " has length "
                           << t.getDimSize(dim) << " along dim " << dim
                           << ", input #0 has length "
                           << first.getDimSize(dim);
  }
  return success();
}

LogicalResult RecurrenceOp::verifyRegions() {
  Checker check(*this);
  Block &body = getBody().front();
  size_t numStates = getInit().size(), numInputs = getInputs().size();
  int64_t dim = getDim();
  // recurrence_c3
  if (body.getNumArguments() != numStates + numInputs)
    return emitOpError() << "body must take " << numStates + numInputs
                         << " arguments (" << numStates << " states, then "
                         << numInputs << " input slices), got "
                         << body.getNumArguments();
  for (auto [i, init] : llvm::enumerate(getInit()))
    if (body.getArgument(i).getType() != init.getType())
      return emitOpError() << "body argument #" << i << " (state) must have type "
                           << init.getType() << ", got "
                           << body.getArgument(i).getType();
  for (auto [i, input] : llvm::enumerate(getInputs())) {
    Type slice = dropDim(tensorType(input), dim);
    Type actual = body.getArgument(numStates + i).getType();
    if (actual != slice)
      return emitOpError() << "body argument #" << numStates + i
                           << " (slice of input #" << i
                           << ") must have type " << slice << ", got "
                           << actual;
  }
  // recurrence_c4
  auto yield = body.empty() ? YieldOp() : dyn_cast<YieldOp>(body.back());
  if (!yield)
    return emitOpError() << "body must end with seq.yield";
  OperandRange yielded = yield.getValues();
  if (yielded.size() < numStates)
    return emitOpError() << "body must yield the " << numStates
                         << " new states first, got " << yielded.size()
                         << " values";
  for (auto [i, init] : llvm::enumerate(getInit()))
    if (yielded[i].getType() != init.getType())
      return emitOpError() << "body result #" << i
                           << " (new state) must have type " << init.getType()
                           << ", got " << yielded[i].getType();
  // recurrence_c5
  size_t numOutputs = yielded.size() - numStates;
  if (getNumResults() != numOutputs + numStates)
    return emitOpError() << "expects " << numOutputs + numStates << " results ("
                         << numOutputs << " stacked outputs, then " << numStates
                         << " final states), got " << getNumResults();
  int64_t length = tensorType(getInputs()[0]).getDimSize(dim);
  for (size_t i = 0; i < numOutputs; ++i) {
    auto step = dyn_cast<RankedTensorType>(yielded[numStates + i].getType());
    if (!step || step.getRank() < dim)
      return emitOpError() << "body output #" << i << " of type "
                           << yielded[numStates + i].getType()
                           << " cannot be stacked along dim " << dim;
    if (failed(check.type(("result #" + Twine(i)).str(),
                          getResult(i).getType(),
                          insertDim(step, dim, length))))
      return failure();
  }
  for (auto [i, init] : llvm::enumerate(getInit()))
    if (failed(check.type(("result #" + Twine(numOutputs + i)).str(),
                          getResult(numOutputs + i).getType(),
                          init.getType())))
      return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// CausalConv1dOp
//===----------------------------------------------------------------------===//

LogicalResult CausalConv1dOp::verify() {
  Checker check(*this);
  Type x = getX().getType(), w = getWeight().getType();
  // causal_conv1d_c1
  if (failed(check.rank("x", x, 3, "[B, D, L]")) ||
      failed(check.rank("weight", w, 2, "[D, W]")))
    return failure();
  // causal_conv1d_c2
  if (failed(check.sameSize("channels", "weight", w, 0, "x", x, 1)))
    return failure();
  // causal_conv1d_c3
  if (tensorType(getWeight()).getDimSize(1) == 0)
    return emitOpError() << "weight width must be at least 1, got 0";
  // causal_conv1d_c4
  if (Value bias = getBias())
    if (failed(check.rank("bias", bias.getType(), 1, "[D]")) ||
        failed(check.sameSize("size", "bias", bias.getType(), 0, "x channel",
                              x, 1)))
      return failure();
  // causal_conv1d_c5
  return check.type("output", getOutput().getType(), x);
}

//===----------------------------------------------------------------------===//
// RMSNormOp
//===----------------------------------------------------------------------===//

LogicalResult RMSNormOp::verify() {
  Checker check(*this);
  auto x = tensorType(getX());
  // rms_norm_c1
  if (x.getRank() < 1)
    return emitOpError() << "x must have rank at least 1, got rank 0";
  // rms_norm_c2
  if (failed(check.rank("weight", getWeight().getType(), 1, "[D]")) ||
      failed(check.sameSize("size", "weight", getWeight().getType(), 0,
                            "x last dim", x, x.getRank() - 1)))
    return failure();
  // rms_norm_c3
  APFloat eps = getEps();
  if (!eps.isFinite() || eps.isNegative())
    return emitOpError() << "eps must be non-negative and finite, got "
                         << Checker::toString(eps);
  // rms_norm_c4
  return check.type("output", getOutput().getType(), x);
}

//===----------------------------------------------------------------------===//
// RoPEOp
//===----------------------------------------------------------------------===//

LogicalResult RoPEOp::verify() {
  Checker check(*this);
  Type x = getX().getType();
  // rope_c1
  if (failed(check.rank("x", x, 4, "[B, H, T, D]")))
    return failure();
  // rope_c2
  int64_t d = tensorType(getX()).getDimSize(3);
  if (!ShapedType::isDynamic(d) && d % 2 != 0)
    return emitOpError() << "x head dim (" << d << ") must be even";
  // rope_c3
  Type pos = getPositions().getType();
  int64_t posRank = tensorType(getPositions()).getRank();
  if (posRank == 1) {
    if (failed(check.sameSize("length", "positions", pos, 0, "x sequence", x,
                              2)))
      return failure();
  } else if (posRank == 2) {
    if (failed(check.sameSize("batch size", "positions", pos, 0, "x", x, 0)) ||
        failed(check.sameSize("length", "positions", pos, 1, "x sequence", x,
                              2)))
      return failure();
  } else {
    return emitOpError() << "positions must have rank 1 ([T]) or 2 ([B, T]), "
                            "got rank "
                         << posRank;
  }
  // rope_c4
  if (failed(check.finite("theta", getTheta(), /*positive=*/true)))
    return failure();
  // rope_c5
  return check.type("output", getOutput().getType(), x);
}

#define GET_OP_CLASSES
#include "seq/IR/SeqOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Function result attributes
//===----------------------------------------------------------------------===//

LogicalResult SeqDialect::verifyRegionResultAttribute(Operation *op,
                                                      unsigned regionIndex,
                                                      unsigned resultIndex,
                                                      NamedAttribute attribute) {
  if (attribute.getName() != kInPlaceAttrName)
    return op->emitError() << "unknown seq result attribute '"
                           << attribute.getName().getValue()
                           << "' (seq defines 'seq.in_place')";
  // in_place_c1
  auto func = dyn_cast<FunctionOpInterface>(op);
  auto index = dyn_cast<IntegerAttr>(attribute.getValue());
  if (!func || regionIndex != 0 || !index)
    return op->emitError()
           << "'seq.in_place' must be an integer attribute on a function "
              "result, got "
           << attribute.getValue();
  // in_place_c2
  int64_t arg = index.getInt();
  ArrayRef<Type> argTypes = func.getArgumentTypes();
  if (arg < 0 || arg >= static_cast<int64_t>(argTypes.size()))
    return op->emitError() << "result #" << resultIndex
                           << " is in place into argument #" << arg
                           << ", but the function has " << argTypes.size()
                           << " arguments";
  // in_place_c3
  // (After bufferization both are memrefs whose layouts may differ.)
  Type resultType = func.getResultTypes()[resultIndex];
  auto shapedArg = dyn_cast<ShapedType>(argTypes[arg]);
  auto shapedResult = dyn_cast<ShapedType>(resultType);
  bool bothMemRefs =
      isa_and_nonnull<MemRefType>(shapedArg) && isa<MemRefType>(resultType);
  if (bothMemRefs ? shapedArg.getShape() != shapedResult.getShape() ||
                        shapedArg.getElementType() !=
                            shapedResult.getElementType()
                  : argTypes[arg] != resultType)
    return op->emitError() << "result #" << resultIndex << " has type "
                           << resultType << " but is in place into argument #"
                           << arg << " of type " << argTypes[arg];
  // in_place_c4
  for (unsigned other = 0; other < resultIndex; ++other) {
    auto otherIndex =
        func.getResultAttrOfType<IntegerAttr>(other, kInPlaceAttrName);
    if (otherIndex && otherIndex.getInt() == arg)
      return op->emitError() << "results #" << other << " and #"
                             << resultIndex << " are both in place into "
                             << "argument #" << arg;
  }
  return success();
}
