// RUN: seqc-opt %s --seqc-split-small-matmuls | FileCheck %s
// RUN: seqc-opt %s --seqc-split-small-matmuls="min-threads=262144 min-chunk=16" | FileCheck %s --check-prefix=GPU

// A decode step's projection (M = 1): 5632 outputs are too few threads, so
// K = 2048 is split into 16 chunks of 128 (16 x 5632 >= 65536), iterated
// with N innermost; the partials are summed onto the matmul's init.
// CHECK-LABEL: func.func @gemv
// CHECK-DAG: %[[A:.*]] = tensor.expand_shape %arg0 {{\[}}[0], [1, 2]] output_shape [1, 16, 128]
// CHECK-DAG: %[[B:.*]] = tensor.expand_shape %arg1 {{\[}}[0, 1], [2]] output_shape [16, 128, 5632]
// CHECK: %[[P:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[A]], %[[B]] : {{.*}}) outs({{.*}} : tensor<16x1x5632xf32>)
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[P]] : tensor<16x1x5632xf32>) outs(%arg2 : tensor<1x5632xf32>)
// CHECK-NOT: linalg.matmul
func.func @gemv(%x: tensor<1x2048xf32>, %w: tensor<2048x5632xf32>, %c: tensor<1x5632xf32>) -> tensor<1x5632xf32> {
  %r = linalg.matmul ins(%x, %w : tensor<1x2048xf32>, tensor<2048x5632xf32>) outs(%c : tensor<1x5632xf32>) -> tensor<1x5632xf32>
  return %r : tensor<1x5632xf32>
}

// Enough outputs already, or a K that does not split into chunks of 64:
// left alone.
// CHECK-LABEL: func.func @large
// CHECK: linalg.matmul
// CHECK-LABEL: func.func @short_k
// CHECK: linalg.matmul
func.func @large(%x: tensor<64x256xf32>, %w: tensor<256x2048xf32>, %c: tensor<64x2048xf32>) -> tensor<64x2048xf32> {
  %r = linalg.matmul ins(%x, %w : tensor<64x256xf32>, tensor<256x2048xf32>) outs(%c : tensor<64x2048xf32>) -> tensor<64x2048xf32>
  return %r : tensor<64x2048xf32>
}
func.func @short_k(%x: tensor<1x96xf32>, %w: tensor<96x64xf32>, %c: tensor<1x64xf32>) -> tensor<1x64xf32> {
  %r = linalg.matmul ins(%x, %w : tensor<1x96xf32>, tensor<96x64xf32>) outs(%c : tensor<1x64xf32>) -> tensor<1x64xf32>
  return %r : tensor<1x64xf32>
}

// The GPU pipeline's setting: 256K threads with chunks of at least 16, so
// the 5632-wide projection takes 64 chunks of 32, the 64 x 2048 one 2
// chunks of 128, and K = 96 4 chunks of 24.
// GPU-LABEL: func.func @gemv
// GPU: linalg.generic {{.*}} outs({{.*}} : tensor<64x1x5632xf32>)
// GPU-LABEL: func.func @large
// GPU: linalg.generic {{.*}} outs({{.*}} : tensor<2x64x2048xf32>)
// GPU-LABEL: func.func @short_k
// GPU: linalg.generic {{.*}} outs({{.*}} : tensor<4x1x64xf32>)
