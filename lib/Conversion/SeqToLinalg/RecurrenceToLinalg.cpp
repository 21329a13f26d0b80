//===- RecurrenceToLinalg.cpp - seq.recurrence -> time loop ---------------===//
//
// Part of seqc. `seq.recurrence` becomes one time loop (buildTimeLoop) whose
// step is the op's body, after the body has been split three ways:
//
//   invariant  ops that use neither the states nor the inputs (weights
//              reshaped, filled accumulators): computed once, before the loop;
//   hoisted    ops that use the inputs but not the states (the input
//              projection x_t·W, a bias added to it): computed for every time
//              step at once, before the loop, as one op over a tensor with an
//              extra time dimension. `x_t·W` becomes one [T·B, I]x[I, N]
//              matmul;
//   step       everything that depends on a state: cloned into the loop,
//              reading the hoisted results' slice at step t.
//
// Hoisting only happens when the hoisted part contains a contraction (some
// reduction loop): elementwise work gains nothing from being batched and
// would cost a round trip through memory.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

#include "seq/IR/SeqOps.h"
#include "seq/IR/SeqTypeInference.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"

using namespace mlir;
using namespace mlir::seqc;
using namespace mlir::seqc::seq;

namespace {

/// A value of the body computed for every time step before the loop:
/// `stacked` is its type with the time dimension inserted at `timeDim`.
struct Stacked {
  Value stacked;
  int64_t timeDim;
};

/// Everything `op` reads: its operands and the values its regions use from
/// outside them.
SetVector<Value> dependencies(Operation *op) {
  SetVector<Value> deps(op->operand_begin(), op->operand_end());
  getUsedValuesDefinedAbove(op->getRegions(), deps);
  return deps;
}

class RecurrenceLowering {
public:
  RecurrenceLowering(RecurrenceOp op, ImplicitLocOpBuilder &b)
      : op(op), b(b), body(op.getBody().front()), dim(op.getDim()),
        length(tensorType(op.getInputs()[0]).getDimSize(op.getDim())) {}

  void run(PatternRewriter &rewriter) {
    classify();
    // Inputs are their own stacked form, with time at `dim`.
    size_t numStates = op.getInit().size();
    for (auto [arg, x] : llvm::zip_equal(
             body.getArguments().drop_front(numStates), op.getInputs()))
      stacked[arg] = {x, dim};
    for (Operation &inner : body.without_terminator()) {
      if (kind.lookup(&inner) == Kind::Invariant)
        b.clone(inner, invariant);
      else if (kind.lookup(&inner) == Kind::Hoisted)
        hoist(&inner);
    }

    size_t numOutputs = op.getOutputs().size();
    SmallVector<Value> init =
        llvm::map_to_vector(op.getOutputs(), [&](Value y) {
          RankedTensorType t = tensorType(y);
          return emptyTensor(b, t.getShape(), t.getElementType());
        });
    init.append(op.getInit().begin(), op.getInit().end());
    SmallVector<Value> final = buildTimeLoop(
        b, 0, length, length, op.getReverse(), init,
        [&](ImplicitLocOpBuilder &nb, Value t, ValueRange carried) {
          IRMapping step = invariant;
          step.map(body.getArguments().take_front(numStates),
                   carried.drop_front(numOutputs));
          // Stacked values are sliced at t where the step reads them.
          auto bind = [&](Value v) {
            auto it = stacked.find(v);
            if (it != stacked.end() && !step.contains(v))
              step.map(v, extractStep(nb, it->second.stacked,
                                      it->second.timeDim, t));
          };
          for (Operation &inner : body.without_terminator()) {
            if (kind.lookup(&inner) != Kind::Step)
              continue;
            for (Value v : dependencies(&inner))
              bind(v);
            nb.clone(inner, step);
          }
          Operation *yield = body.getTerminator();
          for (Value v : yield->getOperands())
            bind(v);
          SmallVector<Value> yielded = llvm::map_to_vector(
              yield->getOperands(), [&](Value v) { return step.lookup(v); });
          SmallVector<Value> next;
          for (size_t i = 0; i < numOutputs; ++i)
            next.push_back(insertStep(nb, yielded[numStates + i], carried[i],
                                      dim, t));
          // The new states are written over the old ones: the loop keeps
          // one buffer per state instead of allocating one per step.
          for (size_t i = 0; i < numStates; ++i)
            next.push_back(linalg::CopyOp::create(nb, yielded[i],
                                                  carried[numOutputs + i])
                               ->getResult(0));
          return next;
        });
    rewriter.replaceOp(op, final);
  }

private:
  enum class Kind { Invariant, Hoisted, Step };

