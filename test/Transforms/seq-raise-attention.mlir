// RUN: seqc-opt %s --seq-raise-attention=explain --canonicalize --split-input-file --verify-diagnostics | FileCheck %s

// The unfused attention frontends emit, before and after. Each case states
// the form; the negative ones keep their ops and get a remark saying why.

// Head reshapes of [B, H, S, D], K transposed by linalg.transpose, a scale by
// a splat constant, an additive causal mask generated from indices and
// broadcast over the batch: one causal seq.attention on the 4-D tensors.
// CHECK-LABEL: func.func @causal_heads
// CHECK-SAME: (%[[Q:.*]]: tensor<2x4x16x8xf32>, %[[K:.*]]: tensor<2x4x16x8xf32>, %[[V:.*]]: tensor<2x4x16x8xf32>)
// CHECK-NEXT: %[[O:.*]] = seq.attention %[[Q]], %[[K]], %[[V]] {causal, scale = 0.353553385 : f32} : tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32> -> tensor<2x4x16x8xf32>
// CHECK-NEXT: return %[[O]]
func.func @causal_heads(%q: tensor<2x4x16x8xf32>, %k: tensor<2x4x16x8xf32>, %v: tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32> {
  %zero = arith.constant 0.0 : f32
  %q3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<2x4x16x8xf32> into tensor<8x16x8xf32>
  %k3 = tensor.collapse_shape %k [[0, 1], [2], [3]] : tensor<2x4x16x8xf32> into tensor<8x16x8xf32>
  %v3 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<2x4x16x8xf32> into tensor<8x16x8xf32>
  %e0 = tensor.empty() : tensor<8x8x16xf32>
  %kt = linalg.transpose ins(%k3 : tensor<8x16x8xf32>) outs(%e0 : tensor<8x8x16xf32>) permutation = [0, 2, 1]
  %e1 = tensor.empty() : tensor<8x16x16xf32>
  %z1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %s = linalg.batch_matmul ins(%q3, %kt : tensor<8x16x8xf32>, tensor<8x8x16xf32>) outs(%z1 : tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %c = arith.constant dense<0.35355339> : tensor<8x16x16xf32>
  %ss = arith.mulf %s, %c : tensor<8x16x16xf32>
  %mask2 = tensor.generate {
  ^bb0(%i: index, %j: index):
    %vis = arith.cmpi sle, %j, %i : index
    %ninf = arith.constant 0xFF800000 : f32
    %m = arith.select %vis, %zero, %ninf : f32
    tensor.yield %m : f32
  } : tensor<16x16xf32>
  %e2 = tensor.empty() : tensor<8x16x16xf32>
  %mask3 = linalg.broadcast ins(%mask2 : tensor<16x16xf32>) outs(%e2 : tensor<8x16x16xf32>) dimensions = [0]
  %sm = arith.addf %ss, %mask3 : tensor<8x16x16xf32>
  %e3 = tensor.empty() : tensor<8x16x16xf32>
  %p = linalg.softmax dimension(2) ins(%sm : tensor<8x16x16xf32>) outs(%e3 : tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %e4 = tensor.empty() : tensor<8x16x8xf32>
  %z4 = linalg.fill ins(%zero : f32) outs(%e4 : tensor<8x16x8xf32>) -> tensor<8x16x8xf32>
  %o3 = linalg.batch_matmul ins(%p, %v3 : tensor<8x16x16xf32>, tensor<8x16x8xf32>) outs(%z4 : tensor<8x16x8xf32>) -> tensor<8x16x8xf32>
  %o = tensor.expand_shape %o3 [[0, 1], [2], [3]] output_shape [2, 4, 16, 8] : tensor<8x16x8xf32> into tensor<2x4x16x8xf32>
  return %o : tensor<2x4x16x8xf32>
}

// -----

// GQA (K and V broadcast over groups of 2 query heads, as repeat_interleave
// writes it), Q·Kᵀ through indexing maps reading K[b, j, d], a division by
// sqrt(D), and Hugging Face's additive mask as a constant with finfo.min:
// bottom-right causal with Sq = 3 < Skv = 5 (query i sees keys <= i + 2).
// CHECK-LABEL: func.func @gqa_finfo_min_mask
// CHECK-SAME: (%[[Q:.*]]: tensor<1x4x3x8xf32>, %[[K:.*]]: tensor<1x2x5x8xf32>, %[[V:.*]]: tensor<1x2x5x8xf32>)
// CHECK-NEXT: %[[O:.*]] = seq.attention %[[Q]], %[[K]], %[[V]] {causal, scale = 0.353553385 : f32} : tensor<1x4x3x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32> -> tensor<1x4x3x8xf32>
func.func @gqa_finfo_min_mask(%q: tensor<1x4x3x8xf32>, %k: tensor<1x2x5x8xf32>, %v: tensor<1x2x5x8xf32>) -> tensor<1x4x3x8xf32> {
  %zero = arith.constant 0.0 : f32
  %eb = tensor.empty() : tensor<1x2x2x5x8xf32>
  %kb = linalg.broadcast ins(%k : tensor<1x2x5x8xf32>) outs(%eb : tensor<1x2x2x5x8xf32>) dimensions = [2]
  %vb = linalg.broadcast ins(%v : tensor<1x2x5x8xf32>) outs(%eb : tensor<1x2x2x5x8xf32>) dimensions = [2]
  %q3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x4x3x8xf32> into tensor<4x3x8xf32>
  %k3 = tensor.collapse_shape %kb [[0, 1, 2], [3], [4]] : tensor<1x2x2x5x8xf32> into tensor<4x5x8xf32>
  %v3 = tensor.collapse_shape %vb [[0, 1, 2], [3], [4]] : tensor<1x2x2x5x8xf32> into tensor<4x5x8xf32>
  %e1 = tensor.empty() : tensor<4x3x5xf32>
  %z1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x3x5xf32>) -> tensor<4x3x5xf32>
  %s = linalg.batch_matmul indexing_maps = [affine_map<(b, i, j, d) -> (b, i, d)>, affine_map<(b, i, j, d) -> (b, j, d)>, affine_map<(b, i, j, d) -> (b, i, j)>] ins(%q3, %k3 : tensor<4x3x8xf32>, tensor<4x5x8xf32>) outs(%z1 : tensor<4x3x5xf32>) -> tensor<4x3x5xf32>
  %sqrt_d = arith.constant dense<2.82842712> : tensor<4x3x5xf32>
  %ss = arith.divf %s, %sqrt_d : tensor<4x3x5xf32>
  %mask2 = arith.constant dense<[[0.0, 0.0, 0.0, -3.40282347e+38, -3.40282347e+38], [0.0, 0.0, 0.0, 0.0, -3.40282347e+38], [0.0, 0.0, 0.0, 0.0, 0.0]]> : tensor<3x5xf32>
  %e2 = tensor.empty() : tensor<4x3x5xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i, j)>, affine_map<(b, i, j) -> (i, j)>, affine_map<(b, i, j) -> (b, i, j)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ss, %mask2 : tensor<4x3x5xf32>, tensor<3x5xf32>) outs(%e2 : tensor<4x3x5xf32>) {
  ^bb0(%a: f32, %m: f32, %out: f32):
    %r = arith.addf %a, %m : f32
    linalg.yield %r : f32
  } -> tensor<4x3x5xf32>
  %e3 = tensor.empty() : tensor<4x3x5xf32>
  %p = linalg.softmax dimension(2) ins(%sm : tensor<4x3x5xf32>) outs(%e3 : tensor<4x3x5xf32>) -> tensor<4x3x5xf32>
  %e4 = tensor.empty() : tensor<4x3x8xf32>
  %z4 = linalg.fill ins(%zero : f32) outs(%e4 : tensor<4x3x8xf32>) -> tensor<4x3x8xf32>
  %o3 = linalg.batch_matmul ins(%p, %v3 : tensor<4x3x5xf32>, tensor<4x5x8xf32>) outs(%z4 : tensor<4x3x8xf32>) -> tensor<4x3x8xf32>
  %o = tensor.expand_shape %o3 [[0, 1], [2], [3]] output_shape [1, 4, 3, 8] : tensor<4x3x8xf32> into tensor<1x4x3x8xf32>
  return %o : tensor<1x4x3x8xf32>
}

