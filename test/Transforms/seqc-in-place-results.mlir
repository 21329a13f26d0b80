// RUN: seqc-opt %s --split-input-file --seqc-readonly-arguments --one-shot-bufferize=bufferize-function-boundaries --seqc-in-place-results --verify-diagnostics | FileCheck %s

// A decode step's KV-cache row, written in place: the argument is writable,
// the insert bufferizes into it, and the result disappears from the
// signature (no allocation, no copy of the cache).
// CHECK-LABEL: func.func @step
// CHECK-SAME: (%[[CACHE:.*]]: memref<2x8x4xf32, {{.*}}>, %[[POS:.*]]: memref<i32, {{.*}}>, %[[NEW:.*]]: memref<2x1x4xf32, {{.*}}>) -> memref<2x4xf32
// CHECK-NOT: memref.alloc() {{.*}} : memref<2x8x4xf32>
// CHECK: %[[ROW:.*]] = memref.subview %[[CACHE]][0, %{{.*}}, 0] [2, 1, 4] [1, 1, 1]
// CHECK: memref.copy %[[NEW]], %[[ROW]]
// CHECK-NOT: memref.copy
// CHECK: return %{{.*}} : memref<2x4xf32
func.func @step(%cache: tensor<2x8x4xf32>, %pos: tensor<i32>, %new: tensor<2x1x4xf32>)
    -> (tensor<2x8x4xf32> {seq.in_place = 0 : i64}, tensor<2x4xf32>) {
  %p = tensor.extract %pos[] : tensor<i32>
  %i = arith.index_cast %p : i32 to index
  %c = tensor.insert_slice %new into %cache[0, %i, 0] [2, 1, 4] [1, 1, 1] : tensor<2x1x4xf32> into tensor<2x8x4xf32>
  %row = tensor.extract_slice %c[0, 0, 0] [2, 1, 4] [1, 1, 1] : tensor<2x8x4xf32> to tensor<2x4xf32>
  return %c, %row : tensor<2x8x4xf32>, tensor<2x4xf32>
}

// -----

// The new state does not come from the argument's buffer (a fresh tensor):
// it is copied into the argument before returning.
// CHECK-LABEL: func.func @fresh
// CHECK-SAME: (%[[H:.*]]: memref<4xf32, {{.*}}>, %[[X:.*]]: memref<4xf32, {{.*}}>)
// CHECK-NOT: ->
// CHECK: %[[NEW:.*]] = memref.alloc
// CHECK: memref.copy %[[NEW]], %[[H]]
// CHECK-NEXT: return{{$}}
func.func @fresh(%h: tensor<4xf32>, %x: tensor<4xf32>) -> (tensor<4xf32> {seq.in_place = 0 : i64}) {
  %e = tensor.empty() : tensor<4xf32>
  %s = linalg.add ins(%h, %x : tensor<4xf32>, tensor<4xf32>) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  return %s : tensor<4xf32>
}

// -----

// Returning the old state next to the new one would read the new one.
func.func @both(%h: tensor<4xf32>, %x: tensor<4xf32>) -> (tensor<4xf32> {seq.in_place = 0 : i64}, tensor<4xf32>) {
  %e = tensor.empty() : tensor<4xf32>
  %s = linalg.add ins(%h, %x : tensor<4xf32>, tensor<4xf32>) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  // expected-error @+1 {{result #1 returns (a view of) argument #0, which result #0 updates in place; return a copy}}
  return %s, %h : tensor<4xf32>, tensor<4xf32>
}
