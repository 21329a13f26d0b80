// RUN: seqc-opt %s --convert-seq-to-gpu | FileCheck %s

// A block per (batch, head) (2 x 3 = 6); K = 64 state rows in 2 groups of
// 32 (the fewest groups of at most 32 rows), a thread per (group, value
// column): 2 x 24 = 48. Time in chunks of 8 steps: the chunk's q, k, v and
// gate tiles, loaded into registers while the previous chunk's steps run,
// are stored to shared memory (the gate as e^g) and read back 4 rows a
// vector load (8 a tile, 24 a step); each group's part of q.s per step
// goes through shared memory and is summed into o after the chunk.
// CHECK-LABEL: func.func @gla
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c6{{.*}}) threads({{.*}}) in ({{.*}} = %c48{{.*}}) function(@gla_gated_linear_attention) workgroup({{.*}} : memref<8x64xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<8x64xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<2x8x24xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<8x24xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<8x64xf32, #gpu.address_space<workgroup>>)
// CHECK: scf.for
// CHECK: math.exp
// CHECK: gpu.barrier
// CHECK: scf.for
// CHECK-COUNT-24: vector.load {{.*}} {alignment = 16 : i64} : memref<8x64xf32, #gpu.address_space<workgroup>>, vector<4xf32>
// CHECK-NOT: vector.load
// CHECK: memref.store {{.*}} : memref<2x8x24xf32, #gpu.address_space<workgroup>>
// CHECK: gpu.barrier
// CHECK: memref.load {{.*}} : memref<2x8x24xf32, #gpu.address_space<workgroup>>
// CHECK: gpu.barrier
func.func @gla(%q: tensor<2x3x20x64xf32>, %k: tensor<2x3x20x64xf32>, %v: tensor<2x3x20x24xf32>, %g: tensor<2x3x20x64xf32>) -> (tensor<2x3x20x24xf32>, tensor<2x3x64x24xf32>) {
  %o, %s = seq.gated_linear_attention %q, %k, %v gate(%g : tensor<2x3x20x64xf32>)
      : tensor<2x3x20x64xf32>, tensor<2x3x20x64xf32>, tensor<2x3x20x24xf32> -> tensor<2x3x20x24xf32>, tensor<2x3x64x24xf32>
  return %o, %s : tensor<2x3x20x24xf32>, tensor<2x3x64x24xf32>
}

// K = 6 (no multiple of 4): one group of 6 rows, a scalar load per row;
// no (batch, head): no kernel.
// CHECK-LABEL: func.func @odd
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c1{{.*}}) threads({{.*}}) in ({{.*}} = %c5{{.*}})
// CHECK-NOT: vector.load
// CHECK-LABEL: func.func @empty
// CHECK-NOT: gpu.launch
// CHECK: return
// 600 value columns: 2 blocks per (batch, head) of 512 columns each (the
// second's last 424 idle), one group of 8 rows. K = 128 over 512 columns:
// 4 groups of 32 rows and 128 columns a block (4 blocks a head), so that
// a thread's state fits in registers.
// CHECK-LABEL: func.func @wide
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c2{{.*}}) threads({{.*}}) in ({{.*}} = %c512{{.*}}) function(@wide_gated_linear_attention) workgroup({{.*}} : memref<8x8xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<8x8xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<1x8x512xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<8x512xf32, #gpu.address_space<workgroup>>)
// CHECK-LABEL: func.func @deep
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c4{{.*}}) threads({{.*}}) in ({{.*}} = %c512{{.*}}) function(@deep_gated_linear_attention) workgroup({{.*}} : memref<8x128xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<8x128xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<4x8x128xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<8x128xf32, #gpu.address_space<workgroup>>)
func.func @odd(%q: tensor<1x1x5x6xf32>, %k: tensor<1x1x5x6xf32>, %v: tensor<1x1x5x5xf32>) -> tensor<1x1x5x5xf32> {
  %o = seq.gated_linear_attention %q, %k, %v
      : tensor<1x1x5x6xf32>, tensor<1x1x5x6xf32>, tensor<1x1x5x5xf32> -> tensor<1x1x5x5xf32>
  return %o : tensor<1x1x5x5xf32>
}
func.func @empty(%q: tensor<0x2x5x8xf32>, %k: tensor<0x2x5x8xf32>, %v: tensor<0x2x5x4xf32>) -> tensor<0x2x5x4xf32> {
  %o = seq.gated_linear_attention %q, %k, %v
      : tensor<0x2x5x8xf32>, tensor<0x2x5x8xf32>, tensor<0x2x5x4xf32> -> tensor<0x2x5x4xf32>
  return %o : tensor<0x2x5x4xf32>
}
func.func @wide(%q: tensor<1x1x5x8xf32>, %k: tensor<1x1x5x8xf32>, %v: tensor<1x1x5x600xf32>) -> tensor<1x1x5x600xf32> {
  %o = seq.gated_linear_attention %q, %k, %v
      : tensor<1x1x5x8xf32>, tensor<1x1x5x8xf32>, tensor<1x1x5x600xf32> -> tensor<1x1x5x600xf32>
  return %o : tensor<1x1x5x600xf32>
}
func.func @deep(%q: tensor<1x1x5x128xf32>, %k: tensor<1x1x5x128xf32>, %v: tensor<1x1x5x512xf32>) -> tensor<1x1x5x512xf32> {
  %o = seq.gated_linear_attention %q, %k, %v
      : tensor<1x1x5x128xf32>, tensor<1x1x5x128xf32>, tensor<1x1x5x512xf32> -> tensor<1x1x5x512xf32>
  return %o : tensor<1x1x5x512xf32>
}
