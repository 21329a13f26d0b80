// RUN: seqc-opt %s --convert-seq-to-gpu | FileCheck %s

// A block per (batch, head) (2 x 3 = 6); K = 16 state rows in 4 groups of
// 4, a thread per (group, value column): 4 x 24 = 96. Time in chunks of 8
// steps: the chunk's q, k, v and gate tiles, loaded into registers while
// the previous chunk's steps run (8 values carried: 8 x 16 entries of q, k
// and g and 8 x 24 of v over 96 threads), are stored to shared memory
// (the gate as e^g) and read back 4 rows a vector load; each group's part
// of q.s per step goes through shared memory and is summed into o after
// the chunk.
// CHECK-LABEL: func.func @gla
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c6{{.*}}) threads({{.*}}) in ({{.*}} = %c96{{.*}}) function(@gla_gated_linear_attention) workgroup({{.*}} : memref<8x16xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<8x16xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<4x8x24xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<8x24xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<8x16xf32, #gpu.address_space<workgroup>>)
// CHECK: scf.for {{.*}} -> (f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)
// CHECK: math.exp
// CHECK: gpu.barrier
// CHECK: scf.for {{.*}} -> (f32, f32, f32, f32)
// CHECK-COUNT-3: vector.load {{.*}} {alignment = 16 : i64} : memref<8x16xf32, #gpu.address_space<workgroup>>, vector<4xf32>
// CHECK-NOT: vector.load
// CHECK: memref.store {{.*}} : memref<4x8x24xf32, #gpu.address_space<workgroup>>
// CHECK: gpu.barrier
// CHECK: memref.load {{.*}} : memref<4x8x24xf32, #gpu.address_space<workgroup>>
// CHECK: gpu.barrier
func.func @gla(%q: tensor<2x3x20x16xf32>, %k: tensor<2x3x20x16xf32>, %v: tensor<2x3x20x24xf32>, %g: tensor<2x3x20x16xf32>) -> (tensor<2x3x20x24xf32>, tensor<2x3x16x24xf32>) {
  %o, %s = seq.gated_linear_attention %q, %k, %v gate(%g : tensor<2x3x20x16xf32>)
      : tensor<2x3x20x16xf32>, tensor<2x3x20x16xf32>, tensor<2x3x20x24xf32> -> tensor<2x3x20x24xf32>, tensor<2x3x16x24xf32>
  return %o, %s : tensor<2x3x20x24xf32>, tensor<2x3x16x24xf32>
}

// K = 6 (no multiple of 4): 2 groups of 3 rows, a scalar load per row; no
// (batch, head): no kernel.
// CHECK-LABEL: func.func @odd
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c1{{.*}}) threads({{.*}}) in ({{.*}} = %c10{{.*}})
// CHECK-NOT: vector.load
// CHECK-LABEL: func.func @empty
// CHECK-NOT: gpu.launch
// CHECK: return
// 600 value columns: 2 blocks per (batch, head) of 512 columns each (the
// second's last 424 idle), one group of 8 rows.
// CHECK-LABEL: func.func @wide
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c2{{.*}}) threads({{.*}}) in ({{.*}} = %c512{{.*}}) function(@wide_gated_linear_attention) workgroup({{.*}} : memref<8x8xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<8x8xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<1x8x512xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<8x512xf32, #gpu.address_space<workgroup>>)
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
