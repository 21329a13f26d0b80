// RUN: seqc-opt %s --convert-seq-to-gpu="selective-scan-time-split=40 selective-scan-pipelined=0" | FileCheck %s
// RUN: seqc-opt %s --convert-seq-to-gpu="selective-scan-pipelined=0" | FileCheck %s --check-prefix=OFF
// RUN: seqc-opt %s --convert-seq-to-gpu="selective-scan-time-split=100000 selective-scan-pipelined=0" | FileCheck %s --check-prefix=NONE
// RUN: not seqc-opt %s --convert-seq-to-gpu="selective-scan-time-split=-1" 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not seqc-opt %s --convert-seq-to-gpu="selective-scan-bc-steps=3" 2>&1 | FileCheck %s --check-prefix=BADBC
// RUN: seqc-opt %s --convert-seq-to-gpu="selective-scan-time-split=100000 selective-scan-bc-steps=4 selective-scan-pipelined=0" | FileCheck %s --check-prefix=BC4
// RUN: seqc-opt %s --convert-seq-to-gpu="selective-scan-time-split=100000 selective-scan-bc-steps=1 selective-scan-pipelined=0" | FileCheck %s --check-prefix=BC1
// BADBC: selective-scan-bc-steps must be 1, 2 or 4
// RUN: seqc-opt %s --convert-seq-to-gpu="selective-scan-state-lanes=1" | FileCheck %s --check-prefix=PIPE
// By default the pipelined kernels put 2 lanes on a channel: 64-thread
// blocks of 32 channels, each lane with 2 of the 4 states (and the sum of
// delta in the local pass), y summed over the pair by a xor shuffle.
// RUN: seqc-opt %s --convert-seq-to-gpu | FileCheck %s --check-prefix=DEF
// DEF-LABEL: func.func @long
// DEF: threads({{.*}}) in ({{.*}} = %c64{{.*}}) dynamic_shared_memory_size {{.*}} function(@long_selective_scan_local)
// DEF: scf.for {{.*}} step %c4{{.*}} -> (f32, f32, f32)
// DEF: threads({{.*}}) in ({{.*}} = %c64{{.*}}) dynamic_shared_memory_size {{.*}} function(@long_selective_scan)
// DEF: scf.for {{.*}} step %c4{{.*}} -> (f32, f32)
// DEF: gpu.shuffle  xor
// With 4 lanes a channel (as many as steps in a group), the y pass
// reduces a group's sums transposed: an xor-2 round on two sums, an xor-1
// round on one, and each lane stores its own step's y into the tile (one
// state a lane here: N = 4).
// RUN: seqc-opt %s --convert-seq-to-gpu="selective-scan-state-lanes=4" | FileCheck %s --check-prefix=LANES4
// LANES4-LABEL: func.func @long
// LANES4: threads({{.*}}) in ({{.*}} = %c128{{.*}}) dynamic_shared_memory_size {{.*}} function(@long_selective_scan)
// The y pass's unrolled chunk keeps its 4 groups' y stores to its end
// (12 shuffles, then the 4 stores); a partial chunk's loop stores each
// group's.
// LANES4: scf.if %{{.*}} -> (f32
// LANES4-COUNT-12: gpu.shuffle  xor
// LANES4-NOT: memref.store
// LANES4-NOT: gpu.shuffle
// LANES4-COUNT-4: memref.store {{.*}} : memref<32x20xf32, #gpu.address_space<workgroup>>
// LANES4: } else {
// LANES4: scf.for {{.*}} step %c4{{.*}} -> (f32)
// LANES4-COUNT-2: gpu.shuffle  xor %{{.*}}, %c2_i32
// LANES4: gpu.shuffle  xor %{{.*}}, %c1_i32
// LANES4-NEXT: %[[Y:.*]] = arith.addf
// LANES4-NEXT: %[[STEP:.*]] = arith.addi
// LANES4-NEXT: memref.store %[[Y]], %{{.*}}[%{{.*}}, %[[STEP]]] : memref<32x20xf32, #gpu.address_space<workgroup>>
// LANES4-NOT: gpu.shuffle
// LANES4: gpu.barrier
// RUN: not seqc-opt %s --convert-seq-to-gpu="selective-scan-state-lanes=3" 2>&1 | FileCheck %s --check-prefix=BADLANES
// BADLANES: selective-scan-state-lanes must be 0, 1, 2, 4, 8 or 16
// RUN: not seqc-opt %s --convert-seq-to-gpu="selective-scan-poly-exp=-1" 2>&1 | FileCheck %s --check-prefix=BADPOLY
// BADPOLY: selective-scan-poly-exp must be >= 0
// Two of the 4 states' decay by the polynomial: per step 2 ex2 and 2
// polynomials (the magic-number rounding, 5 FMAs, the exponent shift).
// RUN: seqc-opt %s --convert-seq-to-gpu="selective-scan-poly-exp=2 selective-scan-state-lanes=1" | FileCheck %s --check-prefix=POLY
// POLY-LABEL: func.func @long
// POLY: scf.for {{.*}} step %c4{{.*}} -> (f32, f32, f32, f32, f32)
// POLY: arith.addf {{.*}}, %cst{{.*}} : f32
// POLY-COUNT-5: math.fma
// POLY: arith.shli
// POLY: llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f"
// Two lanes a channel (N = 4: 2 states each): 64-thread blocks, a chunk
// loop carrying 2 states, y summed over the two lanes by a xor shuffle and
// written by the first.
// RUN: seqc-opt %s --convert-seq-to-gpu="selective-scan-time-split=100000 selective-scan-state-lanes=2" | FileCheck %s --check-prefix=LANES
// LANES-LABEL: func.func @scan
// LANES: gpu.launch blocks({{.*}}) in ({{.*}} = %c4{{.*}}) threads({{.*}}) in ({{.*}} = %c64{{.*}}) function(@scan_selective_scan)
// LANES: scf.for {{.*}} -> (f32, f32)
// LANES: gpu.shuffle  xor
// LANES-LABEL: func.func @empty
// RUN: seqc-opt %s --convert-seq-to-gpu | FileCheck %s --check-prefix=FAST
// The delta softplus on the special-function unit (ex2, lg2), not the exact
// log1p polynomial.
// FAST-LABEL: func.func @scan
// FAST-NOT: math.log1p
// FAST: llvm.call_intrinsic "llvm.nvvm.lg2.approx.ftz.f"
// FAST-NOT: math.log1p
// FAST-LABEL: func.func @empty
// BAD: selective-scan-time-split must be >= 0

