// RUN: seqc-opt %s --convert-seq-to-linalg --canonicalize --split-input-file | FileCheck %s
// The two lowerings of seq.linear_recurrence (convert-seq-to-linalg).

// Along the innermost dimension, blocks of 2 rows run in parallel, one
// vector lane per row. A reverse recurrence without h0 peels t = 199 (h = b
// exactly); the other 199 steps are three register tiles of 64 steps, read
// along time and transposed (starting at t = 135, 71, 7, run backwards), and
// 7 leftover columns.
// CHECK-LABEL: func.func @linear_recurrence_innermost_reverse
// CHECK: scf.forall (%{{.*}}) in (2) shared_outs
// CHECK: %[[B0:.*]] = vector.transfer_read %{{.*}}[%c0, %c199]{{.*}}permutation_map = #{{.*}}} : tensor<2x200xf32>, vector<2xf32>
// CHECK: vector.transfer_write %[[B0]], %{{.*}}[%c0, %c199]
// CHECK: scf.for %[[I:.*]] = %c0 to %c3 step %c1
// CHECK: %[[S:.*]] = arith.subi %c135, %{{.*}}
// CHECK: vector.transfer_read %{{.*}}[%c0, %[[S]]], %{{.*}} {in_bounds = [true, true]} : tensor<2x200xf32>, vector<2x64xf32>
// CHECK: vector.transpose %{{.*}}, [1, 0] : vector<2x64xf32> to vector<64x2xf32>
// CHECK: vector.extract %{{.*}}[63]
// CHECK-COUNT-64: math.fma
// CHECK: vector.transfer_write %{{.*}}, %{{.*}}[%c0, %[[S]]] {in_bounds = [true, true]} : vector<2x64xf32>, tensor<2x200xf32>
// CHECK: scf.for %{{.*}} = %c193 to %c200 step %c1
// CHECK: math.fma
// CHECK: scf.forall.in_parallel
func.func @linear_recurrence_innermost_reverse(%a: tensor<4x200xf32>, %b: tensor<4x200xf32>) -> (tensor<4x200xf32>, tensor<4xf32>) {
  %h, %last = seq.linear_recurrence %a, %b {dim = 1 : i64, reverse} : tensor<4x200xf32>, tensor<4x200xf32> -> tensor<4x200xf32>, tensor<4xf32>
  return %h, %last : tensor<4x200xf32>, tensor<4xf32>
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
