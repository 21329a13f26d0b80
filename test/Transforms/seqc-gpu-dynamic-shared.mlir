// RUN: seqc-opt %s --pass-pipeline='builtin.module(gpu.module(seqc-gpu-dynamic-shared))' | FileCheck %s
// RUN: seqc-opt %s --pass-pipeline='builtin.module(gpu.module(seqc-gpu-dynamic-shared,convert-gpu-to-nvvm))' | FileCheck %s --check-prefix=NVVM

// A kernel module with dynamic shared memory gets an external zero-size
// symbol in the shared space, which upstream's NVVM lowering then uses
// (the NVPTX backend prints it as `.extern .shared ... []`, the start of
// the dynamic bytes; an internal one becomes a one-byte static among the
// kernel's other statics).
// CHECK-LABEL: gpu.module @uses
// CHECK: llvm.mlir.global external @__seqc_dynamic_shared() {addr_space = 3 : i32, alignment = 16 : i64} : !llvm.array<0 x i8>
// NVVM-LABEL: gpu.module @uses
// NVVM: llvm.mlir.global external @__seqc_dynamic_shared()
// NVVM-NOT: llvm.mlir.global internal @__dynamic_shmem
// NVVM: llvm.mlir.addressof @__seqc_dynamic_shared : !llvm.ptr<3>
gpu.module @uses {
  gpu.func @k(%o: memref<4xi8>) kernel {
    %d = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
    %c0 = arith.constant 0 : index
    %v = memref.load %d[%c0] : memref<?xi8, #gpu.address_space<workgroup>>
    memref.store %v, %o[%c0] : memref<4xi8>
    gpu.return
  }
}

// A module without dynamic shared memory is left alone.
// CHECK-LABEL: gpu.module @none
// CHECK-NOT: llvm.mlir.global
// CHECK: gpu.func @k
gpu.module @none {
  gpu.func @k(%o: memref<4xi8>) kernel {
    gpu.return
  }
}

// An internal zero-size symbol of the shared space already there (which
// the lowering would take) is made external.
// CHECK-LABEL: gpu.module @already
// CHECK: llvm.mlir.global external @mine()
// CHECK-NOT: __seqc_dynamic_shared
gpu.module @already {
  llvm.mlir.global internal @mine() {addr_space = 3 : i32, alignment = 16 : i64} : !llvm.array<0 x i8>
  gpu.func @k(%o: memref<4xi8>) kernel {
    %d = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
    %c0 = arith.constant 0 : index
    %v = memref.load %d[%c0] : memref<?xi8, #gpu.address_space<workgroup>>
    memref.store %v, %o[%c0] : memref<4xi8>
    gpu.return
  }
}

// One of another alignment is not the lowering's: ours goes first.
// CHECK-LABEL: gpu.module @other_alignment
// CHECK-NEXT: llvm.mlir.global external @__seqc_dynamic_shared()
// CHECK-NEXT: llvm.mlir.global internal @eight()
// NVVM-LABEL: gpu.module @other_alignment
// NVVM: llvm.mlir.addressof @__seqc_dynamic_shared : !llvm.ptr<3>
gpu.module @other_alignment {
  llvm.mlir.global internal @eight() {addr_space = 3 : i32, alignment = 8 : i64} : !llvm.array<0 x i8>
  gpu.func @k(%o: memref<4xi8>) kernel {
    %d = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
    %c0 = arith.constant 0 : index
    %v = memref.load %d[%c0] : memref<?xi8, #gpu.address_space<workgroup>>
    memref.store %v, %o[%c0] : memref<4xi8>
    gpu.return
  }
}
