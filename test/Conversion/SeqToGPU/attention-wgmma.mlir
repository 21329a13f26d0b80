// RUN: seqc-opt %s --convert-seq-to-gpu="attention-wgmma=1 attention-wgmma-rows=128 attention-keys-per-tile=160" | FileCheck %s
// RUN: seqc-opt %s --convert-seq-to-gpu="attention-wgmma=1 attention-wgmma-rows=128 attention-keys-per-tile=64" | FileCheck %s --check-prefix=TILE64
// RUN: seqc-opt %s --convert-seq-to-gpu | FileCheck %s --check-prefix=SYNC
// Tiles whose accumulators would not fit a thread (256 keys + Dv/2 > 256)
// go to mma.sync rather than spilling.
// RUN: seqc-opt %s --convert-seq-to-gpu="attention-wgmma=1 attention-keys-per-tile=256" | FileCheck %s --check-prefix=SYNC
// A window's masks take registers too: 176 keys (which fit under a causal
// band) go to mma.sync under a window; so do 144 (which fit, but a window's
// tiles must divide the 128-row blocks on wgmma).
// RUN: seqc-opt %s --convert-seq-to-gpu="attention-wgmma=1 attention-keys-per-tile=176" | FileCheck %s --check-prefix=WINDOWTILE
// RUN: seqc-opt %s --convert-seq-to-gpu="attention-wgmma=1 attention-keys-per-tile=144" | FileCheck %s --check-prefix=WINDOWTILE
// RUN: seqc-opt %s --convert-seq-to-gpu="attention-wgmma=1" | FileCheck %s --check-prefix=TILES
// RUN: seqc-opt %s --convert-seq-to-gpu="attention-wgmma=1 attention-wgmma-rows=192" | FileCheck %s --check-prefix=ROWS192
// RUN: seqc-opt %s --convert-seq-to-gpu="attention-wgmma=1 attention-wgmma-rows=256" | FileCheck %s --check-prefix=ROWS256
// RUN: seqc-opt %s --convert-seq-to-gpu="attention-wgmma=1" | FileCheck %s --check-prefix=SHORTKV
// RUN: not seqc-opt %s --convert-seq-to-gpu="attention-wgmma=1 attention-wgmma-rows=64" 2>&1 | FileCheck %s --check-prefix=BADROWS
// RUN: not seqc-opt %s --convert-seq-to-gpu="attention-wgmma=1 attention-wgmma-stages=5" 2>&1 | FileCheck %s --check-prefix=BADROWS
// RUN: not seqc-opt %s --convert-seq-to-gpu="attention-wgmma=1 attention-wgmma-persistent=-2" 2>&1 | FileCheck %s --check-prefix=BADROWS
// RUN: not seqc-opt %s --convert-seq-to-gpu="attention-wgmma=1 attention-wgmma-blocks-per-sm=3" 2>&1 | FileCheck %s --check-prefix=BADROWS
// RUN: seqc-opt %s --convert-seq-to-gpu="attention-wgmma=1 attention-wgmma-stages=3" | FileCheck %s --check-prefix=STAGES3
// RUN: seqc-opt %s --convert-seq-to-gpu="attention-wgmma=1 attention-wgmma-blocks-per-sm=2" | FileCheck %s --check-prefix=PAIR
// Persistent: 5 resident blocks take the 32 items in turn (block, block +
// 5, ...), the producer waiting for Q's release before each item's Q.
// RUN: seqc-opt %s --convert-seq-to-gpu="attention-wgmma=1 attention-wgmma-rows=128 attention-wgmma-persistent=5" | FileCheck %s --check-prefix=PERSIST
// PERSIST-LABEL: func.func @attention_bf16
// PERSIST: gpu.launch blocks({{.*}}) in ({{.*}} = %c5, {{.*}}) threads({{.*}}) in ({{.*}} = %c384
// PERSIST: setmaxnreg.dec.sync.aligned.u32 40;
// PERSIST: scf.for %{{.*}} = %{{.*}} to %c32{{.*}} step %c5{{.*}} iter_args
// PERSIST: nvgpu.mbarrier.try_wait.parity
// PERSIST: nvgpu.tma.async.load
// PERSIST: setmaxnreg.inc.sync.aligned.u32 232;
// PERSIST: scf.for %{{.*}} = %{{.*}} to %c32{{.*}} step %c5{{.*}} iter_args

