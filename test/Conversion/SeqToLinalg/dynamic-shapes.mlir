// RUN: seqc-opt %s --convert-seq-to-linalg --verify-diagnostics

// The lowering needs static shapes and says so at the op.
func.func @dynamic(%x: tensor<?x8xf32>, %w: tensor<8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{'seq.rms_norm' op has dynamic shapes; convert-seq-to-linalg needs static sizes}}
  %y = seq.rms_norm %x, %w : tensor<?x8xf32>, tensor<8xf32> -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}
