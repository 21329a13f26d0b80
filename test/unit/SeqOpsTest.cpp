//===- SeqOpsTest.cpp - C++ API of seq ops --------------------------------===//
//
// Part of seqc. What passes rely on and IR tests cannot see: op accessors,
// derived values (effective scale, GQA group size) and the combiner matcher
// on every operand order it accepts or must reject.
//
//===----------------------------------------------------------------------===//

#include "seq/IR/SeqOps.h"
#include "seq/IR/SeqTypeInference.h"
#include "seqc/InitAll.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace mlir;
using namespace mlir::seqc;

namespace {
class SeqOpsTest : public ::testing::Test {
protected:
  SeqOpsTest() {
    DialectRegistry registry;
    registerAllDialects(registry);
    ctx.appendDialectRegistry(registry);
    ctx.loadAllAvailableDialects();
  }

  OwningOpRef<ModuleOp> parse(StringRef text) {
    return parseSourceString<ModuleOp>(text, &ctx);
  }

  /// The first op of type OpTy in `module`.
  template <typename OpTy>
  OpTy first(ModuleOp module) {
    OpTy found;
    module.walk([&](OpTy op) {
      if (!found)
        found = op;
    });
    return found;
  }

  /// A two-input scan whose combiner yields `decay` and `offset`, written
  /// over the block arguments %a1, %b1 (lhs) and %a2, %b2 (rhs).
  OwningOpRef<ModuleOp> scanWithCombiner(StringRef body) {
    std::string text = R"mlir(
      func.func @f(%a: tensor<4x8xf32>, %b: tensor<4x8xf32>) {
        %r:4 = seq.scan ins(%a, %b : tensor<4x8xf32>, tensor<4x8xf32>)
            {dim = 1 : i64} -> tensor<4x8xf32>, tensor<4x8xf32>,
                                tensor<4xf32>, tensor<4xf32> {
        ^bb0(%a1: f32, %b1: f32, %a2: f32, %b2: f32):
    )mlir";
    text += body.str();
    text += R"mlir(
        }
        return
      })mlir";
    return parse(text);
  }

  bool isLinear(StringRef body) {
    OwningOpRef<ModuleOp> module = scanWithCombiner(body);
    EXPECT_TRUE(module) << "combiner failed to parse: " << body.str();
    if (!module)
      return false;
    return first<seq::ScanOp>(*module).isLinearRecurrenceCombiner();
  }

  MLIRContext ctx;
};

TEST_F(SeqOpsTest, AttentionDerivedValues) {
  OwningOpRef<ModuleOp> module = parse(R"mlir(
    func.func @f(%q: tensor<2x8x16x64xf32>, %k: tensor<2x2x32x64xf32>,
                 %v: tensor<2x2x32x64xf32>) -> tensor<2x8x16x64xf32> {
      %o = seq.attention %q, %k, %v {causal}
          : tensor<2x8x16x64xf32>, tensor<2x2x32x64xf32>, tensor<2x2x32x64xf32>
          -> tensor<2x8x16x64xf32>
      return %o : tensor<2x8x16x64xf32>
    })mlir");
  ASSERT_TRUE(module);
  auto op = first<seq::AttentionOp>(*module);
  EXPECT_DOUBLE_EQ(op.getEffectiveScale(), 0.125);
  EXPECT_EQ(op.getGroupSize(), 4);
  EXPECT_TRUE(op.getCausal());
  // The default window is unbounded on both sides.
  EXPECT_EQ(op.getWindow(), ArrayRef<int64_t>({-1, -1}));
  EXPECT_FALSE(op.getLse());
  EXPECT_FALSE(op.getKvLengths());
}

