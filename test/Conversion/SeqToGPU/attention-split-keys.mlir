// RUN: seqc-opt %s --convert-seq-to-gpu="attention-split-keys=1 attention-decode-vector=0 attention-decode-transpose=0" | FileCheck %s
// RUN: seqc-opt %s --convert-seq-to-gpu="attention-split-keys=1" | FileCheck %s --check-prefix=DEFAULT
// By default: vector rows and transposed sums (both below).
// DEFAULT-LABEL: func.func @decode
// DEFAULT: scf.for {{.*}} step %c8
// DEFAULT-COUNT-16: vector.load
// DEFAULT-COUNT-31: gpu.shuffle  xor
// DEFAULT-COUNT-32: gpu.shuffle  idx
// DEFAULT-NOT: gpu.shuffle
// DEFAULT: scf.yield
// DEFAULT-LABEL: func.func @prefill
// RUN: seqc-opt %s --convert-seq-to-gpu | FileCheck %s --check-prefix=OFF
// RUN: not seqc-opt %s --convert-seq-to-gpu="attention-decode-rows=9" 2>&1 | FileCheck %s --check-prefix=BADOPT
// RUN: not seqc-opt %s --convert-seq-to-gpu="attention-decode-keys=3" 2>&1 | FileCheck %s --check-prefix=BADOPT
// RUN: seqc-opt %s --convert-seq-to-gpu="attention-split-keys=1 attention-decode-rows=2 attention-decode-keys=2 attention-decode-vector=0 attention-decode-transpose=0" | FileCheck %s --check-prefix=TUNED
// RUN: seqc-opt %s --convert-seq-to-gpu="attention-split-keys=1 attention-decode-vector=1 attention-decode-transpose=0" | FileCheck %s --check-prefix=VEC
// With attention-decode-vector each lane reads its 4 contiguous dims of a
// K or V row as one vector<4xf32> (16-byte aligned): 16 loads a step.
// VEC-LABEL: func.func @decode
// VEC: scf.for {{.*}} step %c8
// VEC-COUNT-16: vector.load %{{.*}} : memref<1x4x4096x128xf32, strided<[?, ?, ?, 1], offset: ?>>, vector<4xf32>
// VEC-NOT: vector.load
// VEC: scf.yield
// VEC-LABEL: func.func @prefill
// RUN: seqc-opt %s --convert-seq-to-gpu="attention-split-keys=1 attention-decode-transpose=1" | FileCheck %s --check-prefix=TRANSPOSE
// RUN: seqc-opt %s --convert-seq-to-gpu="attention-split-keys=1 attention-decode-transpose=1 attention-decode-keys=1" | FileCheck %s --check-prefix=TRANSPOSE4
// With attention-decode-transpose the 4 rows x 8 keys = 32 scores are
// summed by a transposed reduction (16 + 8 + 4 + 2 + 1 xor shuffles, each
// lane left with one sum) and 32 indexed shuffles bring every sum to every
// lane (test_warp_sums.py simulates the lane bookkeeping).
// TRANSPOSE-LABEL: func.func @decode
// TRANSPOSE: scf.for {{.*}} step %c8
// TRANSPOSE-COUNT-31: gpu.shuffle  xor
// TRANSPOSE-NOT: gpu.shuffle  xor
// TRANSPOSE-COUNT-32: gpu.shuffle  idx
// TRANSPOSE-NOT: gpu.shuffle
// TRANSPOSE: scf.yield
// TRANSPOSE-LABEL: func.func @prefill
// With 1 key a step, 4 scores: halvings at offsets 16 and 8 (2 + 1
// shuffles), plain sums at 4, 2, 1, and score v read from lane 8·v.
// TRANSPOSE4-LABEL: func.func @decode
// TRANSPOSE4-COUNT-2: gpu.shuffle  xor %{{.*}}, %c16_i32
// TRANSPOSE4: gpu.shuffle  xor %{{.*}}, %c8_i32
// TRANSPOSE4: gpu.shuffle  xor %{{.*}}, %c4_i32
// TRANSPOSE4: gpu.shuffle  xor %{{.*}}, %c2_i32
// TRANSPOSE4: gpu.shuffle  xor %{{.*}}, %c1_i32
// TRANSPOSE4: gpu.shuffle  idx %{{.*}}, %c0_i32
// TRANSPOSE4: gpu.shuffle  idx %{{.*}}, %c8_i32
// TRANSPOSE4: gpu.shuffle  idx %{{.*}}, %c16_i32
// TRANSPOSE4: gpu.shuffle  idx %{{.*}}, %c24_i32
// TRANSPOSE4-NOT: gpu.shuffle
// TRANSPOSE4: scf.yield
// TRANSPOSE4-LABEL: func.func @prefill
// BADOPT: attention-decode-rows must be in [0, 8] and attention-decode-keys 0, 1, 2, 4, 8 or 16
// The tuning knobs: 2 rows per warp (8 groups x 64 splits = 512 warps),
// 2 keys a step (16 loads, 2 rows x 2 keys x 5 shuffles).
// TUNED-LABEL: func.func @decode
// TUNED: gpu.launch blocks({{.*}}) in ({{.*}} = %c128{{.*}}) threads({{.*}}) in ({{.*}} = %c128{{.*}}) function(@decode_attention)
// TUNED: scf.for {{.*}} step %c2
// TUNED-COUNT-16: memref.load %{{.*}} : memref<1x4x4096x128xf32
// TUNED-NOT: memref.load
// TUNED-COUNT-20: gpu.shuffle  xor
// TUNED-NOT: gpu.shuffle
// TUNED: scf.yield
// TUNED-LABEL: func.func @prefill

