// RUN: seqc-opt %s --convert-seq-to-gpu="attention-wgmma=1" | FileCheck %s
// A module with its own symbol named as the runtime's multiprocessor count
// (another signature): the windowed kernel, persistent by default, cannot
// ask the runtime for the SM count and launches a block an item instead
// (its loop strides by the grid size, so each block takes one item); the
// user's function is left alone.
// CHECK: func.func @seqcCudaMultiprocessorCount(%{{.*}}: i32) -> i32
// CHECK-LABEL: func.func @window_d128
// CHECK-NOT: call @seqcCudaMultiprocessorCount
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c6,
// CHECK: gpu.grid_dim  x
// CHECK: setmaxnreg.dec.sync.aligned.u32 40;
func.func @seqcCudaMultiprocessorCount(%x: i32) -> i32 {
  return %x : i32
}
func.func @window_d128(%q: tensor<1x2x300x128xbf16>, %k: tensor<1x2x300x128xbf16>, %v: tensor<1x2x300x128xbf16>) -> tensor<1x2x300x128xbf16> {
  %o = seq.attention %q, %k, %v {window = array<i64: 100, 0>} : tensor<1x2x300x128xbf16>, tensor<1x2x300x128xbf16>, tensor<1x2x300x128xbf16> -> tensor<1x2x300x128xbf16>
  return %o : tensor<1x2x300x128xbf16>
}