TEST_F(SeqOpsTest, GLAEffectiveScale) {
  OwningOpRef<ModuleOp> module = parse(R"mlir(
    func.func @f(%q: tensor<1x2x5x48xf32>, %v: tensor<1x2x5x8xf32>) {
      %o = seq.gated_linear_attention %q, %q, %v
          : tensor<1x2x5x48xf32>, tensor<1x2x5x48xf32>, tensor<1x2x5x8xf32>
          -> tensor<1x2x5x8xf32>
      %o2 = seq.gated_linear_attention %q, %q, %v {scale = 2.0 : f32}
          : tensor<1x2x5x48xf32>, tensor<1x2x5x48xf32>, tensor<1x2x5x8xf32>
          -> tensor<1x2x5x8xf32>
      return
    })mlir");
  ASSERT_TRUE(module);
  SmallVector<seq::GatedLinearAttentionOp> ops;
  module->walk([&](seq::GatedLinearAttentionOp op) { ops.push_back(op); });
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_DOUBLE_EQ(ops[0].getEffectiveScale(), 1.0 / std::sqrt(48.0));
  EXPECT_DOUBLE_EQ(ops[1].getEffectiveScale(), 2.0);
}

TEST_F(SeqOpsTest, LinearCombinerInEveryOperandOrder) {
  EXPECT_TRUE(isLinear(R"mlir(
    %d = arith.mulf %a1, %a2 : f32
    %m = arith.mulf %a2, %b1 : f32
    %o = arith.addf %m, %b2 : f32
    seq.yield %d, %o : f32, f32)mlir"));
  EXPECT_TRUE(isLinear(R"mlir(
    %d = arith.mulf %a2, %a1 : f32
    %m = arith.mulf %b1, %a2 : f32
    %o = arith.addf %b2, %m : f32
    seq.yield %d, %o : f32, f32)mlir"));
}

TEST_F(SeqOpsTest, NonLinearCombinersAreRejected) {
  // The offset decays with the wrong side's a (a1·b1 + b2 is not the
  // composition of affine maps in scan order).
  EXPECT_FALSE(isLinear(R"mlir(
    %d = arith.mulf %a1, %a2 : f32
    %m = arith.mulf %a1, %b1 : f32
    %o = arith.addf %m, %b2 : f32
    seq.yield %d, %o : f32, f32)mlir"));
  // The rhs offset is scaled too.
  EXPECT_FALSE(isLinear(R"mlir(
    %d = arith.mulf %a1, %a2 : f32
    %m = arith.mulf %a2, %b1 : f32
    %n = arith.mulf %a2, %b2 : f32
    %o = arith.addf %m, %n : f32
    seq.yield %d, %o : f32, f32)mlir"));
  // The decays add instead of multiplying.
  EXPECT_FALSE(isLinear(R"mlir(
    %d = arith.addf %a1, %a2 : f32
    %m = arith.mulf %a2, %b1 : f32
    %o = arith.addf %m, %b2 : f32
    seq.yield %d, %o : f32, f32)mlir"));
  // Results swapped.
  EXPECT_FALSE(isLinear(R"mlir(
    %d = arith.mulf %a1, %a2 : f32
    %m = arith.mulf %a2, %b1 : f32
    %o = arith.addf %m, %b2 : f32
    seq.yield %o, %d : f32, f32)mlir"));
}

TEST_F(SeqOpsTest, ScanResultRanges) {
  OwningOpRef<ModuleOp> module = scanWithCombiner(R"mlir(
    %d = arith.mulf %a1, %a2 : f32
    %m = arith.mulf %a2, %b1 : f32
    %o = arith.addf %m, %b2 : f32
    seq.yield %d, %o : f32, f32)mlir");
  ASSERT_TRUE(module);
  auto scan = first<seq::ScanOp>(*module);
  ASSERT_EQ(scan.getOutputs().size(), 2u);
  ASSERT_EQ(scan.getCarries().size(), 2u);
  EXPECT_EQ(scan.getCarries()[0].getType(),
            seq::dropDim(cast<RankedTensorType>(scan.getInputs()[0].getType()),
                         1));
}
} // namespace
