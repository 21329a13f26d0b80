// RUN: seqc-opt %s --seqc-gpu-name-kernels --gpu-kernel-outlining | FileCheck %s

// Kernels take their function's name and their shape of work; a name a
// lowering gave stays; repeats get a suffix.
// CHECK-LABEL: func.func @step
// CHECK: gpu.launch_func @step_map::@step_map
// CHECK: gpu.launch_func @step_reduce::@step_reduce
// CHECK: gpu.launch_func @step_serial::@step_serial
// CHECK: gpu.launch_func @step_attention::@step_attention
// CHECK: gpu.launch_func @step_map_0::@step_map
func.func @step(%x: memref<64xf32>, %s: memref<f32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %v = arith.constant 1.0 : f32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c64, %sy = %c1, %sz = %c1) {
    memref.store %v, %x[%tx] : memref<64xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c64, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    scf.for %i = %c0 to %c64 step %c1 {
      memref.store %v, %x[%i] : memref<64xf32>
    }
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    memref.store %v, %s[] : memref<f32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c64, %sy = %c1, %sz = %c1) {
    memref.store %v, %x[%tx] : memref<64xf32>
    gpu.terminator
  } {function = @step_attention}
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c64, %sy = %c1, %sz = %c1) {
    memref.store %v, %x[%tx] : memref<64xf32>
    gpu.terminator
  }
  return
}
