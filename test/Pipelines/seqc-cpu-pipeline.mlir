// RUN: seqc-opt %s --seqc-cpu-pipeline | FileCheck %s
// RUN: seqc-opt %s --seqc-cpu-pipeline="attention-tile-q=8 attention-tile-kv=4" | FileCheck %s

// The whole CPU pipeline ends in the LLVM dialect only (its own contract
// check would fail otherwise); results became out-parameters; a C wrapper is
// emitted for entry points that ask for one.
// CHECK-NOT: seq.
// CHECK-NOT: func.func
// CHECK-LABEL: llvm.func @block
// CHECK-LABEL: llvm.func @_mlir_ciface_block
func.func @block(%x: tensor<1x2x6x8xf32>, %w: tensor<8xf32>, %p: tensor<6xi32>) -> tensor<1x2x6x8xf32> attributes {llvm.emit_c_interface} {
  %n = seq.rms_norm %x, %w : tensor<1x2x6x8xf32>, tensor<8xf32> -> tensor<1x2x6x8xf32>
  %r = seq.rope %n, %p : tensor<1x2x6x8xf32>, tensor<6xi32> -> tensor<1x2x6x8xf32>
  %o = seq.attention %r, %r, %r {causal} : tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32> -> tensor<1x2x6x8xf32>
  return %o : tensor<1x2x6x8xf32>
}