// -----

// Rank-3 operands with no head reshape (one batch), a sliding window of two
// keys back and one ahead as a boolean mask from linalg.index selecting the
// scores or -inf, and a scale as an elementwise linalg.generic. The result
// keeps its rank-3 type through a collapse of the 4-D attention.
// CHECK-LABEL: func.func @window_select
// CHECK: %[[Q4:.*]] = tensor.expand_shape %arg0 {{\[\[}}0, 1], [2], [3]] output_shape [1, 2, 6, 4]
// CHECK: %[[O:.*]] = seq.attention %[[Q4]], %{{.*}}, %{{.*}} {scale = 5.000000e-01 : f32, window = array<i64: 2, 1>}
// CHECK: tensor.collapse_shape %[[O]] {{\[\[}}0, 1], [2], [3]] : tensor<1x2x6x4xf32> into tensor<2x6x4xf32>
// CHECK-NOT: linalg.softmax
func.func @window_select(%q: tensor<2x6x4xf32>, %k: tensor<2x6x4xf32>, %v: tensor<2x6x4xf32>) -> tensor<2x6x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<2x4x6xf32>
  %kt = linalg.transpose ins(%k : tensor<2x6x4xf32>) outs(%e0 : tensor<2x4x6xf32>) permutation = [0, 2, 1]
  %e1 = tensor.empty() : tensor<2x6x6xf32>
  %z1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<2x6x6xf32>) -> tensor<2x6x6xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x6x4xf32>, tensor<2x4x6xf32>) outs(%z1 : tensor<2x6x6xf32>) -> tensor<2x6x6xf32>
  %half = arith.constant 0.5 : f32
  %ss = linalg.generic {indexing_maps = [affine_map<(b, i, j) -> (b, i, j)>, affine_map<(b, i, j) -> (b, i, j)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<2x6x6xf32>) outs(%e1 : tensor<2x6x6xf32>) {
  ^bb0(%a: f32, %out: f32):
    %r = arith.mulf %a, %half : f32
    linalg.yield %r : f32
  } -> tensor<2x6x6xf32>
  %em = tensor.empty() : tensor<6x6xi1>
  %vis2 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} outs(%em : tensor<6x6xi1>) {
  ^bb0(%out: i1):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %c2 = arith.constant 2 : index
    %c1 = arith.constant 1 : index
    %lo = arith.subi %i, %c2 : index
    %ilo = arith.index_cast %lo : index to i64
    %jj = arith.index_cast %j : index to i64
    %after = arith.cmpi sge, %jj, %ilo : i64
    %hi = arith.addi %i, %c1 : index
    %before = arith.cmpi sle, %j, %hi : index
    %both = arith.andi %after, %before : i1
    linalg.yield %both : i1
  } -> tensor<6x6xi1>
  %eb = tensor.empty() : tensor<2x6x6xi1>
  %vis3 = linalg.broadcast ins(%vis2 : tensor<6x6xi1>) outs(%eb : tensor<2x6x6xi1>) dimensions = [0]
  %ninf = arith.constant dense<0xFF800000> : tensor<2x6x6xf32>
  %sm = arith.select %vis3, %ss, %ninf : tensor<2x6x6xi1>, tensor<2x6x6xf32>
  %e3 = tensor.empty() : tensor<2x6x6xf32>
  %p = linalg.softmax dimension(2) ins(%sm : tensor<2x6x6xf32>) outs(%e3 : tensor<2x6x6xf32>) -> tensor<2x6x6xf32>
  %e4 = tensor.empty() : tensor<2x6x4xf32>
  %z4 = linalg.fill ins(%zero : f32) outs(%e4 : tensor<2x6x4xf32>) -> tensor<2x6x4xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x6x6xf32>, tensor<2x6x4xf32>) outs(%z4 : tensor<2x6x4xf32>) -> tensor<2x6x4xf32>
  return %o : tensor<2x6x4xf32>
}

