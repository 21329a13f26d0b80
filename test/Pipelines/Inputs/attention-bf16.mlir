// The tensor-core attention shapes of the GPU benchmark (D 128 full and
// causal, D 64, GQA 32:8), for the register and spill checks.
func.func @full_d128(%q: tensor<8x16x4096x128xbf16>, %k: tensor<8x16x4096x128xbf16>, %v: tensor<8x16x4096x128xbf16>) -> tensor<8x16x4096x128xbf16> {
  %o = seq.attention %q, %k, %v : tensor<8x16x4096x128xbf16>, tensor<8x16x4096x128xbf16>, tensor<8x16x4096x128xbf16> -> tensor<8x16x4096x128xbf16>
  return %o : tensor<8x16x4096x128xbf16>
}
func.func @causal_d128(%q: tensor<8x16x4096x128xbf16>, %k: tensor<8x16x4096x128xbf16>, %v: tensor<8x16x4096x128xbf16>) -> tensor<8x16x4096x128xbf16> {
  %o = seq.attention %q, %k, %v {causal} : tensor<8x16x4096x128xbf16>, tensor<8x16x4096x128xbf16>, tensor<8x16x4096x128xbf16> -> tensor<8x16x4096x128xbf16>
  return %o : tensor<8x16x4096x128xbf16>
}
func.func @full_d64(%q: tensor<4x16x1024x64xbf16>, %k: tensor<4x16x1024x64xbf16>, %v: tensor<4x16x1024x64xbf16>) -> tensor<4x16x1024x64xbf16> {
  %o = seq.attention %q, %k, %v : tensor<4x16x1024x64xbf16>, tensor<4x16x1024x64xbf16>, tensor<4x16x1024x64xbf16> -> tensor<4x16x1024x64xbf16>
  return %o : tensor<4x16x1024x64xbf16>
}
func.func @gqa_causal(%q: tensor<2x32x8192x128xbf16>, %k: tensor<2x8x8192x128xbf16>, %v: tensor<2x8x8192x128xbf16>) -> tensor<2x32x8192x128xbf16> {
  %o = seq.attention %q, %k, %v {causal} : tensor<2x32x8192x128xbf16>, tensor<2x8x8192x128xbf16>, tensor<2x8x8192x128xbf16> -> tensor<2x32x8192x128xbf16>
  return %o : tensor<2x32x8192x128xbf16>
}
