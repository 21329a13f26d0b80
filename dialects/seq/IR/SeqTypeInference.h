//===- SeqTypeInference.h - result types of seq ops -------------*- C++ -*-===//
//
// Part of seqc. Free functions that derive the result types of `seq` ops from
// their operand types. The verifiers check declared types against them, and
// passes that create `seq` ops call them, so both agree by construction.
// Callers must have checked operand ranks (the verifiers do so first).
//
//===----------------------------------------------------------------------===//

#ifndef SEQ_IR_SEQTYPEINFERENCE_H
#define SEQ_IR_SEQTYPEINFERENCE_H

#include "mlir/IR/BuiltinTypes.h"

namespace mlir::seqc::seq {

/// Merges two sizes that must agree: a static size wins over a dynamic one.
/// Fails when both are static and differ.
FailureOr<int64_t> mergeSizes(int64_t lhs, int64_t rhs);

/// `t` without dimension `dim` (scan carries, the last state of a recurrence).
RankedTensorType dropDim(RankedTensorType t, int64_t dim);

/// `t` with a dimension of `size` inserted at `dim` (stacked recurrence
/// outputs).
RankedTensorType insertDim(RankedTensorType t, int64_t dim, int64_t size);

/// The reassociation that collapses unit dimension `dim` of a rank-`rank`
/// shape into a neighbouring group (no groups at all for rank 1): the one
/// way seqc drops a time step's dimension without ambiguity about which unit
/// dimension goes.
SmallVector<SmallVector<int64_t, 2>> dropDimReassociation(int64_t rank,
                                                          int64_t dim);

/// seq.attention output: [B, Hq, Sq, Dv] in the query's element type.
RankedTensorType inferAttentionOutputType(RankedTensorType query,
                                          RankedTensorType value);

/// seq.attention lse: [B, Hq, Sq] in f32.
RankedTensorType inferAttentionLseType(RankedTensorType query);

/// seq.selective_scan last state: [B, D, N] in f32.
RankedTensorType inferSelectiveScanStateType(RankedTensorType u,
                                             RankedTensorType a);

/// seq.gated_linear_attention output: [B, H, T, V] in q's element type.
RankedTensorType inferGLAOutputType(RankedTensorType q, RankedTensorType v);

/// seq.gated_linear_attention final state: [B, H, K, V] in f32.
RankedTensorType inferGLAStateType(RankedTensorType k, RankedTensorType v);

} // namespace mlir::seqc::seq

#endif // SEQ_IR_SEQTYPEINFERENCE_H
