// Mamba-1 block (pre-norm, residual), f32, as mamba_ssm's Mamba.forward:
//
//   h        = rms_norm(x, norm_w)                           eps = 1e-5
//   [xs, z]  = h·W_in                                        split Dinner | Dinner
//   u        = silu(causal_conv1d(xs, conv_w) + conv_b)      along L
//   [dt_low, Bm, Cm] = u·W_x                                 dt_rank | N | N
//   dt       = dt_low·W_dt                                   (bias added in the scan)
//   y        = selective_scan(u, dt, A, Bm, Cm, D, z, dt_bias, delta_softplus)
//   out      = x + y·W_out
//
// Shapes: B = 1, L = 64, Dmodel = 128, Dinner = 256, d_state N = 16,
// dt_rank = 8, conv width = 4, one B/C group (G = 1).
//   %x        tensor<1x64x128xf32>   [B, L, Dmodel]
// Weights (function arguments; projections stored [in, out] so y = x·W):
//   %norm_w   tensor<128xf32>
//   %w_in     tensor<128x512xf32>    Dmodel -> 2*Dinner (xs, then z)
//   %conv_w   tensor<256x4xf32>      depthwise conv taps [Dinner, W]
//   %conv_b   tensor<256xf32>
//   %w_x      tensor<256x40xf32>     Dinner -> dt_rank + 2*N (dt_low, B, C)
//   %w_dt     tensor<8x256xf32>      dt_rank -> Dinner
//   %dt_bias  tensor<256xf32>
//   %A        tensor<256x16xf32>     state matrix (= -exp(A_log), negative)
//   %D        tensor<256xf32>        skip connection
//   %w_out    tensor<256x128xf32>    Dinner -> Dmodel
// Result: tensor<1x64x128xf32> [B, L, Dmodel].

