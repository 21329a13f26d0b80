// RUN: seqc-opt %s --convert-seq-to-linalg=attention-tile-q=16 --split-input-file | FileCheck %s

// Attention: parallel loops over (batch, query head, query tile), first the
// two full 16-row tiles, then the 8-row remainder; GQA reads key/value head
// h / 2 without copies; key tiles run over [lo, hi) only (causal: up to the
// tile's last query position; window: from its first position minus `left`),
// with static key tiles (here 24 keys, as Skv = 24) while they fit; scores are
// masked per element by index predicates; tile matmuls are register-blocked
// FMA micro-kernels (4 accumulator rows) and row max / row sum are vector
// reductions; no Sq×Skv tensor exists.
// CHECK-LABEL: func.func @attention_gqa_causal_window
// CHECK-NOT: seq.attention
// CHECK-NOT: 40x24xf32
// CHECK: scf.forall (%[[B:.*]], %[[H:.*]], %[[QT:.*]]) in (1, 4, 2) shared_outs(%[[OUT:.*]] = %{{.*}}) -> (tensor<1x4x40x8xf32>)
// CHECK: %[[KVH:.*]] = arith.divui %[[H]], %c2
// CHECK: tensor.extract_slice %arg0[%[[B]], %[[H]], %{{.*}}, 0] [1, 1, 16, 16] [1, 1, 1, 1] : tensor<1x4x40x16xf32> to tensor<16x16xf32>
// CHECK: %[[HI:.*]] = arith.minsi
// CHECK: %[[LO:.*]] = arith.maxsi
// CHECK: arith.ceildivsi
// CHECK: arith.floordivsi
// CHECK: scf.for {{.*}} -> (tensor<16xf32>, tensor<16xf32>, tensor<16x8xf32>)
// CHECK: tensor.extract_slice %arg1[%[[B]], %[[KVH]], %{{.*}}, 0] [1, 1, 24, 16]
// CHECK: tensor.extract_slice %arg2[%[[B]], %[[KVH]], %{{.*}}, 0] [1, 1, 24, 8]
// CHECK: linalg.transpose
// CHECK: scf.for {{.*}} step %c4
// CHECK: scf.for {{.*}} -> (vector<24xf32>, vector<24xf32>, vector<24xf32>, vector<24xf32>)
// CHECK-COUNT-4: math.fma {{.*}} : vector<24xf32>
// CHECK: arith.cmpi slt
// CHECK: arith.cmpi sle
// CHECK: arith.cmpi sge
// CHECK: arith.select %{{.*}}, %{{.*}}, %cst
// CHECK: vector.reduction <maxnumf>
// CHECK: math.exp
// CHECK: vector.reduction <add>
// CHECK-COUNT-4: math.fma {{.*}} : vector<8xf32>
// The dynamic tail of key tiles, from where the static ones end to hi.
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[HI]] step
// CHECK: scf.forall.in_parallel
// CHECK-NEXT: tensor.parallel_insert_slice %{{.*}} into %[[OUT]]
// CHECK: scf.forall (%{{.*}}, %{{.*}}, %{{.*}}) in (1, 4, 1) shared_outs
// CHECK: tensor.extract_slice %arg0[{{.*}}] [1, 1, 8, 16]
func.func @attention_gqa_causal_window(%q: tensor<1x4x40x16xf32>, %k: tensor<1x2x24x16xf32>, %v: tensor<1x2x24x8xf32>) -> tensor<1x4x40x8xf32> {
  %o = seq.attention %q, %k, %v {causal, window = array<i64: 8, -1>} : tensor<1x4x40x16xf32>, tensor<1x2x24x16xf32>, tensor<1x2x24x8xf32> -> tensor<1x4x40x8xf32>
  return %o : tensor<1x4x40x8xf32>
}

// -----

