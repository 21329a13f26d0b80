// RUN: seqc-opt %s --split-input-file --verify-diagnostics
// One case per constraint of dialects/seq/README.md (the `// <op>_cN` line
// above each case names it; test/check-constraints.py checks the coverage).

// attention_c1
func.func @f(%q: tensor<2x8x64xf32>, %k: tensor<2x2x8x64xf32>, %v: tensor<2x2x8x64xf32>) {
  // expected-error @+1 {{'seq.attention' op query must have rank 4 ([B, Hq, Sq, D]), got rank 3}}
  %o = seq.attention %q, %k, %v : tensor<2x8x64xf32>, tensor<2x2x8x64xf32>, tensor<2x2x8x64xf32> -> tensor<2x8x64xf32>
  return
}

// -----

// attention_c2
func.func @f(%q: tensor<2x8x4x64xbf16>, %k: tensor<2x2x8x64xf16>, %v: tensor<2x2x8x64xbf16>) {
  // expected-error @+1 {{'seq.attention' op query, key and value must have one element type, got 'bf16', 'f16' and 'bf16'}}
  %o = seq.attention %q, %k, %v : tensor<2x8x4x64xbf16>, tensor<2x2x8x64xf16>, tensor<2x2x8x64xbf16> -> tensor<2x8x4x64xbf16>
  return
}

// -----

// attention_c2
func.func @f(%q: tensor<2x8x4x64xi32>, %k: tensor<2x2x8x64xi32>, %v: tensor<2x2x8x64xi32>) {
  // expected-error @+1 {{'seq.attention' op operand #0 must be ranked tensor of 16-bit float or bfloat16 type or 32-bit float values, but got 'tensor<2x8x4x64xi32>'}}
  %o = seq.attention %q, %k, %v : tensor<2x8x4x64xi32>, tensor<2x2x8x64xi32>, tensor<2x2x8x64xi32> -> tensor<2x8x4x64xi32>
  return
}

// -----

// attention_c3
func.func @f(%q: tensor<2x8x4x64xf32>, %k: tensor<3x2x8x64xf32>, %v: tensor<3x2x8x64xf32>) {
  // expected-error @+1 {{'seq.attention' op key batch size (3) does not match query batch size (2)}}
  %o = seq.attention %q, %k, %v : tensor<2x8x4x64xf32>, tensor<3x2x8x64xf32>, tensor<3x2x8x64xf32> -> tensor<2x8x4x64xf32>
  return
}

// -----

// attention_c4
func.func @f(%q: tensor<2x8x4x64xf32>, %k: tensor<2x2x8x64xf32>, %v: tensor<2x4x8x64xf32>) {
  // expected-error @+1 {{'seq.attention' op value heads (4) does not match key heads (2)}}
  %o = seq.attention %q, %k, %v : tensor<2x8x4x64xf32>, tensor<2x2x8x64xf32>, tensor<2x4x8x64xf32> -> tensor<2x8x4x64xf32>
  return
}

// -----

// attention_c5
func.func @f(%q: tensor<2x6x4x64xf32>, %k: tensor<2x4x8x64xf32>, %v: tensor<2x4x8x64xf32>) {
  // expected-error @+1 {{'seq.attention' op query heads (6) must be a multiple of key/value heads (4)}}
  %o = seq.attention %q, %k, %v : tensor<2x6x4x64xf32>, tensor<2x4x8x64xf32>, tensor<2x4x8x64xf32> -> tensor<2x6x4x64xf32>
  return
}

// -----

// attention_c6
func.func @f(%q: tensor<2x8x4x64xf32>, %k: tensor<2x2x8x32xf32>, %v: tensor<2x2x8x64xf32>) {
  // expected-error @+1 {{'seq.attention' op key head dim (32) does not match query head dim (64)}}
  %o = seq.attention %q, %k, %v : tensor<2x8x4x64xf32>, tensor<2x2x8x32xf32>, tensor<2x2x8x64xf32> -> tensor<2x8x4x64xf32>
  return
}

// -----

// attention_c7
func.func @f(%q: tensor<2x8x4x64xf32>, %k: tensor<2x2x8x64xf32>, %v: tensor<2x2x9x64xf32>) {
  // expected-error @+1 {{'seq.attention' op value sequence length (9) does not match key sequence length (8)}}
  %o = seq.attention %q, %k, %v : tensor<2x8x4x64xf32>, tensor<2x2x8x64xf32>, tensor<2x2x9x64xf32> -> tensor<2x8x4x64xf32>
  return
}

// -----

// attention_c8
func.func @f(%q: tensor<1x1x4x8xf32>) {
  // expected-error @+1 {{'seq.attention' op window must have 2 entries [left, right], got 3}}
  %o = seq.attention %q, %q, %q {window = array<i64: 1, 2, 3>} : tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32> -> tensor<1x1x4x8xf32>
  return
}

// -----

// attention_c8
func.func @f(%q: tensor<1x1x4x8xf32>) {
  // expected-error @+1 {{'seq.attention' op window entries must be -1 (unbounded) or non-negative, got -2}}
  %o = seq.attention %q, %q, %q {window = array<i64: -2, 0>} : tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32> -> tensor<1x1x4x8xf32>
  return
}

// -----

// attention_c9
func.func @f(%q: tensor<1x1x4x8xf32>) {
  // expected-error @+1 {{'seq.attention' op scale must be finite, got +Inf}}
  %o = seq.attention %q, %q, %q {scale = 0x7F800000 : f32} : tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32> -> tensor<1x1x4x8xf32>
  return
}

// -----

// attention_c10
func.func @f(%q: tensor<1x1x4x8xf32>) {
  // expected-error @+1 {{'seq.attention' op softcap must be positive and finite, got 0}}
  %o = seq.attention %q, %q, %q {softcap = 0.0 : f32} : tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32> -> tensor<1x1x4x8xf32>
  return
}

// -----

// attention_c11
func.func @f(%q: tensor<2x1x4x8xf32>, %l: tensor<2x1xi32>) {
  // expected-error @+1 {{'seq.attention' op kv_lengths must have rank 1 ([B]), got rank 2}}
  %o = seq.attention %q, %q, %q kv_lengths(%l : tensor<2x1xi32>) : tensor<2x1x4x8xf32>, tensor<2x1x4x8xf32>, tensor<2x1x4x8xf32> -> tensor<2x1x4x8xf32>
  return
}

// -----

