// Gated linear attention (GLA) block (pre-norm, residual), f32:
//
//   h   = rms_norm(x, norm_w)                                 eps = 1e-5
//   q   = h·Wq, k = h·Wk, v = h·Wv                            4 heads, K = V = 32
//   g   = logsigmoid(h·Wg)                                    per-key-dim log decay
//   o   = gated_linear_attention(q, k, v, gate = g)           scale = 1/sqrt(K)
//         (S_t = diag(exp(g_t))·S_{t-1} + k_tᵀ·v_t, o_t = scale·q_t·S_t)
//   o   = o * silu(h·Wr)                                      output gate, on [B, T, H*V]
//   out = x + o·Wo
//
// logsigmoid(a) = -log(1 + exp(-a)) is computed in the overflow-free form
// min(a, 0) - log(1 + exp(-|a|)); silu(a) = a / (1 + exp(-a)).
//
// Shapes: B = 1, T = 64, Dmodel = 128, H = 4, K = V = 32.
//   %x       tensor<1x64x128xf32>   [B, T, Dmodel]
// Weights (function arguments, stored [in, out] so that y = x·W):
//   %norm_w  tensor<128xf32>
//   %wq      tensor<128x128xf32>    Dmodel -> H*K
//   %wk      tensor<128x128xf32>    Dmodel -> H*K
//   %wv      tensor<128x128xf32>    Dmodel -> H*V
//   %wg      tensor<128x128xf32>    Dmodel -> H*K (gate logits)
//   %wr      tensor<128x128xf32>    Dmodel -> H*V (output gate)
//   %wo      tensor<128x128xf32>    H*V -> Dmodel
// Result: tensor<1x64x128xf32> [B, T, Dmodel].

#map_id2 = affine_map<(d0, d1) -> (d0, d1)>

