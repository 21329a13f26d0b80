//===- RaiseAttention.cpp - the seq-raise-attention pass ------------------===//
//
// Part of seqc. Finds attention written out as frontends emit it and
// replaces it by one seq.attention, when (and only when) it can prove the two
// compute the same thing. The anchor is a linalg.softmax over the key
// dimension; from there the matcher walks back through the score chain to
// the Q·Kᵀ matmul and forward to the P·V matmul:
//
//   %kt = linalg.transpose ins(%k3) permutation = [0, 2, 1]   (or a
//         batch_matmul whose indexing maps transpose its second operand)
//   %s  = linalg.batch_matmul ins(%q3, %kt) outs(zero fill)   [BH, Sq, Skv]
//   scale: arith.mulf / arith.divf by a splat constant, or an elementwise
//          linalg.generic multiplying (dividing) by a constant
//   mask:  arith.addf with a 0 / -inf (or <= -1e30) mask, arith.select of
//          the scores and -inf, or an elementwise linalg.generic adding a
//          mask broadcast over the batch; the mask is a constant or is
//          generated from its indices (tensor.generate, or a linalg.generic
//          reading linalg.index), [Sq, Skv] broadcast over the batch
//   %p  = linalg.softmax dimension(2)
//   %o  = linalg.batch_matmul ins(%p, %v3) outs(zero fill)    [BH, Sq, Dv]
//
// with %q3, %k3, %v3 either rank-3 values or head reshapes
// (tensor.collapse_shape [[0, 1], [2], [3]] of [B, H, S, D]), and K/V
// possibly broadcast over query-head groups first (GQA: linalg.broadcast of
// [B, Hkv, S, D] to [B, Hkv, G, S, D], collapsed to [B·Hkv·G, S, D]).
//
// The mask is evaluated element by element (constants read, index-generated
// bodies interpreted) into a visibility matrix, and accepted only if it is
// exactly a causal (bottom-right) and/or sliding-window band with no fully
// masked row (where the unfused form gives NaN or a uniform row and
// seq.attention gives 0). Finite mask values must be <= -1e30, so that exp
// underflows to exactly 0 for any score below 1e29 in magnitude (HF's
// finfo.min masks). Anything else is left alone; with `explain`, each
// softmax that was not raised gets a remark saying why.
//
//===----------------------------------------------------------------------===//

#include "seqc/Transforms/Passes.h"

#include "seq/IR/SeqOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/Debug.h"

#include <cmath>
#include <optional>
#include <variant>

#define DEBUG_TYPE "seq-raise-attention"

namespace mlir::seqc {
#define GEN_PASS_DEF_SEQRAISEATTENTION
#include "seqc/Transforms/Passes.h.inc"
} // namespace mlir::seqc

using namespace mlir;
using namespace mlir::seqc;

namespace {

/// Masks are evaluated element by element; beyond this many elements the
/// pass does not try (compile time).
constexpr int64_t kMaxMaskElements = int64_t(1) << 24;
/// A finite additive mask value at or below this is a masked key.
constexpr double kMaskedBelow = -1e30;

//===----------------------------------------------------------------------===//
// A small interpreter for index-generated masks
//===----------------------------------------------------------------------===//

using Scalar = std::variant<int64_t, double>;

/// Evaluates the single-block body of a tensor.generate (block arguments
/// are the indices) or of an input-less linalg.generic (linalg.index gives
/// the indices) at `indices`; the yielded value as a Scalar (i1 as 0/1).
class BodyInterpreter {
public:
  explicit BodyInterpreter(Block &body) : body(body) {}

  /// Checks once that every op is one this interpreter knows.
  LogicalResult check(std::string &why) {
    for (Operation &op : body) {
      if (isa<arith::ConstantOp, linalg::IndexOp, arith::AddIOp, arith::SubIOp,
              arith::MulIOp, arith::DivSIOp, arith::RemSIOp, arith::CmpIOp,
              arith::SelectOp, arith::AndIOp, arith::OrIOp, arith::XOrIOp,
              arith::IndexCastOp, arith::ExtSIOp, arith::ExtUIOp,
              arith::TruncIOp, arith::SIToFPOp, arith::UIToFPOp, arith::AddFOp,
              arith::SubFOp, arith::MulFOp, arith::NegFOp, arith::MinSIOp,
              arith::MaxSIOp, tensor::YieldOp, linalg::YieldOp>(op))
        continue;
      why = "the mask's body uses '" + op.getName().getStringRef().str() +
            "', which the matcher does not evaluate";
      return failure();
    }
    return success();
  }