  /// Sorts the body's ops. An op is invariant when it reads no block
  /// argument (directly or through another op) and has no side effects; it
  /// may be hoisted when it reads inputs but no state and can be batched over
  /// time; everything else is a step op.
  void classify() {
    size_t numStates = op.getInit().size();
    DenseSet<Value> stateDependent(body.getArguments().begin(),
                                   body.getArguments().begin() + numStates);
    for (BlockArgument arg : body.getArguments().drop_front(numStates))
      timeDims[arg] = dim;
    bool anyContraction = false;
    for (Operation &inner : body.without_terminator()) {
      SetVector<Value> deps = dependencies(&inner);
      bool readsState = llvm::any_of(
          deps, [&](Value v) { return stateDependent.contains(v); });
      bool readsInput =
          llvm::any_of(deps, [&](Value v) { return timeDims.contains(v); });
      Kind k = Kind::Step;
      if (!readsState && !readsInput && isMemoryEffectFree(&inner)) {
        k = Kind::Invariant;
      } else if (!readsState && batchable(&inner)) {
        std::optional<SmallVector<int64_t>> resultTimes = predictTimeDims(&inner);
        if (resultTimes) {
          k = Kind::Hoisted;
          for (auto [r, t] : llvm::zip_equal(inner.getResults(), *resultTimes))
            timeDims[r] = t;
          auto linalgOp = dyn_cast<linalg::LinalgOp>(&inner);
          anyContraction |= linalgOp && linalgOp.getNumReductionLoops() > 0;
        }
      }
      kind[&inner] = k;
      // A step op's results count as state-dependent: nothing reading them
      // can leave the loop.
      if (k == Kind::Step)
        stateDependent.insert(inner.getResults().begin(),
                              inner.getResults().end());
    }
    if (anyContraction)
      return;
    // Nothing worth batching: hoisted ops go back into the loop.
    for (auto &entry : kind)
      if (entry.second == Kind::Hoisted)
        entry.second = Kind::Step;
  }

  std::optional<int64_t> timeDimOf(Value v) {
    auto it = timeDims.find(v);
    if (it == timeDims.end())
      return std::nullopt;
    return it->second;
  }

  /// x_t·W with W invariant and time outside the columns of x_t (and of the
  /// accumulator, if that varies too): one matmul over [T·M, K] rows.
  bool matmulFastPath(linalg::MatmulOp matmul) {
    std::optional<int64_t> lhs = timeDimOf(matmul.getInputs()[0]);
    std::optional<int64_t> acc = timeDimOf(matmul.getOutputs()[0]);
    return !matmul.hasUserDefinedMaps() && lhs && *lhs <= 1 &&
           !timeDimOf(matmul.getInputs()[1]) && (!acc || acc == lhs);
  }

  /// Where the time dimension of each result of hoisting `inner` will be;
  /// none when its operands disagree on where time is.
  std::optional<SmallVector<int64_t>> predictTimeDims(Operation *inner) {
    if (auto matmul = dyn_cast<linalg::MatmulOp>(inner))
      if (matmulFastPath(matmul))
        return SmallVector<int64_t>{*timeDimOf(matmul.getInputs()[0])};
    if (auto linalgOp = dyn_cast<linalg::LinalgOp>(inner)) {
      // An invariant init takes time where the first varying input of its
      // rank has it, which keeps chains of ops in one layout.
      return llvm::map_to_vector(linalgOp.getDpsInits(), [&](Value init) {
        if (std::optional<int64_t> t = timeDimOf(init))
          return *t;
        for (Value in : linalgOp.getDpsInputs())
          if (std::optional<int64_t> t = timeDimOf(in);
              t && tensorType(in).getRank() == tensorType(init).getRank())
            return *t;
        return int64_t{0};
      });
    }
    std::optional<int64_t> common;
    for (Value v : inner->getOperands()) {
      std::optional<int64_t> t = timeDimOf(v);
      if (t && common && *t != *common)
        return std::nullopt;
      if (t)
        common = t;
    }
    return SmallVector<int64_t>{common.value_or(0)};
  }

