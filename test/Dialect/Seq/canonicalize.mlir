// RUN: seqc-opt %s --canonicalize --split-input-file | FileCheck %s

// A scan with the linear-recurrence combiner whose decay product is unused
// becomes a single seq.linear_recurrence.
// CHECK-LABEL: func.func @linear_scan
// CHECK-SAME: (%[[A:.*]]: tensor<4x8xf32>, %[[B:.*]]: tensor<4x8xf32>)
// CHECK-NEXT: %[[H:.*]], %[[LAST:.*]] = seq.linear_recurrence %[[A]], %[[B]] {dim = 1 : i64} : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>, tensor<4xf32>
// CHECK-NEXT: return %[[H]], %[[LAST]]
func.func @linear_scan(%a: tensor<4x8xf32>, %b: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4xf32>) {
  %r:4 = seq.scan ins(%a, %b : tensor<4x8xf32>, tensor<4x8xf32>) {dim = 1 : i64}
      -> tensor<4x8xf32>, tensor<4x8xf32>, tensor<4xf32>, tensor<4xf32> {
  ^bb0(%a1: f32, %b1: f32, %a2: f32, %b2: f32):
    %d = arith.mulf %a1, %a2 : f32
    %m = arith.mulf %a2, %b1 : f32
    %o = arith.addf %m, %b2 : f32
    seq.yield %d, %o : f32, f32
  }
  return %r#1, %r#3 : tensor<4x8xf32>, tensor<4xf32>
}

// -----

// Operands commuted, reverse, initial carries: h0 is the initial offset, and
// the used decay product stays as a one-input mul scan seeded with a0.
// CHECK-LABEL: func.func @linear_scan_reverse_init_product_used
// CHECK-SAME: (%[[A:.*]]: tensor<3x5xbf16>, %[[B:.*]]: tensor<3x5xbf16>, %[[A0:.*]]: tensor<5xbf16>, %[[B0:.*]]: tensor<5xbf16>)
// CHECK-DAG: %[[H:.*]], %[[LAST:.*]] = seq.linear_recurrence %[[A]], %[[B]] init(%[[B0]] : tensor<5xbf16>) {dim = 0 : i64, reverse}
// CHECK-DAG: %[[P:.*]]:2 = seq.scan ins(%[[A]] : tensor<3x5xbf16>) init(%[[A0]] : tensor<5xbf16>) {dim = 0 : i64, reverse} -> tensor<3x5xbf16>, tensor<5xbf16> {
// CHECK: ^bb0(%[[L:.*]]: bf16, %[[R:.*]]: bf16):
// CHECK-NEXT: %[[M:.*]] = arith.mulf %[[L]], %[[R]] : bf16
// CHECK-NEXT: seq.yield %[[M]] : bf16
// CHECK: return %[[P]]#0, %[[H]], %[[P]]#1, %[[LAST]]
func.func @linear_scan_reverse_init_product_used(%a: tensor<3x5xbf16>, %b: tensor<3x5xbf16>, %a0: tensor<5xbf16>, %b0: tensor<5xbf16>)
    -> (tensor<3x5xbf16>, tensor<3x5xbf16>, tensor<5xbf16>, tensor<5xbf16>) {
  %r:4 = seq.scan ins(%a, %b : tensor<3x5xbf16>, tensor<3x5xbf16>) init(%a0, %b0 : tensor<5xbf16>, tensor<5xbf16>) {dim = 0 : i64, reverse}
      -> tensor<3x5xbf16>, tensor<3x5xbf16>, tensor<5xbf16>, tensor<5xbf16> {
  ^bb0(%a1: bf16, %b1: bf16, %a2: bf16, %b2: bf16):
    %d = arith.mulf %a2, %a1 : bf16
    %m = arith.mulf %b1, %a2 : bf16
    %o = arith.addf %b2, %m : bf16
    seq.yield %d, %o : bf16, bf16
  }
  return %r#0, %r#1, %r#2, %r#3 : tensor<3x5xbf16>, tensor<3x5xbf16>, tensor<5xbf16>, tensor<5xbf16>
}

// -----

// An exclusive scan shifts h by one step: not a linear_recurrence.
// CHECK-LABEL: func.func @exclusive_linear_scan_kept
// CHECK: seq.scan
// CHECK-NOT: seq.linear_recurrence
func.func @exclusive_linear_scan_kept(%a: tensor<8xf32>, %b: tensor<8xf32>, %i: tensor<f32>) -> tensor<8xf32> {
  %r:4 = seq.scan ins(%a, %b : tensor<8xf32>, tensor<8xf32>) init(%i, %i : tensor<f32>, tensor<f32>) {dim = 0 : i64, exclusive}
      -> tensor<8xf32>, tensor<8xf32>, tensor<f32>, tensor<f32> {
  ^bb0(%a1: f32, %b1: f32, %a2: f32, %b2: f32):
    %d = arith.mulf %a1, %a2 : f32
    %m = arith.mulf %a2, %b1 : f32
    %o = arith.addf %m, %b2 : f32
    seq.yield %d, %o : f32, f32
  }
  return %r#1 : tensor<8xf32>
}

