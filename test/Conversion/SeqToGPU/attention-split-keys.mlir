// RUN: seqc-opt %s --convert-seq-to-gpu="attention-split-keys=1" | FileCheck %s
// RUN: seqc-opt %s --convert-seq-to-gpu | FileCheck %s --check-prefix=OFF

// Decoding: 16 query rows (B1, 16 heads, one query) over 4096 keys. With
// attention-split-keys each row's keys go to 64 threads (64 keys each): a
// partial [rows, splits, 2 + Dv] (max, sum, accumulators), then a combine
// kernel with a thread per (row, value column).
// CHECK-LABEL: func.func @decode
// CHECK: %[[PARTIAL:.*]] = memref.alloc() : memref<16x64x130xf32>
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c4{{.*}}) threads({{.*}}) in ({{.*}} = %c256
// CHECK: scf.for
// CHECK: memref.store {{.*}}, %[[PARTIAL]]
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c8{{.*}}) threads({{.*}}) in ({{.*}} = %c256
// CHECK-COUNT-64: memref.load %[[PARTIAL]]
// CHECK: math.exp
// CHECK: memref.dealloc %[[PARTIAL]]
// Without it: one thread per row, no partials.
// OFF-LABEL: func.func @decode
// OFF-NOT: memref<16x64x130xf32>
// OFF: gpu.launch blocks({{.*}}) in ({{.*}} = %c1{{.*}}) threads({{.*}}) in ({{.*}} = %c16
// OFF-NOT: gpu.launch
func.func @decode(%q: tensor<1x16x1x128xf32>, %k: tensor<1x4x4096x128xf32>, %v: tensor<1x4x4096x128xf32>, %len: tensor<1xi32>) -> (tensor<1x16x1x128xf32>, tensor<1x16x1xf32>) {
  %o, %lse = seq.attention %q, %k, %v kv_lengths(%len : tensor<1xi32>) {causal}
      : tensor<1x16x1x128xf32>, tensor<1x4x4096x128xf32>, tensor<1x4x4096x128xf32>
      -> tensor<1x16x1x128xf32>, tensor<1x16x1xf32>
  return %o, %lse : tensor<1x16x1x128xf32>, tensor<1x16x1xf32>
}

// Rows that fill the GPU alone are not split.
// CHECK-LABEL: func.func @prefill
// CHECK-NOT: memref.alloc() : memref<{{.*}}x{{.*}}x66xf32>
// OFF-LABEL: func.func @prefill
func.func @prefill(%q: tensor<4x16x512x64xf32>, %k: tensor<4x16x512x64xf32>, %v: tensor<4x16x512x64xf32>) -> tensor<4x16x512x64xf32> {
  %o = seq.attention %q, %k, %v {causal}
      : tensor<4x16x512x64xf32>, tensor<4x16x512x64xf32>, tensor<4x16x512x64xf32>
      -> tensor<4x16x512x64xf32>
  return %o : tensor<4x16x512x64xf32>
}