// bf16 prefill attention on sm_90a's warpgroup MMA: a tensor map per
// operand on the host ([B, H, S, D] boxes of 1 x 1 x rows x 64, 128-byte
// swizzle, zero fill); blocks of 128 query rows (2 row blocks x 8 heads x
// 2 batches = 32) and 384 threads: a producer warpgroup (setmaxnreg down;
// its first thread issues Q's and each tile's K and V copies, waiting on
// the "empty" barriers from the second round of the ring on) and two
// consumer warpgroups (setmaxnreg up) that take turns on named barriers,
// wait on the "full" barriers, and run S = Q·Kᵀ (descriptors) and
// O += P·V (P in registers, V N-major) as wgmma (two consumers, asked
// for: D 64 takes three by default). 150 keys: one tile of 160 keys (as
// asked; by default 128); shared memory
// 1 KB of alignment + Q (16 KB) + 4 stages of K and V (2 x 20 KB) = 181248
// bytes; 18 mbarriers (Q full, full/full/empty/empty per stage, Q empty).
// Each block loops over its work items (here one: a block per item); the
// consumers release Q (the Q-empty barrier) after their last S = Q·Kᵀ.

// CHECK-LABEL: func.func @attention_bf16
// CHECK: nvgpu.tma.create.descriptor {{.*}} box[{{.*}}] : memref<*xbf16> -> <tensor = memref<1x1x128x64xbf16, #gpu.address_space<workgroup>>, swizzle = swizzle_128b, {{.*}}oob = zero
// CHECK: nvgpu.tma.create.descriptor {{.*}} -> <tensor = memref<1x1x160x64xbf16
// CHECK: nvgpu.tma.create.descriptor {{.*}} -> <tensor = memref<1x1x160x64xbf16
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c32, {{.*}}) threads({{.*}}) in ({{.*}} = %c384, {{.*}}) dynamic_shared_memory_size %c181248_i32
// CHECK: nvgpu.mbarrier.create -> <memorySpace = #gpu.address_space<workgroup>, num_barriers = 18>
// CHECK: fence.mbarrier_init
// CHECK: gpu.barrier
// CHECK: setmaxnreg.dec.sync.aligned.u32 24;
// CHECK: nvgpu.tma.async.load
// CHECK: nvgpu.mbarrier.arrive.expect_tx {{.*}}, %c16384
// CHECK: scf.for
// CHECK: nvgpu.mbarrier.try_wait.parity
// CHECK: nvgpu.tma.async.load
// CHECK: nvgpu.mbarrier.arrive.expect_tx {{.*}}, %c20480
// CHECK: setmaxnreg.inc.sync.aligned.u32 240;
// CHECK: bar.arrive $0, 256;
// CHECK: bar.sync $0, 256;
// CHECK: nvgpu.mbarrier.try_wait.parity
// CHECK: wgmma.fence.aligned
// CHECK-COUNT-4: wgmma.mma_async.sync.aligned.m64n160k16.f32.bf16.bf16
// CHECK: wgmma.commit.group.sync.aligned
// CHECK: bar.arrive $0, 256;
// CHECK: wgmma.wait_group.sync.aligned 0;
// CHECK: nvgpu.mbarrier.arrive
// CHECK: scf.for {{.*}} iter_args
// CHECK: bar.sync $0, 256;
// CHECK-COUNT-4: wgmma.mma_async.sync.aligned.m64n160k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 0, 0;
// CHECK: wgmma.commit.group.sync.aligned
// CHECK-COUNT-10: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 1;
// CHECK: wgmma.commit.group.sync.aligned
// CHECK: bar.arrive $0, 256;
// CHECK: wgmma.wait_group.sync.aligned 1;
// CHECK: ex2.approx
// CHECK: wgmma.wait_group.sync.aligned 0;
// CHECK: scf.yield
// CHECK: vector.store {{.*}} : memref<2x8x200x64xbf16>, vector<2xbf16>

// TILE64: dynamic_shared_memory_size %c82944_i32
// TILE64: wgmma.mma_async.sync.aligned.m64n64k16

// SYNC-NOT: wgmma
// SYNC: nvvm.mma.sync

// WINDOWTILE-LABEL: func.func @full_d128
// WINDOWTILE: wgmma.mma_async.sync.aligned.m64n{{144|176}}k16
// WINDOWTILE-LABEL: func.func @window_d128
// WINDOWTILE-NOT: wgmma
// WINDOWTILE: nvvm.mma.sync