// -----

// a1·b1 + b2 is not the composition of affine maps: kept.
// CHECK-LABEL: func.func @nonlinear_scan_kept
// CHECK: seq.scan
// CHECK-NOT: seq.linear_recurrence
func.func @nonlinear_scan_kept(%a: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<8xf32> {
  %r:4 = seq.scan ins(%a, %b : tensor<8xf32>, tensor<8xf32>) {dim = 0 : i64}
      -> tensor<8xf32>, tensor<8xf32>, tensor<f32>, tensor<f32> {
  ^bb0(%a1: f32, %b1: f32, %a2: f32, %b2: f32):
    %d = arith.mulf %a1, %a2 : f32
    %m = arith.mulf %a1, %b1 : f32
    %o = arith.addf %m, %b2 : f32
    seq.yield %d, %o : f32, f32
  }
  return %r#1 : tensor<8xf32>
}

// -----

// Length 1, no initial carry: the scan is the identity and the carry is the
// single element.
// CHECK-LABEL: func.func @unit_scan
// CHECK-SAME: (%[[X:.*]]: tensor<?x1x3xi32>)
// CHECK-NEXT: %[[C:.*]] = tensor.collapse_shape %[[X]] {{\[}}[0, 1], [2]] : tensor<?x1x3xi32> into tensor<?x3xi32>
// CHECK-NEXT: return %[[X]], %[[C]]
func.func @unit_scan(%x: tensor<?x1x3xi32>) -> (tensor<?x1x3xi32>, tensor<?x3xi32>) {
  %y, %c = seq.scan ins(%x : tensor<?x1x3xi32>) {dim = 1 : i64} -> tensor<?x1x3xi32>, tensor<?x3xi32> {
  ^bb0(%l: i32, %r: i32):
    %s = arith.addi %l, %r : i32
    seq.yield %s : i32
  }
  return %y, %c : tensor<?x1x3xi32>, tensor<?x3xi32>
}

// -----

// Length 1 over the leading dim of a rank-1 tensor collapses to rank 0.
// CHECK-LABEL: func.func @unit_scan_rank1
// CHECK-NEXT: %[[C:.*]] = tensor.collapse_shape %{{.*}} [] : tensor<1xf32> into tensor<f32>
// CHECK-NEXT: return %{{.*}}, %[[C]]
func.func @unit_scan_rank1(%x: tensor<1xf32>) -> (tensor<1xf32>, tensor<f32>) {
  %y, %c = seq.scan ins(%x : tensor<1xf32>) {dim = 0 : i64} -> tensor<1xf32>, tensor<f32> {
  ^bb0(%l: f32, %r: f32):
    %s = arith.maximumf %l, %r : f32
    seq.yield %s : f32
  }
  return %y, %c : tensor<1xf32>, tensor<f32>
}

// -----

// Length 1 with an initial carry combines it: kept.
// CHECK-LABEL: func.func @unit_scan_with_init_kept
// CHECK: seq.scan
func.func @unit_scan_with_init_kept(%x: tensor<1x4xf32>, %i: tensor<4xf32>) -> tensor<1x4xf32> {
  %y, %c = seq.scan ins(%x : tensor<1x4xf32>) init(%i : tensor<4xf32>) {dim = 0 : i64} -> tensor<1x4xf32>, tensor<4xf32> {
  ^bb0(%l: f32, %r: f32):
    %s = arith.addf %l, %r : f32
    seq.yield %s : f32
  }
  return %y : tensor<1x4xf32>
}

// -----

// A zero-length scan returns its (empty) input and the initial carry.
// CHECK-LABEL: func.func @zero_length_scan
// CHECK-SAME: (%[[X:.*]]: tensor<4x0xf32>, %[[I:.*]]: tensor<4xf32>)
// CHECK-NEXT: return %[[X]], %[[I]]
func.func @zero_length_scan(%x: tensor<4x0xf32>, %i: tensor<4xf32>) -> (tensor<4x0xf32>, tensor<4xf32>) {
  %y, %c = seq.scan ins(%x : tensor<4x0xf32>) init(%i : tensor<4xf32>) {dim = 1 : i64, exclusive} -> tensor<4x0xf32>, tensor<4xf32> {
  ^bb0(%l: f32, %r: f32):
    %s = arith.addf %l, %r : f32
    seq.yield %s : f32
  }
  return %y, %c : tensor<4x0xf32>, tensor<4xf32>
}

// -----

// An empty batch: everything is empty.
// CHECK-LABEL: func.func @empty_batch_scan
// CHECK-SAME: (%[[X:.*]]: tensor<0x7xf32>)
// CHECK-NEXT: %[[E:.*]] = tensor.empty() : tensor<0xf32>
// CHECK-NEXT: return %[[X]], %[[E]]
func.func @empty_batch_scan(%x: tensor<0x7xf32>) -> (tensor<0x7xf32>, tensor<0xf32>) {
  %y, %c = seq.scan ins(%x : tensor<0x7xf32>) {dim = 1 : i64} -> tensor<0x7xf32>, tensor<0xf32> {
  ^bb0(%l: f32, %r: f32):
    %s = arith.addf %l, %r : f32
    seq.yield %s : f32
  }
  return %y, %c : tensor<0x7xf32>, tensor<0xf32>
}

// -----

// CHECK-LABEL: func.func @unit_linear_recurrence
// CHECK-SAME: (%[[A:.*]]: tensor<2x1xf32>, %[[B:.*]]: tensor<2x1xf32>)
// CHECK-NEXT: %[[C:.*]] = tensor.collapse_shape %[[B]] {{\[}}[0, 1]] : tensor<2x1xf32> into tensor<2xf32>
// CHECK-NEXT: return %[[B]], %[[C]]
func.func @unit_linear_recurrence(%a: tensor<2x1xf32>, %b: tensor<2x1xf32>) -> (tensor<2x1xf32>, tensor<2xf32>) {
  %h, %l = seq.linear_recurrence %a, %b {dim = 1 : i64} : tensor<2x1xf32>, tensor<2x1xf32> -> tensor<2x1xf32>, tensor<2xf32>
  return %h, %l : tensor<2x1xf32>, tensor<2xf32>
}

// -----

// With h0 the single step is a·h0 + b: kept.
// CHECK-LABEL: func.func @unit_linear_recurrence_with_h0_kept
// CHECK: seq.linear_recurrence
func.func @unit_linear_recurrence_with_h0_kept(%a: tensor<2x1xf32>, %h0: tensor<2xf32>) -> tensor<2x1xf32> {
  %h, %l = seq.linear_recurrence %a, %a init(%h0 : tensor<2xf32>) {dim = 1 : i64} : tensor<2x1xf32>, tensor<2x1xf32> -> tensor<2x1xf32>, tensor<2xf32>
  return %h : tensor<2x1xf32>
}

// -----

// Zero length: the last state is h0, or zeros without it.
// CHECK-LABEL: func.func @zero_length_linear_recurrence
// CHECK-SAME: (%[[A:.*]]: tensor<3x0xf16>, %[[H0:.*]]: tensor<3xf16>)
// CHECK-NEXT: %[[Z:.*]] = arith.constant dense<0.000000e+00> : tensor<3xf16>
// CHECK-NEXT: return %[[A]], %[[H0]], %[[Z]]
func.func @zero_length_linear_recurrence(%a: tensor<3x0xf16>, %h0: tensor<3xf16>) -> (tensor<3x0xf16>, tensor<3xf16>, tensor<3xf16>) {
  %h, %l = seq.linear_recurrence %a, %a init(%h0 : tensor<3xf16>) {dim = 1 : i64} : tensor<3x0xf16>, tensor<3x0xf16> -> tensor<3x0xf16>, tensor<3xf16>
  %h2, %l2 = seq.linear_recurrence %a, %a {dim = 1 : i64} : tensor<3x0xf16>, tensor<3x0xf16> -> tensor<3x0xf16>, tensor<3xf16>
  return %h, %l, %l2 : tensor<3x0xf16>, tensor<3xf16>, tensor<3xf16>
}

// -----

// A result type more static than the operand's is reached through a cast.
// CHECK-LABEL: func.func @unit_scan_refined_result
// CHECK: %[[C:.*]] = tensor.collapse_shape
// CHECK: %[[R:.*]] = tensor.cast %{{.*}} : tensor<?x1xf32> to tensor<5x1xf32>
// CHECK: tensor.cast %[[C]] : tensor<?xf32> to tensor<5xf32>
func.func @unit_scan_refined_result(%x: tensor<?x1xf32>) -> (tensor<5x1xf32>, tensor<5xf32>) {
  %y, %c = seq.scan ins(%x : tensor<?x1xf32>) {dim = 1 : i64} -> tensor<5x1xf32>, tensor<5xf32> {
  ^bb0(%l: f32, %r: f32):
    %s = arith.addf %l, %r : f32
    seq.yield %s : f32
  }
  return %y, %c : tensor<5x1xf32>, tensor<5xf32>
}
