// RUN: seqc-opt %s --convert-seq-to-gpu --split-input-file | FileCheck %s
// RUN: seqc-opt %s --convert-seq-to-gpu="attention-rows-per-warp=16 attention-keys-per-tile=64" --split-input-file | FileCheck %s --check-prefix=TILE
// RUN: not seqc-opt %s --convert-seq-to-gpu="attention-rows-per-warp=8" 2>&1 | FileCheck %s --check-prefix=BADOPT

// bf16 attention on the tensor cores: 128-row blocks of 4 warps (200 rows:
// 2 row blocks x 8 heads x 2 batches = 32 blocks), Q + K + V tiles in
// dynamic shared memory ((128 + 32) x 72 + 32 x 72 bf16 = 27648 bytes),
// loaded by cp.async (16 bytes, L1 bypassed, rows past the end zero-filled)
// in commit groups: Q and the first K tile before the key loop; in the
// loop, wait + barrier, V, S = Q·Kᵀ (ldmatrix + mma.sync), wait + barrier,
// the next K tile (none after the last), then softmax (ex2) and O += P·V
// (transposed ldmatrix).
// With 16 rows per warp and 64 keys: 64-row blocks, 4 x 8 x 2 = 64 of them.

// CHECK-LABEL: func.func @attention_bf16
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c32, {{.*}}) threads({{.*}}) in ({{.*}} = %c128, {{.*}}) dynamic_shared_memory_size %c27648_i32
// CHECK-COUNT-8: nvgpu.device_async_copy {{.*}}, 8, %{{.*}} {bypassL1} : memref<2x8x200x64xbf16, strided<[?, ?, ?, 1], offset: ?>> to memref<128x72xbf16, #gpu.address_space<workgroup>>
// CHECK: %[[FIRST:.*]] = nvgpu.device_async_create_group
// CHECK-COUNT-2: nvgpu.device_async_copy {{.*}} to memref<32x72xbf16, #gpu.address_space<workgroup>>
// CHECK: nvgpu.device_async_create_group
// CHECK: scf.for
// CHECK:   nvgpu.device_async_wait %[[FIRST]] {numGroups = 0 : i32}
// CHECK:   gpu.barrier
// CHECK:   %[[V:.*]] = nvgpu.device_async_create_group
// CHECK:   nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = false}
// CHECK:   nvvm.mma.sync {{.*}} {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>}
// CHECK:   nvgpu.device_async_wait %[[V]] {numGroups = 0 : i32}
// CHECK:   gpu.barrier
// CHECK:   %[[NEXT:.*]] = arith.addi %{{.*}}, %c1{{.*}} : index
// CHECK:   %[[MORE:.*]] = arith.cmpi ult, %[[NEXT]], %{{.*}} : index
// CHECK:   scf.if %[[MORE]] {
// CHECK:     nvgpu.device_async_create_group
// CHECK:   }
// CHECK:   llvm.nvvm.ex2.approx.ftz.f
// CHECK:   arith.truncf {{.*}} : vector<2xf32> to vector<2xbf16>
// CHECK:   nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = true}
// CHECK:   nvvm.mma.sync
// CHECK: nvgpu.device_async_wait %[[FIRST]] {numGroups = 0 : i32}
// CHECK: vector.store {{.*}} : memref<2x8x200x64xbf16>, vector<2xbf16>

// TILE-LABEL: func.func @attention_bf16
// TILE: gpu.launch blocks({{.*}}) in ({{.*}} = %c64, {{.*}}) threads({{.*}}) in ({{.*}} = %c128, {{.*}}) dynamic_shared_memory_size %c27648_i32

// BADOPT: attention-rows-per-warp must be 0, 16 or 32 and attention-keys-per-tile a multiple of 16 up to 256
func.func @attention_bf16(%q: tensor<2x8x200x64xbf16>, %k: tensor<2x2x150x64xbf16>, %v: tensor<2x2x150x64xbf16>) -> tensor<2x8x200x64xbf16> {
  %o = seq.attention %q, %k, %v {causal} : tensor<2x8x200x64xbf16>, tensor<2x2x150x64xbf16>, tensor<2x2x150x64xbf16> -> tensor<2x8x200x64xbf16>
  return %o : tensor<2x8x200x64xbf16>
}