// Blocks of 192 rows (2 row blocks x 8 heads x 2 batches = 32) and 512
// threads: three consumer warpgroups of 160 registers, 128-key tiles, the
// turns passed in a ring (the last consumer lets the first go first); the
// default for D 64 where 256-row blocks would not pad the rows by 9% less.
// D 128 does not fit three consumers' registers: two take it.
// ROWS192-LABEL: func.func @attention_bf16
// ROWS192: nvgpu.tma.create.descriptor {{.*}} -> <tensor = memref<1x1x192x64xbf16
// ROWS192: nvgpu.tma.create.descriptor {{.*}} -> <tensor = memref<1x1x128x64xbf16
// ROWS192: gpu.launch blocks({{.*}}) in ({{.*}} = %c32, {{.*}}) threads({{.*}}) in ({{.*}} = %c512, {{.*}})
// ROWS192: setmaxnreg.inc.sync.aligned.u32 160;
// ROWS192: wgmma.mma_async.sync.aligned.m64n128k16
// ROWS192-LABEL: func.func @full_d128
// ROWS192: nvgpu.tma.create.descriptor {{.*}} -> <tensor = memref<1x1x128x64xbf16
// ROWS192: threads({{.*}}) in ({{.*}} = %c384, {{.*}})
// ROWS192: setmaxnreg.inc.sync.aligned.u32 240;

// Blocks of 256 rows: four consumer warpgroups of 112 registers and 64-key
// tiles, for head dims up to 64 without masks (a causal band spills): the
// causal D 64 function takes three, D 128 two, and the full D 64 one four
// (1 row block x 8 heads x 2 batches = 16 blocks of 640 threads), its 200
// rows padding to 384 in blocks of 192 and to 256 in blocks of 256.
// ROWS256-LABEL: func.func @attention_bf16
// ROWS256: threads({{.*}}) in ({{.*}} = %c512, {{.*}})
// ROWS256: setmaxnreg.inc.sync.aligned.u32 160;
// ROWS256-LABEL: func.func @full_d128
// ROWS256: threads({{.*}}) in ({{.*}} = %c384, {{.*}})
// ROWS256: setmaxnreg.inc.sync.aligned.u32 240;
// ROWS256-LABEL: func.func @full_d64
// ROWS256: nvgpu.tma.create.descriptor {{.*}} -> <tensor = memref<1x1x256x64xbf16
// ROWS256: nvgpu.tma.create.descriptor {{.*}} -> <tensor = memref<1x1x64x64xbf16
// ROWS256: gpu.launch blocks({{.*}}) in ({{.*}} = %c16, {{.*}}) threads({{.*}}) in ({{.*}} = %c640, {{.*}})
// ROWS256: setmaxnreg.inc.sync.aligned.u32 112;
// ROWS256: wgmma.mma_async.sync.aligned.m64n64k16

// By default a full (no band) D 64 function over at most 1024 keys takes
// the short-loop shape: 128-row blocks on two consumer warpgroups (232
// registers: the producer keeps 40 to walk the items), 128-key tiles, 2
// stages (Q 16 KB + 2 x 32 KB + 1 KB), as many resident blocks as the
// device has multiprocessors. The causal D 64 and the D 128 functions
// keep their shapes.
// SHORTKV-LABEL: func.func @attention_bf16
// SHORTKV: threads({{.*}}) in ({{.*}} = %c512, {{.*}})
// SHORTKV: setmaxnreg.inc.sync.aligned.u32 160;
// SHORTKV-LABEL: func.func @full_d128
// SHORTKV: threads({{.*}}) in ({{.*}} = %c384, {{.*}})
// SHORTKV: setmaxnreg.inc.sync.aligned.u32 240;
// SHORTKV-LABEL: func.func @full_d64
// SHORTKV: nvgpu.tma.create.descriptor {{.*}} -> <tensor = memref<1x1x128x64xbf16
// SHORTKV: nvgpu.tma.create.descriptor {{.*}} -> <tensor = memref<1x1x128x64xbf16
// SHORTKV: nvgpu.tma.create.descriptor {{.*}} -> <tensor = memref<1x1x128x64xbf16
// SHORTKV: call @seqcCudaMultiprocessorCount() : () -> i32
// SHORTKV: threads({{.*}}) in ({{.*}} = %c384, {{.*}}) dynamic_shared_memory_size %c82944_i32
// SHORTKV: setmaxnreg.dec.sync.aligned.u32 40;
// SHORTKV: setmaxnreg.inc.sync.aligned.u32 232;
// SHORTKV: wgmma.mma_async.sync.aligned.m64n128k16

