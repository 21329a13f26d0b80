// Decode attention shapes of gpu_bench (GQA 32:8, D 128): one query over
// 131072 keys, and 8 queries over 32768 keys in a batch of 2.
func.func @decode_kv128k(%q: tensor<1x32x1x128xbf16>, %k: tensor<1x8x131072x128xbf16>, %v: tensor<1x8x131072x128xbf16>) -> tensor<1x32x1x128xbf16> {
  %o = seq.attention %q, %k, %v
      : tensor<1x32x1x128xbf16>, tensor<1x8x131072x128xbf16>, tensor<1x8x131072x128xbf16>
      -> tensor<1x32x1x128xbf16>
  return %o : tensor<1x32x1x128xbf16>
}
func.func @decode_b2_sq8(%q: tensor<2x32x8x128xbf16>, %k: tensor<2x8x32768x128xbf16>, %v: tensor<2x8x32768x128xbf16>) -> tensor<2x32x8x128xbf16> {
  %o = seq.attention %q, %k, %v
      : tensor<2x32x8x128xbf16>, tensor<2x8x32768x128xbf16>, tensor<2x8x32768x128xbf16>
      -> tensor<2x32x8x128xbf16>
  return %o : tensor<2x32x8x128xbf16>
}
