// The model of seqc-run.test: an RMS-normalized query attending causally to
// grouped keys and values (4 query heads over 2 kv heads), and a function
// that returns its inputs, one of each dtype a .npy file can hold.

func.func @block(%x: tensor<2x4x8x16xf32>, %w: tensor<16xf32>, %k: tensor<2x2x8x16xf32>, %v: tensor<2x2x8x16xf32>)
    -> (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) {
  %q = seq.rms_norm %x, %w {eps = 1.0e-5 : f32} : tensor<2x4x8x16xf32>, tensor<16xf32> -> tensor<2x4x8x16xf32>
  %o = seq.attention %q, %k, %v {causal} : tensor<2x4x8x16xf32>, tensor<2x2x8x16xf32>, tensor<2x2x8x16xf32> -> tensor<2x4x8x16xf32>
  return %o, %q : tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>
}

func.func @passthrough(%a: tensor<f64>, %b: tensor<3xf16>, %c: tensor<2x2xi8>, %d: tensor<4xi1>, %e: tensor<2x3xi32>, %f: tensor<0x5xi64>)
    -> (tensor<f64>, tensor<3xf16>, tensor<2x2xi8>, tensor<4xi1>, tensor<2x3xi32>, tensor<0x5xi64>) {
  return %a, %b, %c, %d, %e, %f : tensor<f64>, tensor<3xf16>, tensor<2x2xi8>, tensor<4xi1>, tensor<2x3xi32>, tensor<0x5xi64>
}