// attention_c11
func.func @f(%q: tensor<2x1x4x8xf32>, %l: tensor<3xi32>) {
  // expected-error @+1 {{'seq.attention' op kv_lengths batch size (3) does not match query batch size (2)}}
  %o = seq.attention %q, %q, %q kv_lengths(%l : tensor<3xi32>) : tensor<2x1x4x8xf32>, tensor<2x1x4x8xf32>, tensor<2x1x4x8xf32> -> tensor<2x1x4x8xf32>
  return
}

// -----

// attention_c11
func.func @f(%q: tensor<2x1x4x8xf32>, %l: tensor<2xf32>) {
  // expected-error @+1 {{'seq.attention' op operand #3 must be ranked tensor of 32-bit signless integer or 64-bit signless integer values, but got 'tensor<2xf32>'}}
  %o = seq.attention %q, %q, %q kv_lengths(%l : tensor<2xf32>) : tensor<2x1x4x8xf32>, tensor<2x1x4x8xf32>, tensor<2x1x4x8xf32> -> tensor<2x1x4x8xf32>
  return
}

// -----

// attention_c12
func.func @f(%q: tensor<2x1x4x8xf32>, %s: tensor<2x4xi32>) {
  // expected-error @+1 {{'seq.attention' op q_segment_ids and kv_segment_ids must be given together}}
  %o = seq.attention %q, %q, %q q_segment_ids(%s : tensor<2x4xi32>) : tensor<2x1x4x8xf32>, tensor<2x1x4x8xf32>, tensor<2x1x4x8xf32> -> tensor<2x1x4x8xf32>
  return
}

// -----

// attention_c12
func.func @f(%q: tensor<2x1x4x8xf32>, %k: tensor<2x1x6x8xf32>, %s: tensor<2x4xi32>) {
  // expected-error @+1 {{'seq.attention' op kv_segment_ids sequence length (4) does not match key sequence length (6)}}
  %o = seq.attention %q, %k, %k q_segment_ids(%s : tensor<2x4xi32>) kv_segment_ids(%s : tensor<2x4xi32>) : tensor<2x1x4x8xf32>, tensor<2x1x6x8xf32>, tensor<2x1x6x8xf32> -> tensor<2x1x4x8xf32>
  return
}

// -----

// attention_c12
func.func @f(%q: tensor<2x1x4x8xf32>, %s: tensor<8xi32>) {
  // expected-error @+1 {{'seq.attention' op q_segment_ids must have rank 2 ([B, Sq]), got rank 1}}
  %o = seq.attention %q, %q, %q q_segment_ids(%s : tensor<8xi32>) kv_segment_ids(%s : tensor<8xi32>) : tensor<2x1x4x8xf32>, tensor<2x1x4x8xf32>, tensor<2x1x4x8xf32> -> tensor<2x1x4x8xf32>
  return
}

// -----

// attention_c12
func.func @f(%q: tensor<2x1x4x8xf32>, %s: tensor<2x4xi32>, %t: tensor<2x4xi64>) {
  // expected-error @+1 {{'seq.attention' op q_segment_ids and kv_segment_ids must have one element type, got 'i32' and 'i64'}}
  %o = seq.attention %q, %q, %q q_segment_ids(%s : tensor<2x4xi32>) kv_segment_ids(%t : tensor<2x4xi64>) : tensor<2x1x4x8xf32>, tensor<2x1x4x8xf32>, tensor<2x1x4x8xf32> -> tensor<2x1x4x8xf32>
  return
}

// -----

// attention_c13
func.func @f(%q: tensor<2x8x4x64xf32>, %k: tensor<2x2x8x64xf32>, %v: tensor<2x2x8x32xf32>) {
  // expected-error @+1 {{'seq.attention' op output must have type 'tensor<2x8x4x32xf32>', got 'tensor<2x8x4x64xf32>'}}
  %o = seq.attention %q, %k, %v : tensor<2x8x4x64xf32>, tensor<2x2x8x64xf32>, tensor<2x2x8x32xf32> -> tensor<2x8x4x64xf32>
  return
}

// -----

// attention_c14
func.func @f(%q: tensor<2x8x4x64xf32>) {
  // expected-error @+1 {{'seq.attention' op lse must have type 'tensor<2x8x4xf32>', got 'tensor<2x8xf32>'}}
  %o, %lse = seq.attention %q, %q, %q : tensor<2x8x4x64xf32>, tensor<2x8x4x64xf32>, tensor<2x8x4x64xf32> -> tensor<2x8x4x64xf32>, tensor<2x8xf32>
  return
}

// -----

// attention_c14
func.func @f(%q: tensor<2x8x4x64xbf16>) {
  // expected-error @+1 {{'seq.attention' op result #1 must be ranked tensor of 32-bit float values, but got 'tensor<2x8x4xbf16>'}}
  %o, %lse = seq.attention %q, %q, %q : tensor<2x8x4x64xbf16>, tensor<2x8x4x64xbf16>, tensor<2x8x4x64xbf16> -> tensor<2x8x4x64xbf16>, tensor<2x8x4xbf16>
  return
}

// -----

// scan_c1
func.func @f() {
  // expected-error @+1 {{'seq.scan' op needs at least one input}}
  %r = "seq.scan"() <{dim = 0 : i64, operandSegmentSizes = array<i32: 0, 0>}> ({
  ^bb0:
    seq.yield
  }) : () -> (tensor<1xf32>)
  return
}

// -----

// scan_c1
func.func @f(%a: tensor<4x8xf32>, %b: tensor<4x9xf32>) {
  // expected-error @+1 {{'seq.scan' op input #1 of type 'tensor<4x9xf32>' does not have the shape of input #0 of type 'tensor<4x8xf32>'}}
  %r:4 = seq.scan ins(%a, %b : tensor<4x8xf32>, tensor<4x9xf32>) {dim = 1 : i64} -> tensor<4x8xf32>, tensor<4x9xf32>, tensor<4xf32>, tensor<4xf32> {
  ^bb0(%x: f32, %y: f32, %z: f32, %w: f32):
    seq.yield %x, %y : f32, f32
  }
  return
}

// -----

// scan_c1
func.func @f(%a: tensor<4x8xcomplex<f32>>) {
  // expected-error @+1 {{'seq.scan' op operand #0 must be variadic of ranked tensor of signless integer or floating-point values, but got 'tensor<4x8xcomplex<f32>>'}}
  %r:2 = seq.scan ins(%a : tensor<4x8xcomplex<f32>>) {dim = 1 : i64} -> tensor<4x8xcomplex<f32>>, tensor<4xcomplex<f32>> {
  ^bb0(%x: complex<f32>, %y: complex<f32>):
    seq.yield %x : complex<f32>
  }
  return
}

