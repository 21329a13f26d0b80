// RUN: not seqc-opt %s --convert-seq-to-linalg=attention-tile-q=0 2>&1 | FileCheck %s
// Tile sizes must be positive: a located error, not a division by zero.
// CHECK: error: convert-seq-to-linalg: attention tile sizes must be positive
func.func @f(%q: tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32> {
  %o = seq.attention %q, %q, %q : tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32> -> tensor<1x1x4x8xf32>
  return %o : tensor<1x1x4x8xf32>
}