  std::optional<Scalar> run(ArrayRef<int64_t> indices) {
    values.clear();
    for (auto [i, arg] : llvm::enumerate(body.getArguments()))
      if (i < indices.size() && arg.getType().isIndex())
        values[arg] = indices[i];
    for (Operation &op : body) {
      if (isa<tensor::YieldOp, linalg::YieldOp>(op)) {
        auto it = values.find(op.getOperand(0));
        if (it == values.end())
          return std::nullopt;
        return it->second;
      }
      if (!step(op, indices))
        return std::nullopt;
    }
    return std::nullopt;
  }

private:
  std::optional<Scalar> get(Value v) {
    auto it = values.find(v);
    if (it != values.end())
      return it->second;
    // A constant defined outside the body.
    Attribute attr;
    if (matchPattern(v, m_Constant(&attr)))
      return fromAttr(attr);
    return std::nullopt;
  }

  static std::optional<Scalar> fromAttr(Attribute attr) {
    if (auto i = dyn_cast<IntegerAttr>(attr)) {
      if (i.getType().isInteger(1))
        return Scalar(int64_t(i.getValue().getBoolValue()));
      return Scalar(i.getValue().getSExtValue());
    }
    if (auto f = dyn_cast<FloatAttr>(attr))
      return Scalar(f.getValueAsDouble());
    return std::nullopt;
  }

  bool step(Operation &op, ArrayRef<int64_t> indices) {
    Value r = op.getNumResults() ? op.getResult(0) : Value();
    if (auto c = dyn_cast<arith::ConstantOp>(op)) {
      auto s = fromAttr(c.getValue());
      if (!s)
        return false;
      values[r] = *s;
      return true;
    }
    if (auto index = dyn_cast<linalg::IndexOp>(op)) {
      if (index.getDim() >= indices.size())
        return false;
      values[r] = indices[index.getDim()];
      return true;
    }
    SmallVector<Scalar> in;
    for (Value operand : op.getOperands()) {
      auto s = get(operand);
      if (!s)
        return false;
      in.push_back(*s);
    }
    auto I = [&](int k) { return std::get<int64_t>(in[k]); };
    auto F = [&](int k) {
      return std::holds_alternative<double>(in[k]) ? std::get<double>(in[k])
                                                   : double(I(k));
    };
    bool ints = llvm::all_of(
        in, [](const Scalar &s) { return std::holds_alternative<int64_t>(s); });
    auto set = [&](Scalar s) {
      values[r] = s;
      return true;
    };
    return TypeSwitch<Operation *, bool>(&op)
        .Case([&](arith::AddIOp) { return ints && set(I(0) + I(1)); })
        .Case([&](arith::SubIOp) { return ints && set(I(0) - I(1)); })
        .Case([&](arith::MulIOp) { return ints && set(I(0) * I(1)); })
        .Case([&](arith::DivSIOp) {
          return ints && I(1) != 0 && set(I(0) / I(1));
        })
        .Case([&](arith::RemSIOp) {
          return ints && I(1) != 0 && set(I(0) % I(1));
        })
        .Case([&](arith::MinSIOp) { return ints && set(std::min(I(0), I(1))); })
        .Case([&](arith::MaxSIOp) { return ints && set(std::max(I(0), I(1))); })
        .Case([&](arith::AndIOp) { return ints && set(I(0) & I(1)); })
        .Case([&](arith::OrIOp) { return ints && set(I(0) | I(1)); })
        .Case([&](arith::XOrIOp) { return ints && set(I(0) ^ I(1)); })
        .Case([&](arith::CmpIOp cmp) {
          if (!ints)
            return false;
          int64_t a = I(0), b = I(1);
          uint64_t ua = a, ub = b;
          bool v = false;
          switch (cmp.getPredicate()) {
          case arith::CmpIPredicate::eq: v = a == b; break;
          case arith::CmpIPredicate::ne: v = a != b; break;
          case arith::CmpIPredicate::slt: v = a < b; break;
          case arith::CmpIPredicate::sle: v = a <= b; break;
          case arith::CmpIPredicate::sgt: v = a > b; break;
          case arith::CmpIPredicate::sge: v = a >= b; break;
          case arith::CmpIPredicate::ult: v = ua < ub; break;
          case arith::CmpIPredicate::ule: v = ua <= ub; break;
          case arith::CmpIPredicate::ugt: v = ua > ub; break;
          case arith::CmpIPredicate::uge: v = ua >= ub; break;
          }
          return set(int64_t(v));
        })
        .Case([&](arith::SelectOp) {
          return std::holds_alternative<int64_t>(in[0]) &&
                 set(I(0) ? in[1] : in[2]);
        })
        .Case<arith::IndexCastOp, arith::ExtSIOp, arith::TruncIOp>(
            [&](Operation *) { return ints && set(I(0)); })
        .Case([&](arith::ExtUIOp ext) {
          // i1 values are held as 0/1 already.
          return ints && set(I(0));
        })
        .Case<arith::SIToFPOp, arith::UIToFPOp>(
            [&](Operation *) { return ints && set(double(I(0))); })
        .Case([&](arith::AddFOp) { return set(F(0) + F(1)); })
        .Case([&](arith::SubFOp) { return set(F(0) - F(1)); })
        .Case([&](arith::MulFOp) { return set(F(0) * F(1)); })
        .Case([&](arith::NegFOp) { return set(-F(0)); })
        .Default([](Operation *) { return false; });
  }