// Two blocks a multiprocessor: the unmasked D64 function takes two
// consumer warpgroups at 104 registers and 48-key tiles (Q 16 KB + 4 x 12
// KB + 1 KB), its launch marked for nvvm.minctasm; a masked D64 function
// (a band's masks) and a D128 one keep one block.
// PAIR-LABEL: func.func @attention_bf16
// PAIR: threads({{.*}}) in ({{.*}} = %c512, {{.*}})
// PAIR-NOT: seqc.min_blocks_per_sm
// PAIR-LABEL: func.func @full_d128
// PAIR: setmaxnreg.inc.sync.aligned.u32 240;
// PAIR-NOT: seqc.min_blocks_per_sm
// PAIR-LABEL: func.func @full_d64
// PAIR: nvgpu.tma.create.descriptor {{.*}} -> <tensor = memref<1x1x48x64xbf16
// PAIR: threads({{.*}}) in ({{.*}} = %c384, {{.*}}) dynamic_shared_memory_size %c66560_i32
// PAIR: setmaxnreg.dec.sync.aligned.u32 24;
// PAIR: setmaxnreg.inc.sync.aligned.u32 104;
// PAIR: wgmma.mma_async.sync.aligned.m64n48k16
// PAIR: } {seqc.min_blocks_per_sm = 2 : i32}

// BADROWS: attention-wgmma-rows must be 0, 128, 192 or 256, attention-wgmma-stages 0, 2, 3 or 4, attention-wgmma-persistent >= -1 and attention-wgmma-blocks-per-sm 0, 1 or 2

// Three K/V stages asked for: 2 + 4 x 3 barriers; D 128 with 128-key tiles
// (the window's) then takes 1 KB + Q 32 KB + 3 x 64 KB of shared memory.
// STAGES3-LABEL: func.func @attention_bf16
// STAGES3: num_barriers = 14
// STAGES3-LABEL: func.func @window_d128
// STAGES3: dynamic_shared_memory_size %c230400_i32
// STAGES3: num_barriers = 14
func.func @attention_bf16(%q: tensor<2x8x200x64xbf16>, %k: tensor<2x2x150x64xbf16>, %v: tensor<2x2x150x64xbf16>) -> tensor<2x8x200x64xbf16> {
  %o = seq.attention %q, %k, %v {causal} : tensor<2x8x200x64xbf16>, tensor<2x2x150x64xbf16>, tensor<2x2x150x64xbf16> -> tensor<2x8x200x64xbf16>
  return %o : tensor<2x8x200x64xbf16>
}

// Keys per tile by default: 192 without a band, 128 under a window (the
// tensor maps' K/V boxes show it).
// Under a window the blocks are persistent by default: as many as the
// device has multiprocessors (asked at run time, at most the 6 items), each
// taking items block, block + grid size, ...; without one, a block an item.
// TILES: func.func private @seqcCudaMultiprocessorCount() -> i32
// TILES-LABEL: func.func @full_d128
// TILES-NOT: seqcCudaMultiprocessorCount
// TILES: nvgpu.tma.create.descriptor {{.*}} -> <tensor = memref<1x1x128x64xbf16
// TILES: nvgpu.tma.create.descriptor {{.*}} -> <tensor = memref<1x1x192x64xbf16
// TILES: gpu.launch blocks({{.*}}) in ({{.*}} = %c6,
// TILES-LABEL: func.func @window_d128
// TILES: nvgpu.tma.create.descriptor {{.*}} -> <tensor = memref<1x1x128x64xbf16
// TILES: nvgpu.tma.create.descriptor {{.*}} -> <tensor = memref<1x1x128x64xbf16
// TILES: %[[SMS:.*]] = call @seqcCudaMultiprocessorCount() : () -> i32
// TILES: %[[N:.*]] = arith.index_cast %[[SMS]] : i32 to index
// TILES: %[[ATLEAST1:.*]] = arith.maxsi %c1{{.*}}, %[[N]] : index
// TILES: %[[GRID:.*]] = arith.minui %c6{{.*}}, %[[ATLEAST1]] : index
// TILES: gpu.launch blocks({{.*}}) in ({{.*}} = %[[GRID]],{{.*}} dynamic_shared_memory_size %c164864_i32
// TILES: %[[STRIDE:.*]] = gpu.grid_dim  x
// TILES: setmaxnreg.dec.sync.aligned.u32 40;
// TILES: scf.for %{{.*}} = %{{.*}} to %c6{{.*}} step %[[STRIDE]] iter_args
// TILES: scf.for %{{.*}} = %{{.*}} to %c6{{.*}} step %[[STRIDE]] iter_args
// TILES: wgmma.mma_async.sync.aligned.m64n128k16
func.func @full_d128(%q: tensor<1x2x300x128xbf16>, %k: tensor<1x2x300x128xbf16>, %v: tensor<1x2x300x128xbf16>) -> tensor<1x2x300x128xbf16> {
  %o = seq.attention %q, %k, %v : tensor<1x2x300x128xbf16>, tensor<1x2x300x128xbf16>, tensor<1x2x300x128xbf16> -> tensor<1x2x300x128xbf16>
  return %o : tensor<1x2x300x128xbf16>
}
func.func @window_d128(%q: tensor<1x2x300x128xbf16>, %k: tensor<1x2x300x128xbf16>, %v: tensor<1x2x300x128xbf16>) -> tensor<1x2x300x128xbf16> {
  %o = seq.attention %q, %k, %v {window = array<i64: 100, 0>} : tensor<1x2x300x128xbf16>, tensor<1x2x300x128xbf16>, tensor<1x2x300x128xbf16> -> tensor<1x2x300x128xbf16>
  return %o : tensor<1x2x300x128xbf16>
}

