// RUN: seqc-opt %s --convert-seq-to-gpu --split-input-file --verify-diagnostics

func.func @too_many_states(%u: tensor<1x8x5xf32>, %A: tensor<8x300xf32>, %B: tensor<1x1x300x5xf32>) -> tensor<1x8x5xf32> {
  // expected-error @+1 {{state size N 300 exceeds the GPU lowering's limit of 256 values per thread}}
  %y = seq.selective_scan %u, %u, %A, %B, %B : tensor<1x8x5xf32>, tensor<1x8x5xf32>, tensor<8x300xf32>, tensor<1x1x300x5xf32>, tensor<1x1x300x5xf32> -> tensor<1x8x5xf32>
  return %y : tensor<1x8x5xf32>
}

// -----

func.func @dynamic(%x: tensor<?x8xf32>, %w: tensor<8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{has dynamic shapes; convert-seq-to-gpu needs static sizes}}
  %y = seq.rms_norm %x, %w : tensor<?x8xf32>, tensor<8xf32> -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

func.func @wide_heads(%q: tensor<1x1x4x512xf32>) -> tensor<1x1x4x512xf32> {
  // expected-error @+1 {{head dim 512 exceeds the GPU lowering's limit of 256 values per thread}}
  %o = seq.attention %q, %q, %q : tensor<1x1x4x512xf32>, tensor<1x1x4x512xf32>, tensor<1x1x4x512xf32> -> tensor<1x1x4x512xf32>
  return %o : tensor<1x1x4x512xf32>
}
