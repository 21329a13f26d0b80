// RUN: seqc %s --options="target=cuda chip=sm_90a gpu-format=isa" --emit=llvm -o - | FileCheck %s

// A host loop of kernel launches (a time loop whose step is a kernel) keeps
// each launch's argument arrays in the entry block: an alloca in the loop
// would grow the stack on every iteration (a crash after some 10^5 steps).
// Kernels are named after the function and their work.

// CHECK-LABEL: define void @_mlir_ciface_steps(
// CHECK-NEXT: alloca
// CHECK: [[LOOP:[0-9]+]]:{{.*}}preds
// CHECK-NOT: alloca
// CHECK: call void @mgpuLaunchKernel
// CHECK-NOT: alloca
// CHECK: br {{.*}}label %[[LOOP]]
// CHECK: define internal void @steps_map_load()
func.func @steps(%x: tensor<16x64xf32>) -> tensor<16x64xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %r = scf.for %t = %c1 to %c16 step %c1 iter_args(%acc = %x) -> tensor<16x64xf32> {
    %p = arith.subi %t, %c1 : index
    %prev = tensor.extract_slice %acc[%p, 0] [1, 64] [1, 1] : tensor<16x64xf32> to tensor<64xf32>
    %cur = tensor.extract_slice %acc[%t, 0] [1, 64] [1, 1] : tensor<16x64xf32> to tensor<64xf32>
    %s = linalg.add ins(%prev, %cur : tensor<64xf32>, tensor<64xf32>) outs(%cur : tensor<64xf32>) -> tensor<64xf32>
    %n = tensor.insert_slice %s into %acc[%t, 0] [1, 64] [1, 1] : tensor<64xf32> into tensor<16x64xf32>
    scf.yield %n : tensor<16x64xf32>
  }
  return %r : tensor<16x64xf32>
}
