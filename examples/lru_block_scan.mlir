// Gated diagonal linear RNN block (HGRN / minGRU-style), f32, written with
// seq.scan as a frontend emits an associative scan (seq-raise-scans raises it to
// seq.linear_recurrence; examples/lru_block.mlir is the fused form):
//
//   h   = rms_norm(x, norm_w)                               eps = 1e-5
//   f   = sigmoid(h·Wf)                                     per-channel decay in (0, 1)
//   b   = (1 - f) * (h·Wi)
//   s_t = f_t * s_(t-1) + b_t                               along T, s_(-1) = 0
//   y   = s * silu(h·Wg)
//   out = x + y·Wo
//
// Shapes: B = 1, T = 64, Dmodel = 128, state width Dh = 128.
//   %x       tensor<1x64x128xf32>   [B, T, Dmodel]
// Weights (function arguments, stored [in, out] so that y = x·W):
//   %norm_w  tensor<128xf32>
//   %wf      tensor<128x128xf32>    Dmodel -> Dh (decay logits)
//   %wi      tensor<128x128xf32>    Dmodel -> Dh (input)
//   %wg      tensor<128x128xf32>    Dmodel -> Dh (output gate)
//   %wo      tensor<128x128xf32>    Dh -> Dmodel
// Result: tensor<1x64x128xf32> [B, T, Dmodel].

#map_id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>

func.func @lru_block_scan(%x: tensor<1x64x128xf32>, %norm_w: tensor<128xf32>,
                     %wf: tensor<128x128xf32>, %wi: tensor<128x128xf32>,
                     %wg: tensor<128x128xf32>, %wo: tensor<128x128xf32>)
    -> tensor<1x64x128xf32> {
  %zero = arith.constant 0.0 : f32
  %h = seq.rms_norm %x, %norm_w {eps = 1.0e-5 : f32}
      : tensor<1x64x128xf32>, tensor<128xf32> -> tensor<1x64x128xf32>
  %h_2d = tensor.collapse_shape %h [[0, 1], [2]]
      : tensor<1x64x128xf32> into tensor<64x128xf32>
  %p_empty = tensor.empty() : tensor<64x128xf32>
  %p_init = linalg.fill ins(%zero : f32) outs(%p_empty : tensor<64x128xf32>) -> tensor<64x128xf32>
  %f_logits = linalg.matmul ins(%h_2d, %wf : tensor<64x128xf32>, tensor<128x128xf32>)
      outs(%p_init : tensor<64x128xf32>) -> tensor<64x128xf32>
  %i_2d = linalg.matmul ins(%h_2d, %wi : tensor<64x128xf32>, tensor<128x128xf32>)
      outs(%p_init : tensor<64x128xf32>) -> tensor<64x128xf32>
  %g_2d = linalg.matmul ins(%h_2d, %wg : tensor<64x128xf32>, tensor<128x128xf32>)
      outs(%p_init : tensor<64x128xf32>) -> tensor<64x128xf32>
  %f_lin = tensor.expand_shape %f_logits [[0, 1], [2]] output_shape [1, 64, 128]
      : tensor<64x128xf32> into tensor<1x64x128xf32>
  %i_lin = tensor.expand_shape %i_2d [[0, 1], [2]] output_shape [1, 64, 128]
      : tensor<64x128xf32> into tensor<1x64x128xf32>
  %g_lin = tensor.expand_shape %g_2d [[0, 1], [2]] output_shape [1, 64, 128]
      : tensor<64x128xf32> into tensor<1x64x128xf32>

  // Decay f = sigmoid(a) and input b = (1 - f) * i, elementwise.
  %e = tensor.empty() : tensor<1x64x128xf32>
  %f, %b = linalg.generic
      {indexing_maps = [#map_id, #map_id, #map_id, #map_id],
       iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%f_lin, %i_lin : tensor<1x64x128xf32>, tensor<1x64x128xf32>)
      outs(%e, %e : tensor<1x64x128xf32>, tensor<1x64x128xf32>) {
  ^bb0(%a: f32, %in: f32, %o1: f32, %o2: f32):
    %one = arith.constant 1.0 : f32
    %na = arith.negf %a : f32
    %ex = math.exp %na : f32
    %den = arith.addf %one, %ex : f32
    %fv = arith.divf %one, %den : f32
    %omf = arith.subf %one, %fv : f32
    %bv = arith.mulf %omf, %in : f32
    linalg.yield %fv, %bv : f32, f32
  } -> (tensor<1x64x128xf32>, tensor<1x64x128xf32>)

  // s_t = f_t * s_(t-1) + b_t as an associative scan of the affine maps
  // s -> f s + b: (f1, b1), (f2, b2) -> (f1 f2, f2 b1 + b2). The product of
  // the decays is not used.
  %fprod, %s, %fcarry, %scarry = seq.scan ins(%f, %b : tensor<1x64x128xf32>, tensor<1x64x128xf32>)
      {dim = 1 : i64}
      -> tensor<1x64x128xf32>, tensor<1x64x128xf32>, tensor<1x128xf32>, tensor<1x128xf32> {
  ^bb0(%f1: f32, %b1: f32, %f2: f32, %b2: f32):
    %fm = arith.mulf %f1, %f2 : f32
    %bm = math.fma %f2, %b1, %b2 : f32
    seq.yield %fm, %bm : f32, f32
  }

  // Output gate y = s * silu(g), projection and residual.
  %y = linalg.generic
      {indexing_maps = [#map_id, #map_id, #map_id],
       iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s, %g_lin : tensor<1x64x128xf32>, tensor<1x64x128xf32>)
      outs(%e : tensor<1x64x128xf32>) {
  ^bb0(%sv: f32, %gv: f32, %o: f32):
    %one = arith.constant 1.0 : f32
    %ng = arith.negf %gv : f32
    %ex = math.exp %ng : f32
    %den = arith.addf %one, %ex : f32
    %silu = arith.divf %gv, %den : f32
    %yv = arith.mulf %sv, %silu : f32
    linalg.yield %yv : f32
  } -> tensor<1x64x128xf32>
  %y_2d = tensor.collapse_shape %y [[0, 1], [2]]
      : tensor<1x64x128xf32> into tensor<64x128xf32>
  %out_2d = linalg.matmul ins(%y_2d, %wo : tensor<64x128xf32>, tensor<128x128xf32>)
      outs(%p_init : tensor<64x128xf32>) -> tensor<64x128xf32>
  %proj = tensor.expand_shape %out_2d [[0, 1], [2]] output_shape [1, 64, 128]
      : tensor<64x128xf32> into tensor<1x64x128xf32>
  %out = linalg.add ins(%x, %proj : tensor<1x64x128xf32>, tensor<1x64x128xf32>)
      outs(%e : tensor<1x64x128xf32>) -> tensor<1x64x128xf32>
  return %out : tensor<1x64x128xf32>
}