// 100 steps in splits of 48 (40 rounded up to the 16-step chunk): 3
// splits. Kernel 1 scans each (batch, 32-channel block, split) from zero
// (2 x 2 x 3 = 12 one-warp blocks) and keeps its end state and sum of
// delta; kernel 2, a thread per (batch, channel, state) (2 x 40 x 4 = 320),
// composes the splits in order; kernel 3 rescans each split from its
// carried-in state and writes y.
// CHECK-LABEL: func.func @scan
// One scratch allocation (2 x 480 states and 240 sums) viewed as each
// split's end state from zero, its carried-in state and its sum of delta.
// CHECK: %[[SCRATCH:.*]] = memref.alloc() : memref<2160xf32>
// CHECK-DAG: %[[LOCAL:.*]] = memref.reinterpret_cast %[[SCRATCH]] to offset: [0], sizes: [2, 40, 3, 4]
// CHECK-DAG: %[[IN:.*]] = memref.reinterpret_cast %[[SCRATCH]] to offset: [960], sizes: [2, 40, 3, 4]
// CHECK-DAG: %[[SUM:.*]] = memref.reinterpret_cast %[[SCRATCH]] to offset: [1920], sizes: [2, 40, 3]
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c12{{.*}}) threads({{.*}}) in ({{.*}} = %c32{{.*}}) function(@scan_selective_scan_local)
// The local pass carries the 4 states and the sum of delta, stores no y.
// CHECK: scf.for {{.*}} -> (f32, f32, f32, f32, f32)
// CHECK: memref.store {{.*}}, %[[LOCAL]]
// CHECK: memref.store {{.*}}, %[[SUM]]
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c2{{.*}}) threads({{.*}}) in ({{.*}} = %c256{{.*}}) function(@scan_selective_scan_carry)
// CHECK: scf.for {{.*}} = %c0{{.*}} to %c3
// CHECK: memref.store {{.*}}, %[[IN]]
// CHECK: llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f"
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c12{{.*}}) threads({{.*}}) in ({{.*}} = %c32{{.*}}) function(@scan_selective_scan)
// CHECK: memref.load %[[IN]]
// CHECK: scf.for {{.*}} -> (f32, f32, f32, f32)
// CHECK: memref.dealloc %[[SCRATCH]]
// By default (the lowering's choice) 100 steps are too few to split (a
// split has 64 steps or more): one kernel, each block walking all of time.
// OFF-LABEL: func.func @scan
// OFF-NOT: memref<2160xf32>
// OFF: gpu.launch blocks({{.*}}) in ({{.*}} = %c4{{.*}})
// OFF-NOT: gpu.launch
// OFF: return
// Blocks of 32 channels span the 2 groups of 20 here: not pipelined (a
// block's B and C tiles are one group's).
// PIPE-LABEL: func.func @scan
// PIPE-NOT: nvgpu.device_async_copy
// PIPE-LABEL: func.func @empty
func.func @scan(%u: tensor<2x40x100xf32>, %dt: tensor<2x40x100xf32>, %A: tensor<40x4xf32>, %B: tensor<2x2x4x100xf32>, %C: tensor<2x2x4x100xf32>) -> (tensor<2x40x100xf32>, tensor<2x40x4xf32>) {
  %y, %last = seq.selective_scan %u, %dt, %A, %B, %C {delta_softplus}
      : tensor<2x40x100xf32>, tensor<2x40x100xf32>, tensor<40x4xf32>, tensor<2x2x4x100xf32>, tensor<2x2x4x100xf32>
      -> tensor<2x40x100xf32>, tensor<2x40x4xf32>
  return %y, %last : tensor<2x40x100xf32>, tensor<2x40x4xf32>
}