// -----

// scan_c2
func.func @f(%a: tensor<4x8xf32>) {
  // expected-error @+1 {{'seq.scan' op dim 2 is out of range for inputs of rank 2}}
  %r:2 = seq.scan ins(%a : tensor<4x8xf32>) {dim = 2 : i64} -> tensor<4x8xf32>, tensor<4xf32> {
  ^bb0(%x: f32, %y: f32):
    seq.yield %x : f32
  }
  return
}

// -----

// scan_c3
func.func @f(%a: tensor<4x8xf32>, %i: tensor<4xf32>) {
  // expected-error @+1 {{'seq.scan' op expects 0 or 2 initial carries (one per input), got 1}}
  %r:4 = seq.scan ins(%a, %a : tensor<4x8xf32>, tensor<4x8xf32>) init(%i : tensor<4xf32>) {dim = 1 : i64} -> tensor<4x8xf32>, tensor<4x8xf32>, tensor<4xf32>, tensor<4xf32> {
  ^bb0(%x: f32, %y: f32, %z: f32, %w: f32):
    seq.yield %x, %y : f32, f32
  }
  return
}

// -----

// scan_c3
func.func @f(%a: tensor<4x8xf32>, %i: tensor<8xf32>) {
  // expected-error @+1 {{'seq.scan' op initial carry #0 must have type 'tensor<4xf32>', got 'tensor<8xf32>'}}
  %r:2 = seq.scan ins(%a : tensor<4x8xf32>) init(%i : tensor<8xf32>) {dim = 1 : i64} -> tensor<4x8xf32>, tensor<4xf32> {
  ^bb0(%x: f32, %y: f32):
    seq.yield %x : f32
  }
  return
}

// -----

// scan_c4
func.func @f(%a: tensor<4x8xf32>) {
  // expected-error @+1 {{'seq.scan' op exclusive scan needs initial carries}}
  %r:2 = seq.scan ins(%a : tensor<4x8xf32>) {dim = 1 : i64, exclusive} -> tensor<4x8xf32>, tensor<4xf32> {
  ^bb0(%x: f32, %y: f32):
    seq.yield %x : f32
  }
  return
}

// -----

// scan_c5
func.func @f(%a: tensor<4x0xf32>) {
  // expected-error @+1 {{'seq.scan' op scan of length 0 needs initial carries (its final carries are otherwise undefined)}}
  %r:2 = seq.scan ins(%a : tensor<4x0xf32>) {dim = 1 : i64} -> tensor<4x0xf32>, tensor<4xf32> {
  ^bb0(%x: f32, %y: f32):
    seq.yield %x : f32
  }
  return
}

// -----

// scan_c6
func.func @f(%a: tensor<4x8xf32>) {
  // expected-error @+1 {{'seq.scan' op expects 2 results (1 scanned tensors, then 1 final carries), got 1}}
  %r = seq.scan ins(%a : tensor<4x8xf32>) {dim = 1 : i64} -> tensor<4x8xf32> {
  ^bb0(%x: f32, %y: f32):
    seq.yield %x : f32
  }
  return
}

// -----

// scan_c6
func.func @f(%a: tensor<4x8xf32>) {
  // expected-error @+1 {{'seq.scan' op result #1 must have type 'tensor<4xf32>', got 'tensor<8xf32>'}}
  %r:2 = seq.scan ins(%a : tensor<4x8xf32>) {dim = 1 : i64} -> tensor<4x8xf32>, tensor<8xf32> {
  ^bb0(%x: f32, %y: f32):
    seq.yield %x : f32
  }
  return
}

// -----

// scan_c7
func.func @f(%a: tensor<4x8xf32>) {
  // expected-error @+1 {{'seq.scan' op combiner must take 2 arguments (lhs then rhs of each input), got 1}}
  %r:2 = seq.scan ins(%a : tensor<4x8xf32>) {dim = 1 : i64} -> tensor<4x8xf32>, tensor<4xf32> {
  ^bb0(%x: f32):
    seq.yield %x : f32
  }
  return
}

// -----

// scan_c7
func.func @f(%a: tensor<4x8xf32>) {
  // expected-error @+1 {{'seq.scan' op combiner argument #1 must have type 'f32', got 'f16'}}
  %r:2 = seq.scan ins(%a : tensor<4x8xf32>) {dim = 1 : i64} -> tensor<4x8xf32>, tensor<4xf32> {
  ^bb0(%x: f32, %y: f16):
    seq.yield %x : f32
  }
  return
}

// -----

// scan_c8
func.func @f(%a: tensor<4x8xf32>) {
  // expected-error @+1 {{'seq.scan' op combiner must yield 1 values, got 2}}
  %r:2 = seq.scan ins(%a : tensor<4x8xf32>) {dim = 1 : i64} -> tensor<4x8xf32>, tensor<4xf32> {
  ^bb0(%x: f32, %y: f32):
    seq.yield %x, %y : f32, f32
  }
  return
}

// -----

// scan_c8
func.func @f(%a: tensor<4x8xf32>) {
  // expected-error @+1 {{'seq.scan' op combiner result #0 must have type 'f32', got 'i32'}}
  %r:2 = seq.scan ins(%a : tensor<4x8xf32>) {dim = 1 : i64} -> tensor<4x8xf32>, tensor<4xf32> {
  ^bb0(%x: f32, %y: f32):
    %c = arith.constant 0 : i32
    seq.yield %c : i32
  }
  return
}

// -----

// scan_c8
func.func @f(%a: tensor<4x8xf32>) {
  // expected-error @+1 {{'seq.scan' op combiner must end with seq.yield}}
  %r:2 = "seq.scan"(%a) <{dim = 1 : i64, operandSegmentSizes = array<i32: 1, 0>}> ({
  ^bb0(%x: f32, %y: f32):
    llvm.unreachable
  }) : (tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4xf32>)
  return
}

// -----

// scan_c9
func.func @f(%a: tensor<4x8xf32>, %m: memref<f32>) {
  // expected-error @+1 {{'seq.scan' op combiner must be free of side effects}}
  %r:2 = seq.scan ins(%a : tensor<4x8xf32>) {dim = 1 : i64} -> tensor<4x8xf32>, tensor<4xf32> {
  ^bb0(%x: f32, %y: f32):
    memref.store %x, %m[] : memref<f32>
    seq.yield %y : f32
  }
  return
}

