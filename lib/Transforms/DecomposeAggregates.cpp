//===- DecomposeAggregates.cpp - the seqc-decompose-aggregates pass -------===//
//
// Part of seqc.
//
//===----------------------------------------------------------------------===//

#include "seqc/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::seqc {
#define GEN_PASS_DEF_SEQCDECOMPOSEAGGREGATES
#include "seqc/Transforms/Passes.h.inc"
} // namespace mlir::seqc

using namespace mlir;

namespace {
struct SeqcDecomposeAggregates
    : seqc::impl::SeqcDecomposeAggregatesBase<SeqcDecomposeAggregates> {
  void runOnOperation() override {
    SmallVector<linalg::AggregatedOpInterface> ops;
    getOperation()->walk(
        [&](linalg::AggregatedOpInterface op) { ops.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (linalg::AggregatedOpInterface op : ops) {
      rewriter.setInsertionPoint(op);
      FailureOr<SmallVector<Value>> values = op.decomposeOperation(rewriter);
      if (failed(values) || values->size() != op->getNumResults()) {
        op->emitOpError() << "could not be decomposed into linalg.generic ops";
        return signalPassFailure();
      }
      rewriter.replaceOp(op, *values);
    }
  }
};
} // namespace
