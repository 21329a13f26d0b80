// RUN: seqc-opt %s --convert-seq-to-linalg --canonicalize --split-input-file | FileCheck %s
// The two lowerings of seq.linear_recurrence (convert-seq-to-linalg).

// Along the innermost dimension rows run in parallel, each tile by tile
// (32 contiguous steps in one vector). Within a tile the affine maps are
// composed by a log-depth in-register scan (lane shifts of 1, 2, 4, 8, 16
// with the identity (1, 0) shifted in); only the carry between tiles is
// sequential. Reverse: tiles run from the end (t = 168, then 136, ...), each
// reversed in registers; the first tile of a recurrence without h0 applies no
// carry (h = B exactly); the 8 leftover steps (t = 7 .. 0) go one by one.
// CHECK-LABEL: func.func @linear_recurrence_innermost_reverse
// CHECK: scf.forall (%{{.*}}) in (4) shared_outs
// CHECK: vector.transfer_read %{{.*}}[%c0, %c168], %{{.*}} {in_bounds = [true]} : tensor<1x200xf32>, vector<32xf32>
// CHECK: vector.shuffle %{{.*}}, %{{.*}} [31, 30, 29,
// CHECK: vector.shuffle %{{.*}}, %{{.*}} [32, 0, 1, 2,
// CHECK: math.fma
// CHECK: vector.shuffle %{{.*}}, %{{.*}} [32, 33, 0, 1,
// CHECK: vector.shuffle %{{.*}}, %{{.*}} [32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 0,
// CHECK: %[[CARRY:.*]] = vector.extract %{{.*}}[31] : f32 from vector<32xf32>
// CHECK: vector.transfer_write %{{.*}}[%c0, %c168] {in_bounds = [true]}
// CHECK: scf.for %{{.*}} = %c1 to %c6 step %c1 iter_args(%[[H:.*]] = %[[CARRY]], %{{.*}} = %{{.*}}) -> (f32, tensor<1x200xf32>)
// CHECK: arith.subi %c168
// CHECK: vector.broadcast %[[H]] : f32 to vector<32xf32>
// CHECK: scf.for %{{.*}} = %c192 to %c200 step %c1
// CHECK: math.fma {{.*}} : f32
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
