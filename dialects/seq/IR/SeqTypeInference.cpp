//===- SeqTypeInference.cpp - result types of seq ops ---------------------===//
//
// Part of seqc.
//
//===----------------------------------------------------------------------===//

#include "seq/IR/SeqTypeInference.h"

#include "mlir/IR/Builders.h"

using namespace mlir;

namespace mlir::seqc::seq {

FailureOr<int64_t> mergeSizes(int64_t lhs, int64_t rhs) {
  if (ShapedType::isDynamic(lhs))
    return rhs;
  if (ShapedType::isDynamic(rhs) || lhs == rhs)
    return lhs;
  return failure();
}

/// The merged size where it exists; the first operand's size otherwise (the
/// verifier reports the mismatch separately).
static int64_t mergeOrFirst(int64_t lhs, int64_t rhs) {
  FailureOr<int64_t> merged = mergeSizes(lhs, rhs);
  return succeeded(merged) ? *merged : lhs;
}

RankedTensorType dropDim(RankedTensorType t, int64_t dim) {
  SmallVector<int64_t> shape(t.getShape());
  shape.erase(shape.begin() + dim);
  return RankedTensorType::get(shape, t.getElementType());
}

RankedTensorType insertDim(RankedTensorType t, int64_t dim, int64_t size) {
  SmallVector<int64_t> shape(t.getShape());
  shape.insert(shape.begin() + dim, size);
  return RankedTensorType::get(shape, t.getElementType());
}

SmallVector<SmallVector<int64_t, 2>> dropDimReassociation(int64_t rank,
                                                          int64_t dim) {
  SmallVector<SmallVector<int64_t, 2>> groups;
  for (int64_t i = 0; i < rank; ++i)
    if (i != dim)
      groups.push_back({i});
  if (!groups.empty()) {
    if (dim == 0)
      groups.front().insert(groups.front().begin(), 0);
    else
      groups[dim - 1].push_back(dim);
  }
  return groups;
}

RankedTensorType inferAttentionOutputType(RankedTensorType query,
                                          RankedTensorType value) {
  ArrayRef<int64_t> q = query.getShape(), v = value.getShape();
  return RankedTensorType::get({mergeOrFirst(q[0], v[0]), q[1], q[2], v[3]},
                               query.getElementType());
}

RankedTensorType inferAttentionLseType(RankedTensorType query) {
  ArrayRef<int64_t> q = query.getShape();
  return RankedTensorType::get({q[0], q[1], q[2]},
                               Float32Type::get(query.getContext()));
}

RankedTensorType inferSelectiveScanStateType(RankedTensorType u,
                                             RankedTensorType a) {
  ArrayRef<int64_t> us = u.getShape(), as = a.getShape();
  return RankedTensorType::get({us[0], mergeOrFirst(us[1], as[0]), as[1]},
                               Float32Type::get(u.getContext()));
}

RankedTensorType inferGLAOutputType(RankedTensorType q, RankedTensorType v) {
  ArrayRef<int64_t> qs = q.getShape(), vs = v.getShape();
  return RankedTensorType::get({mergeOrFirst(qs[0], vs[0]),
                                mergeOrFirst(qs[1], vs[1]),
                                mergeOrFirst(qs[2], vs[2]), vs[3]},
                               q.getElementType());
}

RankedTensorType inferGLAStateType(RankedTensorType k, RankedTensorType v) {
  ArrayRef<int64_t> ks = k.getShape(), vs = v.getShape();
  return RankedTensorType::get(
      {mergeOrFirst(ks[0], vs[0]), mergeOrFirst(ks[1], vs[1]), ks[3], vs[3]},
      Float32Type::get(k.getContext()));
}

} // namespace mlir::seqc::seq
