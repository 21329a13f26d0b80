// RUN: seqc-opt %s --seqc-copies-to-linalg | FileCheck %s

// Copies between buffers of any layout become linalg.copy (and later loops,
// not a call into a runtime library).
// CHECK-LABEL: func.func @copy
// CHECK-SAME: (%[[A:.*]]: memref<4x?xf32, strided<[?, ?], offset: ?>>, %[[B:.*]]: memref<4x?xf32>)
// CHECK-NEXT: linalg.copy ins(%[[A]] : memref<4x?xf32, strided<[?, ?], offset: ?>>) outs(%[[B]] : memref<4x?xf32>)
// CHECK-NOT: memref.copy
func.func @copy(%a: memref<4x?xf32, strided<[?, ?], offset: ?>>, %b: memref<4x?xf32>) {
  memref.copy %a, %b : memref<4x?xf32, strided<[?, ?], offset: ?>> to memref<4x?xf32>
  return
}
