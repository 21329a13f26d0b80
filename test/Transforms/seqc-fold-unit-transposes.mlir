// RUN: seqc-opt %s --seqc-fold-unit-transposes | FileCheck %s

// A decode step's head split moves only a unit dimension: a reshape.
// CHECK-LABEL: func.func @head_split
// CHECK-NOT: linalg.transpose
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %arg0 {{\[}}[0, 1, 2], [3]] : tensor<1x1x16x128xf32> into tensor<16x128xf32>
// CHECK: tensor.expand_shape %[[FLAT]] {{\[}}[0, 1], [2, 3]] output_shape [1, 16, 1, 128] : tensor<16x128xf32> into tensor<1x16x1x128xf32>
func.func @head_split(%x: tensor<1x1x16x128xf32>) -> tensor<1x16x1x128xf32> {
  %e = tensor.empty() : tensor<1x16x1x128xf32>
  %t = linalg.transpose ins(%x : tensor<1x1x16x128xf32>) outs(%e : tensor<1x16x1x128xf32>) permutation = [0, 2, 1, 3]
  return %t : tensor<1x16x1x128xf32>
}

// With several tokens the same transpose moves data: it stays, as does one
// that swaps two dimensions larger than 1.
// CHECK-LABEL: func.func @prefill_split
// CHECK: linalg.transpose
// CHECK-LABEL: func.func @swap
// CHECK: linalg.transpose
func.func @prefill_split(%x: tensor<1x5x16x128xf32>) -> tensor<1x16x5x128xf32> {
  %e = tensor.empty() : tensor<1x16x5x128xf32>
  %t = linalg.transpose ins(%x : tensor<1x5x16x128xf32>) outs(%e : tensor<1x16x5x128xf32>) permutation = [0, 2, 1, 3]
  return %t : tensor<1x16x5x128xf32>
}
func.func @swap(%x: tensor<1x4x8xf32>) -> tensor<8x1x4xf32> {
  %e = tensor.empty() : tensor<8x1x4xf32>
  %t = linalg.transpose ins(%x : tensor<1x4x8xf32>) outs(%e : tensor<8x1x4xf32>) permutation = [2, 0, 1]
  return %t : tensor<8x1x4xf32>
}

// Unit dimensions only: a reshape of one element.
// CHECK-LABEL: func.func @all_unit
// CHECK-NOT: linalg.transpose
func.func @all_unit(%x: tensor<1x1x1xf32>) -> tensor<1x1x1xf32> {
  %e = tensor.empty() : tensor<1x1x1xf32>
  %t = linalg.transpose ins(%x : tensor<1x1x1xf32>) outs(%e : tensor<1x1x1xf32>) permutation = [2, 1, 0]
  return %t : tensor<1x1x1xf32>
}
