// Every seq op (and option) with static shapes: the input of the CUDA
// pipeline's compile-only checks (a copy of test/Dialect/Seq/ops.mlir
// without its dynamic-shape functions).
func.func @attention_plain(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32> {
  %o = seq.attention %q, %k, %v : tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32> -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

func.func @attention_gqa_all_options(%q: tensor<2x8x3x64xbf16>, %k: tensor<2x2x40x64xbf16>, %v: tensor<2x2x40x32xbf16>,
                                     %len: tensor<2xi32>, %qs: tensor<2x3xi64>, %ks: tensor<2x40xi64>)
    -> (tensor<2x8x3x32xbf16>, tensor<2x8x3xf32>) {
  %o, %lse = seq.attention %q, %k, %v kv_lengths(%len : tensor<2xi32>) q_segment_ids(%qs : tensor<2x3xi64>) kv_segment_ids(%ks : tensor<2x40xi64>)
      {causal, window = array<i64: 16, 0>, scale = 0.25 : f32, softcap = 50.0 : f32}
      : tensor<2x8x3x64xbf16>, tensor<2x2x40x64xbf16>, tensor<2x2x40x32xbf16> -> tensor<2x8x3x32xbf16>, tensor<2x8x3xf32>
  return %o, %lse : tensor<2x8x3x32xbf16>, tensor<2x8x3xf32>
}

func.func @scan_add(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %y, %c = seq.scan ins(%x : tensor<4x16xf32>) {dim = 1 : i64} -> tensor<4x16xf32>, tensor<4xf32> {
  ^bb0(%l: f32, %r: f32):
    %s = arith.addf %l, %r : f32
    seq.yield %s : f32
  }
  return %y : tensor<4x16xf32>
}

func.func @scan_exclusive_reverse_init(%x: tensor<3x5xi32>, %y: tensor<3x5xf16>, %x0: tensor<5xi32>, %y0: tensor<5xf16>) -> tensor<3x5xf16> {
  %r:4 = seq.scan ins(%x, %y : tensor<3x5xi32>, tensor<3x5xf16>) init(%x0, %y0 : tensor<5xi32>, tensor<5xf16>) {dim = 0 : i64, reverse, exclusive}
      -> tensor<3x5xi32>, tensor<3x5xf16>, tensor<5xi32>, tensor<5xf16> {
  ^bb0(%l0: i32, %l1: f16, %r0: i32, %r1: f16):
    %m = arith.maxsi %l0, %r0 : i32
    %s = arith.addf %l1, %r1 : f16
    seq.yield %m, %s : i32, f16
  }
  return %r#1 : tensor<3x5xf16>
}

func.func @linear_recurrence(%a: tensor<2x3x7xf32>, %b: tensor<2x3x7xf32>, %c: tensor<2x3x7xbf16>, %h0: tensor<2x7xbf16>)
    -> (tensor<2x3x7xf32>, tensor<2x7xbf16>) {
  %h, %last = seq.linear_recurrence %a, %b {dim = 2 : i64} : tensor<2x3x7xf32>, tensor<2x3x7xf32> -> tensor<2x3x7xf32>, tensor<2x3xf32>
  %h2, %last2 = seq.linear_recurrence %c, %c init(%h0 : tensor<2x7xbf16>) {dim = 1 : i64, reverse}
      : tensor<2x3x7xbf16>, tensor<2x3x7xbf16> -> tensor<2x3x7xbf16>, tensor<2x7xbf16>
  return %h, %last2 : tensor<2x3x7xf32>, tensor<2x7xbf16>
}

func.func @selective_scan(%u: tensor<2x64x33xf32>, %dt: tensor<2x64x33xf32>, %A: tensor<64x16xf32>, %B: tensor<2x1x16x33xf32>,
                          %C: tensor<2x1x16x33xf32>, %D: tensor<64xf32>, %z: tensor<2x64x33xf32>, %db: tensor<64xf32>)
    -> (tensor<2x64x33xf32>, tensor<2x64x16xf32>) {
  %y0 = seq.selective_scan %u, %dt, %A, %B, %C
      : tensor<2x64x33xf32>, tensor<2x64x33xf32>, tensor<64x16xf32>, tensor<2x1x16x33xf32>, tensor<2x1x16x33xf32> -> tensor<2x64x33xf32>
  %y, %s = seq.selective_scan %y0, %dt, %A, %B, %C D(%D : tensor<64xf32>) z(%z : tensor<2x64x33xf32>) delta_bias(%db : tensor<64xf32>) {delta_softplus}
      : tensor<2x64x33xf32>, tensor<2x64x33xf32>, tensor<64x16xf32>, tensor<2x1x16x33xf32>, tensor<2x1x16x33xf32>
      -> tensor<2x64x33xf32>, tensor<2x64x16xf32>
  return %y, %s : tensor<2x64x33xf32>, tensor<2x64x16xf32>
}

func.func @gated_linear_attention(%q: tensor<2x4x9x32xbf16>, %k: tensor<2x4x9x32xbf16>, %v: tensor<2x4x9x16xbf16>,
                                  %g: tensor<2x4x9x32xf32>, %gs: tensor<2x4x9xf32>, %s0: tensor<2x4x32x16xf32>)
    -> (tensor<2x4x9x16xbf16>, tensor<2x4x32x16xf32>, tensor<2x4x9x16xbf16>) {
  %o0 = seq.gated_linear_attention %q, %k, %v
      : tensor<2x4x9x32xbf16>, tensor<2x4x9x32xbf16>, tensor<2x4x9x16xbf16> -> tensor<2x4x9x16xbf16>
  %o, %s = seq.gated_linear_attention %q, %k, %o0 gate(%g : tensor<2x4x9x32xf32>) init(%s0 : tensor<2x4x32x16xf32>) {scale = 1.0 : f32}
      : tensor<2x4x9x32xbf16>, tensor<2x4x9x32xbf16>, tensor<2x4x9x16xbf16> -> tensor<2x4x9x16xbf16>, tensor<2x4x32x16xf32>
  %o2 = seq.gated_linear_attention %q, %k, %v gate(%gs : tensor<2x4x9xf32>)
      : tensor<2x4x9x32xbf16>, tensor<2x4x9x32xbf16>, tensor<2x4x9x16xbf16> -> tensor<2x4x9x16xbf16>
  return %o, %s, %o2 : tensor<2x4x9x16xbf16>, tensor<2x4x32x16xf32>, tensor<2x4x9x16xbf16>
}

func.func @recurrence_rnn(%h0: tensor<2x32xf32>, %x: tensor<2x10x16xf32>, %w: tensor<16x32xf32>, %u: tensor<32x32xf32>)
    -> (tensor<2x10x32xf32>, tensor<2x32xf32>) {
  %ys, %h = seq.recurrence init(%h0 : tensor<2x32xf32>) ins(%x : tensor<2x10x16xf32>) {dim = 1 : i64, reverse}
      -> tensor<2x10x32xf32>, tensor<2x32xf32> {
  ^bb0(%hp: tensor<2x32xf32>, %xt: tensor<2x16xf32>):
    %z = tensor.empty() : tensor<2x32xf32>
    %xw = linalg.matmul ins(%xt, %w : tensor<2x16xf32>, tensor<16x32xf32>) outs(%z : tensor<2x32xf32>) -> tensor<2x32xf32>
    %hu = linalg.matmul ins(%hp, %u : tensor<2x32xf32>, tensor<32x32xf32>) outs(%xw : tensor<2x32xf32>) -> tensor<2x32xf32>
    %hn = math.tanh %hu : tensor<2x32xf32>
    seq.yield %hn, %hn : tensor<2x32xf32>, tensor<2x32xf32>
  }
  return %ys, %h : tensor<2x10x32xf32>, tensor<2x32xf32>
}

func.func @recurrence_two_states_no_outputs(%h0: tensor<4xf32>, %c0: tensor<4xf32>, %x: tensor<6x4xf32>, %g: tensor<6xf32>) -> tensor<4xf32> {
  %h, %c = seq.recurrence init(%h0, %c0 : tensor<4xf32>, tensor<4xf32>) ins(%x, %g : tensor<6x4xf32>, tensor<6xf32>) {dim = 0 : i64}
      -> tensor<4xf32>, tensor<4xf32> {
  ^bb0(%hp: tensor<4xf32>, %cp: tensor<4xf32>, %xt: tensor<4xf32>, %gt: tensor<f32>):
    %cn = arith.addf %cp, %xt : tensor<4xf32>
    %hn = math.tanh %cn : tensor<4xf32>
    seq.yield %hn, %cn : tensor<4xf32>, tensor<4xf32>
  }
  return %h : tensor<4xf32>
}

func.func @layer_helpers(%x: tensor<2x64x33xbf16>, %w: tensor<64x4xbf16>, %b: tensor<64xf32>, %nw: tensor<33xf32>,
                         %r: tensor<1x8x5x64xf16>, %p: tensor<5xi32>, %pb: tensor<1x5xi64>)
    -> (tensor<2x64x33xbf16>, tensor<1x8x5x64xf16>) {
  %c0 = seq.causal_conv1d %x, %w : tensor<2x64x33xbf16>, tensor<64x4xbf16> -> tensor<2x64x33xbf16>
  %c1 = seq.causal_conv1d %c0, %w bias(%b : tensor<64xf32>) {silu} : tensor<2x64x33xbf16>, tensor<64x4xbf16> -> tensor<2x64x33xbf16>
  %n0 = seq.rms_norm %c1, %nw : tensor<2x64x33xbf16>, tensor<33xf32> -> tensor<2x64x33xbf16>
  %n1 = seq.rms_norm %n0, %nw {eps = 1.0e-5 : f32} : tensor<2x64x33xbf16>, tensor<33xf32> -> tensor<2x64x33xbf16>
  %r0 = seq.rope %r, %p : tensor<1x8x5x64xf16>, tensor<5xi32> -> tensor<1x8x5x64xf16>
  %r1 = seq.rope %r0, %pb {theta = 500000.0 : f32, interleaved} : tensor<1x8x5x64xf16>, tensor<1x5xi64> -> tensor<1x8x5x64xf16>
  return %n1, %r1 : tensor<2x64x33xbf16>, tensor<1x8x5x64xf16>
}
