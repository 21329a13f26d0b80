//===- Passes.td - seqc conversion passes ------------------*- tablegen -*-===//
//
// Part of seqc. Every convert-seq-to-* pass, in one file.
//
//===----------------------------------------------------------------------===//

#ifndef SEQC_CONVERSION_PASSES
#define SEQC_CONVERSION_PASSES

include "mlir/Pass/PassBase.td"

def ConvertSeqToLinalg : Pass<"convert-seq-to-linalg", "ModuleOp"> {
  let summary = "Lower seq ops to linalg, scf and tensor ops (portable decomposition)";
  let description = [{
    Decomposes every `seq` op into upstream ops on tensors, never
    materializing what the op exists to avoid:

    - `seq.attention`: FlashAttention-2 online softmax. Each (batch, query
      head, query tile) iterates over key tiles, keeping the running max `m`,
      the running sum `l` and the unnormalized output `acc`; a key tile moves
      them as `m' = max(m, rowmax(S))`, `α = exp(m - m')`,
      `l' = α·l + rowsum(exp(S - m'))`, `acc' = α·acc + exp(S - m')·V`.
      Masks are predicates on indices; key tiles wholly outside the causal
      or window band are never visited; GQA reads K/V head `h / G` through
      the indexing maps (no copies); the `Sq×Skv` score matrix never exists.
    - `seq.scan`, `seq.linear_recurrence`, `seq.selective_scan`,
      `seq.gated_linear_attention`, `seq.recurrence`: a loop over time that
      carries the state (f32 for the float recurrences) and writes each step's
      output; the selective scan's `[B, D, L, N]` and GLA's `[B, H, T, K, V]`
      intermediates never exist. A linear recurrence along the innermost
      dimension is a chunked two-level scan instead: per vector-wide tile of
      a row, `h_t = A_t·h_in + B_t` with `(A_t, B_t)` the composition of the
      tile's affine maps (a log-depth scan in registers), rows in parallel.
    - `seq.rms_norm`, `seq.rope`, `seq.causal_conv1d`: `linalg.generic`s
      that fuse with their neighbours.

    Example:

    ```mlir
    %y = seq.rms_norm %x, %w : tensor<2x8xf32>, tensor<8xf32> -> tensor<2x8xf32>
    ```
    becomes a `linalg.generic` reduction of `x²` over the last dimension and
    an elementwise `linalg.generic` that scales by `rsqrt(mean + eps)·w`.

    The lowering needs static shapes; an op with dynamic sizes is left in
    place with an error.
  }];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect",
  ];
  let options = [
    Option<"attentionTileQ", "attention-tile-q", "int64_t", "64",
           "Queries per attention tile">,
    Option<"attentionTileKV", "attention-tile-kv", "int64_t", "64",
           "Keys per attention tile (the online-softmax step)">,
  ];
}

#endif // SEQC_CONVERSION_PASSES
