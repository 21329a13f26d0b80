// Llama-style decoder block (pre-norm attention + SwiGLU MLP), f32, with
// its attention unfused (matmul, scale, mask, softmax, matmul) as frontends
// emit it; seqc raises it to seq.attention. Same semantics and shapes as
// llama_block.mlir.
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

func.func @llama_block_unfused(%x: tensor<1x32x256xf32>, %positions: tensor<32xi32>,
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

  // Causal GQA attention written out as frontends emit it (seq-raise-
  // attention turns it into one seq.attention): K and V repeated over the 4
  // query heads of each kv head, heads folded into the batch, scores
  // Q·Kᵀ·(1/sqrt(32)) plus a causal mask generated from indices, softmax,
  // then ·V.
  %kv_rep_init = tensor.empty() : tensor<1x2x4x32x32xf32>
  %k_rep = linalg.broadcast ins(%k_rot : tensor<1x2x32x32xf32>)
      outs(%kv_rep_init : tensor<1x2x4x32x32xf32>) dimensions = [2]
  %v_rep = linalg.broadcast ins(%v_bhtd : tensor<1x2x32x32xf32>)
      outs(%kv_rep_init : tensor<1x2x4x32x32xf32>) dimensions = [2]
  %q3 = tensor.collapse_shape %q_rot [[0, 1], [2], [3]]
      : tensor<1x8x32x32xf32> into tensor<8x32x32xf32>
  %k3 = tensor.collapse_shape %k_rep [[0, 1, 2], [3], [4]]
      : tensor<1x2x4x32x32xf32> into tensor<8x32x32xf32>
  %v3 = tensor.collapse_shape %v_rep [[0, 1, 2], [3], [4]]
      : tensor<1x2x4x32x32xf32> into tensor<8x32x32xf32>
  %sq_empty = tensor.empty() : tensor<8x32x32xf32>
  %k3_t = linalg.transpose ins(%k3 : tensor<8x32x32xf32>)
      outs(%sq_empty : tensor<8x32x32xf32>) permutation = [0, 2, 1]
  %s_init = linalg.fill ins(%zero : f32) outs(%sq_empty : tensor<8x32x32xf32>) -> tensor<8x32x32xf32>
  %scores = linalg.batch_matmul ins(%q3, %k3_t : tensor<8x32x32xf32>, tensor<8x32x32xf32>)
      outs(%s_init : tensor<8x32x32xf32>) -> tensor<8x32x32xf32>
  %scale = arith.constant dense<0.176776695> : tensor<8x32x32xf32>
  %scaled = arith.mulf %scores, %scale : tensor<8x32x32xf32>
  %causal_2d = tensor.generate {
  ^bb0(%i: index, %j: index):
    %visible = arith.cmpi sle, %j, %i : index
    %ninf = arith.constant 0xFF800000 : f32
    %m = arith.select %visible, %zero, %ninf : f32
    tensor.yield %m : f32
  } : tensor<32x32xf32>
  %causal = linalg.broadcast ins(%causal_2d : tensor<32x32xf32>)
      outs(%sq_empty : tensor<8x32x32xf32>) dimensions = [0]
  %masked = arith.addf %scaled, %causal : tensor<8x32x32xf32>
  %probs = linalg.softmax dimension(2) ins(%masked : tensor<8x32x32xf32>)
      outs(%sq_empty : tensor<8x32x32xf32>) -> tensor<8x32x32xf32>
  %attn3 = linalg.batch_matmul ins(%probs, %v3 : tensor<8x32x32xf32>, tensor<8x32x32xf32>)
      outs(%s_init : tensor<8x32x32xf32>) -> tensor<8x32x32xf32>
  %attn = tensor.expand_shape %attn3 [[0, 1], [2], [3]] output_shape [1, 8, 32, 32]
      : tensor<8x32x32xf32> into tensor<1x8x32x32xf32>

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
