// RUN: seqc-opt %s --convert-seq-to-gpu --split-input-file | FileCheck %s

// Attention: inputs as read-only strided views, a row-major output, one
// thread per query row (B·Hq·Sq = 2·4·37 = 296 threads: 2 blocks of 256),
// an online softmax over the visible keys [lo, hi) only, GQA by indexing
// (kv head = h / 2), the Dv accumulators carried in registers.
// CHECK-LABEL: func.func @attention
// CHECK-DAG: %[[Q:.*]] = bufferization.to_buffer %arg0 read_only : tensor<2x4x37x16xf32> to memref<2x4x37x16xf32, strided<[?, ?, ?, ?], offset: ?>>
// CHECK-DAG: %[[O:.*]] = memref.alloc() : memref<2x4x37x8xf32>
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c2, {{.*}} = %c1, {{.*}} = %c1) threads({{.*}}) in ({{.*}} = %c256,
// CHECK:   arith.divui %{{.*}}, %c2
// CHECK:   arith.minsi
// CHECK:   scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)
// CHECK:     math.exp
// CHECK:   memref.store %{{.*}}, %[[O]]
// CHECK: bufferization.to_tensor %[[O]] restrict writable
// CHECK-NOT: tensor<2x4x37x37
func.func @attention(%q: tensor<2x4x37x16xf32>, %k: tensor<2x2x37x16xf32>, %v: tensor<2x2x37x8xf32>) -> tensor<2x4x37x8xf32> {
  %o = seq.attention %q, %k, %v {causal} : tensor<2x4x37x16xf32>, tensor<2x2x37x16xf32>, tensor<2x2x37x8xf32> -> tensor<2x4x37x8xf32>
  return %o : tensor<2x4x37x8xf32>
}

// -----

// rms_norm: a block per row; the sum of squares is a warp shuffle tree and
// one shared f32 per warp.
// CHECK-LABEL: func.func @rms_norm
// CHECK: gpu.launch {{.*}} workgroup(%[[SH:.*]] : memref<8xf32, #gpu.address_space<workgroup>>)
// CHECK-COUNT-5: gpu.shuffle  xor
// CHECK: memref.store %{{.*}}, %[[SH]]
// CHECK: gpu.barrier
// CHECK: math.sqrt
func.func @rms_norm(%x: tensor<6x300xbf16>, %w: tensor<300xf32>) -> tensor<6x300xbf16> {
  %y = seq.rms_norm %x, %w : tensor<6x300xbf16>, tensor<300xf32> -> tensor<6x300xbf16>
  return %y : tensor<6x300xbf16>
}

// -----

// Selective scan: two lanes per (batch, channel), each with 2 of its N = 4
// states as loop-carried registers (5 steps: rows element by element); the
// [B, D, N, L] state never reaches memory.
// CHECK-LABEL: func.func @selective_scan
// CHECK: gpu.launch
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (f32, f32)
// CHECK-NOT: memref.alloc() : memref<1x8x4x5
func.func @selective_scan(%u: tensor<1x8x5xf32>, %dt: tensor<1x8x5xf32>, %A: tensor<8x4xf32>, %B: tensor<1x1x4x5xf32>, %C: tensor<1x1x4x5xf32>) -> tensor<1x8x5xf32> {
  %y = seq.selective_scan %u, %dt, %A, %B, %C : tensor<1x8x5xf32>, tensor<1x8x5xf32>, tensor<8x4xf32>, tensor<1x1x4x5xf32>, tensor<1x1x4x5xf32> -> tensor<1x8x5xf32>
  return %y : tensor<1x8x5xf32>
}

// -----

// seq.recurrence is left for convert-seq-to-linalg.
// CHECK-LABEL: func.func @recurrence
// CHECK: seq.recurrence
func.func @recurrence(%h0: tensor<4xf32>, %x: tensor<6x4xf32>) -> tensor<4xf32> {
  %h = seq.recurrence init(%h0 : tensor<4xf32>) ins(%x : tensor<6x4xf32>) {dim = 0 : i64} -> tensor<4xf32> {
  ^bb0(%hp: tensor<4xf32>, %xt: tensor<4xf32>):
    %hn = arith.addf %hp, %xt : tensor<4xf32>
    seq.yield %hn : tensor<4xf32>
  }
  return %h : tensor<4xf32>
}