// A causal band's D128 128-key tiles take 2 K/V stages within 200 KB (1
// KB + Q 32 KB + 2 x 64 KB), as a window's (above): 3 stages (225 KB) made
// single calls wait longer on an H100 (session 13), and 3 are asked for by
// attention-wgmma-stages (STAGES3).
// TILES-LABEL: func.func @causal_d128
// TILES-NOT: seqcCudaMultiprocessorCount
// TILES: gpu.launch blocks({{.*}}) in ({{.*}} = %c6,{{.*}} dynamic_shared_memory_size %c164864_i32
// TILES: wgmma.mma_async.sync.aligned.m64n128k16
func.func @causal_d128(%q: tensor<1x2x300x128xbf16>, %k: tensor<1x2x300x128xbf16>, %v: tensor<1x2x300x128xbf16>) -> tensor<1x2x300x128xbf16> {
  %o = seq.attention %q, %k, %v {causal} : tensor<1x2x300x128xbf16>, tensor<1x2x300x128xbf16>, tensor<1x2x300x128xbf16> -> tensor<1x2x300x128xbf16>
  return %o : tensor<1x2x300x128xbf16>
}

// A window with a softcap leaves the consumers no registers to spare at
// 128 keys: by default a block an item (24 / 240 registers), the tile kept.
// TILES-LABEL: func.func @window_softcap_d128
// TILES-NOT: seqcCudaMultiprocessorCount
// TILES: gpu.launch blocks({{.*}}) in ({{.*}} = %c6,
// TILES: setmaxnreg.dec.sync.aligned.u32 24;
// TILES: setmaxnreg.inc.sync.aligned.u32 240;
// TILES: wgmma.mma_async.sync.aligned.m64n128k16
func.func @window_softcap_d128(%q: tensor<1x2x300x128xbf16>, %k: tensor<1x2x300x128xbf16>, %v: tensor<1x2x300x128xbf16>) -> tensor<1x2x300x128xbf16> {
  %o = seq.attention %q, %k, %v {window = array<i64: 100, 0>, softcap = 20.0 : f32} : tensor<1x2x300x128xbf16>, tensor<1x2x300x128xbf16>, tensor<1x2x300x128xbf16> -> tensor<1x2x300x128xbf16>
  return %o : tensor<1x2x300x128xbf16>
}

func.func @full_d64(%q: tensor<2x8x200x64xbf16>, %k: tensor<2x2x150x64xbf16>, %v: tensor<2x2x150x64xbf16>) -> tensor<2x8x200x64xbf16> {
  %o = seq.attention %q, %k, %v : tensor<2x8x200x64xbf16>, tensor<2x2x150x64xbf16>, tensor<2x2x150x64xbf16> -> tensor<2x8x200x64xbf16>
  return %o : tensor<2x8x200x64xbf16>
}

// Head dim 32 keeps the blocks of 192 or 256 rows a block an item (the
// short-loop shape measured slower there): 300 rows in blocks of 192 (boxes
// of 64 columns as at every head dim), three
// consumer warpgroups, no multiprocessor count asked.
// SHORTKV-LABEL: func.func @full_d32
// SHORTKV-NOT: seqcCudaMultiprocessorCount
// SHORTKV: nvgpu.tma.create.descriptor {{.*}} -> <tensor = memref<1x1x192x64xbf16
// SHORTKV-NOT: seqcCudaMultiprocessorCount
// SHORTKV: threads({{.*}}) in ({{.*}} = %c512, {{.*}})
func.func @full_d32(%q: tensor<1x4x300x32xbf16>, %k: tensor<1x4x300x32xbf16>, %v: tensor<1x4x300x32xbf16>) -> tensor<1x4x300x32xbf16> {
  %o = seq.attention %q, %k, %v : tensor<1x4x300x32xbf16>, tensor<1x4x300x32xbf16>, tensor<1x4x300x32xbf16> -> tensor<1x4x300x32xbf16>
  return %o : tensor<1x4x300x32xbf16>
}
