// RUN: seqc-opt %s --seqc-readonly-arguments | FileCheck %s
// RUN: seqc-opt %s --seqc-readonly-arguments --one-shot-bufferize=bufferize-function-boundaries | FileCheck %s --check-prefix=BUF

// Tensor arguments of public functions become read-only; private functions
// and non-tensor arguments are left alone.
// CHECK-LABEL: func.func @entry
// CHECK-SAME: (%{{.*}}: tensor<4xf32> {bufferization.writable = false}, %{{.*}}: index)
// CHECK-LABEL: func.func private @helper
// CHECK-SAME: (%{{.*}}: tensor<4xf32>)
// An in-place update of the argument works on a copy.
// BUF-LABEL: func.func @entry
// BUF: memref.alloc
// BUF: memref.copy
func.func @entry(%h: tensor<4xf32>, %i: index) -> tensor<4xf32> {
  %c = arith.constant 1.0 : f32
  %r = tensor.insert %c into %h[%i] : tensor<4xf32>
  return %r : tensor<4xf32>
}
func.func private @helper(%h: tensor<4xf32>) -> tensor<4xf32> {
  return %h : tensor<4xf32>
}
