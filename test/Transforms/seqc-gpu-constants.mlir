// RUN: seqc-opt %s --seqc-gpu-constants --split-input-file --verify-diagnostics | FileCheck %s

// A splat constant tensor becomes a fill computed on the device; scalar
// constants and kernels' own constants are left alone.
// CHECK-LABEL: func.func @splat
// CHECK-NOT: dense<
// CHECK: %[[E:.*]] = tensor.empty() : tensor<3x20xf32>
// CHECK: %[[C:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: linalg.fill ins(%[[C]] : f32) outs(%[[E]] : tensor<3x20xf32>)
func.func @splat(%x: tensor<3x20xf32>) -> tensor<3x20xf32> {
  %one = arith.constant dense<1.0> : tensor<3x20xf32>
  %y = arith.addf %x, %one : tensor<3x20xf32>
  return %y : tensor<3x20xf32>
}

// -----

func.func @table(%x: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{is a non-splat constant tensor, which the cuda target cannot place on the device yet}}
  %t = arith.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %y = arith.addf %x, %t : tensor<2xf32>
  return %y : tensor<2xf32>
}
