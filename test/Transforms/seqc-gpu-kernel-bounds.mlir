// RUN: seqc-opt %s --split-input-file --verify-diagnostics --pass-pipeline='builtin.module(seqc-gpu-name-kernels,gpu-kernel-outlining,gpu.module(seqc-gpu-kernel-bounds))' | FileCheck %s

// A launch's occupancy bound survives outlining (on the body's first op)
// and becomes its kernel's nvvm.minctasm; the marker is gone after; a
// launch without one gets none.
// CHECK-LABEL: gpu.module @two_map
// CHECK: gpu.func @two_map{{.*}} kernel attributes {{{.*}}nvvm.minctasm = 2 : i32
// CHECK-NOT: seqc.min_blocks_per_sm
// CHECK-LABEL: gpu.module @two_map_0
// CHECK-NOT: minctasm
// CHECK: gpu.return
func.func @two(%x: memref<64xf32>) {
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %v = arith.constant 1.0 : f32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c64, %sy = %c1, %sz = %c1) {
    memref.store %v, %x[%tx] : memref<64xf32>
    gpu.terminator
  } {seqc.min_blocks_per_sm = 2 : i32}
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c64, %sy = %c1, %sz = %c1) {
    memref.store %v, %x[%tx] : memref<64xf32>
    gpu.terminator
  }
  return
}

// -----

// Two different bounds in one kernel are an error.
module attributes {gpu.container_module} {
  gpu.module @k {
    // expected-error @below {{seqc-gpu-kernel-bounds: kernel asks for 2 and 3 blocks a multiprocessor}}
    gpu.func @k(%x: memref<4xf32>) kernel {
      %c0 = arith.constant {seqc.min_blocks_per_sm = 2 : i32} 0 : index
      %v = arith.constant {seqc.min_blocks_per_sm = 3 : i32} 1.0 : f32
      memref.store %v, %x[%c0] : memref<4xf32>
      gpu.return
    }
  }
}