// Decoding: 16 query rows (B1, 16 heads, one query) over 4096 keys of 4 KV
// heads. With attention-split-keys a warp takes the 4 rows of a KV head's
// group (GQA 4:1: one read of each key for the 4) and 1/64 of the keys
// (4 groups x 64 splits = 256 warps in blocks of 4, 64 keys each). The
// lanes hold the 128 head dims (4 each). Keys go 8 a step, the 64 loads
// of the step (8 keys x (4 K + 4 V) per lane) before any use, then 4 rows
// x 8 keys 5-step xor-shuffle sums, exponentials on ex2.approx. Each warp
// writes a partial [rows, splits, 2 + Dv] (max, sum, accumulators); then a
// combine kernel, a block per row and a thread per (part of the splits,
// value column): 4 parts of 16 splits (512 threads), each going over its
// splits 8 at a time (24 loads, then one rescale and 8 weights); the parts
// meet in shared memory.
// CHECK-LABEL: func.func @decode
// CHECK: %[[PARTIAL:.*]] = memref.alloc() : memref<16x64x130xf32>
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c64{{.*}}) threads({{.*}}) in ({{.*}} = %c128{{.*}}) function(@decode_attention)
// CHECK: scf.for {{.*}} step %c8
// CHECK-COUNT-64: memref.load %{{.*}} : memref<1x4x4096x128xf32
// CHECK-NOT: memref.load
// CHECK-COUNT-160: gpu.shuffle  xor
// CHECK-NOT: gpu.shuffle
// CHECK: llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f"
// CHECK: scf.yield
// CHECK: memref.store {{.*}}, %[[PARTIAL]]
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c16{{.*}}) threads({{.*}}) in ({{.*}} = %c512{{.*}}) function(@decode_attention_combine) workgroup({{.*}} : memref<4x128xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<4x2xf32, #gpu.address_space<workgroup>>)
// CHECK: scf.for {{.*}} = %c0{{.*}} to %c2{{.*}} step %c1
// CHECK-COUNT-24: memref.load %[[PARTIAL]]
// CHECK-NOT: memref.load
// CHECK-COUNT-9: math.exp
// CHECK-NOT: math.exp
// CHECK: scf.yield
// CHECK: gpu.barrier
// CHECK-COUNT-12: memref.load {{.*}} #gpu.address_space<workgroup>>
// CHECK-COUNT-4: math.exp
// CHECK-NOT: scf.for
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

// bf16 decoding: the split-key tensor-core kernel by default (a block per
// KV head, split of 256 keys and tile of the group's packed rows, then the
// combine kernel); with attention-decode-simt the split-key warp kernel
// (bf16 read, f32 math). Splits of 2 key tiles or more.
// RUN: seqc-opt %s --convert-seq-to-gpu="attention-split-keys=1" | FileCheck %s --check-prefix=MMA
// RUN: seqc-opt %s --convert-seq-to-gpu="attention-split-keys=1 attention-decode-simt=1" | FileCheck %s --check-prefix=SIMT
// RUN: seqc-opt %s --convert-seq-to-gpu="attention-split-keys=1 attention-keys-per-tile=64" | FileCheck %s --check-prefix=MMA64
// RUN: seqc-opt %s --convert-seq-to-gpu="attention-split-keys=1 attention-decode-blocks=100" | FileCheck %s --check-prefix=BLOCKS100
// RUN: not seqc-opt %s --convert-seq-to-gpu="attention-decode-blocks=-1" 2>&1 | FileCheck %s --check-prefix=BADBLOCKS
// BADBLOCKS: attention-decode-blocks must be >= 0
// 8 KV heads x 32 splits of 256 keys = 256 blocks of 128 threads, 64-row
// tiles, 128-key tiles (87 KB of shared memory).
// MMA-LABEL: func.func @decode_bf16
// MMA: %[[PARTIAL:.*]] = memref.alloc() : memref<32x32x130xf32>
// MMA: gpu.launch blocks({{.*}}) in ({{.*}} = %c256{{.*}}) threads({{.*}}) in ({{.*}} = %c128{{.*}}) {{.*}}function(@decode_bf16_attention)
// K and V stream through cp.async with a 128-byte L2 prefetch.
// MMA: cp.async.cg.shared.global.L2::128B [$0], [g], 16, $2;
// MMA: nvgpu.device_async_create_group
// MMA: nvvm.mma.sync
// MMA: vector.store %{{.*}}, %[[PARTIAL]]{{.*}} : memref<32x32x130xf32>, vector<2xf32>
// MMA: function(@decode_bf16_attention_combine)
// MMA: memref.dealloc %[[PARTIAL]]
// A prefill (512 queries) stays on the one-pass kernel.
// MMA-LABEL: func.func @prefill_bf16
// MMA-NOT: x130xf32>
// MMA-NOT: L2::128B
// MMA: nvvm.mma.sync
// MMA-LABEL: func.func @decode_bf16_many_rows
// Splits aimed at 100 blocks: ceil(100 / 8 KV heads) = 13 splits, of
// ceil(64 / 13) = 5 of the 64 tiles: 13 splits (the last of 4 tiles).
// BLOCKS100-LABEL: func.func @decode_bf16
// BLOCKS100: memref.alloc() : memref<32x13x130xf32>
// BLOCKS100: gpu.launch blocks({{.*}}) in ({{.*}} = %c104{{.*}}) threads({{.*}}) in ({{.*}} = %c128{{.*}})
// With 64-key tiles also one wave: 32 splits of 4 tiles (256 keys).
// MMA64-LABEL: func.func @decode_bf16
// MMA64: memref.alloc() : memref<32x32x130xf32>
// MMA64-LABEL: func.func @prefill_bf16
// SIMT-LABEL: func.func @decode_bf16
// SIMT: memref.alloc() : memref<32x128x130xf32>
// SIMT: gpu.shuffle  xor
// SIMT-NOT: nvvm.mma.sync
// SIMT-LABEL: func.func @prefill_bf16
// SIMT: nvvm.mma.sync
// 8 queries x 4 heads = 32 rows per KV head (16 queries: 64): the
// split-key tensor-core kernel (the SIMT kernel tied the one-pass tensor
// cores there on an H100: its f32 FMAs are the limit), one tile of packed
// rows per (KV head, split).
// SIMT-LABEL: func.func @decode_bf16_many_rows
// SIMT: memref.alloc() : memref<256x32x130xf32>
// SIMT: gpu.launch blocks({{.*}}) in ({{.*}} = %c256{{.*}})
// SIMT: nvvm.mma.sync
// SIMT-LABEL: func.func @decode_bf16_more_rows
// SIMT: memref.alloc() : memref<512x32x130xf32>
// SIMT: gpu.launch blocks({{.*}}) in ({{.*}} = %c256{{.*}})
// SIMT: nvvm.mma.sync
// Many (batch, head) pairs (9 x 32 = 288) of one query: the split-key
// tensor-core kernel does not apply (one-pass blocks would fill the GPU,
// each nearly empty); the split-key SIMT kernel does.
// On sm_90a (attention-wgmma=1) K and V arrive by TMA into a ring of 2
// stages: a copy warp beside one warp of rows (4 packed rows; 32 rows: 2
// warps, 64: 4), 128-byte swizzled boxes of 64 columns (2 of K, 2 of V a
// stage), ldmatrix from the ring, each warp releasing a stage on its
// empty barrier. 32 splits of 4 tiles at 8192 keys; 16 splits (one block
// an SM) where each keeps 32 tiles or more (65536 keys: 64 tiles).
// RUN: seqc-opt %s --convert-seq-to-gpu="attention-split-keys=1 attention-wgmma=1" | FileCheck %s --check-prefix=TMA
// RUN: seqc-opt %s --convert-seq-to-gpu="attention-split-keys=1 attention-wgmma=1 attention-decode-tma=0" | FileCheck %s --check-prefix=TMAOFF
// TMAOFF-LABEL: func.func @decode_bf16
// TMAOFF: threads({{.*}}) in ({{.*}} = %c128{{.*}}) {{.*}}function(@decode_bf16_attention)
// TMAOFF-NOT: nvgpu.tma.async.load
// TMAOFF: cp.async.cg.shared.global.L2::128B
// TMAOFF-LABEL: func.func @prefill_bf16
// RUN: seqc-opt %s --convert-seq-to-gpu="attention-split-keys=1 attention-wgmma=1 attention-decode-tma=3" | FileCheck %s --check-prefix=TMA3
// RUN: not seqc-opt %s --convert-seq-to-gpu="attention-decode-tma=1" 2>&1 | FileCheck %s --check-prefix=BADTMA
// BADTMA: attention-decode-tma must be -1 (the kernel's choice), 0 (off) or 2 to 8 stages
// TMA-LABEL: func.func @decode_bf16
// TMA: nvgpu.tma.create.descriptor
// TMA: nvgpu.tma.create.descriptor
// TMA: memref.alloc() : memref<32x32x130xf32>
// TMA: gpu.launch blocks({{.*}}) in ({{.*}} = %c256{{.*}}) threads({{.*}}) in ({{.*}} = %c64{{.*}}) dynamic_shared_memory_size %c70912_i32 function(@decode_bf16_attention)
// The combine kernel may launch while this one runs (programmatic
// dependent launch: the runtime launches kernels named *_dependent so).
// TMA-NEXT: nvvm.griddepcontrol launch_dependents
// TMA: nvgpu.mbarrier.init
// TMA: nvgpu.mbarrier.try_wait.parity
// TMA-COUNT-4: nvgpu.tma.async.load
// TMA: nvgpu.mbarrier.arrive.expect_tx
// TMA: nvgpu.mbarrier.try_wait.parity
// TMA: nvgpu.ldmatrix
// TMA: nvvm.mma.sync
// TMA-NOT: cp.async.cg.shared.global.L2::128B
// TMA: nvgpu.mbarrier.arrive
// TMA: function(@decode_bf16_attention_combine_dependent)
// TMA-NEXT: nvvm.griddepcontrol wait
// TMA-LABEL: func.func @decode_bf16_many_rows
// TMA: gpu.launch blocks({{.*}}) in ({{.*}} = %c256{{.*}}) threads({{.*}}) in ({{.*}} = %c96{{.*}})
// TMA-LABEL: func.func @decode_bf16_more_rows
// TMA: gpu.launch blocks({{.*}}) in ({{.*}} = %c256{{.*}}) threads({{.*}}) in ({{.*}} = %c160{{.*}})
// TMA-LABEL: func.func @decode_bf16_long
// TMA: memref.alloc() : memref<32x16x130xf32>
// TMA: gpu.launch blocks({{.*}}) in ({{.*}} = %c128{{.*}}) threads({{.*}}) in ({{.*}} = %c64{{.*}})
// 3 stages: 1024 + 3 x 32 KB + Q's 16 padded rows.
// TMA3-LABEL: func.func @decode_bf16
// TMA3: dynamic_shared_memory_size %c103680_i32 function(@decode_bf16_attention)
// MMA-LABEL: func.func @decode_bf16_large_batch
// MMA: memref.alloc() : memref<288x{{[0-9]+}}x130xf32>
// MMA: gpu.shuffle  xor
// MMA-NOT: nvvm.mma.sync
// MMA: function(@decode_bf16_large_batch_attention_combine)
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
func.func @decode_bf16_many_rows(%q: tensor<1x32x8x128xbf16>, %k: tensor<1x8x8192x128xbf16>, %v: tensor<1x8x8192x128xbf16>) -> tensor<1x32x8x128xbf16> {
  %o = seq.attention %q, %k, %v {causal}
      : tensor<1x32x8x128xbf16>, tensor<1x8x8192x128xbf16>, tensor<1x8x8192x128xbf16>
      -> tensor<1x32x8x128xbf16>
  return %o : tensor<1x32x8x128xbf16>
}
func.func @decode_bf16_more_rows(%q: tensor<1x32x16x128xbf16>, %k: tensor<1x8x8192x128xbf16>, %v: tensor<1x8x8192x128xbf16>) -> tensor<1x32x16x128xbf16> {
  %o = seq.attention %q, %k, %v {causal}
      : tensor<1x32x16x128xbf16>, tensor<1x8x8192x128xbf16>, tensor<1x8x8192x128xbf16>
      -> tensor<1x32x16x128xbf16>
  return %o : tensor<1x32x16x128xbf16>
}
func.func @decode_bf16_large_batch(%q: tensor<9x32x1x128xbf16>, %k: tensor<9x8x8192x128xbf16>, %v: tensor<9x8x8192x128xbf16>) -> tensor<9x32x1x128xbf16> {
  %o = seq.attention %q, %k, %v
      : tensor<9x32x1x128xbf16>, tensor<9x8x8192x128xbf16>, tensor<9x8x8192x128xbf16>
      -> tensor<9x32x1x128xbf16>
  return %o : tensor<9x32x1x128xbf16>
}
func.func @decode_bf16_long(%q: tensor<1x32x1x128xbf16>, %k: tensor<1x8x65536x128xbf16>, %v: tensor<1x8x65536x128xbf16>) -> tensor<1x32x1x128xbf16> {
  %o = seq.attention %q, %k, %v
      : tensor<1x32x1x128xbf16>, tensor<1x8x65536x128xbf16>, tensor<1x8x65536x128xbf16>
      -> tensor<1x32x1x128xbf16>
  return %o : tensor<1x32x1x128xbf16>
}
