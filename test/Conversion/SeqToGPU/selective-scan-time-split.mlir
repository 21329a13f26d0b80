// RUN: seqc-opt %s --convert-seq-to-gpu="selective-scan-time-split=40" | FileCheck %s
// RUN: seqc-opt %s --convert-seq-to-gpu | FileCheck %s --check-prefix=OFF
// RUN: not seqc-opt %s --convert-seq-to-gpu="selective-scan-time-split=-1" 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: selective-scan-time-split must be >= 0

// 100 steps in splits of 48 (40 rounded up to the 16-step chunk): 3
// splits. Kernel 1 scans each (batch, 32-channel block, split) from zero
// (2 x 2 x 3 = 12 one-warp blocks) and keeps its end state and sum of
// delta; kernel 2, a thread per (batch, channel, state) (2 x 40 x 4 = 320),
// composes the splits in order; kernel 3 rescans each split from its
// carried-in state and writes y.
// CHECK-LABEL: func.func @scan
// CHECK-DAG: %[[LOCAL:.*]] = memref.alloc() : memref<2x40x3x4xf32>
// CHECK-DAG: %[[IN:.*]] = memref.alloc() : memref<2x40x3x4xf32>
// CHECK-DAG: %[[SUM:.*]] = memref.alloc() : memref<2x40x3xf32>
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
// CHECK: memref.dealloc %[[LOCAL]]
// Without the option: one kernel, each block walking all of time.
// OFF-LABEL: func.func @scan
// OFF-NOT: memref<2x40x3x4xf32>
// OFF: gpu.launch blocks({{.*}}) in ({{.*}} = %c4{{.*}})
// OFF-NOT: gpu.launch
// OFF: return
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