  Block &body;
  llvm::DenseMap<Value, Scalar> values;
};

//===----------------------------------------------------------------------===//
// The matcher
//===----------------------------------------------------------------------===//

/// What the mask contributes: per (query, key), visible or not.
struct Visibility {
  int64_t rows = 0, cols = 0;
  std::vector<char> visible; // rows x cols
};

struct AttentionMatch {
  Value q3, k3, v3;
  linalg::BatchMatmulOp scores, output;
  double scale = 1.0;
  std::optional<Visibility> mask;
  bool causal = false;
  int64_t left = -1, right = -1;
};

class Matcher {
public:
  /// Why the last match failed.
  std::string why;

  FailureOr<AttentionMatch> match(linalg::SoftmaxOp softmax);

private:
  LogicalResult fail(const Twine &reason) {
    why = reason.str();
    LLVM_DEBUG(llvm::dbgs() << "[seq-raise-attention] not raised: " << why
                            << "\n");
    return failure();
  }

  bool isZeroFill(Value init);
  bool isSplatConstant(Value v, double &value);
  std::optional<double> bodyScale(linalg::GenericOp generic);
  LogicalResult evalMask(Value mask, int64_t sq, int64_t skv, bool boolean,
                         bool maskedWhenTrue, AttentionMatch &m);
  LogicalResult evalMask2D(Value mask, int64_t sq, int64_t skv,
                           std::vector<double> &out);
  LogicalResult deriveBand(AttentionMatch &m, int64_t sq, int64_t skv);
};

bool Matcher::isZeroFill(Value init) {
  auto fill = init.getDefiningOp<linalg::FillOp>();
  if (!fill)
    return false;
  return matchPattern(fill.getInputs()[0], m_AnyZeroFloat());
}

bool Matcher::isSplatConstant(Value v, double &value) {
  DenseElementsAttr dense;
  if (matchPattern(v, m_Constant(&dense)) && dense.isSplat() &&
      isa<FloatType>(dense.getElementType())) {
    value = dense.getSplatValue<APFloat>().convertToDouble();
    return true;
  }
  FloatAttr f;
  if (matchPattern(v, m_Constant(&f))) {
    value = f.getValueAsDouble();
    return true;
  }
  // A linalg.fill of a constant.
  if (auto fill = v.getDefiningOp<linalg::FillOp>())
    return matchPattern(fill.getInputs()[0], m_Constant(&f)) &&
           (value = f.getValueAsDouble(), true);
  return false;
}

/// The factor of an elementwise one-input generic whose body is `x * c`,
/// `c * x` or `x / c` (c a constant), else nothing.
std::optional<double> Matcher::bodyScale(linalg::GenericOp generic) {
  Block &body = generic.getRegion().front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  Operation *def = yield.getValues()[0].getDefiningOp();
  if (!def || def->getBlock() != &body || body.getOperations().size() != 2)
    return std::nullopt;
  Value in = body.getArgument(0);
  double c;
  if (auto mul = dyn_cast<arith::MulFOp>(def)) {
    if (mul.getLhs() == in && isSplatConstant(mul.getRhs(), c))
      return c;
    if (mul.getRhs() == in && isSplatConstant(mul.getLhs(), c))
      return c;
  }
  if (auto div = dyn_cast<arith::DivFOp>(def))
    if (div.getLhs() == in && isSplatConstant(div.getRhs(), c) && c != 0)
      return 1.0 / c;
  return std::nullopt;
}

/// The [sq, skv] values of a 2-D mask: a dense constant, a tensor.generate,
/// or an input-less linalg.generic over (query, key) indices.
LogicalResult Matcher::evalMask2D(Value mask, int64_t sq, int64_t skv,
                                  std::vector<double> &out) {
  out.assign(sq * skv, 0.0);
  DenseElementsAttr dense;
  if (matchPattern(mask, m_Constant(&dense))) {
    int64_t k = 0;
    if (dense.getElementType().isInteger(1)) {
      for (bool b : dense.getValues<bool>())
        out[k++] = b;
    } else if (isa<FloatType>(dense.getElementType())) {
      for (APFloat f : dense.getValues<APFloat>())
        out[k++] = f.convertToDouble();
    } else {
      return fail("the mask constant is neither float nor i1");
    }
    return success();
  }
  Block *body = nullptr;
  if (auto generate = mask.getDefiningOp<tensor::GenerateOp>()) {
    body = &generate.getBody().front();
  } else if (auto generic = mask.getDefiningOp<linalg::GenericOp>()) {
    if (generic.getNumDpsInputs() != 0 || generic.getNumResults() != 1 ||
        !generic.getIndexingMapsArray()[0].isIdentity())
      return fail("the mask's linalg.generic reads tensors (only index-"
                  "generated masks are evaluated)");
    body = &generic.getRegion().front();
  } else {
    return fail("the mask is neither a constant nor generated from indices");
  }
  BodyInterpreter interpreter(*body);
  if (failed(interpreter.check(why)))
    return fail(why);
  for (int64_t i = 0; i < sq; ++i)
    for (int64_t j = 0; j < skv; ++j) {
      std::optional<Scalar> v = interpreter.run({i, j});
      if (!v)
        return fail("the mask's body could not be evaluated at (" +
                    Twine(i) + ", " + Twine(j) + ")");
      out[i * skv + j] = std::holds_alternative<double>(*v)
                             ? std::get<double>(*v)
                             : double(std::get<int64_t>(*v));
    }
  return success();
}

/// Evaluates `mask` (rank 3 [BH, Sq, Skv] as a broadcast of a rank-2 mask,
/// or rank 2) into m.mask. Boolean masks select the score when true
/// (`maskedWhenTrue` inverts); additive masks are 0 where visible.
LogicalResult Matcher::evalMask(Value mask, int64_t sq, int64_t skv,
                                bool boolean, bool maskedWhenTrue,
                                AttentionMatch &m) {
  if (m.mask)
    return fail("the scores are masked twice");
  if (sq * skv > kMaxMaskElements)
    return fail("the mask has more than 2^24 elements to verify");
  auto type = cast<RankedTensorType>(mask.getType());
  if (type.getRank() == 3) {
    auto broadcast = mask.getDefiningOp<linalg::BroadcastOp>();
    if (!broadcast || broadcast.getDimensions() != ArrayRef<int64_t>{0})
      return fail("a rank-3 mask must be a linalg.broadcast of one [Sq, Skv] "
                  "mask over the batch");
    mask = broadcast.getInput();
  }
  std::vector<double> values;
  if (failed(evalMask2D(mask, sq, skv, values)))
    return failure();
  Visibility v{sq, skv, std::vector<char>(sq * skv)};
  for (int64_t k = 0; k < sq * skv; ++k) {
    double x = values[k];
    if (boolean) {
      v.visible[k] = (x != 0) != maskedWhenTrue;
    } else if (x == 0) {
      v.visible[k] = 1;
    } else if (x <= kMaskedBelow) {
      v.visible[k] = 0;
    } else {
      return fail("the additive mask holds " + Twine(std::to_string(x)) +
                  ", neither 0 nor a masking value (-inf or <= -1e30)");
    }
  }
  m.mask = std::move(v);
  return success();
}

/// The causal / window attributes that give exactly the mask's visibility
/// (bottom-right aligned: query i sits at key position i + Skv - Sq).
LogicalResult Matcher::deriveBand(AttentionMatch &m, int64_t sq, int64_t skv) {
  if (!m.mask)
    return success();
  const Visibility &v = *m.mask;
  int64_t shift = skv - sq;
  std::optional<int64_t> right, left;
  for (int64_t i = 0; i < sq; ++i) {
    int64_t lo = -1, hi = -1;
    for (int64_t j = 0; j < skv; ++j)
      if (v.visible[i * skv + j]) {
        if (lo < 0)
          lo = j;
        hi = j;
      }
    if (lo < 0)
      return fail("query row " + Twine(i) +
                  " has no visible key (the unfused form gives NaN or a "
                  "uniform row there, seq.attention 0)");
    int64_t p = i + shift;
    if (hi < skv - 1) {
      if (right && *right != hi - p)
        return fail("the mask is not a causal or window band");
      right = hi - p;
    }
    if (lo > 0) {
      if (left && *left != p - lo)
        return fail("the mask is not a causal or window band");
      left = p - lo;
    }
  }
  if ((right && *right < 0) || (left && *left < 0))
    return fail("the mask's band excludes the query's own position");
  m.causal = right && *right == 0;
  m.right = right && *right > 0 ? *right : -1;
  m.left = left ? *left : -1;
  // The proof: the derived predicate reproduces every element.
  for (int64_t i = 0; i < sq; ++i)
    for (int64_t j = 0; j < skv; ++j) {
      int64_t p = i + shift;
      bool visible = (!m.causal || j <= p) && (m.left < 0 || j >= p - m.left) &&
                     (m.right < 0 || j <= p + m.right);
      if (visible != bool(v.visible[i * skv + j]))
        return fail("the mask is not a causal or window band (key " +
                    Twine(j) + " of query " + Twine(i) + ")");
    }
  return success();
}

FailureOr<AttentionMatch> Matcher::match(linalg::SoftmaxOp softmax) {
  AttentionMatch m;
  auto sType = dyn_cast<RankedTensorType>(softmax.getInput().getType());
  if (!sType || sType.getRank() != 3 || !sType.hasStaticShape())
    return fail("the softmax is not over a static rank-3 [BH, Sq, Skv] tensor");
  if (softmax.getDimension() != 2)
    return fail("the softmax is not over the last (key) dimension");
  if (!isa<FloatType>(sType.getElementType()))
    return fail("the scores are not floats");
  int64_t sq = sType.getDimSize(1), skv = sType.getDimSize(2);

  // Forward: P · V.
  Value probs = softmax.getResult()[0];
  if (!probs.hasOneUse())
    return fail("the probabilities have other uses than P·V");
  auto pv = dyn_cast<linalg::BatchMatmulOp>(*probs.getUsers().begin());
  if (!pv || pv.getDpsInputs()[0] != probs || pv.hasUserDefinedMaps())
    return fail("the probabilities do not feed a plain linalg.batch_matmul "
                "as its first operand");
  if (!isZeroFill(pv.getDpsInits()[0]))
    return fail("P·V accumulates into a tensor that is not zero-filled");
  m.output = pv;
  m.v3 = pv.getDpsInputs()[1];

  // Backward: the elementwise chain, then Q · Kᵀ.
  Value s = softmax.getInput();
  bool scaledAfterMask = false;
  while (true) {
    if (!s.hasOneUse())
      return fail("an intermediate score tensor has other uses");
    Operation *def = s.getDefiningOp();
    if (!def)
      return fail("the scores are a function argument, not a Q·Kᵀ matmul");
    if (auto mm = dyn_cast<linalg::BatchMatmulOp>(def)) {
      m.scores = mm;
      break;
    }
    double c;
    if (auto mul = dyn_cast<arith::MulFOp>(def)) {
      Value other;
      if (isSplatConstant(mul.getRhs(), c))
        other = mul.getLhs();
      else if (isSplatConstant(mul.getLhs(), c))
        other = mul.getRhs();
      else
        return fail("a score multiplication is not by a constant");
      m.scale *= c;
      scaledAfterMask |= bool(m.mask);
      s = other;
      continue;
    }
    if (auto div = dyn_cast<arith::DivFOp>(def)) {
      if (!isSplatConstant(div.getRhs(), c) || c == 0)
        return fail("a score division is not by a nonzero constant");
      m.scale /= c;
      scaledAfterMask |= bool(m.mask);
      s = div.getLhs();
      continue;
    }
    if (auto add = dyn_cast<arith::AddFOp>(def)) {
      // The scores come from further up the chain; the mask is the operand
      // that is not (a constant, a generate, a broadcast, an index generic).
      auto isMaskLike = [](Value v) {
        Operation *d = v.getDefiningOp();
        return d && (isa<arith::ConstantOp, tensor::GenerateOp,
                         linalg::BroadcastOp>(d) ||
                     (isa<linalg::GenericOp>(d) &&
                      cast<linalg::GenericOp>(d).getNumDpsInputs() == 0));
      };
      Value mask = isMaskLike(add.getRhs()) ? add.getRhs() : add.getLhs();
      Value rest = mask == add.getRhs() ? add.getLhs() : add.getRhs();
      if (failed(evalMask(mask, sq, skv, /*boolean=*/false, false, m)))
        return failure();
      s = rest;
      continue;
    }
    if (auto select = dyn_cast<arith::SelectOp>(def)) {
      bool keepWhenTrue;
      if (isSplatConstant(select.getFalseValue(), c) && std::isinf(c) && c < 0)
        keepWhenTrue = true;
      else if (isSplatConstant(select.getTrueValue(), c) && std::isinf(c) &&
               c < 0)
        keepWhenTrue = false;
      else
        return fail("a select on the scores does not choose -inf");
      if (failed(evalMask(select.getCondition(), sq, skv, /*boolean=*/true,
                          /*maskedWhenTrue=*/!keepWhenTrue, m)))
        return failure();
      s = keepWhenTrue ? select.getTrueValue() : select.getFalseValue();
      continue;
    }
    if (auto generic = dyn_cast<linalg::GenericOp>(def)) {
      if (generic.getNumResults() != 1 ||
          generic.getNumParallelLoops() != generic.getNumLoops() ||
          !generic.getIndexingMapsArray()[0].isIdentity() ||
          !generic.getIndexingMapsArray().back().isIdentity())
        return fail("a linalg.generic on the scores is not elementwise");
      if (generic.getNumDpsInputs() == 1) {
        std::optional<double> factor = bodyScale(generic);
        if (!factor)
          return fail("an elementwise linalg.generic on the scores is not a "
                      "multiplication by a constant");
        m.scale *= *factor;
        scaledAfterMask |= bool(m.mask);
        s = generic.getDpsInputs()[0];
        continue;
      }
      if (generic.getNumDpsInputs() == 2) {
        // scores + mask[i, j]: the mask read through (b, i, j) -> (i, j).
        Block &body = generic.getRegion().front();
        auto yield = cast<linalg::YieldOp>(body.getTerminator());
        auto add = yield.getValues()[0].getDefiningOp<arith::AddFOp>();
        MLIRContext *ctx = generic.getContext();
        AffineMap broadcastMap = AffineMap::get(
            3, 0, {getAffineDimExpr(1, ctx), getAffineDimExpr(2, ctx)}, ctx);
        AffineMap maskMap = generic.getIndexingMapsArray()[1];
        bool plain = add && body.getOperations().size() == 2 &&
                     ((add.getLhs() == body.getArgument(0) &&
                       add.getRhs() == body.getArgument(1)) ||
                      (add.getRhs() == body.getArgument(0) &&
                       add.getLhs() == body.getArgument(1)));
        if (!plain || (maskMap != broadcastMap && !maskMap.isIdentity()))
          return fail("a two-input linalg.generic on the scores is not "
                      "scores + mask");
        if (failed(evalMask(generic.getDpsInputs()[1], sq, skv, false, false,
                            m)))
          return failure();
        s = generic.getDpsInputs()[0];
        continue;
      }
      return fail("a linalg.generic on the scores has more than two inputs");
    }
    return fail("the scores pass through '" +
                def->getName().getStringRef().str() +
                "', which is not a scale or a mask");
  }
  if (scaledAfterMask && !(m.scale > 0))
    return fail("a non-positive scale applies after the mask");
  if (!isZeroFill(m.scores.getDpsInits()[0]))
    return fail("Q·Kᵀ accumulates into a tensor that is not zero-filled");
  m.q3 = m.scores.getDpsInputs()[0];
  Value kOperand = m.scores.getDpsInputs()[1];
  if (!m.scores.hasUserDefinedMaps()) {
    auto transpose = kOperand.getDefiningOp<linalg::TransposeOp>();
    if (!transpose ||
        transpose.getPermutation() != ArrayRef<int64_t>{0, 2, 1})
      return fail("the second operand of Q·Kᵀ is not K transposed "
                  "(linalg.transpose with permutation [0, 2, 1])");
    m.k3 = transpose.getInput();
  } else {
    MLIRContext *ctx = m.scores.getContext();
    AffineExpr b = getAffineDimExpr(0, ctx), i = getAffineDimExpr(1, ctx),
               j = getAffineDimExpr(2, ctx), d = getAffineDimExpr(3, ctx);
    SmallVector<AffineMap> expected = {
        AffineMap::get(4, 0, {b, i, d}, ctx),
        AffineMap::get(4, 0, {b, j, d}, ctx),
        AffineMap::get(4, 0, {b, i, j}, ctx)};
    if (m.scores.getIndexingMapsArray() != expected)
      return fail("Q·Kᵀ's indexing maps are not Q[b,i,d]·K[b,j,d]");
    m.k3 = kOperand;
  }
  Type elt = sType.getElementType();
  for (Value v : {m.q3, m.k3, m.v3, pv.getResult(0)})
    if (getElementTypeOrSelf(v.getType()) != elt)
      return fail("Q, K, V, the scores and the output differ in element type");
  if (failed(deriveBand(m, sq, skv)))
    return failure();
  return m;
}

//===----------------------------------------------------------------------===//
// The rewrite
//===----------------------------------------------------------------------===//

/// How a rank-3 [B·H, S, D] operand becomes the rank-4 [B, H, S, D] one:
/// the source of its head reshape, the [B, Hkv, S, D] source of a GQA
/// broadcast over groups of `group` query heads, or (no source) an
/// expand_shape into `batch` batches.
struct Heads {
  Value source;
  int64_t group = 1;
  RankedTensorType type;
};

Heads headsOf(Value v3, std::optional<int64_t> batch) {
  if (auto collapse = v3.getDefiningOp<tensor::CollapseShapeOp>()) {
    auto reassociation = collapse.getReassociationIndices();
    RankedTensorType srcType = collapse.getSrcType();
    if (srcType.getRank() == 4 && reassociation.size() == 3 &&
        reassociation[0] == ReassociationIndices{0, 1} &&
        (!batch || srcType.getDimSize(0) == *batch))
      return {collapse.getSrc(), 1, srcType};
    if (srcType.getRank() == 5 && reassociation.size() == 3 &&
        reassociation[0] == ReassociationIndices{0, 1, 2} &&
        (!batch || srcType.getDimSize(0) == *batch))
      if (auto broadcast =
              collapse.getSrc().getDefiningOp<linalg::BroadcastOp>())
        if (broadcast.getDimensions() == ArrayRef<int64_t>{2})
          return {broadcast.getInput(), srcType.getDimSize(2),
                  cast<RankedTensorType>(broadcast.getInput().getType())};
  }
  auto type = cast<RankedTensorType>(v3.getType());
  int64_t bsz = batch.value_or(1);
  return {Value(), 1,
          RankedTensorType::get({bsz, type.getDimSize(0) / bsz,
                                 type.getDimSize(1), type.getDimSize(2)},
                                type.getElementType())};
}

Value materialize(OpBuilder &b, Location loc, const Heads &h, Value v3) {
  if (h.source)
    return h.source;
  return tensor::ExpandShapeOp::create(
      b, loc, h.type, v3, SmallVector<ReassociationIndices>{{0, 1}, {2}, {3}});
}

LogicalResult raise(AttentionMatch &m, RewriterBase &rewriter,
                    std::string &why) {
  Heads q = headsOf(m.q3, std::nullopt);
  if (q.group != 1) {
    why = "the queries are a broadcast";
    return failure();
  }
  int64_t batch = q.type.getDimSize(0);
  if (cast<RankedTensorType>(m.k3.getType()).getDimSize(0) % batch ||
      cast<RankedTensorType>(m.v3.getType()).getDimSize(0) % batch) {
    why = "K or V does not split into the queries' batches";
    return failure();
  }
  Heads k = headsOf(m.k3, batch), v = headsOf(m.v3, batch);
  if (k.group != v.group || k.type.getDimSize(1) != v.type.getDimSize(1)) {
    why = "K and V are grouped over query heads differently";
    return failure();
  }
  if (q.type.getDimSize(1) != k.type.getDimSize(1) * k.group) {
    why = "the query heads are not the key heads times their group";
    return failure();
  }
  Location loc = m.output.getLoc();
  rewriter.setInsertionPoint(m.output);
  Value q4 = materialize(rewriter, loc, q, m.q3),
        k4 = materialize(rewriter, loc, k, m.k3),
        v4 = materialize(rewriter, loc, v, m.v3);
  auto oType = RankedTensorType::get(
      {batch, q.type.getDimSize(1), q.type.getDimSize(2), v.type.getDimSize(3)},
      q.type.getElementType());
  auto attention = seq::AttentionOp::create(
      rewriter, loc, oType, /*lse=*/Type(), q4, k4, v4, /*kv_lengths=*/Value(),
      /*q_segment_ids=*/Value(), /*kv_segment_ids=*/Value(),
      m.causal ? rewriter.getUnitAttr() : UnitAttr(),
      rewriter.getDenseI64ArrayAttr({m.left, m.right}),
      rewriter.getF32FloatAttr(m.scale), /*softcap=*/FloatAttr());
  Value out3 = tensor::CollapseShapeOp::create(
      rewriter, loc, m.output.getResult(0).getType(), attention.getOutput(),
      SmallVector<ReassociationIndices>{{0, 1}, {2}, {3}});
  rewriter.replaceOp(m.output, out3);
  return success();
}

struct SeqRaiseAttention
    : seqc::impl::SeqRaiseAttentionBase<SeqRaiseAttention> {
  using SeqRaiseAttentionBase::SeqRaiseAttentionBase;

  void runOnOperation() override {
    SmallVector<linalg::SoftmaxOp> softmaxes;
    getOperation()->walk(
        [&](linalg::SoftmaxOp op) { softmaxes.push_back(op); });
    IRRewriter rewriter(&getContext());
    bool changed = false;
    for (linalg::SoftmaxOp softmax : softmaxes) {
      Matcher matcher;
      Location loc = softmax.getLoc();
      FailureOr<AttentionMatch> m = matcher.match(softmax);
      std::string why = matcher.why;
      if (succeeded(m) && succeeded(raise(*m, rewriter, why))) {
        changed = true;
        continue;
      }
      if (explain)
        emitRemark(loc) << "seq-raise-attention: not raised: " << why;
    }
    if (!changed)
      return;
    // The unfused chain is dead now; drop it.
    RewritePatternSet none(&getContext());
    (void)applyPatternsGreedily(getOperation(), std::move(none));
  }
};

} // namespace