// -----

// Not raised: the mask's first row is fully masked (keys strictly before
// the query): the unfused softmax gives NaN there, seq.attention 0.
// CHECK-LABEL: func.func @fully_masked_row
// CHECK: linalg.softmax
// CHECK-NOT: seq.attention
func.func @fully_masked_row(%q: tensor<1x3x4xf32>, %k: tensor<1x3x4xf32>, %v: tensor<1x3x4xf32>) -> tensor<1x3x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<1x4x3xf32>
  %kt = linalg.transpose ins(%k : tensor<1x3x4xf32>) outs(%e0 : tensor<1x4x3xf32>) permutation = [0, 2, 1]
  %e1 = tensor.empty() : tensor<1x3x3xf32>
  %z1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<1x3x3xf32>) -> tensor<1x3x3xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<1x3x4xf32>, tensor<1x4x3xf32>) outs(%z1 : tensor<1x3x3xf32>) -> tensor<1x3x3xf32>
  %mask2 = arith.constant dense<[[0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0xFF800000, 0xFF800000], [0.0, 0.0, 0xFF800000]]> : tensor<3x3xf32>
  %mask = linalg.broadcast ins(%mask2 : tensor<3x3xf32>) outs(%e1 : tensor<1x3x3xf32>) dimensions = [0]
  %sm = arith.addf %s, %mask : tensor<1x3x3xf32>
  %e3 = tensor.empty() : tensor<1x3x3xf32>
  // expected-remark @+1 {{not raised: query row 0 has no visible key}}
  %p = linalg.softmax dimension(2) ins(%sm : tensor<1x3x3xf32>) outs(%e3 : tensor<1x3x3xf32>) -> tensor<1x3x3xf32>
  %e4 = tensor.empty() : tensor<1x3x4xf32>
  %z4 = linalg.fill ins(%zero : f32) outs(%e4 : tensor<1x3x4xf32>) -> tensor<1x3x4xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<1x3x3xf32>, tensor<1x3x4xf32>) outs(%z4 : tensor<1x3x4xf32>) -> tensor<1x3x4xf32>
  return %o : tensor<1x3x4xf32>
}