// -----

// linear_recurrence_c1
func.func @f(%a: tensor<4x8xf32>, %b: tensor<4x8xbf16>) {
  // expected-error @+1 {{'seq.linear_recurrence' op b must have type 'tensor<4x8xf32>', got 'tensor<4x8xbf16>'}}
  %h, %l = seq.linear_recurrence %a, %b {dim = 1 : i64} : tensor<4x8xf32>, tensor<4x8xbf16> -> tensor<4x8xf32>, tensor<4xf32>
  return
}

// -----

// linear_recurrence_c2
func.func @f(%a: tensor<4x8xf32>) {
  // expected-error @+1 {{'seq.linear_recurrence' op dim -1 is out of range for a and b of rank 2}}
  %h, %l = seq.linear_recurrence %a, %a {dim = -1 : i64} : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>, tensor<4xf32>
  return
}

// -----

// linear_recurrence_c3
func.func @f(%a: tensor<4x8xf32>, %h0: tensor<8xf32>) {
  // expected-error @+1 {{'seq.linear_recurrence' op h0 must have type 'tensor<4xf32>', got 'tensor<8xf32>'}}
  %h, %l = seq.linear_recurrence %a, %a init(%h0 : tensor<8xf32>) {dim = 1 : i64} : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>, tensor<4xf32>
  return
}

// -----

// linear_recurrence_c4
func.func @f(%a: tensor<4x8xf32>) {
  // expected-error @+1 {{'seq.linear_recurrence' op last must have type 'tensor<4xf32>', got 'tensor<8xf32>'}}
  %h, %l = seq.linear_recurrence %a, %a {dim = 1 : i64} : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>, tensor<8xf32>
  return
}

// -----

// linear_recurrence_c4
func.func @f(%a: tensor<4x8xf32>) {
  // expected-error @+1 {{'seq.linear_recurrence' op h must have type 'tensor<4x8xf32>', got 'tensor<4x8xf16>'}}
  %h, %l = seq.linear_recurrence %a, %a {dim = 1 : i64} : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf16>, tensor<4xf32>
  return
}

// -----

// selective_scan_c1
func.func @f(%u: tensor<2x64xf32>, %A: tensor<64x16xf32>, %B: tensor<2x1x16x33xf32>) {
  // expected-error @+1 {{'seq.selective_scan' op u must have rank 3 ([B, D, L]), got rank 2}}
  %y = seq.selective_scan %u, %u, %A, %B, %B : tensor<2x64xf32>, tensor<2x64xf32>, tensor<64x16xf32>, tensor<2x1x16x33xf32>, tensor<2x1x16x33xf32> -> tensor<2x64xf32>
  return
}

// -----

// selective_scan_c1
func.func @f(%u: tensor<2x64x33xf32>, %dt: tensor<2x64x32xf32>, %A: tensor<64x16xf32>, %B: tensor<2x1x16x33xf32>) {
  // expected-error @+1 {{'seq.selective_scan' op delta must have type 'tensor<2x64x33xf32>', got 'tensor<2x64x32xf32>'}}
  %y = seq.selective_scan %u, %dt, %A, %B, %B : tensor<2x64x33xf32>, tensor<2x64x32xf32>, tensor<64x16xf32>, tensor<2x1x16x33xf32>, tensor<2x1x16x33xf32> -> tensor<2x64x33xf32>
  return
}

// -----

// selective_scan_c2
func.func @f(%u: tensor<2x64x33xf32>, %A: tensor<32x16xf32>, %B: tensor<2x1x16x33xf32>) {
  // expected-error @+1 {{'seq.selective_scan' op A channels (32) does not match u channels (64)}}
  %y = seq.selective_scan %u, %u, %A, %B, %B : tensor<2x64x33xf32>, tensor<2x64x33xf32>, tensor<32x16xf32>, tensor<2x1x16x33xf32>, tensor<2x1x16x33xf32> -> tensor<2x64x33xf32>
  return
}

// -----

// selective_scan_c2
func.func @f(%u: tensor<2x64x33xf32>, %A: tensor<64xf32>, %B: tensor<2x1x16x33xf32>) {
  // expected-error @+1 {{'seq.selective_scan' op A must have rank 2 ([D, N]), got rank 1}}
  %y = seq.selective_scan %u, %u, %A, %B, %B : tensor<2x64x33xf32>, tensor<2x64x33xf32>, tensor<64xf32>, tensor<2x1x16x33xf32>, tensor<2x1x16x33xf32> -> tensor<2x64x33xf32>
  return
}

// -----

// selective_scan_c3
func.func @f(%u: tensor<2x64x33xf32>, %A: tensor<64x16xf32>, %B: tensor<2x1x8x33xf32>) {
  // expected-error @+1 {{'seq.selective_scan' op B state size (8) does not match A state size (16)}}
  %y = seq.selective_scan %u, %u, %A, %B, %B : tensor<2x64x33xf32>, tensor<2x64x33xf32>, tensor<64x16xf32>, tensor<2x1x8x33xf32>, tensor<2x1x8x33xf32> -> tensor<2x64x33xf32>
  return
}

// -----

// selective_scan_c3
func.func @f(%u: tensor<2x64x33xf32>, %A: tensor<64x16xf32>, %B: tensor<2x1x16x33xf32>, %C: tensor<2x1x16x33xbf16>) {
  // expected-error @+1 {{'seq.selective_scan' op C must have type 'tensor<2x1x16x33xf32>', got 'tensor<2x1x16x33xbf16>'}}
  %y = seq.selective_scan %u, %u, %A, %B, %C : tensor<2x64x33xf32>, tensor<2x64x33xf32>, tensor<64x16xf32>, tensor<2x1x16x33xf32>, tensor<2x1x16x33xbf16> -> tensor<2x64x33xf32>
  return
}

// -----

// selective_scan_c3
func.func @f(%u: tensor<2x64x33xf32>, %A: tensor<64x16xf32>, %B: tensor<2x1x16x40xf32>) {
  // expected-error @+1 {{'seq.selective_scan' op B sequence length (40) does not match u sequence length (33)}}
  %y = seq.selective_scan %u, %u, %A, %B, %B : tensor<2x64x33xf32>, tensor<2x64x33xf32>, tensor<64x16xf32>, tensor<2x1x16x40xf32>, tensor<2x1x16x40xf32> -> tensor<2x64x33xf32>
  return
}

