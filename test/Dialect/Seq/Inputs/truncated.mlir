func.func @f(%q: tensor<1x2x3x4xf32>) {
  %o = seq.attention %q, %q : tensor<1x2x3x4xf32>