// -----

// Not raised: a mask that is no band (query 1 sees keys 0 and 2, not 1).
// CHECK-LABEL: func.func @not_a_band
// CHECK: linalg.softmax
// CHECK-NOT: seq.attention
func.func @not_a_band(%q: tensor<1x3x4xf32>, %k: tensor<1x3x4xf32>, %v: tensor<1x3x4xf32>) -> tensor<1x3x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<1x4x3xf32>
  %kt = linalg.transpose ins(%k : tensor<1x3x4xf32>) outs(%e0 : tensor<1x4x3xf32>) permutation = [0, 2, 1]
  %e1 = tensor.empty() : tensor<1x3x3xf32>
  %z1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<1x3x3xf32>) -> tensor<1x3x3xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<1x3x4xf32>, tensor<1x4x3xf32>) outs(%z1 : tensor<1x3x3xf32>) -> tensor<1x3x3xf32>
  %vis2 = arith.constant dense<[[true, false, false], [true, false, true], [true, true, true]]> : tensor<3x3xi1>
  %eb = tensor.empty() : tensor<1x3x3xi1>
  %vis = linalg.broadcast ins(%vis2 : tensor<3x3xi1>) outs(%eb : tensor<1x3x3xi1>) dimensions = [0]
  %ninf = arith.constant dense<0xFF800000> : tensor<1x3x3xf32>
  %sm = arith.select %vis, %s, %ninf : tensor<1x3x3xi1>, tensor<1x3x3xf32>
  %e3 = tensor.empty() : tensor<1x3x3xf32>
  // expected-remark @+1 {{not raised: the mask is not a causal or window band}}
  %p = linalg.softmax dimension(2) ins(%sm : tensor<1x3x3xf32>) outs(%e3 : tensor<1x3x3xf32>) -> tensor<1x3x3xf32>
  %e4 = tensor.empty() : tensor<1x3x4xf32>
  %z4 = linalg.fill ins(%zero : f32) outs(%e4 : tensor<1x3x4xf32>) -> tensor<1x3x4xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<1x3x3xf32>, tensor<1x3x4xf32>) outs(%z4 : tensor<1x3x4xf32>) -> tensor<1x3x4xf32>
  return %o : tensor<1x3x4xf32>
}

// -----

