// RUN: seqc-opt %s --seqc-tile-matmuls --split-input-file | FileCheck %s
// RUN: not seqc-opt %s --seqc-tile-matmuls=tile-cols=0 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: error: seqc-tile-matmuls: tile sizes must be positive

// 70 rows: two parallel tiles of 32 and 6 leftover rows; 100 columns: one
// block of 64 and 36 leftover columns, each a vector FMA micro-kernel.
// CHECK-LABEL: func.func @matmul
// CHECK-NOT: linalg.matmul
// CHECK: scf.forall (%{{.*}}) in (2) shared_outs
// CHECK:   scf.for
// CHECK:     math.fma %{{.*}} : vector<64xf32>
// CHECK:   math.fma %{{.*}} : vector<36xf32>
// CHECK:   tensor.parallel_insert_slice %{{.*}}[%{{.*}}, 0] [32, 100] [1, 1]
// CHECK: tensor.extract_slice %{{.*}}[%{{.*}}, 0] [6, 100] [1, 1]
// CHECK: tensor.insert_slice %{{.*}}[%{{.*}}, 0] [6, 100] [1, 1]
func.func @matmul(%a: tensor<70x20xf32>, %b: tensor<20x100xbf16>, %c: tensor<70x100xf32>) -> tensor<70x100xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<70x20xf32>, tensor<20x100xbf16>) outs(%c : tensor<70x100xf32>) -> tensor<70x100xf32>
  return %r : tensor<70x100xf32>
}

// -----

// Not f32 results, or dynamic: left alone.
// CHECK-LABEL: func.func @untouched
// CHECK: linalg.matmul {{.*}} -> tensor<4x4xf16>
// CHECK: linalg.matmul {{.*}} -> tensor<?x4xf32>
func.func @untouched(%a: tensor<4x4xf16>, %d: tensor<?x4xf32>, %e: tensor<4x4xf32>) -> (tensor<4x4xf16>, tensor<?x4xf32>) {
  %r = linalg.matmul ins(%a, %a : tensor<4x4xf16>, tensor<4x4xf16>) outs(%a : tensor<4x4xf16>) -> tensor<4x4xf16>
  %s = linalg.matmul ins(%d, %e : tensor<?x4xf32>, tensor<4x4xf32>) outs(%d : tensor<?x4xf32>) -> tensor<?x4xf32>
  return %r, %s : tensor<4x4xf16>, tensor<?x4xf32>
}