func.func @mamba_block(%x: tensor<1x64x128xf32>, %norm_w: tensor<128xf32>,
                       %w_in: tensor<128x512xf32>,
                       %conv_w: tensor<256x4xf32>, %conv_b: tensor<256xf32>,
                       %w_x: tensor<256x40xf32>, %w_dt: tensor<8x256xf32>,
                       %dt_bias: tensor<256xf32>, %A: tensor<256x16xf32>,
                       %D: tensor<256xf32>, %w_out: tensor<256x128xf32>)
    -> tensor<1x64x128xf32> {
  %zero = arith.constant 0.0 : f32

  // ---- Norm and input projection -----------------------------------------
  %h = seq.rms_norm %x, %norm_w {eps = 1.0e-5 : f32}
      : tensor<1x64x128xf32>, tensor<128xf32> -> tensor<1x64x128xf32>
  %h_2d = tensor.collapse_shape %h [[0, 1], [2]]
      : tensor<1x64x128xf32> into tensor<64x128xf32>
  %xz_empty = tensor.empty() : tensor<64x512xf32>
  %xz_init = linalg.fill ins(%zero : f32) outs(%xz_empty : tensor<64x512xf32>) -> tensor<64x512xf32>
  %xz_2d = linalg.matmul ins(%h_2d, %w_in : tensor<64x128xf32>, tensor<128x512xf32>)
      outs(%xz_init : tensor<64x512xf32>) -> tensor<64x512xf32>

  // Split into the SSM branch xs and the gate branch z, each [B*L, Dinner].
  %xs_2d = tensor.extract_slice %xz_2d[0, 0] [64, 256] [1, 1]
      : tensor<64x512xf32> to tensor<64x256xf32>
  %z_2d = tensor.extract_slice %xz_2d[0, 256] [64, 256] [1, 1]
      : tensor<64x512xf32> to tensor<64x256xf32>

  // [B*L, Dinner] -> [B, L, Dinner] -> [B, Dinner, L].
  %xs_bld = tensor.expand_shape %xs_2d [[0, 1], [2]] output_shape [1, 64, 256]
      : tensor<64x256xf32> into tensor<1x64x256xf32>
  %z_bld = tensor.expand_shape %z_2d [[0, 1], [2]] output_shape [1, 64, 256]
      : tensor<64x256xf32> into tensor<1x64x256xf32>
  %bdl_empty = tensor.empty() : tensor<1x256x64xf32>
  %xs_bdl = linalg.transpose ins(%xs_bld : tensor<1x64x256xf32>)
      outs(%bdl_empty : tensor<1x256x64xf32>) permutation = [0, 2, 1]
  %z_bdl = linalg.transpose ins(%z_bld : tensor<1x64x256xf32>)
      outs(%bdl_empty : tensor<1x256x64xf32>) permutation = [0, 2, 1]

  // ---- Causal depthwise conv + SiLU ---------------------------------------
  %u = seq.causal_conv1d %xs_bdl, %conv_w bias(%conv_b : tensor<256xf32>) {silu}
      : tensor<1x256x64xf32>, tensor<256x4xf32> -> tensor<1x256x64xf32>

  // ---- x_proj: data-dependent dt, B, C -----------------------------------
  %bld_empty = tensor.empty() : tensor<1x64x256xf32>
  %u_bld = linalg.transpose ins(%u : tensor<1x256x64xf32>)
      outs(%bld_empty : tensor<1x64x256xf32>) permutation = [0, 2, 1]
  %u_2d = tensor.collapse_shape %u_bld [[0, 1], [2]]
      : tensor<1x64x256xf32> into tensor<64x256xf32>
  %dbc_empty = tensor.empty() : tensor<64x40xf32>
  %dbc_init = linalg.fill ins(%zero : f32) outs(%dbc_empty : tensor<64x40xf32>) -> tensor<64x40xf32>
  %dbc_2d = linalg.matmul ins(%u_2d, %w_x : tensor<64x256xf32>, tensor<256x40xf32>)
      outs(%dbc_init : tensor<64x40xf32>) -> tensor<64x40xf32>
  %dt_low = tensor.extract_slice %dbc_2d[0, 0] [64, 8] [1, 1]
      : tensor<64x40xf32> to tensor<64x8xf32>
  %b_2d = tensor.extract_slice %dbc_2d[0, 8] [64, 16] [1, 1]
      : tensor<64x40xf32> to tensor<64x16xf32>
  %c_2d = tensor.extract_slice %dbc_2d[0, 24] [64, 16] [1, 1]
      : tensor<64x40xf32> to tensor<64x16xf32>

  // dt = dt_low·W_dt : [B*L, Dinner] -> [B, Dinner, L].
  %dt_empty = tensor.empty() : tensor<64x256xf32>
  %dt_init = linalg.fill ins(%zero : f32) outs(%dt_empty : tensor<64x256xf32>) -> tensor<64x256xf32>
  %dt_2d = linalg.matmul ins(%dt_low, %w_dt : tensor<64x8xf32>, tensor<8x256xf32>)
      outs(%dt_init : tensor<64x256xf32>) -> tensor<64x256xf32>
  %dt_bld = tensor.expand_shape %dt_2d [[0, 1], [2]] output_shape [1, 64, 256]
      : tensor<64x256xf32> into tensor<1x64x256xf32>
  %dt_bdl = linalg.transpose ins(%dt_bld : tensor<1x64x256xf32>)
      outs(%bdl_empty : tensor<1x256x64xf32>) permutation = [0, 2, 1]

  // B, C : [B*L, N] -> [B, L, G, N] -> [B, G, N, L].
  %b_blgn = tensor.expand_shape %b_2d [[0, 1], [2, 3]] output_shape [1, 64, 1, 16]
      : tensor<64x16xf32> into tensor<1x64x1x16xf32>
  %c_blgn = tensor.expand_shape %c_2d [[0, 1], [2, 3]] output_shape [1, 64, 1, 16]
      : tensor<64x16xf32> into tensor<1x64x1x16xf32>
  %bgnl_empty = tensor.empty() : tensor<1x1x16x64xf32>
  %b_bgnl = linalg.transpose ins(%b_blgn : tensor<1x64x1x16xf32>)
      outs(%bgnl_empty : tensor<1x1x16x64xf32>) permutation = [0, 2, 3, 1]
  %c_bgnl = linalg.transpose ins(%c_blgn : tensor<1x64x1x16xf32>)
      outs(%bgnl_empty : tensor<1x1x16x64xf32>) permutation = [0, 2, 3, 1]

  // ---- Selective scan (S6), gated by silu(z) ------------------------------
  %y_bdl = seq.selective_scan %u, %dt_bdl, %A, %b_bgnl, %c_bgnl
      D(%D : tensor<256xf32>) z(%z_bdl : tensor<1x256x64xf32>)
      delta_bias(%dt_bias : tensor<256xf32>) {delta_softplus}
      : tensor<1x256x64xf32>, tensor<1x256x64xf32>, tensor<256x16xf32>,
        tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32>
      -> tensor<1x256x64xf32>

  // ---- Output projection and residual -------------------------------------
  %y_bld = linalg.transpose ins(%y_bdl : tensor<1x256x64xf32>)
      outs(%bld_empty : tensor<1x64x256xf32>) permutation = [0, 2, 1]
  %y_2d = tensor.collapse_shape %y_bld [[0, 1], [2]]
      : tensor<1x64x256xf32> into tensor<64x256xf32>
  %out_empty = tensor.empty() : tensor<64x128xf32>
  %out_init = linalg.fill ins(%zero : f32) outs(%out_empty : tensor<64x128xf32>) -> tensor<64x128xf32>
  %proj_2d = linalg.matmul ins(%y_2d, %w_out : tensor<64x256xf32>, tensor<256x128xf32>)
      outs(%out_init : tensor<64x128xf32>) -> tensor<64x128xf32>
  %proj = tensor.expand_shape %proj_2d [[0, 1], [2]] output_shape [1, 64, 128]
      : tensor<64x128xf32> into tensor<1x64x128xf32>
  %res_empty = tensor.empty() : tensor<1x64x128xf32>
  %out = linalg.add ins(%x, %proj : tensor<1x64x128xf32>, tensor<1x64x128xf32>)
      outs(%res_empty : tensor<1x64x128xf32>) -> tensor<1x64x128xf32>
  return %out : tensor<1x64x128xf32>
}