// Not raised: the mask holds -1.0 (a bias, not a mask).
// CHECK-LABEL: func.func @bias_not_mask
// CHECK-NOT: seq.attention
func.func @bias_not_mask(%q: tensor<1x2x4xf32>, %k: tensor<1x2x4xf32>, %v: tensor<1x2x4xf32>) -> tensor<1x2x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<1x4x2xf32>
  %kt = linalg.transpose ins(%k : tensor<1x2x4xf32>) outs(%e0 : tensor<1x4x2xf32>) permutation = [0, 2, 1]
  %e1 = tensor.empty() : tensor<1x2x2xf32>
  %z1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<1x2x2xf32>) -> tensor<1x2x2xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<1x2x4xf32>, tensor<1x4x2xf32>) outs(%z1 : tensor<1x2x2xf32>) -> tensor<1x2x2xf32>
  %bias2 = arith.constant dense<[[0.0, -1.0], [0.0, 0.0]]> : tensor<2x2xf32>
  %bias = linalg.broadcast ins(%bias2 : tensor<2x2xf32>) outs(%e1 : tensor<1x2x2xf32>) dimensions = [0]
  %sm = arith.addf %s, %bias : tensor<1x2x2xf32>
  %e3 = tensor.empty() : tensor<1x2x2xf32>
  // expected-remark @+1 {{not raised: the additive mask holds -1.000000, neither 0 nor a masking value}}
  %p = linalg.softmax dimension(2) ins(%sm : tensor<1x2x2xf32>) outs(%e3 : tensor<1x2x2xf32>) -> tensor<1x2x2xf32>
  %e4 = tensor.empty() : tensor<1x2x4xf32>
  %z4 = linalg.fill ins(%zero : f32) outs(%e4 : tensor<1x2x4xf32>) -> tensor<1x2x4xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<1x2x2xf32>, tensor<1x2x4xf32>) outs(%z4 : tensor<1x2x4xf32>) -> tensor<1x2x4xf32>
  return %o : tensor<1x2x4xf32>
}

// -----

// Not raised: the scores are also returned (raising would not remove them),
// and a softmax over the query dimension is no attention.
// CHECK-LABEL: func.func @scores_used_and_wrong_dim
// CHECK-NOT: seq.attention
func.func @scores_used_and_wrong_dim(%q: tensor<1x2x4xf32>, %k: tensor<1x2x4xf32>, %v: tensor<1x2x4xf32>) -> (tensor<1x2x4xf32>, tensor<1x2x2xf32>, tensor<1x2x2xf32>) {
  %zero = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<1x4x2xf32>
  %kt = linalg.transpose ins(%k : tensor<1x2x4xf32>) outs(%e0 : tensor<1x4x2xf32>) permutation = [0, 2, 1]
  %e1 = tensor.empty() : tensor<1x2x2xf32>
  %z1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<1x2x2xf32>) -> tensor<1x2x2xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<1x2x4xf32>, tensor<1x4x2xf32>) outs(%z1 : tensor<1x2x2xf32>) -> tensor<1x2x2xf32>
  %e3 = tensor.empty() : tensor<1x2x2xf32>
  // expected-remark @+1 {{not raised: an intermediate score tensor has other uses}}
  %p = linalg.softmax dimension(2) ins(%s : tensor<1x2x2xf32>) outs(%e3 : tensor<1x2x2xf32>) -> tensor<1x2x2xf32>
  // expected-remark @+1 {{not raised: the softmax is not over the last (key) dimension}}
  %p1 = linalg.softmax dimension(1) ins(%s : tensor<1x2x2xf32>) outs(%e3 : tensor<1x2x2xf32>) -> tensor<1x2x2xf32>
  %e4 = tensor.empty() : tensor<1x2x4xf32>
  %z4 = linalg.fill ins(%zero : f32) outs(%e4 : tensor<1x2x4xf32>) -> tensor<1x2x4xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<1x2x2xf32>, tensor<1x2x4xf32>) outs(%z4 : tensor<1x2x4xf32>) -> tensor<1x2x4xf32>
  return %o, %s, %p1 : tensor<1x2x4xf32>, tensor<1x2x2xf32>, tensor<1x2x2xf32>
}

// -----

// The unfused example block raises to one seq.attention with the fused
// block's attributes (examples/llama_block_unfused.mlir; its outputs are
// checked against llama_block's NumPy reference by the examples' test).
// RUN: seqc-opt %seqc_src_root/examples/llama_block_unfused.mlir --seq-raise-attention --canonicalize | FileCheck %s --check-prefix=EXAMPLE
// EXAMPLE-LABEL: func.func @llama_block_unfused
// EXAMPLE-NOT: linalg.softmax
// EXAMPLE: seq.attention %{{.*}}, %{{.*}}, %{{.*}} {causal, scale = 0.176776692 : f32} : tensor<1x8x32x32xf32>, tensor<1x2x32x32xf32>, tensor<1x2x32x32xf32> -> tensor<1x8x32x32xf32>
// EXAMPLE-NOT: linalg.batch_matmul