// -----

// selective_scan_c4
func.func @f(%u: tensor<2x64x33xf32>, %A: tensor<64x16xf32>, %B: tensor<2x3x16x33xf32>) {
  // expected-error @+1 {{'seq.selective_scan' op u channels (64) must be a multiple of B/C groups (3)}}
  %y = seq.selective_scan %u, %u, %A, %B, %B : tensor<2x64x33xf32>, tensor<2x64x33xf32>, tensor<64x16xf32>, tensor<2x3x16x33xf32>, tensor<2x3x16x33xf32> -> tensor<2x64x33xf32>
  return
}

// -----

// selective_scan_c5
func.func @f(%u: tensor<2x64x33xf32>, %A: tensor<64x16xf32>, %B: tensor<2x1x16x33xf32>, %D: tensor<32xf32>) {
  // expected-error @+1 {{'seq.selective_scan' op D size (32) does not match u channel size (64)}}
  %y = seq.selective_scan %u, %u, %A, %B, %B D(%D : tensor<32xf32>) : tensor<2x64x33xf32>, tensor<2x64x33xf32>, tensor<64x16xf32>, tensor<2x1x16x33xf32>, tensor<2x1x16x33xf32> -> tensor<2x64x33xf32>
  return
}

// -----

// selective_scan_c5
func.func @f(%u: tensor<2x64x33xf32>, %A: tensor<64x16xf32>, %B: tensor<2x1x16x33xf32>, %db: tensor<1x64xf32>) {
  // expected-error @+1 {{'seq.selective_scan' op delta_bias must have rank 1 ([D]), got rank 2}}
  %y = seq.selective_scan %u, %u, %A, %B, %B delta_bias(%db : tensor<1x64xf32>) : tensor<2x64x33xf32>, tensor<2x64x33xf32>, tensor<64x16xf32>, tensor<2x1x16x33xf32>, tensor<2x1x16x33xf32> -> tensor<2x64x33xf32>
  return
}

// -----

// selective_scan_c6
func.func @f(%u: tensor<2x64x33xf32>, %A: tensor<64x16xf32>, %B: tensor<2x1x16x33xf32>, %z: tensor<2x64x33xf16>) {
  // expected-error @+1 {{'seq.selective_scan' op z must have type 'tensor<2x64x33xf32>', got 'tensor<2x64x33xf16>'}}
  %y = seq.selective_scan %u, %u, %A, %B, %B z(%z : tensor<2x64x33xf16>) : tensor<2x64x33xf32>, tensor<2x64x33xf32>, tensor<64x16xf32>, tensor<2x1x16x33xf32>, tensor<2x1x16x33xf32> -> tensor<2x64x33xf32>
  return
}

// -----

// selective_scan_c7
func.func @f(%u: tensor<2x64x33xf32>, %A: tensor<64x16xf32>, %B: tensor<2x1x16x33xf32>) {
  // expected-error @+1 {{'seq.selective_scan' op last_state must have type 'tensor<2x64x16xf32>', got 'tensor<2x64x33xf32>'}}
  %y, %s = seq.selective_scan %u, %u, %A, %B, %B : tensor<2x64x33xf32>, tensor<2x64x33xf32>, tensor<64x16xf32>, tensor<2x1x16x33xf32>, tensor<2x1x16x33xf32> -> tensor<2x64x33xf32>, tensor<2x64x33xf32>
  return
}

// -----

// selective_scan_c7
func.func @f(%u: tensor<2x64x33xf32>, %A: tensor<64x16xf32>, %B: tensor<2x1x16x33xf32>) {
  // expected-error @+1 {{'seq.selective_scan' op y must have type 'tensor<2x64x33xf32>', got 'tensor<2x64x33xbf16>'}}
  %y = seq.selective_scan %u, %u, %A, %B, %B : tensor<2x64x33xf32>, tensor<2x64x33xf32>, tensor<64x16xf32>, tensor<2x1x16x33xf32>, tensor<2x1x16x33xf32> -> tensor<2x64x33xbf16>
  return
}

// -----

// gated_linear_attention_c1
func.func @f(%q: tensor<2x4x9xf32>, %v: tensor<2x4x9x16xf32>) {
  // expected-error @+1 {{'seq.gated_linear_attention' op q must have rank 4 ([B, H, T, K]), got rank 3}}
  %o = seq.gated_linear_attention %q, %q, %v : tensor<2x4x9xf32>, tensor<2x4x9xf32>, tensor<2x4x9x16xf32> -> tensor<2x4x9x16xf32>
  return
}

// -----

// gated_linear_attention_c2
func.func @f(%q: tensor<2x4x9x32xf32>, %k: tensor<2x4x9x16xf32>, %v: tensor<2x4x9x16xf32>) {
  // expected-error @+1 {{'seq.gated_linear_attention' op k must have type 'tensor<2x4x9x32xf32>', got 'tensor<2x4x9x16xf32>'}}
  %o = seq.gated_linear_attention %q, %k, %v : tensor<2x4x9x32xf32>, tensor<2x4x9x16xf32>, tensor<2x4x9x16xf32> -> tensor<2x4x9x16xf32>
  return
}

// -----

// gated_linear_attention_c2
func.func @f(%q: tensor<2x4x9x32xf32>, %v: tensor<2x4x9x16xbf16>) {
  // expected-error @+1 {{'seq.gated_linear_attention' op v element type 'bf16' does not match q element type 'f32'}}
  %o = seq.gated_linear_attention %q, %q, %v : tensor<2x4x9x32xf32>, tensor<2x4x9x32xf32>, tensor<2x4x9x16xbf16> -> tensor<2x4x9x16xf32>
  return
}

// -----

// gated_linear_attention_c3
func.func @f(%q: tensor<2x4x9x32xf32>, %v: tensor<2x4x8x16xf32>) {
  // expected-error @+1 {{'seq.gated_linear_attention' op v sequence length (8) does not match q sequence length (9)}}
  %o = seq.gated_linear_attention %q, %q, %v : tensor<2x4x9x32xf32>, tensor<2x4x9x32xf32>, tensor<2x4x8x16xf32> -> tensor<2x4x9x16xf32>
  return
}

// -----

