// RUN: seqc-opt %s --seq-raise-scans=explain --split-input-file --verify-diagnostics | FileCheck %s

// The affine-map combiner (a1, b1), (a2, b2) -> (a1*a2, a2*b1 + b2) written
// with math.fma: a linear recurrence. The decay products are unused, so no
// product scan is left.
// CHECK-LABEL: func.func @fma_combiner
// CHECK-NOT: seq.scan
// CHECK: %[[H:.*]], %[[LAST:.*]] = seq.linear_recurrence %arg0, %arg1 {dim = 1 : i64}
// CHECK: return %[[H]], %[[LAST]]
func.func @fma_combiner(%a: tensor<4x16xf32>, %b: tensor<4x16xf32>) -> (tensor<4x16xf32>, tensor<4xf32>) {
  %pa, %h, %ca, %ch = seq.scan ins(%a, %b : tensor<4x16xf32>, tensor<4x16xf32>) {dim = 1 : i64}
      -> tensor<4x16xf32>, tensor<4x16xf32>, tensor<4xf32>, tensor<4xf32> {
  ^bb0(%a1: f32, %b1: f32, %a2: f32, %b2: f32):
    %m = arith.mulf %a2, %a1 : f32
    %n = math.fma %a2, %b1, %b2 : f32
    seq.yield %m, %n : f32, f32
  }
  return %h, %ch : tensor<4x16xf32>, tensor<4xf32>
}

// -----

// Reversed, with initial carries, and the decay products used: a
// linear_recurrence from h0 = b0 plus a product scan of the decays.
// CHECK-LABEL: func.func @reverse_initial_products_used
// CHECK-DAG: seq.linear_recurrence %arg0, %arg1 init(%arg3 : tensor<4xf32>) {dim = 1 : i64, reverse}
// CHECK-DAG: seq.scan ins(%arg0 : tensor<4x16xf32>) init(%arg2 : tensor<4xf32>) {dim = 1 : i64, reverse}
func.func @reverse_initial_products_used(%a: tensor<4x16xf32>, %b: tensor<4x16xf32>, %a0: tensor<4xf32>, %b0: tensor<4xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>) {
  %pa, %h, %ca, %ch = seq.scan ins(%a, %b : tensor<4x16xf32>, tensor<4x16xf32>) init(%a0, %b0 : tensor<4xf32>, tensor<4xf32>) {dim = 1 : i64, reverse}
      -> tensor<4x16xf32>, tensor<4x16xf32>, tensor<4xf32>, tensor<4xf32> {
  ^bb0(%a1: f32, %b1: f32, %a2: f32, %b2: f32):
    %m = arith.mulf %a1, %a2 : f32
    %t = arith.mulf %b1, %a2 : f32
    %n = arith.addf %b2, %t : f32
    seq.yield %m, %n : f32, f32
  }
  return %pa, %h : tensor<4x16xf32>, tensor<4x16xf32>
}

// -----

// Not raised: b1 + a2*b2 is not the composition of affine maps.
// CHECK-LABEL: func.func @wrong_combiner
// CHECK: seq.scan
// CHECK-NOT: seq.linear_recurrence
func.func @wrong_combiner(%a: tensor<16xf32>, %b: tensor<16xf32>) -> tensor<16xf32> {
  // expected-remark @+1 {{seq-raise-scans: not raised: the combiner is not (a1, b1), (a2, b2) -> (a1*a2, a2*b1 + b2)}}
  %pa, %h, %ca, %ch = seq.scan ins(%a, %b : tensor<16xf32>, tensor<16xf32>) {dim = 0 : i64}
      -> tensor<16xf32>, tensor<16xf32>, tensor<f32>, tensor<f32> {
  ^bb0(%a1: f32, %b1: f32, %a2: f32, %b2: f32):
    %m = arith.mulf %a1, %a2 : f32
    %t = arith.mulf %a2, %b2 : f32
    %n = arith.addf %b1, %t : f32
    seq.yield %m, %n : f32, f32
  }
  return %h : tensor<16xf32>
}

// -----

// Not raised: an exclusive scan shifts h by one step.
// CHECK-LABEL: func.func @exclusive
// CHECK: seq.scan
func.func @exclusive(%a: tensor<16xf32>, %b: tensor<16xf32>, %a0: tensor<f32>, %b0: tensor<f32>) -> tensor<16xf32> {
  // expected-remark @+1 {{seq-raise-scans: not raised: the scan is exclusive}}
  %pa, %h, %ca, %ch = seq.scan ins(%a, %b : tensor<16xf32>, tensor<16xf32>) init(%a0, %b0 : tensor<f32>, tensor<f32>) {dim = 0 : i64, exclusive}
      -> tensor<16xf32>, tensor<16xf32>, tensor<f32>, tensor<f32> {
  ^bb0(%a1: f32, %b1: f32, %a2: f32, %b2: f32):
    %m = arith.mulf %a1, %a2 : f32
    %t = arith.mulf %a2, %b1 : f32
    %n = arith.addf %t, %b2 : f32
    seq.yield %m, %n : f32, f32
  }
  return %h : tensor<16xf32>
}