func.func @gla_block(%x: tensor<1x64x128xf32>, %norm_w: tensor<128xf32>,
                     %wq: tensor<128x128xf32>, %wk: tensor<128x128xf32>,
                     %wv: tensor<128x128xf32>, %wg: tensor<128x128xf32>,
                     %wr: tensor<128x128xf32>, %wo: tensor<128x128xf32>)
    -> tensor<1x64x128xf32> {
  %zero = arith.constant 0.0 : f32

  // ---- Norm and projections ----------------------------------------------
  %h = seq.rms_norm %x, %norm_w {eps = 1.0e-5 : f32}
      : tensor<1x64x128xf32>, tensor<128xf32> -> tensor<1x64x128xf32>
  %h_2d = tensor.collapse_shape %h [[0, 1], [2]]
      : tensor<1x64x128xf32> into tensor<64x128xf32>

  %proj_empty = tensor.empty() : tensor<64x128xf32>
  %proj_init = linalg.fill ins(%zero : f32) outs(%proj_empty : tensor<64x128xf32>) -> tensor<64x128xf32>
  %q_2d = linalg.matmul ins(%h_2d, %wq : tensor<64x128xf32>, tensor<128x128xf32>)
      outs(%proj_init : tensor<64x128xf32>) -> tensor<64x128xf32>
  %k_2d = linalg.matmul ins(%h_2d, %wk : tensor<64x128xf32>, tensor<128x128xf32>)
      outs(%proj_init : tensor<64x128xf32>) -> tensor<64x128xf32>
  %v_2d = linalg.matmul ins(%h_2d, %wv : tensor<64x128xf32>, tensor<128x128xf32>)
      outs(%proj_init : tensor<64x128xf32>) -> tensor<64x128xf32>
  %g_logits = linalg.matmul ins(%h_2d, %wg : tensor<64x128xf32>, tensor<128x128xf32>)
      outs(%proj_init : tensor<64x128xf32>) -> tensor<64x128xf32>
  %r_2d = linalg.matmul ins(%h_2d, %wr : tensor<64x128xf32>, tensor<128x128xf32>)
      outs(%proj_init : tensor<64x128xf32>) -> tensor<64x128xf32>

  // g = logsigmoid(g_logits) = min(a, 0) - log(1 + exp(-|a|)).
  %g_empty = tensor.empty() : tensor<64x128xf32>
  %g_2d = linalg.generic
      {indexing_maps = [#map_id2, #map_id2],
       iterator_types = ["parallel", "parallel"]}
      ins(%g_logits : tensor<64x128xf32>)
      outs(%g_empty : tensor<64x128xf32>) {
  ^bb0(%a: f32, %out: f32):
    %c0 = arith.constant 0.0 : f32
    %c1 = arith.constant 1.0 : f32
    %abs_a = math.absf %a : f32
    %neg_abs_a = arith.negf %abs_a : f32
    %exp_neg = math.exp %neg_abs_a : f32
    %one_plus = arith.addf %c1, %exp_neg : f32
    %softplus_tail = math.log %one_plus : f32
    %min_a = arith.minimumf %a, %c0 : f32
    %log_sig = arith.subf %min_a, %softplus_tail : f32
    linalg.yield %log_sig : f32
  } -> tensor<64x128xf32>

  // [B*T, H*K] -> [B, T, H, K] -> [B, H, T, K].
  %q_bthk = tensor.expand_shape %q_2d [[0, 1], [2, 3]] output_shape [1, 64, 4, 32]
      : tensor<64x128xf32> into tensor<1x64x4x32xf32>
  %k_bthk = tensor.expand_shape %k_2d [[0, 1], [2, 3]] output_shape [1, 64, 4, 32]
      : tensor<64x128xf32> into tensor<1x64x4x32xf32>
  %v_bthk = tensor.expand_shape %v_2d [[0, 1], [2, 3]] output_shape [1, 64, 4, 32]
      : tensor<64x128xf32> into tensor<1x64x4x32xf32>
  %g_bthk = tensor.expand_shape %g_2d [[0, 1], [2, 3]] output_shape [1, 64, 4, 32]
      : tensor<64x128xf32> into tensor<1x64x4x32xf32>
  %bhtk_empty = tensor.empty() : tensor<1x4x64x32xf32>
  %q = linalg.transpose ins(%q_bthk : tensor<1x64x4x32xf32>)
      outs(%bhtk_empty : tensor<1x4x64x32xf32>) permutation = [0, 2, 1, 3]
  %k = linalg.transpose ins(%k_bthk : tensor<1x64x4x32xf32>)
      outs(%bhtk_empty : tensor<1x4x64x32xf32>) permutation = [0, 2, 1, 3]
  %v = linalg.transpose ins(%v_bthk : tensor<1x64x4x32xf32>)
      outs(%bhtk_empty : tensor<1x4x64x32xf32>) permutation = [0, 2, 1, 3]
  %g = linalg.transpose ins(%g_bthk : tensor<1x64x4x32xf32>)
      outs(%bhtk_empty : tensor<1x4x64x32xf32>) permutation = [0, 2, 1, 3]

  // ---- Gated linear attention --------------------------------------------
  %o = seq.gated_linear_attention %q, %k, %v gate(%g : tensor<1x4x64x32xf32>)
      : tensor<1x4x64x32xf32>, tensor<1x4x64x32xf32>, tensor<1x4x64x32xf32>
      -> tensor<1x4x64x32xf32>

  // [B, H, T, V] -> [B, T, H, V] -> [B*T, H*V].
  %bthv_empty = tensor.empty() : tensor<1x64x4x32xf32>
  %o_bthv = linalg.transpose ins(%o : tensor<1x4x64x32xf32>)
      outs(%bthv_empty : tensor<1x64x4x32xf32>) permutation = [0, 2, 1, 3]
  %o_2d = tensor.collapse_shape %o_bthv [[0, 1], [2, 3]]
      : tensor<1x64x4x32xf32> into tensor<64x128xf32>

  // Output gate: o * silu(r), silu(r) = r / (1 + exp(-r)).
  %gated_empty = tensor.empty() : tensor<64x128xf32>
  %o_gated = linalg.generic
      {indexing_maps = [#map_id2, #map_id2, #map_id2],
       iterator_types = ["parallel", "parallel"]}
      ins(%o_2d, %r_2d : tensor<64x128xf32>, tensor<64x128xf32>)
      outs(%gated_empty : tensor<64x128xf32>) {
  ^bb0(%o_el: f32, %r_el: f32, %out: f32):
    %c1 = arith.constant 1.0 : f32
    %neg_r = arith.negf %r_el : f32
    %exp_neg_r = math.exp %neg_r : f32
    %denom = arith.addf %c1, %exp_neg_r : f32
    %silu_r = arith.divf %r_el, %denom : f32
    %prod = arith.mulf %o_el, %silu_r : f32
    linalg.yield %prod : f32
  } -> tensor<64x128xf32>

  // ---- Output projection and residual -------------------------------------
  %out_init = linalg.fill ins(%zero : f32) outs(%proj_empty : tensor<64x128xf32>) -> tensor<64x128xf32>
  %y_2d = linalg.matmul ins(%o_gated, %wo : tensor<64x128xf32>, tensor<128x128xf32>)
      outs(%out_init : tensor<64x128xf32>) -> tensor<64x128xf32>
  %y = tensor.expand_shape %y_2d [[0, 1], [2]] output_shape [1, 64, 128]
      : tensor<64x128xf32> into tensor<1x64x128xf32>
  %res_empty = tensor.empty() : tensor<1x64x128xf32>
  %out = linalg.add ins(%x, %y : tensor<1x64x128xf32>, tensor<1x64x128xf32>)
      outs(%res_empty : tensor<1x64x128xf32>) -> tensor<1x64x128xf32>
  return %out : tensor<1x64x128xf32>
}