// gated_linear_attention_c4
func.func @f(%q: tensor<2x4x9x32xf32>, %v: tensor<2x4x9x16xf32>, %g: tensor<2x4xf32>) {
  // expected-error @+1 {{'seq.gated_linear_attention' op g must have rank 4 ([B, H, T, K], per key dim) or 3 ([B, H, T], scalar), got rank 2}}
  %o = seq.gated_linear_attention %q, %q, %v gate(%g : tensor<2x4xf32>) : tensor<2x4x9x32xf32>, tensor<2x4x9x32xf32>, tensor<2x4x9x16xf32> -> tensor<2x4x9x16xf32>
  return
}

// -----

// gated_linear_attention_c4
func.func @f(%q: tensor<2x4x9x32xf32>, %v: tensor<2x4x9x16xf32>, %g: tensor<2x4x9x16xf32>) {
  // expected-error @+1 {{'seq.gated_linear_attention' op g of type 'tensor<2x4x9x16xf32>' does not match the shape of k 'tensor<2x4x9x32xf32>'}}
  %o = seq.gated_linear_attention %q, %q, %v gate(%g : tensor<2x4x9x16xf32>) : tensor<2x4x9x32xf32>, tensor<2x4x9x32xf32>, tensor<2x4x9x16xf32> -> tensor<2x4x9x16xf32>
  return
}

// -----

// gated_linear_attention_c5
func.func @f(%q: tensor<2x4x9x32xf32>, %v: tensor<2x4x9x16xf32>, %s0: tensor<2x4x16x32xf32>) {
  // expected-error @+1 {{'seq.gated_linear_attention' op initial_state of type 'tensor<2x4x16x32xf32>' does not have the state shape [B, H, K, V] 'tensor<2x4x32x16xf32>'}}
  %o = seq.gated_linear_attention %q, %q, %v init(%s0 : tensor<2x4x16x32xf32>) : tensor<2x4x9x32xf32>, tensor<2x4x9x32xf32>, tensor<2x4x9x16xf32> -> tensor<2x4x9x16xf32>
  return
}

// -----

// gated_linear_attention_c6
func.func @f(%q: tensor<2x4x9x32xf32>, %v: tensor<2x4x9x16xf32>) {
  // expected-error @+1 {{'seq.gated_linear_attention' op scale must be finite, got NaN}}
  %o = seq.gated_linear_attention %q, %q, %v {scale = 0x7FC00000 : f32} : tensor<2x4x9x32xf32>, tensor<2x4x9x32xf32>, tensor<2x4x9x16xf32> -> tensor<2x4x9x16xf32>
  return
}

// -----

// gated_linear_attention_c7
func.func @f(%q: tensor<2x4x9x32xf32>, %v: tensor<2x4x9x16xf32>) {
  // expected-error @+1 {{'seq.gated_linear_attention' op o must have type 'tensor<2x4x9x16xf32>', got 'tensor<2x4x9x32xf32>'}}
  %o = seq.gated_linear_attention %q, %q, %v : tensor<2x4x9x32xf32>, tensor<2x4x9x32xf32>, tensor<2x4x9x16xf32> -> tensor<2x4x9x32xf32>
  return
}

// -----

// gated_linear_attention_c7
func.func @f(%q: tensor<2x4x9x32xf32>, %v: tensor<2x4x9x16xf32>) {
  // expected-error @+1 {{'seq.gated_linear_attention' op final_state must have type 'tensor<2x4x32x16xf32>', got 'tensor<2x4x16x32xf32>'}}
  %o, %s = seq.gated_linear_attention %q, %q, %v : tensor<2x4x9x32xf32>, tensor<2x4x9x32xf32>, tensor<2x4x9x16xf32> -> tensor<2x4x9x16xf32>, tensor<2x4x16x32xf32>
  return
}

// -----

// recurrence_c1
func.func @f(%x: tensor<6x4xf32>) {
  // expected-error @+1 {{'seq.recurrence' op needs at least one state and one input}}
  %y = "seq.recurrence"(%x) <{dim = 0 : i64, operandSegmentSizes = array<i32: 0, 1>}> ({
  ^bb0(%xt: tensor<4xf32>):
    seq.yield %xt : tensor<4xf32>
  }) : (tensor<6x4xf32>) -> (tensor<6x4xf32>)
  return
}

// -----

// recurrence_c2
func.func @f(%h0: tensor<4xf32>, %x: tensor<6x4xf32>) {
  // expected-error @+1 {{'seq.recurrence' op dim 2 is out of range for input #0 of rank 2}}
  %h = seq.recurrence init(%h0 : tensor<4xf32>) ins(%x : tensor<6x4xf32>) {dim = 2 : i64} -> tensor<4xf32> {
  ^bb0(%hp: tensor<4xf32>, %xt: tensor<4xf32>):
    seq.yield %hp : tensor<4xf32>
  }
  return
}

// -----

// recurrence_c2
func.func @f(%h0: tensor<4xf32>, %x: tensor<6x4xf32>, %g: tensor<5xf32>) {
  // expected-error @+1 {{'seq.recurrence' op input #1 has length 5 along dim 0, input #0 has length 6}}
  %h = seq.recurrence init(%h0 : tensor<4xf32>) ins(%x, %g : tensor<6x4xf32>, tensor<5xf32>) {dim = 0 : i64} -> tensor<4xf32> {
  ^bb0(%hp: tensor<4xf32>, %xt: tensor<4xf32>, %gt: tensor<f32>):
    seq.yield %hp : tensor<4xf32>
  }
  return
}

// -----

// recurrence_c3
func.func @f(%h0: tensor<4xf32>, %x: tensor<6x4xf32>) {
  // expected-error @+1 {{'seq.recurrence' op body must take 2 arguments (1 states, then 1 input slices), got 1}}
  %h = seq.recurrence init(%h0 : tensor<4xf32>) ins(%x : tensor<6x4xf32>) {dim = 0 : i64} -> tensor<4xf32> {
  ^bb0(%hp: tensor<4xf32>):
    seq.yield %hp : tensor<4xf32>
  }
  return
}

// -----

// recurrence_c3
func.func @f(%h0: tensor<4xf32>, %x: tensor<6x4xf32>) {
  // expected-error @+1 {{'seq.recurrence' op body argument #1 (slice of input #0) must have type 'tensor<4xf32>', got 'tensor<6xf32>'}}
  %h = seq.recurrence init(%h0 : tensor<4xf32>) ins(%x : tensor<6x4xf32>) {dim = 0 : i64} -> tensor<4xf32> {
  ^bb0(%hp: tensor<4xf32>, %xt: tensor<6xf32>):
    seq.yield %hp : tensor<4xf32>
  }
  return
}

// -----

