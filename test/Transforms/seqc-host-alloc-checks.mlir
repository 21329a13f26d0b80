// RUN: seqc-opt %s --seqc-host-alloc-checks | FileCheck %s

// malloc and aligned_alloc go through seqc's hooks, and a null pointer
// returns from the function at once (a poison value where it returns one).
// CHECK-LABEL: llvm.func @allocates
// CHECK: %[[P:.*]] = llvm.call @seqcHostAlloc(%arg0)
// CHECK: %[[NULL:.*]] = llvm.mlir.zero : !llvm.ptr
// CHECK: %[[IS:.*]] = llvm.icmp "eq" %[[P]], %[[NULL]]
// CHECK: llvm.cond_br %[[IS]], ^[[FAIL:.*]], ^[[NEXT:bb[0-9]+]]
// CHECK: ^[[NEXT]]:
// CHECK: %[[Q:.*]] = llvm.call @seqcHostAlignedAlloc(
// CHECK: llvm.cond_br {{.*}}, ^[[FAIL]], ^
// CHECK: llvm.return %[[Q]]
// CHECK: ^[[FAIL]]:
// CHECK-NEXT: %[[POISON:.*]] = llvm.mlir.poison : !llvm.ptr
// CHECK-NEXT: llvm.return %[[POISON]]
llvm.func @malloc(i64) -> !llvm.ptr
llvm.func @aligned_alloc(i64, i64) -> !llvm.ptr
llvm.func @free(!llvm.ptr)
llvm.func @allocates(%n: i64) -> !llvm.ptr {
  %p = llvm.call @malloc(%n) : (i64) -> !llvm.ptr
  %c = llvm.mlir.constant(1.0 : f32) : f32
  llvm.store %c, %p : f32, !llvm.ptr
  llvm.call @free(%p) : (!llvm.ptr) -> ()
  %a = llvm.mlir.constant(64 : i64) : i64
  %q = llvm.call @aligned_alloc(%a, %n) : (i64, i64) -> !llvm.ptr
  llvm.return %q : !llvm.ptr
}

// After a call of a function of the module, a failure below returns too;
// external calls (free) are not checked.
// CHECK-LABEL: llvm.func @caller
// CHECK: llvm.call @allocates(%arg0)
// CHECK-NEXT: %[[F:.*]] = llvm.call @seqcHostAllocFailed()
// CHECK: llvm.icmp "ne" %[[F]]
// CHECK: llvm.cond_br
// CHECK: llvm.call @free
// CHECK-NOT: seqcHostAllocFailed
// CHECK: llvm.return
// CHECK: llvm.return
llvm.func @caller(%n: i64) {
  %p = llvm.call @allocates(%n) : (i64) -> !llvm.ptr
  llvm.call @free(%p) : (!llvm.ptr) -> ()
  llvm.return
}

// Inside an OpenMP region (which cannot return) nothing changes.
// CHECK-LABEL: llvm.func @in_parallel
// CHECK: omp.parallel
// CHECK: llvm.call @malloc
// CHECK-NOT: llvm.cond_br
llvm.func @in_parallel(%n: i64) {
  omp.parallel {
    %p = llvm.call @malloc(%n) : (i64) -> !llvm.ptr
    llvm.call @free(%p) : (!llvm.ptr) -> ()
    omp.terminator
  }
  llvm.return
}