// A zero-length scan (with or without the option): one kernel of no steps
// that writes the zero last state.
// CHECK-LABEL: func.func @empty
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c2{{.*}})
// CHECK-NOT: gpu.launch
// CHECK: return
// OFF-LABEL: func.func @empty
// OFF: gpu.launch
func.func @empty(%u: tensor<2x8x0xf32>, %dt: tensor<2x8x0xf32>, %A: tensor<8x4xf32>, %B: tensor<2x1x4x0xf32>, %C: tensor<2x1x4x0xf32>) -> (tensor<2x8x0xf32>, tensor<2x8x4xf32>) {
  %y, %last = seq.selective_scan %u, %dt, %A, %B, %C
      : tensor<2x8x0xf32>, tensor<2x8x0xf32>, tensor<8x4xf32>, tensor<2x1x4x0xf32>, tensor<2x1x4x0xf32>
      -> tensor<2x8x0xf32>, tensor<2x8x4xf32>
  return %y, %last : tensor<2x8x0xf32>, tensor<2x8x4xf32>
}

// 1024 steps of 64 channels (2 one-warp blocks): by default splits that
// bring the launch towards 6144 warps, but of 64 steps or more: 16 splits
// (32 blocks). With the option's 48 steps: 22 splits (44 blocks). A split
// as long as the scan or longer: no split.
// CHECK-LABEL: func.func @long
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c44{{.*}}) threads({{.*}}) in ({{.*}} = %c32{{.*}}) function(@long_selective_scan_local)
// OFF-LABEL: func.func @long
// OFF: memref.alloc() : memref<9216xf32>
// OFF: gpu.launch blocks({{.*}}) in ({{.*}} = %c32{{.*}}) threads({{.*}}) in ({{.*}} = %c32{{.*}}) function(@long_selective_scan_local)
// OFF: scf.for {{.*}} step %c2{{.*}} -> (f32, f32, f32, f32, f32)
// OFF-COUNT-4: vector.load {{.*}} {alignment = 8 : i64} : memref<1x1x4x1024xf32, strided<[?, ?, ?, 1], offset: ?>>, vector<2xf32>
// OFF-NOT: vector.load
// OFF: gpu.barrier
// OFF: function(@long_selective_scan_carry)
// OFF: function(@long_selective_scan)
// B and C come 2 steps at a time (selective-scan-bc-steps): per group of
// steps and per state one vector of each, loaded first, then the steps.
// NONE-LABEL: func.func @long
// NONE-NOT: selective_scan_local
// NONE: gpu.launch blocks({{.*}}) in ({{.*}} = %c2{{.*}}) threads({{.*}}) in ({{.*}} = %c32{{.*}}) function(@long_selective_scan)
// NONE: scf.for {{.*}} step %c2{{.*}} -> (f32, f32, f32, f32)
// NONE-COUNT-8: vector.load {{.*}} {alignment = 8 : i64} : memref<1x1x4x1024xf32, strided<[?, ?, ?, 1], offset: ?>>, vector<2xf32>
// NONE-NOT: vector.load
// NONE: gpu.barrier
// NONE-NOT: gpu.launch
// The pipelined kernels (the default; 1024 steps, a multiple of 4, f32 B
// and C): u and delta come by 16-byte cp.async into [2][32][20] buffers
// (two chunks of 16 steps, rows padded by one vector), B (and C) by
// 4-byte copies transposed to [2][16 steps][4 states]; per chunk the next
// chunk's group is committed, this one's waited for (one group left in
// flight), and the steps run 4 at a time: one 16-byte shared load each of
// u and delta, one of B (and C) per step; y goes out 4 steps a vector.
// PIPE-LABEL: func.func @long
// PIPE: gpu.launch {{.*}} dynamic_shared_memory_size %c10752_i32 function(@long_selective_scan_local)
// PIPE-COUNT-2: memref.view {{.*}} to memref<2x32x20xf32, #gpu.address_space<workgroup>>
// PIPE: memref.view {{.*}} to memref<2x16x4xf32, #gpu.address_space<workgroup>>
// PIPE: nvgpu.device_async_copy {{.*}}, 4, {{.*}} {bypassL1} : memref<1x64x1024xf32, strided<[?, ?, 1], offset: ?>> to memref<2x32x20xf32
// PIPE: nvgpu.device_async_copy {{.*}}, 1, {{.*}} : memref<1x1x4x1024xf32, strided<[?, ?, ?, 1], offset: ?>> to memref<2x16x4xf32
// PIPE: nvgpu.device_async_create_group
// PIPE: scf.for {{.*}} -> (f32, f32, f32, f32, f32)
// PIPE: nvgpu.device_async_create_group
// PIPE-NEXT: nvgpu.device_async_wait {{.*}} {numGroups = 1 : i32}
// PIPE-NEXT: gpu.barrier
// A whole chunk of 16 steps is unrolled with each group's decays a group
// ahead: groups 0 and 1's 32 exponentials (4 steps x 4 states, one
// lane a channel here) before group 0's FMAs, group 2's 16 after them; a
// partial chunk loops over its groups. With 4 states a lane or fewer, a
// group's B (and C) are read with its inputs, before its exponentials.
// PIPE: arith.cmpi eq, %{{.*}}, %c16
// PIPE: scf.if %{{.*}} -> (f32
// PIPE-COUNT-4: vector.load {{.*}} : memref<2x16x4xf32, #gpu.address_space<workgroup>>, vector<4xf32>
// PIPE-NOT: math.fma
// PIPE-COUNT-32: llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f"
// PIPE-NOT: llvm.nvvm.ex2
// PIPE: math.fma
// PIPE-COUNT-16: llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f"
// PIPE: } else {
// PIPE: scf.for {{.*}} step %c4{{.*}} -> (f32, f32, f32, f32, f32)
// PIPE-COUNT-2: vector.load {{.*}} {alignment = 16 : i64} : memref<2x32x20xf32, #gpu.address_space<workgroup>>, vector<4xf32>
// PIPE-COUNT-4: vector.load {{.*}} {alignment = 16 : i64} : memref<2x16x4xf32, #gpu.address_space<workgroup>>, vector<4xf32>
// PIPE: gpu.barrier
// PIPE: function(@long_selective_scan_carry)
// PIPE: dynamic_shared_memory_size %c13824_i32 function(@long_selective_scan)
// PIPE: memref.view {{.*}} to memref<32x20xf32, #gpu.address_space<workgroup>>
// PIPE: vector.store {{.*}} : memref<32x20xf32, #gpu.address_space<workgroup>>, vector<4xf32>
// PIPE: vector.store {{.*}} {alignment = 16 : i64} : memref<1x64x1024xf32>, vector<4xf32>
// Rows of 102 steps are not whole 16-byte vectors: u and delta come by
// 4-byte copies, a step past the end leaves the states as they are (delta
// 0), and y goes out element by element.
// PIPE-LABEL: func.func @ragged
// PIPE: nvgpu.device_async_copy {{.*}}, 1, {{.*}} : memref<1x64x102xf32, strided<[?, ?, 1], offset: ?>> to memref<2x32x20xf32
// PIPE: scf.for {{.*}} step %c4
// PIPE: arith.cmpi ult
// PIPE: arith.select {{.*}} : f32
// PIPE: memref.store {{.*}} : memref<1x64x102xf32>
// PIPE: return
func.func @long(%u: tensor<1x64x1024xf32>, %dt: tensor<1x64x1024xf32>, %A: tensor<64x4xf32>, %B: tensor<1x1x4x1024xf32>, %C: tensor<1x1x4x1024xf32>) -> tensor<1x64x1024xf32> {
  %y = seq.selective_scan %u, %dt, %A, %B, %C
      : tensor<1x64x1024xf32>, tensor<1x64x1024xf32>, tensor<64x4xf32>, tensor<1x1x4x1024xf32>, tensor<1x1x4x1024xf32>
      -> tensor<1x64x1024xf32>
  return %y : tensor<1x64x1024xf32>
}