// recurrence_c3
func.func @f(%h0: tensor<4xf32>, %x: tensor<6x4xf32>) {
  // expected-error @+1 {{'seq.recurrence' op body argument #0 (state) must have type 'tensor<4xf32>', got 'tensor<4xf16>'}}
  %h = seq.recurrence init(%h0 : tensor<4xf32>) ins(%x : tensor<6x4xf32>) {dim = 0 : i64} -> tensor<4xf32> {
  ^bb0(%hp: tensor<4xf16>, %xt: tensor<4xf32>):
    seq.yield %xt : tensor<4xf32>
  }
  return
}

// -----

// recurrence_c4
func.func @f(%h0: tensor<4xf32>, %c0: tensor<4xf32>, %x: tensor<6x4xf32>) {
  // expected-error @+1 {{'seq.recurrence' op body must yield the 2 new states first, got 1 values}}
  %h:2 = seq.recurrence init(%h0, %c0 : tensor<4xf32>, tensor<4xf32>) ins(%x : tensor<6x4xf32>) {dim = 0 : i64} -> tensor<4xf32>, tensor<4xf32> {
  ^bb0(%hp: tensor<4xf32>, %cp: tensor<4xf32>, %xt: tensor<4xf32>):
    seq.yield %hp : tensor<4xf32>
  }
  return
}

// -----

// recurrence_c4
func.func @f(%h0: tensor<4xf32>, %x: tensor<6x8xf32>) {
  // expected-error @+1 {{'seq.recurrence' op body result #0 (new state) must have type 'tensor<4xf32>', got 'tensor<8xf32>'}}
  %h = seq.recurrence init(%h0 : tensor<4xf32>) ins(%x : tensor<6x8xf32>) {dim = 0 : i64} -> tensor<4xf32> {
  ^bb0(%hp: tensor<4xf32>, %xt: tensor<8xf32>):
    seq.yield %xt : tensor<8xf32>
  }
  return
}

// -----

// recurrence_c4
func.func @f(%h0: tensor<4xf32>, %x: tensor<6x4xf32>) {
  // expected-error @+1 {{'seq.recurrence' op body must end with seq.yield}}
  %h = "seq.recurrence"(%h0, %x) <{dim = 0 : i64, operandSegmentSizes = array<i32: 1, 1>}> ({
  ^bb0(%hp: tensor<4xf32>, %xt: tensor<4xf32>):
    llvm.unreachable
  }) : (tensor<4xf32>, tensor<6x4xf32>) -> (tensor<4xf32>)
  return
}

// -----

// recurrence_c5
func.func @f(%h0: tensor<4xf32>, %x: tensor<6x4xf32>) {
  // expected-error @+1 {{'seq.recurrence' op expects 2 results (1 stacked outputs, then 1 final states), got 1}}
  %h = seq.recurrence init(%h0 : tensor<4xf32>) ins(%x : tensor<6x4xf32>) {dim = 0 : i64} -> tensor<4xf32> {
  ^bb0(%hp: tensor<4xf32>, %xt: tensor<4xf32>):
    seq.yield %hp, %hp : tensor<4xf32>, tensor<4xf32>
  }
  return
}

// -----

// recurrence_c5
func.func @f(%h0: tensor<4xf32>, %x: tensor<6x4xf32>) {
  // expected-error @+1 {{'seq.recurrence' op result #0 must have type 'tensor<6x4xf32>', got 'tensor<4x6xf32>'}}
  %y, %h = seq.recurrence init(%h0 : tensor<4xf32>) ins(%x : tensor<6x4xf32>) {dim = 0 : i64} -> tensor<4x6xf32>, tensor<4xf32> {
  ^bb0(%hp: tensor<4xf32>, %xt: tensor<4xf32>):
    seq.yield %hp, %hp : tensor<4xf32>, tensor<4xf32>
  }
  return
}

// -----

// recurrence_c5
func.func @f(%h0: tensor<4xf32>, %x: tensor<2x6x4xf32>, %s: tensor<f32>) {
  // expected-error @+1 {{'seq.recurrence' op body output #0 of type 'tensor<f32>' cannot be stacked along dim 1}}
  %y, %h = seq.recurrence init(%h0 : tensor<4xf32>) ins(%x : tensor<2x6x4xf32>) {dim = 1 : i64} -> tensor<6xf32>, tensor<4xf32> {
  ^bb0(%hp: tensor<4xf32>, %xt: tensor<2x4xf32>):
    seq.yield %hp, %s : tensor<4xf32>, tensor<f32>
  }
  return
}

// -----

// causal_conv1d_c1
func.func @f(%x: tensor<2x64xf32>, %w: tensor<64x4xf32>) {
  // expected-error @+1 {{'seq.causal_conv1d' op x must have rank 3 ([B, D, L]), got rank 2}}
  %y = seq.causal_conv1d %x, %w : tensor<2x64xf32>, tensor<64x4xf32> -> tensor<2x64xf32>
  return
}

// -----

// causal_conv1d_c2
func.func @f(%x: tensor<2x64x9xf32>, %w: tensor<32x4xf32>) {
  // expected-error @+1 {{'seq.causal_conv1d' op weight channels (32) does not match x channels (64)}}
  %y = seq.causal_conv1d %x, %w : tensor<2x64x9xf32>, tensor<32x4xf32> -> tensor<2x64x9xf32>
  return
}

// -----

// causal_conv1d_c3
func.func @f(%x: tensor<2x64x9xf32>, %w: tensor<64x0xf32>) {
  // expected-error @+1 {{'seq.causal_conv1d' op weight width must be at least 1, got 0}}
  %y = seq.causal_conv1d %x, %w : tensor<2x64x9xf32>, tensor<64x0xf32> -> tensor<2x64x9xf32>
  return
}

// -----

// causal_conv1d_c4
func.func @f(%x: tensor<2x64x9xf32>, %w: tensor<64x4xf32>, %b: tensor<32xf32>) {
  // expected-error @+1 {{'seq.causal_conv1d' op bias size (32) does not match x channel size (64)}}
  %y = seq.causal_conv1d %x, %w bias(%b : tensor<32xf32>) : tensor<2x64x9xf32>, tensor<64x4xf32> -> tensor<2x64x9xf32>
  return
}

// -----

// causal_conv1d_c5
func.func @f(%x: tensor<2x64x9xf32>, %w: tensor<64x4xf32>) {
  // expected-error @+1 {{'seq.causal_conv1d' op output must have type 'tensor<2x64x9xf32>', got 'tensor<2x64x12xf32>'}}
  %y = seq.causal_conv1d %x, %w : tensor<2x64x9xf32>, tensor<64x4xf32> -> tensor<2x64x12xf32>
  return
}

