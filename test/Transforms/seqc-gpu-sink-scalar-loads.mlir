// RUN: seqc-opt %s --seqc-gpu-sink-scalar-loads | FileCheck %s

// The position read from an input tensor, its index cast and the cache row
// view computed from it move into the kernel that writes the row.
// CHECK-LABEL: func.func @write_row
// CHECK-NOT: memref.load
// CHECK: gpu.launch
// CHECK-NEXT: %[[P:.*]] = memref.load %arg1[]
// CHECK-NEXT: %[[I:.*]] = arith.index_cast %[[P]]
// CHECK-NEXT: %[[ROW:.*]] = memref.subview %arg0[0, %[[I]], 0] [2, 1, 4]
// CHECK: memref.store %{{.*}}, %[[ROW]]
func.func @write_row(%cache: memref<2x8x4xf32>, %pos: memref<i32>, %new: memref<2x1x4xf32>) {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c0 = arith.constant 0 : index
  %p = memref.load %pos[] : memref<i32>
  %i = arith.index_cast %p : i32 to index
  %row = memref.subview %cache[0, %i, 0] [2, 1, 4] [1, 1, 1] : memref<2x8x4xf32> to memref<2x1x4xf32, strided<[32, 4, 1], offset: ?>>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c4, %sy = %c2, %sz = %c1) {
    %v = memref.load %new[%ty, %c0, %tx] : memref<2x1x4xf32>
    memref.store %v, %row[%ty, %c0, %tx] : memref<2x1x4xf32, strided<[32, 4, 1], offset: ?>>
    gpu.terminator
  }
  return
}

// A buffer the function writes is not read inside a later kernel (another
// kernel in between could change it): the host load stays, and the
// gpu-host contract reports it.
// CHECK-LABEL: func.func @written
// CHECK: %[[P:.*]] = memref.load %arg0[]
// CHECK: gpu.launch
// CHECK-NOT: memref.load %arg0
// CHECK: gpu.terminator
func.func @written(%state: memref<i32>, %out: memref<4xi32>) {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %p = memref.load %state[] : memref<i32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c4, %sy = %c1, %sz = %c1) {
    memref.store %p, %out[%tx] : memref<4xi32>
    memref.store %p, %state[] : memref<i32>
    gpu.terminator
  }
  return
}

// A one-element linalg op folded to host scalar code (kv_lengths = pos + 1
// at batch 1) runs in a one-thread launch.
// CHECK-LABEL: func.func @host_store
// CHECK: %[[ONE:.*]] = arith.constant 1 : index
// CHECK-NEXT: gpu.launch blocks({{.*}}) in ({{.*}} = %[[ONE]], {{.*}} = %[[ONE]], {{.*}} = %[[ONE]]) threads({{.*}}) in ({{.*}} = %[[ONE]], {{.*}} = %[[ONE]], {{.*}} = %[[ONE]])
// CHECK: %[[P:.*]] = memref.load %arg0
// CHECK: %[[S:.*]] = arith.addi %[[P]]
// CHECK: memref.store %[[S]], %arg1
// CHECK: gpu.terminator
// CHECK-NEXT: }
// CHECK-NEXT: return
func.func @host_store(%pos: memref<1xi32>, %len: memref<1xi32>) {
  %c0 = arith.constant 0 : index
  %one = arith.constant 1 : i32
  %p = memref.load %pos[%c0] : memref<1xi32>
  %s = arith.addi %p, %one : i32
  memref.store %s, %len[%c0] : memref<1xi32>
  return
}

// A host loop doing scalar work on device memory (a linalg.reduce to a
// scalar, bufferized) runs whole in one one-thread launch, not as a launch
// per iteration.
// CHECK-LABEL: func.func @host_loop
// CHECK-NOT: scf.for
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %[[ONE:[a-z0-9_]+]], {{.*}} = %[[ONE]], {{.*}} = %[[ONE]]) threads({{.*}}) in ({{.*}} = %[[ONE]], {{.*}} = %[[ONE]], {{.*}} = %[[ONE]])
// CHECK-NEXT: scf.for
// CHECK: memref.load %arg0
// CHECK: memref.store {{.*}}, %arg1[]
// CHECK: }
// CHECK-NEXT: gpu.terminator
// CHECK-NEXT: }
// CHECK-NEXT: return
func.func @host_loop(%x: memref<1024xf32>, %sum: memref<f32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 1024 : index
  scf.for %i = %c0 to %n step %c1 {
    %a = memref.load %x[%i] : memref<1024xf32>
    %b = memref.load %sum[] : memref<f32>
    %s = arith.addf %a, %b : f32
    memref.store %s, %sum[] : memref<f32>
  }
  return
}

// A host loop around launches (a recurrence's time loop) stays on the host.
// CHECK-LABEL: func.func @loop_of_launches
// CHECK: scf.for
// CHECK-NEXT: gpu.launch
func.func @loop_of_launches(%x: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %v = arith.constant 1.0 : f32
  scf.for %i = %c0 to %c8 step %c1 {
    gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
               threads(%tx, %ty, %tz) in (%sx = %c8, %sy = %c1, %sz = %c1) {
      memref.store %v, %x[%tx] : memref<8xf32>
      gpu.terminator
    }
  }
  return
}

// A loop on a host stack buffer from outside stays (the kernel could not
// reach it).
// CHECK-LABEL: func.func @host_stack_loop
// CHECK: memref.alloca
// CHECK-NEXT: scf.for
func.func @host_stack_loop() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %v = arith.constant 1.0 : f32
  %a = memref.alloca() : memref<8xf32>
  scf.for %i = %c0 to %c8 step %c1 {
    memref.store %v, %a[%i] : memref<8xf32>
  }
  return
}
