// RUN: seqc-opt %s --split-input-file --verify-diagnostics --seqc-check-contract=stage=linalg

// A seq op that survived lowering is an error at the op.
func.func @survivor(%x: tensor<2x8xf32>, %w: tensor<8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{'seq.rms_norm' op survived lowering to linalg (seqc-check-contract)}}
  %y = seq.rms_norm %x, %w : tensor<2x8xf32>, tensor<8xf32> -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// Upstream ops pass the linalg contract.
func.func @clean(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  return %x : tensor<2x8xf32>
}
