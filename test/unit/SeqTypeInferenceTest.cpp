//===- SeqTypeInferenceTest.cpp - result-type inference of seq ops --------===//
//
// Part of seqc. The inference functions are what passes call to create `seq`
// ops; these tests pin them down independently of the verifiers.
//
//===----------------------------------------------------------------------===//

#include "seq/IR/SeqTypeInference.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::seqc::seq;

namespace {
constexpr int64_t kDyn = ShapedType::kDynamic;

class SeqTypeInferenceTest : public ::testing::Test {
protected:
  RankedTensorType tensor(ArrayRef<int64_t> shape, Type elt = {}) {
    return RankedTensorType::get(shape, elt ? elt : Float32Type::get(&ctx));
  }
  MLIRContext ctx;
};

TEST_F(SeqTypeInferenceTest, MergeSizesPrefersStatic) {
  EXPECT_EQ(*mergeSizes(4, 4), 4);
  EXPECT_EQ(*mergeSizes(kDyn, 7), 7);
  EXPECT_EQ(*mergeSizes(7, kDyn), 7);
  EXPECT_EQ(*mergeSizes(kDyn, kDyn), kDyn);
  EXPECT_TRUE(failed(mergeSizes(3, 4)));
}

TEST_F(SeqTypeInferenceTest, DropAndInsertDimAreInverse) {
  RankedTensorType t = tensor({2, 5, kDyn});
  EXPECT_EQ(dropDim(t, 1), tensor({2, kDyn}));
  EXPECT_EQ(dropDim(t, 0), tensor({5, kDyn}));
  EXPECT_EQ(insertDim(dropDim(t, 1), 1, 5), t);
  EXPECT_EQ(dropDim(tensor({9}), 0), tensor({}));
  EXPECT_EQ(insertDim(tensor({}), 0, 9), tensor({9}));
}

TEST_F(SeqTypeInferenceTest, AttentionTypes) {
  Type bf16 = BFloat16Type::get(&ctx);
  // GQA with a different value head dim: [B, Hq, Sq, Dv] in the query type.
  RankedTensorType q = tensor({2, 8, 7, 64}, bf16);
  RankedTensorType v = tensor({2, 2, 100, 32}, bf16);
  EXPECT_EQ(inferAttentionOutputType(q, v), tensor({2, 8, 7, 32}, bf16));
  EXPECT_EQ(inferAttentionLseType(q), tensor({2, 8, 7}));
  // A batch size known only from the value is taken from it.
  EXPECT_EQ(inferAttentionOutputType(tensor({kDyn, 4, 3, 16}),
                                     tensor({5, 4, 9, 16})),
            tensor({5, 4, 3, 16}));
}

TEST_F(SeqTypeInferenceTest, RecurrentStateTypes) {
  Type f16 = Float16Type::get(&ctx);
  EXPECT_EQ(inferSelectiveScanStateType(tensor({2, 64, 128}, f16),
                                        tensor({64, 16})),
            tensor({2, 64, 16}));
  EXPECT_EQ(inferSelectiveScanStateType(tensor({2, kDyn, 128}),
                                        tensor({64, 16})),
            tensor({2, 64, 16}));
  RankedTensorType k = tensor({2, 4, 50, 32}, f16);
  RankedTensorType v = tensor({2, 4, 50, 16}, f16);
  EXPECT_EQ(inferGLAOutputType(k, v), tensor({2, 4, 50, 16}, f16));
  EXPECT_EQ(inferGLAStateType(k, v), tensor({2, 4, 32, 16}));
}
} // namespace
