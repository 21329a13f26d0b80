// RUN: seqc-opt %s --seqc-decompose-aggregates | FileCheck %s

// A softmax left over (not part of a raised attention) becomes linalg
// generics: row max, exp(x - max), row sum, divide.
// CHECK-LABEL: func.func @softmax
// CHECK-NOT: linalg.softmax
// CHECK: linalg.generic
// CHECK: arith.maxnumf
// CHECK: math.exp
// CHECK: arith.addf
// CHECK: arith.divf
func.func @softmax(%x: tensor<2x5x7xf32>) -> tensor<2x5x7xf32> {
  %e = tensor.empty() : tensor<2x5x7xf32>
  %p = linalg.softmax dimension(2) ins(%x : tensor<2x5x7xf32>) outs(%e : tensor<2x5x7xf32>) -> tensor<2x5x7xf32>
  return %p : tensor<2x5x7xf32>
}
