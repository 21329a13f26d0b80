// RUN: seqc-opt %s --convert-seq-to-linalg --canonicalize --split-input-file | FileCheck %s
// The two lowerings of seq.linear_recurrence (convert-seq-to-linalg).

// Along the innermost dimension, rows run in blocks (one vector lane per
// row). A reverse recurrence without h0 peels t = 39 (h = b exactly); the
// other 39 steps are two register tiles of 16 steps, read along time and
// transposed (starting at t = 23, then t = 7, run backwards), and 7 leftover
// columns.
// CHECK-LABEL: func.func @linear_recurrence_innermost_reverse
// CHECK: %[[B0:.*]] = vector.transfer_read %{{.*}}[%c0, %c39]{{.*}}permutation_map = #{{.*}}} : tensor<4x40xf32>, vector<4xf32>
// CHECK: vector.transfer_write %[[B0]], %{{.*}}[%c0, %c39]
// CHECK: scf.for %[[I:.*]] = %c0 to %c2 step %c1
// CHECK: %[[S:.*]] = arith.subi %c23, %{{.*}}
// CHECK: vector.transfer_read %{{.*}}[%c0, %[[S]]], %{{.*}} {in_bounds = [true, true]} : tensor<4x40xf32>, vector<4x16xf32>
// CHECK: vector.transpose %{{.*}}, [1, 0] : vector<4x16xf32> to vector<16x4xf32>
// CHECK: vector.extract %{{.*}}[15]
// CHECK-COUNT-16: math.fma
// CHECK: vector.transfer_write %{{.*}}, %{{.*}}[%c0, %[[S]]] {in_bounds = [true, true]} : vector<4x16xf32>, tensor<4x40xf32>
// CHECK: scf.for %{{.*}} = %c33 to %c40 step %c1
// CHECK: math.fma
func.func @linear_recurrence_innermost_reverse(%a: tensor<4x40xf32>, %b: tensor<4x40xf32>) -> (tensor<4x40xf32>, tensor<4xf32>) {
  %h, %last = seq.linear_recurrence %a, %b {dim = 1 : i64, reverse} : tensor<4x40xf32>, tensor<4x40xf32> -> tensor<4x40xf32>, tensor<4xf32>
  return %h, %last : tensor<4x40xf32>, tensor<4xf32>
}

// -----

// Along an outer dimension a step is a contiguous slab: a time loop updates
// an f32 state in place (here with h0, in bf16 storage).
// CHECK-LABEL: func.func @linear_recurrence_outer
// CHECK: scf.for %[[T:.*]] = %c0 to %c8 step %{{.*}} iter_args(%{{.*}} = %{{.*}}, %[[H:.*]] = %{{.*}})
// CHECK: linalg.generic {{.*}} outs(%[[H]], %{{.*}} : tensor<4xf32>, tensor<4xbf16>)
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: arith.truncf
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[%[[T]], 0] [1, 4] [1, 1]
func.func @linear_recurrence_outer(%a: tensor<8x4xbf16>, %b: tensor<8x4xbf16>, %h0: tensor<4xbf16>) -> (tensor<8x4xbf16>, tensor<4xbf16>) {
  %h, %last = seq.linear_recurrence %a, %b init(%h0 : tensor<4xbf16>) {dim = 0 : i64} : tensor<8x4xbf16>, tensor<8x4xbf16> -> tensor<8x4xbf16>, tensor<4xbf16>
  return %h, %last : tensor<8x4xbf16>, tensor<4xbf16>
}