// -----

// rms_norm_c1
func.func @f(%x: tensor<f32>, %w: tensor<1xf32>) {
  // expected-error @+1 {{'seq.rms_norm' op x must have rank at least 1, got rank 0}}
  %y = seq.rms_norm %x, %w : tensor<f32>, tensor<1xf32> -> tensor<f32>
  return
}

// -----

// rms_norm_c2
func.func @f(%x: tensor<2x8x64xf32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{'seq.rms_norm' op weight size (8) does not match x last dim size (64)}}
  %y = seq.rms_norm %x, %w : tensor<2x8x64xf32>, tensor<8xf32> -> tensor<2x8x64xf32>
  return
}

// -----

// rms_norm_c3
func.func @f(%x: tensor<2x8x64xf32>, %w: tensor<64xf32>) {
  // expected-error @+1 {{'seq.rms_norm' op eps must be non-negative and finite, got -1}}
  %y = seq.rms_norm %x, %w {eps = -1.0 : f32} : tensor<2x8x64xf32>, tensor<64xf32> -> tensor<2x8x64xf32>
  return
}

// -----

// rms_norm_c4
func.func @f(%x: tensor<2x8x64xbf16>, %w: tensor<64xf32>) {
  // expected-error @+1 {{'seq.rms_norm' op output must have type 'tensor<2x8x64xbf16>', got 'tensor<2x8x64xf32>'}}
  %y = seq.rms_norm %x, %w : tensor<2x8x64xbf16>, tensor<64xf32> -> tensor<2x8x64xf32>
  return
}

// -----

// rope_c1
func.func @f(%x: tensor<8x5x64xf32>, %p: tensor<5xi32>) {
  // expected-error @+1 {{'seq.rope' op x must have rank 4 ([B, H, T, D]), got rank 3}}
  %y = seq.rope %x, %p : tensor<8x5x64xf32>, tensor<5xi32> -> tensor<8x5x64xf32>
  return
}

// -----

// rope_c2
func.func @f(%x: tensor<1x8x5x63xf32>, %p: tensor<5xi32>) {
  // expected-error @+1 {{'seq.rope' op x head dim (63) must be even}}
  %y = seq.rope %x, %p : tensor<1x8x5x63xf32>, tensor<5xi32> -> tensor<1x8x5x63xf32>
  return
}

// -----

// rope_c3
func.func @f(%x: tensor<1x8x5x64xf32>, %p: tensor<6xi32>) {
  // expected-error @+1 {{'seq.rope' op positions length (6) does not match x sequence length (5)}}
  %y = seq.rope %x, %p : tensor<1x8x5x64xf32>, tensor<6xi32> -> tensor<1x8x5x64xf32>
  return
}

// -----

// rope_c3
func.func @f(%x: tensor<1x8x5x64xf32>, %p: tensor<2x5xi32>) {
  // expected-error @+1 {{'seq.rope' op positions batch size (2) does not match x batch size (1)}}
  %y = seq.rope %x, %p : tensor<1x8x5x64xf32>, tensor<2x5xi32> -> tensor<1x8x5x64xf32>
  return
}

// -----

// rope_c3
func.func @f(%x: tensor<1x8x5x64xf32>, %p: tensor<1x1x5xi32>) {
  // expected-error @+1 {{'seq.rope' op positions must have rank 1 ([T]) or 2 ([B, T]), got rank 3}}
  %y = seq.rope %x, %p : tensor<1x8x5x64xf32>, tensor<1x1x5xi32> -> tensor<1x8x5x64xf32>
  return
}

// -----

// rope_c4
func.func @f(%x: tensor<1x8x5x64xf32>, %p: tensor<5xi32>) {
  // expected-error @+1 {{'seq.rope' op theta must be positive and finite, got -10000}}
  %y = seq.rope %x, %p {theta = -10000.0 : f32} : tensor<1x8x5x64xf32>, tensor<5xi32> -> tensor<1x8x5x64xf32>
  return
}

// -----

// rope_c5
func.func @f(%x: tensor<1x8x5x64xf32>, %p: tensor<5xi32>) {
  // expected-error @+1 {{'seq.rope' op output must have type 'tensor<1x8x5x64xf32>', got 'tensor<1x8x64x5xf32>'}}
  %y = seq.rope %x, %p : tensor<1x8x5x64xf32>, tensor<5xi32> -> tensor<1x8x64x5xf32>
  return
}

// -----

// yield_c1
func.func @f(%x: f32) {
  // expected-error @+1 {{'seq.yield' op expects parent op to be one of 'seq.scan, seq.recurrence'}}
  seq.yield %x : f32
}

// -----

// in_place_c1
// expected-error @+1 {{'seq.in_place' must be an integer attribute on a function result, got "cache"}}
func.func @f(%c: tensor<4xf32>) -> (tensor<4xf32> {seq.in_place = "cache"}) {
  return %c : tensor<4xf32>
}

// -----

// expected-error @+1 {{unknown seq result attribute 'seq.inplace' (seq defines 'seq.in_place')}}
func.func @f(%c: tensor<4xf32>) -> (tensor<4xf32> {seq.inplace = 0 : i64}) {
  return %c : tensor<4xf32>
}

// -----

// in_place_c2
// expected-error @+1 {{result #0 is in place into argument #2, but the function has 1 arguments}}
func.func @f(%c: tensor<4xf32>) -> (tensor<4xf32> {seq.in_place = 2 : i64}) {
  return %c : tensor<4xf32>
}

// -----

// in_place_c3
// expected-error @+1 {{result #1 has type 'tensor<4xf32>' but is in place into argument #0 of type 'tensor<8xf32>'}}
func.func @f(%c: tensor<8xf32>, %d: tensor<4xf32>) -> (tensor<8xf32>, tensor<4xf32> {seq.in_place = 0 : i64}) {
  return %c, %d : tensor<8xf32>, tensor<4xf32>
}

// -----

// in_place_c4
// expected-error @+1 {{results #0 and #1 are both in place into argument #0}}
func.func @f(%c: tensor<4xf32>) -> (tensor<4xf32> {seq.in_place = 0 : i64}, tensor<4xf32> {seq.in_place = 0 : i64}) {
  return %c, %c : tensor<4xf32>, tensor<4xf32>
}