  /// Whether `inner` can run over all time steps at once: a linalg op on
  /// tensors, or an elementwise op on tensors of one shape. Regions may only
  /// capture values defined outside the recurrence.
  bool batchable(Operation *inner) {
    if (!isMemoryEffectFree(inner))
      return false;
    SetVector<Value> captured;
    getUsedValuesDefinedAbove(inner->getRegions(), captured);
    for (Value v : captured)
      if (v.getParentRegion() == &op.getBody() ||
          op.getBody().isAncestor(v.getParentRegion()))
        return false;
    if (auto linalgOp = dyn_cast<linalg::LinalgOp>(inner))
      return linalgOp.hasPureTensorSemantics() &&
             inner->getNumRegions() == 1 && !inner->getRegion(0).empty();
    if (!inner->hasTrait<OpTrait::Elementwise>() || inner->getNumResults() != 1)
      return false;
    auto resultType = dyn_cast<RankedTensorType>(inner->getResult(0).getType());
    return resultType &&
           llvm::all_of(inner->getOperandTypes(), [&](Type t) {
             auto type = dyn_cast<RankedTensorType>(t);
             return type && type.getShape() == resultType.getShape();
           });
  }

  /// The stacked form of operand `v` with time at `timeDim`: hoisted values
  /// as they are (classify() made sure their time dimension agrees),
  /// invariant ones broadcast along time.
  Value stackedAt(Value v, int64_t timeDim) {
    auto it = stacked.find(v);
    if (it != stacked.end()) {
      assert(it->second.timeDim == timeDim && "time dimensions disagree");
      return it->second.stacked;
    }
    Value outside = invariant.lookupOrDefault(v);
    RankedTensorType type = tensorType(outside);
    Value dest = emptyTensor(
        b, seq::insertDim(type, timeDim, length).getShape(),
        type.getElementType());
    // Accumulators are usually empty or filled: make the stacked one so
    // rather than copy a value along time.
    if (v.getDefiningOp<tensor::EmptyOp>())
      return dest;
    if (auto fill = v.getDefiningOp<linalg::FillOp>();
        fill && fill.getOutputs()[0].getDefiningOp<tensor::EmptyOp>() &&
        !stacked.contains(fill.getInputs()[0]))
      return linalg::FillOp::create(
                 b, invariant.lookupOrDefault(fill.getInputs()[0]), dest)
          ->getResult(0);
    return linalg::BroadcastOp::create(b, outside, dest,
                                       ArrayRef<int64_t>{timeDim})
        ->getResult(0);
  }

  /// Emits the all-steps form of `inner` before the loop.
  void hoist(Operation *inner) {
    if (auto matmul = dyn_cast<linalg::MatmulOp>(inner);
        matmul && matmulFastPath(matmul))
      return hoistMatmul(matmul);
    if (auto linalgOp = dyn_cast<linalg::LinalgOp>(inner))
      return hoistLinalg(linalgOp);
    hoistElementwise(inner);
  }

  void hoistMatmul(linalg::MatmulOp matmul) {
    Value lhs = matmul.getInputs()[0], rhs = matmul.getInputs()[1],
          acc = matmul.getOutputs()[0];
    int64_t timeDim = *timeDimOf(lhs);
    Value accStacked = stackedAt(acc, timeDim);
    SmallVector<ReassociationIndices> rows = {{0, 1}, {2}};
    auto collapse = [&](Value v) {
      return tensor::CollapseShapeOp::create(b, v, rows).getResult();
    };
    Value product =
        linalg::MatmulOp::create(
            b, ValueRange{collapse(stacked.lookup(lhs).stacked),
                          invariant.lookupOrDefault(rhs)},
            ValueRange{collapse(accStacked)})
            ->getResult(0);
    Value expanded = tensor::ExpandShapeOp::create(
        b, accStacked.getType(), product, rows);
    stacked[matmul->getResult(0)] = {expanded, timeDim};
  }

