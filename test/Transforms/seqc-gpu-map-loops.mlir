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

// A zero-filled temporary that the next loop nest reduces into element for
// element (a split-K matmul's partials): the reduction starts from zero and
// the fill loop (a kernel) is gone.
// CHECK-LABEL: func.func @forwarded_fill
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: memref.alloc
// CHECK-NOT: memref.store %[[ZERO]]
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[ZERO]]) -> (f32)
// CHECK: memref.store
// CHECK: memref.load %[[PARTIAL:.*]][
func.func @forwarded_fill(%x: memref<4x16xf32>, %w: memref<4x16x300xf32>, %y: memref<300xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c16 = arith.constant 16 : index
  %c300 = arith.constant 300 : index
  %zero = arith.constant 0.0 : f32
  %p = memref.alloc() : memref<4x300xf32>
  scf.parallel (%s, %n) = (%c0, %c0) to (%c4, %c300) step (%c1, %c1) {
    memref.store %zero, %p[%s, %n] : memref<4x300xf32>
    scf.reduce
  }
  scf.parallel (%s, %n) = (%c0, %c0) to (%c4, %c300) step (%c1, %c1) {
    scf.for %k = %c0 to %c16 step %c1 {
      %a = memref.load %x[%s, %k] : memref<4x16xf32>
      %b = memref.load %w[%s, %k, %n] : memref<4x16x300xf32>
      %acc = memref.load %p[%s, %n] : memref<4x300xf32>
      %m = arith.mulf %a, %b : f32
      %r = arith.addf %acc, %m : f32
      memref.store %r, %p[%s, %n] : memref<4x300xf32>
    }
    scf.reduce
  }
  scf.parallel (%n) = (%c0) to (%c300) step (%c1) {
    scf.for %s = %c0 to %c4 step %c1 {
      %v = memref.load %p[%s, %n] : memref<4x300xf32>
      %acc = memref.load %y[%n] : memref<300xf32>
      %r = arith.addf %acc, %v : f32
      memref.store %r, %y[%n] : memref<300xf32>
    }
    scf.reduce
  }
  memref.dealloc %p : memref<4x300xf32>
  return
}

// The fill stays: the next loop reads another element (a transpose), covers
// fewer elements, or fills a buffer that is not a temporary.
// CHECK-LABEL: func.func @kept_fills
// CHECK-COUNT-3: memref.store %cst
func.func @kept_fills(%x: memref<8x8xf32>, %out: memref<8x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  %a = memref.alloc() : memref<8x8xf32>
  scf.parallel (%i, %j) = (%c0, %c0) to (%c8, %c8) step (%c1, %c1) {
    memref.store %zero, %a[%i, %j] : memref<8x8xf32>
    scf.reduce
  }
  scf.parallel (%i, %j) = (%c0, %c0) to (%c8, %c8) step (%c1, %c1) {
    %v = memref.load %a[%j, %i] : memref<8x8xf32>
    %x0 = memref.load %x[%i, %j] : memref<8x8xf32>
    %s = arith.addf %v, %x0 : f32
    memref.store %s, %a[%i, %j] : memref<8x8xf32>
    scf.reduce
  }
  scf.parallel (%i, %j) = (%c0, %c0) to (%c8, %c8) step (%c1, %c1) {
    memref.store %zero, %a[%i, %j] : memref<8x8xf32>
    scf.reduce
  }
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c8) step (%c1, %c1) {
    %v = memref.load %a[%i, %j] : memref<8x8xf32>
    %s = arith.addf %v, %v : f32
    memref.store %s, %a[%i, %j] : memref<8x8xf32>
    scf.reduce
  }
  scf.parallel (%i, %j) = (%c0, %c0) to (%c8, %c8) step (%c1, %c1) {
    memref.store %zero, %out[%i, %j] : memref<8x8xf32>
    scf.reduce
  }
  scf.parallel (%i, %j) = (%c0, %c0) to (%c8, %c8) step (%c1, %c1) {
    %v = memref.load %out[%i, %j] : memref<8x8xf32>
    %s = arith.addf %v, %v : f32
    memref.store %s, %out[%i, %j] : memref<8x8xf32>
    scf.reduce
  }
  memref.dealloc %a : memref<8x8xf32>
  return
}

// A view of the temporary made before the reduction could read the filled
// values under another name: the fill stays.
// CHECK-LABEL: func.func @fill_with_view
// CHECK: memref.store %cst
func.func @fill_with_view(%x: memref<8x8xf32>) -> memref<64xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  %a = memref.alloc() : memref<8x8xf32>
  %flat = memref.collapse_shape %a [[0, 1]] : memref<8x8xf32> into memref<64xf32>
  scf.parallel (%i, %j) = (%c0, %c0) to (%c8, %c8) step (%c1, %c1) {
    memref.store %zero, %a[%i, %j] : memref<8x8xf32>
    scf.reduce
  }
  scf.parallel (%i, %j) = (%c0, %c0) to (%c8, %c8) step (%c1, %c1) {
    %v = memref.load %a[%i, %j] : memref<8x8xf32>
    %x0 = memref.load %x[%i, %j] : memref<8x8xf32>
    %s = arith.addf %v, %x0 : f32
    memref.store %s, %a[%i, %j] : memref<8x8xf32>
    scf.reduce
  }
  return %flat : memref<64xf32>
}
