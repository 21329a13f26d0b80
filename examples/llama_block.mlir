// Llama-style decoder block (pre-norm attention + SwiGLU MLP), f32.
//
//   h    = rms_norm(x, attn_norm_w)                         eps = 1e-5
//   q    = rope(h·Wq), k = rope(h·Wk), v = h·Wv             theta = 500000
//   attn = causal softmax attention, GQA 8 query heads : 2 kv heads
//   x1   = x + attn·Wo
//   h2   = rms_norm(x1, ffn_norm_w)
//   out  = x1 + (silu(h2·W1) * (h2·W3))·W2
//
// Shapes: B = 1, T = 32, Dmodel = 256, Hq = 8, Hkv = 2, head dim D = 32,
// FFN hidden = 688.
//   %x          tensor<1x32x256xf32>   [B, T, Dmodel]
//   %positions  tensor<32xi32>         [T] rotary positions
// Weights (function arguments, stored [in, out] so that y = x·W):
//   %attn_norm_w  tensor<256xf32>
//   %wq           tensor<256x256xf32>  Dmodel -> Hq*D
//   %wk           tensor<256x64xf32>   Dmodel -> Hkv*D
//   %wv           tensor<256x64xf32>   Dmodel -> Hkv*D
//   %wo           tensor<256x256xf32>  Hq*D -> Dmodel
//   %ffn_norm_w   tensor<256xf32>
//   %w1           tensor<256x688xf32>  gate projection
//   %w3           tensor<256x688xf32>  up projection
//   %w2           tensor<688x256xf32>  down projection
// Result: tensor<1x32x256xf32> [B, T, Dmodel].

#map_id2 = affine_map<(d0, d1) -> (d0, d1)>

