// RUN: seqc-opt %s --seqc-gpu-map-loops | FileCheck %s

// A matmul's reduction loop keeps its accumulator in a register: one load
// before the loop, an iter_arg, one store after (not a store per product,
// which the next products' loads could not pass). The parallel loop is
// tiled for blocks of threads.
// CHECK-LABEL: func.func @gemv
// CHECK: scf.parallel
// CHECK: scf.parallel
// CHECK: scf.if
// CHECK: %[[INIT:.*]] = memref.load %arg2[
// CHECK: %[[SUM:.*]] = scf.for {{.*}} iter_args(%[[ACC:.*]] = %[[INIT]]) -> (f32)
// CHECK-NOT: memref.store
// CHECK: arith.addf %[[ACC]]
// CHECK: scf.yield
// CHECK: memref.store %[[SUM]], %arg2[
func.func @gemv(%x: memref<64xf32>, %w: memref<64x300xf32>, %y: memref<300xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %c300 = arith.constant 300 : index
  scf.parallel (%n) = (%c0) to (%c300) step (%c1) {
    scf.for %k = %c0 to %c64 step %c1 {
      %a = memref.load %x[%k] : memref<64xf32>
      %b = memref.load %w[%k, %n] : memref<64x300xf32>
      %acc = memref.load %y[%n] : memref<300xf32>
      %p = arith.mulf %a, %b : f32
      %s = arith.addf %acc, %p : f32
      memref.store %s, %y[%n] : memref<300xf32>
    }
    scf.reduce
  }
  return
}

// Two nested reduction loops: both carry the accumulator.
// CHECK-LABEL: func.func @sum2d
// CHECK: memref.load %arg1[
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (f32)
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (f32)
// CHECK-NOT: memref.store
// CHECK: scf.yield
// CHECK: scf.yield
// CHECK: memref.store {{.*}}, %arg1[
func.func @sum2d(%x: memref<8x16x32xf32>, %y: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    scf.for %j = %c0 to %c16 step %c1 {
      scf.for %k = %c0 to %c32 step %c1 {
        %a = memref.load %x[%i, %j, %k] : memref<8x16x32xf32>
        %acc = memref.load %y[%i] : memref<8xf32>
        %s = arith.addf %acc, %a : f32
        memref.store %s, %y[%i] : memref<8xf32>
      }
    }
    scf.reduce
  }
  return
}

// A loop whose stored location moves with the loop, or that writes twice,
// keeps its stores.
// CHECK-LABEL: func.func @not_accumulators
// CHECK: scf.for
// CHECK-NOT: iter_args
// CHECK: memref.store
// CHECK: scf.for
// CHECK-NOT: iter_args
// CHECK: memref.store
// CHECK: memref.store
func.func @not_accumulators(%x: memref<8x32xf32>, %y: memref<8x32xf32>, %z: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c32 = arith.constant 32 : index
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    scf.for %k = %c0 to %c32 step %c1 {
      %a = memref.load %x[%i, %k] : memref<8x32xf32>
      memref.store %a, %y[%i, %k] : memref<8x32xf32>
    }
    scf.for %k = %c0 to %c32 step %c1 {
      %a = memref.load %x[%i, %k] : memref<8x32xf32>
      %acc = memref.load %z[%i] : memref<8xf32>
      %s = arith.addf %acc, %a : f32
      memref.store %s, %z[%i] : memref<8xf32>
      memref.store %a, %y[%i, %k] : memref<8x32xf32>
    }
    scf.reduce
  }
  return
}
