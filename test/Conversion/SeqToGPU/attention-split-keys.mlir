// RUN: seqc-opt %s --convert-seq-to-gpu="attention-split-keys=1" | FileCheck %s
// RUN: seqc-opt %s --convert-seq-to-gpu | FileCheck %s --check-prefix=OFF

// Decoding: 16 query rows (B1, 16 heads, one query) over 4096 keys. With
// attention-split-keys each row's keys go to 128 warps (32 keys each; 2048
// warps in blocks of 4): the lanes hold the 128 head dims (4 each), a key's
// score is a 5-step xor-shuffle sum, and each warp writes a partial
// [rows, splits, 2 + Dv] (max, sum, accumulators); then a combine kernel
// with a thread per (row, value column) loops over the splits.
// CHECK-LABEL: func.func @decode
// CHECK: %[[PARTIAL:.*]] = memref.alloc() : memref<16x128x130xf32>
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c512{{.*}}) threads({{.*}}) in ({{.*}} = %c128{{.*}}) function(@decode_attention)
// CHECK: scf.for
// CHECK-COUNT-4: memref.load %{{.*}} : memref<1x4x4096x128xf32
// CHECK-COUNT-5: gpu.shuffle  xor
// CHECK-COUNT-4: memref.load %{{.*}} : memref<1x4x4096x128xf32
// CHECK: scf.yield
// CHECK: memref.store {{.*}}, %[[PARTIAL]]
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c8{{.*}}) threads({{.*}}) in ({{.*}} = %c256
// CHECK: scf.for {{.*}} = %c0{{.*}} to %c128
// CHECK: memref.load %[[PARTIAL]]
// CHECK: scf.for {{.*}} = %c0{{.*}} to %c128
// CHECK: math.exp
// CHECK: memref.dealloc %[[PARTIAL]]
// Without it: one thread per row, no partials.
// OFF-LABEL: func.func @decode
// OFF-NOT: memref<16x64x130xf32>
// OFF: gpu.launch blocks({{.*}}) in ({{.*}} = %c1{{.*}}) threads({{.*}}) in ({{.*}} = %c16{{.*}}) function(@decode_attention)
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

// bf16 decoding: the tensor-core kernel by default; with
// attention-decode-simt the split-key warp kernel (bf16 read, f32 math).
// RUN: seqc-opt %s --convert-seq-to-gpu="attention-split-keys=1" | FileCheck %s --check-prefix=MMA
// RUN: seqc-opt %s --convert-seq-to-gpu="attention-split-keys=1 attention-decode-simt=1" | FileCheck %s --check-prefix=SIMT
// MMA-LABEL: func.func @decode_bf16
// MMA: nvvm.mma.sync
// MMA-NOT: memref<32x128x130xf32>
// MMA-LABEL: func.func @prefill_bf16
// SIMT-LABEL: func.func @decode_bf16
// SIMT: memref.alloc() : memref<32x128x130xf32>
// SIMT: gpu.shuffle  xor
// SIMT-NOT: nvvm.mma.sync
// SIMT-LABEL: func.func @prefill_bf16
// SIMT: nvvm.mma.sync
func.func @decode_bf16(%q: tensor<1x32x1x128xbf16>, %k: tensor<1x8x8192x128xbf16>, %v: tensor<1x8x8192x128xbf16>) -> tensor<1x32x1x128xbf16> {
  %o = seq.attention %q, %k, %v
      : tensor<1x32x1x128xbf16>, tensor<1x8x8192x128xbf16>, tensor<1x8x8192x128xbf16>
      -> tensor<1x32x1x128xbf16>
  return %o : tensor<1x32x1x128xbf16>
}
func.func @prefill_bf16(%q: tensor<1x8x512x128xbf16>, %k: tensor<1x8x512x128xbf16>, %v: tensor<1x8x512x128xbf16>) -> tensor<1x8x512x128xbf16> {
  %o = seq.attention %q, %k, %v {causal}
      : tensor<1x8x512x128xbf16>, tensor<1x8x512x128xbf16>, tensor<1x8x512x128xbf16>
      -> tensor<1x8x512x128xbf16>
  return %o : tensor<1x8x512x128xbf16>
}
