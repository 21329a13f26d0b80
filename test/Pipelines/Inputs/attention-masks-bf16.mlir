// Attention with masks and score transforms (windows, kv lengths, softcap)
// at the benchmark's sizes, for the wgmma kernel's register checks.
func.func @win(%q: tensor<4x16x8192x128xbf16>, %k: tensor<4x16x8192x128xbf16>, %v: tensor<4x16x8192x128xbf16>) -> tensor<4x16x8192x128xbf16> {
  %o = seq.attention %q, %k, %v {window = array<i64: 1023, 0>} : tensor<4x16x8192x128xbf16>, tensor<4x16x8192x128xbf16>, tensor<4x16x8192x128xbf16> -> tensor<4x16x8192x128xbf16>
  return %o : tensor<4x16x8192x128xbf16>
}
func.func @win2(%q: tensor<4x16x8192x128xbf16>, %k: tensor<4x16x8192x128xbf16>, %v: tensor<4x16x8192x128xbf16>) -> tensor<4x16x8192x128xbf16> {
  %o = seq.attention %q, %k, %v {window = array<i64: 1023, 5>} : tensor<4x16x8192x128xbf16>, tensor<4x16x8192x128xbf16>, tensor<4x16x8192x128xbf16> -> tensor<4x16x8192x128xbf16>
  return %o : tensor<4x16x8192x128xbf16>
}
func.func @soft(%q: tensor<4x16x4096x128xbf16>, %k: tensor<4x16x4096x128xbf16>, %v: tensor<4x16x4096x128xbf16>) -> tensor<4x16x4096x128xbf16> {
  %o = seq.attention %q, %k, %v {causal, softcap = 30.0 : f32} : tensor<4x16x4096x128xbf16>, tensor<4x16x4096x128xbf16>, tensor<4x16x4096x128xbf16> -> tensor<4x16x4096x128xbf16>
  return %o : tensor<4x16x4096x128xbf16>
}
func.func @lens(%q: tensor<4x16x4096x128xbf16>, %k: tensor<4x16x4096x128xbf16>, %v: tensor<4x16x4096x128xbf16>, %l: tensor<4xi32>) -> tensor<4x16x4096x128xbf16> {
  %o = seq.attention %q, %k, %v kv_lengths(%l : tensor<4xi32>) {causal} : tensor<4x16x4096x128xbf16>, tensor<4x16x4096x128xbf16>, tensor<4x16x4096x128xbf16> -> tensor<4x16x4096x128xbf16>
  return %o : tensor<4x16x4096x128xbf16>
}
func.func @win64(%q: tensor<4x16x4096x64xbf16>, %k: tensor<4x16x4096x64xbf16>, %v: tensor<4x16x4096x64xbf16>) -> tensor<4x16x4096x64xbf16> {
  %o = seq.attention %q, %k, %v {window = array<i64: 1023, 3>, softcap = 30.0 : f32} : tensor<4x16x4096x64xbf16>, tensor<4x16x4096x64xbf16>, tensor<4x16x4096x64xbf16> -> tensor<4x16x4096x64xbf16>
  return %o : tensor<4x16x4096x64xbf16>
}
func.func @softfull(%q: tensor<4x16x4096x128xbf16>, %k: tensor<4x16x4096x128xbf16>, %v: tensor<4x16x4096x128xbf16>) -> tensor<4x16x4096x128xbf16> {
  %o = seq.attention %q, %k, %v {softcap = 30.0 : f32} : tensor<4x16x4096x128xbf16>, tensor<4x16x4096x128xbf16>, tensor<4x16x4096x128xbf16> -> tensor<4x16x4096x128xbf16>
  return %o : tensor<4x16x4096x128xbf16>
}
