// RUN: seqc-opt %s --convert-seq-to-linalg --split-input-file | FileCheck %s

// The input projection x_t·W (and the bias added to it) leaves the time loop:
// one [B·T, I]x[I, H] matmul before the loop, the recurrent h·U stays inside.
// Accumulators that were filled or empty per step are filled or empty for
// all steps, not broadcast.

// CHECK-LABEL: func.func @rnn
// CHECK-SAME: (%[[H0:.*]]: tensor<2x32xf32>, %[[X:.*]]: tensor<2x10x16xf32>, %[[W:.*]]: tensor<16x32xf32>, %[[U:.*]]: tensor<32x32xf32>, %[[BIAS:.*]]: tensor<32xf32>)
// CHECK-NOT: linalg.broadcast
// CHECK: %[[ZEROS:.*]] = linalg.fill {{.*}} -> tensor<2x10x32xf32>
// CHECK: %[[XS:.*]] = tensor.collapse_shape %[[X]] {{\[\[}}0, 1], [2]] : tensor<2x10x16xf32> into tensor<20x16xf32>
// CHECK: %[[ACC:.*]] = tensor.collapse_shape %[[ZEROS]] {{\[\[}}0, 1], [2]] : tensor<2x10x32xf32> into tensor<20x32xf32>
// CHECK: %[[XW:.*]] = linalg.matmul ins(%[[XS]], %[[W]] : tensor<20x16xf32>, tensor<16x32xf32>) outs(%[[ACC]] : tensor<20x32xf32>)
// CHECK: %[[XW3:.*]] = tensor.expand_shape %[[XW]] {{\[\[}}0, 1], [2]] output_shape [2, 10, 32]
// CHECK: %[[XB:.*]] = linalg.generic {{.*}} ins(%[[XW3]], %[[BIAS]] : tensor<2x10x32xf32>, tensor<32xf32>) outs(%{{.*}} : tensor<2x10x32xf32>)
// CHECK: scf.for %[[T:.*]] = {{.*}} iter_args(%[[YS:.*]] = %{{.*}}, %[[H:.*]] = %[[H0]])
// CHECK:   %[[TI:.*]] = arith.subi %{{.*}}, %[[T]] : index
// CHECK:   %[[XBT:.*]] = tensor.extract_slice %[[XB]][0, %[[TI]], 0] [2, 1, 32]
// CHECK:   %[[XBT2:.*]] = tensor.collapse_shape %[[XBT]]
// CHECK-NOT: linalg.matmul ins(%{{.*}}, %[[W]]
// CHECK:   %[[HU:.*]] = linalg.matmul ins(%[[H]], %[[U]] : tensor<2x32xf32>, tensor<32x32xf32>) outs(%[[XBT2]] : tensor<2x32xf32>)
// CHECK:   %[[HN:.*]] = math.tanh %[[HU]]
// CHECK:   tensor.insert_slice %{{.*}} into %[[YS]][0, %[[TI]], 0]
// CHECK:   %[[NEXT:.*]] = linalg.copy ins(%[[HN]] : tensor<2x32xf32>) outs(%[[H]] : tensor<2x32xf32>)
// CHECK:   scf.yield %{{.*}}, %[[NEXT]]
func.func @rnn(%h0: tensor<2x32xf32>, %x: tensor<2x10x16xf32>, %w: tensor<16x32xf32>, %u: tensor<32x32xf32>, %bias: tensor<32xf32>)
    -> (tensor<2x10x32xf32>, tensor<2x32xf32>) {
  %ys, %h = seq.recurrence init(%h0 : tensor<2x32xf32>) ins(%x : tensor<2x10x16xf32>) {dim = 1 : i64, reverse}
      -> tensor<2x10x32xf32>, tensor<2x32xf32> {
  ^bb0(%hp: tensor<2x32xf32>, %xt: tensor<2x16xf32>):
    %c0 = arith.constant 0.0 : f32
    %z = tensor.empty() : tensor<2x32xf32>
    %zf = linalg.fill ins(%c0 : f32) outs(%z : tensor<2x32xf32>) -> tensor<2x32xf32>
    %xw = linalg.matmul ins(%xt, %w : tensor<2x16xf32>, tensor<16x32xf32>) outs(%zf : tensor<2x32xf32>) -> tensor<2x32xf32>
    %xb = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
        ins(%xw, %bias : tensor<2x32xf32>, tensor<32xf32>) outs(%z : tensor<2x32xf32>) {
      ^bb0(%a: f32, %bb: f32, %o: f32):
        %s = arith.addf %a, %bb : f32
        linalg.yield %s : f32
    } -> tensor<2x32xf32>
    %hu = linalg.matmul ins(%hp, %u : tensor<2x32xf32>, tensor<32x32xf32>) outs(%xb : tensor<2x32xf32>) -> tensor<2x32xf32>
    %hn = math.tanh %hu : tensor<2x32xf32>
    seq.yield %hn, %hn : tensor<2x32xf32>, tensor<2x32xf32>
  }
  return %ys, %h : tensor<2x10x32xf32>, tensor<2x32xf32>
}

// -----

// Time after the contraction's rows (x is [B, I, T]): the projection is one
// linalg.generic with time as an extra parallel loop.

// CHECK-LABEL: func.func @time_last
// CHECK: %[[P:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction", "parallel"]{{.*}} outs(%{{.*}} : tensor<3x4x5xf32>)
// CHECK: scf.for
// CHECK:   tensor.extract_slice %[[P]][0, 0, %{{.*}}] [3, 4, 1]
// CHECK-NOT: linalg.generic {{.*}}"reduction"
// CHECK:   arith.addf
func.func @time_last(%h0: tensor<3x4xf32>, %x: tensor<3x2x5xf32>, %w: tensor<2x4xf32>) -> tensor<3x4xf32> {
  %h = seq.recurrence init(%h0 : tensor<3x4xf32>) ins(%x : tensor<3x2x5xf32>) {dim = 2 : i64} -> tensor<3x4xf32> {
  ^bb0(%hp: tensor<3x4xf32>, %xt: tensor<3x2xf32>):
    %c0 = arith.constant 0.0 : f32
    %z = tensor.empty() : tensor<3x4xf32>
    %zf = linalg.fill ins(%c0 : f32) outs(%z : tensor<3x4xf32>) -> tensor<3x4xf32>
    %xw = linalg.matmul ins(%xt, %w : tensor<3x2xf32>, tensor<2x4xf32>) outs(%zf : tensor<3x4xf32>) -> tensor<3x4xf32>
    %hn = arith.addf %hp, %xw : tensor<3x4xf32>
    seq.yield %hn : tensor<3x4xf32>
  }
  return %h : tensor<3x4xf32>
}

// -----

// Nothing to contract: the body stays whole inside the loop.

// CHECK-LABEL: func.func @elementwise
// CHECK-NOT: math.tanh
// CHECK: scf.for
// CHECK:   math.tanh
// CHECK:   arith.addf
func.func @elementwise(%h0: tensor<4xf32>, %x: tensor<6x4xf32>) -> tensor<4xf32> {
  %h = seq.recurrence init(%h0 : tensor<4xf32>) ins(%x : tensor<6x4xf32>) {dim = 0 : i64} -> tensor<4xf32> {
  ^bb0(%hp: tensor<4xf32>, %xt: tensor<4xf32>):
    %xs = math.tanh %xt : tensor<4xf32>
    %hn = arith.addf %hp, %xs : tensor<4xf32>
    seq.yield %hn : tensor<4xf32>
  }
  return %h : tensor<4xf32>
}