func.func @llama_block(%x: tensor<1x32x256xf32>, %positions: tensor<32xi32>,
                       %attn_norm_w: tensor<256xf32>,
                       %wq: tensor<256x256xf32>, %wk: tensor<256x64xf32>,
                       %wv: tensor<256x64xf32>, %wo: tensor<256x256xf32>,
                       %ffn_norm_w: tensor<256xf32>,
                       %w1: tensor<256x688xf32>, %w3: tensor<256x688xf32>,
                       %w2: tensor<688x256xf32>) -> tensor<1x32x256xf32> {
  %zero = arith.constant 0.0 : f32

  // ---- Attention ---------------------------------------------------------
  %h = seq.rms_norm %x, %attn_norm_w {eps = 1.0e-5 : f32}
      : tensor<1x32x256xf32>, tensor<256xf32> -> tensor<1x32x256xf32>
  %h_2d = tensor.collapse_shape %h [[0, 1], [2]]
      : tensor<1x32x256xf32> into tensor<32x256xf32>

  // q/k/v projections on the [B*T, Dmodel] matrix.
  %q_empty = tensor.empty() : tensor<32x256xf32>
  %q_init = linalg.fill ins(%zero : f32) outs(%q_empty : tensor<32x256xf32>) -> tensor<32x256xf32>
  %q_2d = linalg.matmul ins(%h_2d, %wq : tensor<32x256xf32>, tensor<256x256xf32>)
      outs(%q_init : tensor<32x256xf32>) -> tensor<32x256xf32>

  %kv_empty = tensor.empty() : tensor<32x64xf32>
  %kv_init = linalg.fill ins(%zero : f32) outs(%kv_empty : tensor<32x64xf32>) -> tensor<32x64xf32>
  %k_2d = linalg.matmul ins(%h_2d, %wk : tensor<32x256xf32>, tensor<256x64xf32>)
      outs(%kv_init : tensor<32x64xf32>) -> tensor<32x64xf32>
  %v_2d = linalg.matmul ins(%h_2d, %wv : tensor<32x256xf32>, tensor<256x64xf32>)
      outs(%kv_init : tensor<32x64xf32>) -> tensor<32x64xf32>

  // [B*T, H*D] -> [B, T, H, D] -> [B, H, T, D].
  %q_bthd = tensor.expand_shape %q_2d [[0, 1], [2, 3]] output_shape [1, 32, 8, 32]
      : tensor<32x256xf32> into tensor<1x32x8x32xf32>
  %k_bthd = tensor.expand_shape %k_2d [[0, 1], [2, 3]] output_shape [1, 32, 2, 32]
      : tensor<32x64xf32> into tensor<1x32x2x32xf32>
  %v_bthd = tensor.expand_shape %v_2d [[0, 1], [2, 3]] output_shape [1, 32, 2, 32]
      : tensor<32x64xf32> into tensor<1x32x2x32xf32>

  %q_t_init = tensor.empty() : tensor<1x8x32x32xf32>
  %q_bhtd = linalg.transpose ins(%q_bthd : tensor<1x32x8x32xf32>)
      outs(%q_t_init : tensor<1x8x32x32xf32>) permutation = [0, 2, 1, 3]
  %kv_t_init = tensor.empty() : tensor<1x2x32x32xf32>
  %k_bhtd = linalg.transpose ins(%k_bthd : tensor<1x32x2x32xf32>)
      outs(%kv_t_init : tensor<1x2x32x32xf32>) permutation = [0, 2, 1, 3]
  %v_bhtd = linalg.transpose ins(%v_bthd : tensor<1x32x2x32xf32>)
      outs(%kv_t_init : tensor<1x2x32x32xf32>) permutation = [0, 2, 1, 3]

  // Rotary embeddings on q and k.
  %q_rot = seq.rope %q_bhtd, %positions {theta = 500000.0 : f32}
      : tensor<1x8x32x32xf32>, tensor<32xi32> -> tensor<1x8x32x32xf32>
  %k_rot = seq.rope %k_bhtd, %positions {theta = 500000.0 : f32}
      : tensor<1x2x32x32xf32>, tensor<32xi32> -> tensor<1x2x32x32xf32>

  // Causal GQA attention (scale = 1/sqrt(32)).
  %attn = seq.attention %q_rot, %k_rot, %v_bhtd {causal}
      : tensor<1x8x32x32xf32>, tensor<1x2x32x32xf32>, tensor<1x2x32x32xf32>
      -> tensor<1x8x32x32xf32>

  // [B, H, T, D] -> [B, T, H, D] -> [B*T, H*D].
  %attn_t_init = tensor.empty() : tensor<1x32x8x32xf32>
  %attn_bthd = linalg.transpose ins(%attn : tensor<1x8x32x32xf32>)
      outs(%attn_t_init : tensor<1x32x8x32xf32>) permutation = [0, 2, 1, 3]
  %attn_2d = tensor.collapse_shape %attn_bthd [[0, 1], [2, 3]]
      : tensor<1x32x8x32xf32> into tensor<32x256xf32>

  // Output projection and residual.
  %o_empty = tensor.empty() : tensor<32x256xf32>
  %o_init = linalg.fill ins(%zero : f32) outs(%o_empty : tensor<32x256xf32>) -> tensor<32x256xf32>
  %attn_out_2d = linalg.matmul ins(%attn_2d, %wo : tensor<32x256xf32>, tensor<256x256xf32>)
      outs(%o_init : tensor<32x256xf32>) -> tensor<32x256xf32>
  %attn_out = tensor.expand_shape %attn_out_2d [[0, 1], [2]] output_shape [1, 32, 256]
      : tensor<32x256xf32> into tensor<1x32x256xf32>
  %res1_empty = tensor.empty() : tensor<1x32x256xf32>
  %x1 = linalg.add ins(%x, %attn_out : tensor<1x32x256xf32>, tensor<1x32x256xf32>)
      outs(%res1_empty : tensor<1x32x256xf32>) -> tensor<1x32x256xf32>

  // ---- SwiGLU MLP --------------------------------------------------------
  %h2 = seq.rms_norm %x1, %ffn_norm_w {eps = 1.0e-5 : f32}
      : tensor<1x32x256xf32>, tensor<256xf32> -> tensor<1x32x256xf32>
  %h2_2d = tensor.collapse_shape %h2 [[0, 1], [2]]
      : tensor<1x32x256xf32> into tensor<32x256xf32>

  %ffn_empty = tensor.empty() : tensor<32x688xf32>
  %ffn_init = linalg.fill ins(%zero : f32) outs(%ffn_empty : tensor<32x688xf32>) -> tensor<32x688xf32>
  %gate = linalg.matmul ins(%h2_2d, %w1 : tensor<32x256xf32>, tensor<256x688xf32>)
      outs(%ffn_init : tensor<32x688xf32>) -> tensor<32x688xf32>
  %up = linalg.matmul ins(%h2_2d, %w3 : tensor<32x256xf32>, tensor<256x688xf32>)
      outs(%ffn_init : tensor<32x688xf32>) -> tensor<32x688xf32>

  // act = silu(gate) * up, silu(g) = g / (1 + exp(-g)).
  %act_empty = tensor.empty() : tensor<32x688xf32>
  %act = linalg.generic
      {indexing_maps = [#map_id2, #map_id2, #map_id2],
       iterator_types = ["parallel", "parallel"]}
      ins(%gate, %up : tensor<32x688xf32>, tensor<32x688xf32>)
      outs(%act_empty : tensor<32x688xf32>) {
  ^bb0(%g: f32, %u: f32, %out: f32):
    %one = arith.constant 1.0 : f32
    %neg_g = arith.negf %g : f32
    %exp_neg_g = math.exp %neg_g : f32
    %denom = arith.addf %one, %exp_neg_g : f32
    %silu_g = arith.divf %g, %denom : f32
    %prod = arith.mulf %silu_g, %u : f32
    linalg.yield %prod : f32
  } -> tensor<32x688xf32>

  %down_empty = tensor.empty() : tensor<32x256xf32>
  %down_init = linalg.fill ins(%zero : f32) outs(%down_empty : tensor<32x256xf32>) -> tensor<32x256xf32>
  %down_2d = linalg.matmul ins(%act, %w2 : tensor<32x688xf32>, tensor<688x256xf32>)
      outs(%down_init : tensor<32x256xf32>) -> tensor<32x256xf32>
  %down = tensor.expand_shape %down_2d [[0, 1], [2]] output_shape [1, 32, 256]
      : tensor<32x256xf32> into tensor<1x32x256xf32>

  %res2_empty = tensor.empty() : tensor<1x32x256xf32>
  %out = linalg.add ins(%x1, %down : tensor<1x32x256xf32>, tensor<1x32x256xf32>)
      outs(%res2_empty : tensor<1x32x256xf32>) -> tensor<1x32x256xf32>
  return %out : tensor<1x32x256xf32>
}