// A length that is no multiple of 4: B and C a scalar load per state and
// step.
// BC4-LABEL: func.func @long
// BC4: scf.for {{.*}} step %c4{{.*}} -> (f32, f32, f32, f32)
// BC4-COUNT-8: vector.load {{.*}} {alignment = 16 : i64} : memref<1x1x4x1024xf32, strided<[?, ?, ?, 1], offset: ?>>, vector<4xf32>
// BC4-NOT: vector.load {{.*}} memref<1x1x4x1024xf32
// BC1-LABEL: func.func @long
// BC1-NOT: vector.load
// BC1: memref.load {{.*}} : memref<1x1x4x1024xf32, strided<[?, ?, ?, ?], offset: ?>>
// BC1-LABEL: func.func @ragged
// NONE-LABEL: func.func @ragged
// NONE-NOT: vector.load
// NONE: memref.load {{.*}} : memref<1x1x4x102xf32, strided<[?, ?, ?, ?], offset: ?>>
// NONE: return
func.func @ragged(%u: tensor<1x64x102xf32>, %dt: tensor<1x64x102xf32>, %A: tensor<64x4xf32>, %B: tensor<1x1x4x102xf32>, %C: tensor<1x1x4x102xf32>) -> tensor<1x64x102xf32> {
  %y = seq.selective_scan %u, %dt, %A, %B, %C
      : tensor<1x64x102xf32>, tensor<1x64x102xf32>, tensor<64x4xf32>, tensor<1x1x4x102xf32>, tensor<1x1x4x102xf32>
      -> tensor<1x64x102xf32>
  return %y : tensor<1x64x102xf32>
}

// 2 x 4096 channels: 256 one-warp blocks, warps enough for the pipelined
// kernel in one pass (its two passes would double the exponentials); the
// chunk-at-a-time kernels split towards 6144 warps.
// PIPE-LABEL: func.func @wide
// PIPE-NOT: selective_scan_local
// PIPE: gpu.launch blocks({{.*}}) in ({{.*}} = %c256{{.*}}) {{.*}} function(@wide_selective_scan)
// PIPE-NOT: gpu.launch
// PIPE: return
// OFF-LABEL: func.func @wide
// OFF: function(@wide_selective_scan_local)
func.func @wide(%u: tensor<2x4096x256xf32>, %dt: tensor<2x4096x256xf32>, %A: tensor<4096x4xf32>, %B: tensor<2x1x4x256xf32>, %C: tensor<2x1x4x256xf32>) -> tensor<2x4096x256xf32> {
  %y = seq.selective_scan %u, %dt, %A, %B, %C
      : tensor<2x4096x256xf32>, tensor<2x4096x256xf32>, tensor<4096x4xf32>, tensor<2x1x4x256xf32>, tensor<2x1x4x256xf32>
      -> tensor<2x4096x256xf32>
  return %y : tensor<2x4096x256xf32>
}