// kv_lengths clamp L to [0, Skv]; segment ids are read per score; lse is a
// second shared output.
// CHECK-LABEL: func.func @attention_lengths_segments_lse
// CHECK: scf.forall {{.*}} shared_outs(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (tensor<2x1x5x4xbf16>, tensor<2x1x5xf32>)
// CHECK: tensor.extract %arg2[%{{.*}}] : tensor<2xi32>
// CHECK: arith.maxsi
// CHECK: arith.minsi
// CHECK: tensor.extract %arg3[{{.*}}] : tensor<2x5xi32>
// CHECK: tensor.extract %arg4[{{.*}}] : tensor<2x7xi32>
// CHECK: arith.cmpi eq
// CHECK: math.log
func.func @attention_lengths_segments_lse(%q: tensor<2x1x5x4xbf16>, %k: tensor<2x1x7x4xbf16>, %len: tensor<2xi32>,
                                          %qs: tensor<2x5xi32>, %ks: tensor<2x7xi32>) -> (tensor<2x1x5x4xbf16>, tensor<2x1x5xf32>) {
  %o, %lse = seq.attention %q, %k, %k kv_lengths(%len : tensor<2xi32>) q_segment_ids(%qs : tensor<2x5xi32>) kv_segment_ids(%ks : tensor<2x7xi32>)
      : tensor<2x1x5x4xbf16>, tensor<2x1x7x4xbf16>, tensor<2x1x7x4xbf16> -> tensor<2x1x5x4xbf16>, tensor<2x1x5xf32>
  return %o, %lse : tensor<2x1x5x4xbf16>, tensor<2x1x5xf32>
}

// -----

// An exclusive scan with initial carries: the combiner is inlined into an
// elementwise generic over the carry; the output at t is the carry before
// step t.
// CHECK-LABEL: func.func @scan_exclusive
// CHECK: scf.for {{.*}} iter_args(%[[O:.*]] = %{{.*}}, %[[C:.*]] = %arg1)
// CHECK: %[[X:.*]] = tensor.collapse_shape
// CHECK: %[[OLD:.*]] = tensor.expand_shape %[[C]]
// CHECK: %[[O2:.*]] = tensor.insert_slice %[[OLD]] into %[[O]]
// CHECK: %[[N:.*]] = linalg.generic {{.*}} ins(%[[X]] : tensor<3xi32>) outs(%[[C]] : tensor<3xi32>)
// CHECK: arith.muli
// CHECK: scf.yield %[[O2]], %[[N]]
func.func @scan_exclusive(%x: tensor<5x3xi32>, %i: tensor<3xi32>) -> (tensor<5x3xi32>, tensor<3xi32>) {
  %y, %c = seq.scan ins(%x : tensor<5x3xi32>) init(%i : tensor<3xi32>) {dim = 0 : i64, exclusive} -> tensor<5x3xi32>, tensor<3xi32> {
  ^bb0(%l: i32, %r: i32):
    %p = arith.muli %l, %r : i32
    seq.yield %p : i32
  }
  return %y, %c : tensor<5x3xi32>, tensor<3xi32>
}

// -----

// Selective scan: the [B, D, N] state is carried in f32 and updated in place;
// B and C are read through channel / group maps; no [B, D, L, N] tensor.
// CHECK-LABEL: func.func @selective_scan
// CHECK: scf.for {{.*}} -> (tensor<1x4x6xf32>, tensor<1x4x3xf32>)
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #[[GROUP:.*]], #{{.*}}, #{{.*}}]
// CHECK: math.exp
// CHECK-NOT: tensor<1x4x6x3xf32>
func.func @selective_scan(%u: tensor<1x4x6xf32>, %A: tensor<4x3xf32>, %B: tensor<1x2x3x6xf32>) -> tensor<1x4x6xf32> {
  %y = seq.selective_scan %u, %u, %A, %B, %B {delta_softplus} : tensor<1x4x6xf32>, tensor<1x4x6xf32>, tensor<4x3xf32>, tensor<1x2x3x6xf32>, tensor<1x2x3x6xf32> -> tensor<1x4x6xf32>
  return %y : tensor<1x4x6xf32>
}

// -----

// Causal conv1d: causality is the front padding of W - 1 zeros.
// CHECK-LABEL: func.func @causal_conv1d
// CHECK: tensor.pad %arg0 low[0, 0, 3] high[0, 0, 0]
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]
func.func @causal_conv1d(%x: tensor<2x4x9xf32>, %w: tensor<4x4xf32>) -> tensor<2x4x9xf32> {
  %y = seq.causal_conv1d %x, %w {silu} : tensor<2x4x9xf32>, tensor<4x4xf32> -> tensor<2x4x9xf32>
  return %y : tensor<2x4x9xf32>
}