  /// Any other linalg op: a linalg.generic with one more parallel loop,
  /// time, indexing the operands that vary with it.
  void hoistLinalg(linalg::LinalgOp linalgOp) {
    MLIRContext *ctx = b.getContext();
    unsigned numLoops = linalgOp.getNumLoops();
    AffineExpr time = getAffineDimExpr(numLoops, ctx);
    SmallVector<AffineMap> maps;
    SmallVector<Value> ins, outs;
    auto addOperand = [&](OpOperand &operand, int64_t timeDim, Value value,
                          bool varies) {
      AffineMap old = linalgOp.getMatchingIndexingMap(&operand);
      SmallVector<AffineExpr> results(old.getResults());
      if (varies)
        results.insert(results.begin() + timeDim, time);
      maps.push_back(AffineMap::get(numLoops + 1, 0, results, ctx));
      return value;
    };
    for (OpOperand *operand : linalgOp.getDpsInputOperands()) {
      Value v = operand->get();
      auto it = stacked.find(v);
      bool varies = it != stacked.end();
      ins.push_back(addOperand(*operand, varies ? it->second.timeDim : 0,
                               varies ? it->second.stacked
                                      : invariant.lookupOrDefault(v),
                               varies));
    }
    SmallVector<int64_t> outTimeDims;
    for (OpOperand &operand : linalgOp.getDpsInitsMutable()) {
      Value v = operand.get();
      int64_t timeDim =
          *timeDimOf(linalgOp.getTiedOpResult(&operand));
      outTimeDims.push_back(timeDim);
      outs.push_back(addOperand(operand, timeDim, stackedAt(v, timeDim),
                                /*varies=*/true));
    }
    SmallVector<utils::IteratorType> iterators =
        linalgOp.getIteratorTypesArray();
    iterators.push_back(utils::IteratorType::parallel);
    auto generic = linalg::GenericOp::create(
        b, TypeRange(ValueRange(outs)), ins, outs, maps, iterators);
    IRMapping regionMap = invariant;
    b.cloneRegionBefore(linalgOp->getRegion(0), generic.getRegion(),
                        generic.getRegion().end(), regionMap);
    for (auto [result, hoisted, timeDim] : llvm::zip_equal(
             linalgOp->getResults(), generic.getResults(), outTimeDims))
      stacked[result] = {hoisted, timeDim};
  }

  /// An elementwise op (arith, math) on tensors: the same op on the stacked
  /// tensors, with invariant operands broadcast along time.
  void hoistElementwise(Operation *inner) {
    int64_t timeDim = *timeDimOf(inner->getResult(0));
    SmallVector<Value> operands = llvm::map_to_vector(
        inner->getOperands(), [&](Value v) { return stackedAt(v, timeDim); });
    RankedTensorType type = tensorType(inner->getResult(0));
    Type resultType = seq::insertDim(type, timeDim, length);
    OperationState state(inner->getLoc(), inner->getName(), operands,
                         resultType, inner->getAttrs());
    stacked[inner->getResult(0)] = {b.create(state)->getResult(0), timeDim};
  }

  RecurrenceOp op;
  ImplicitLocOpBuilder &b;
  Block &body;
  int64_t dim;
  int64_t length;
  DenseMap<Operation *, Kind> kind;
  /// Where time goes in the stacked form of each input or hoisted value.
  DenseMap<Value, int64_t> timeDims;
  /// Body values computed for all steps before the loop.
  DenseMap<Value, Stacked> stacked;
  /// Invariant body values to their clones before the loop.
  IRMapping invariant;
};

struct RecurrenceToLinalg : OpRewritePattern<RecurrenceOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(RecurrenceOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(requireStaticShapes(op, rewriter)))
      return failure();
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    RecurrenceLowering(op, b).run(rewriter);
    return success();
  }
};
} // namespace

void mlir::seqc::populateRecurrenceToLinalgPatterns(
    RewritePatternSet &patterns) {
  patterns.add<RecurrenceToLinalg>(patterns.getContext());
}
