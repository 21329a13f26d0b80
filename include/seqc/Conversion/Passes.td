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
      `seq.recurrence` hoists the body's input-only work out of the loop when
      it contains a contraction: `x_t·W` becomes one `[T·B, I]x[I, N]` matmul
      before the loop (other linalg ops gain a parallel time loop), and the
      step reads its slice.
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

def ConvertSeqToGPU : Pass<"convert-seq-to-gpu", "ModuleOp"> {
  let summary = "Lower seq ops to gpu.launch kernels over memrefs (NVIDIA targets)";
  let description = [{
    Each `seq` op but `seq.recurrence` becomes one `gpu.launch` whose body
    reads the operands through `bufferization.to_buffer` views (any strides)
    and writes new row-major buffers returned through
    `bufferization.to_tensor`, so that One-Shot Bufferize sees plain buffers
    around the kernels. The kernels compute in f32 whatever the storage type:

    - `seq.attention` in bf16/f16 with head dims that are multiples of 16:
      FlashAttention-2 on the tensor cores (`mma.sync.m16n8k16`, f32
      accumulation), a block of 4 warps per 64 query rows, key tiles of 64
      outside the causal/window band skipped.
    - `seq.attention` otherwise: a thread per query row; an online softmax over exactly
      the visible keys (causal/window bounds as loop bounds, `kv_lengths`
      clamped, segment ids as a predicate), GQA by indexing, the `Dv`
      accumulators in registers; fully masked rows give 0 (and `-inf` LSE).
    - `seq.linear_recurrence` along the contiguous dimension: a block per
      row, `scan-steps-per-thread` steps per thread in registers, a block scan
      of the affine maps; along other dimensions, and `seq.scan`: a thread
      per sequence, the carry in registers.
    - `seq.selective_scan`: one-warp blocks of channels walking time in
      chunks staged through shared memory, each channel's `N` states in
      registers; `seq.gated_linear_attention`: a thread per (batch, head,
      value column) with a `K`-long column of the state in registers. Neither
      state ever reaches device memory, except the optional final state.
    - `seq.rms_norm`: a block per row with a block-wide sum (`gpu.all_reduce`);
      `seq.rope`, `seq.causal_conv1d`: a thread per output.

    `seq.recurrence` is left for `convert-seq-to-linalg` (its body is linalg
    code). Ops with dynamic shapes are errors; so are states beyond 256
    registers per thread (`N`, `K` or the head dims).

    ```mlir
    %y = seq.rms_norm %x, %w : tensor<4x8xf32>, tensor<8xf32> -> tensor<4x8xf32>
    // becomes
    %xb = bufferization.to_buffer %x read_only : ... to memref<4x8xf32, strided<[?, ?], offset: ?>>
    %yb = memref.alloc() : memref<4x8xf32>
    gpu.launch blocks(...) in (4, 1, 1) threads(...) in (256, 1, 1) { ... gpu.all_reduce add ... }
    %y = bufferization.to_tensor %yb restrict writable : memref<4x8xf32> to tensor<4x8xf32>
    ```
  }];
  let options = [
    Option<"attentionTensorCores", "attention-tensor-cores", "bool", "true",
           "Lower bf16/f16 attention with head dims that are multiples of 16 "
           "to mma.sync tensor-core kernels (sm_80 and later)">,
    Option<"attentionWgmma", "attention-wgmma", "bool", "false",
           "Lower bf16/f16 prefill attention (more than 64 query rows, "
           "head dims multiples of 16, values at most 128) to warpgroup-MMA "
           "kernels with TMA and mbarrier pipelines (sm_90a)">,
    Option<"attentionRowsPerWarp", "attention-rows-per-warp", "int64_t", "0",
           "Query rows per warp of the tensor-core attention: 16 or 32 "
           "(0: 32 while the O accumulators fit in registers)">,
    Option<"attentionKeysPerTile", "attention-keys-per-tile", "int64_t", "0",
           "Keys per tile of the tensor-core attention: a multiple of 16 up "
           "to 256 on wgmma (0: 128); 16, 32, 64 or 128 on mma.sync (0 or "
           "another: 64)">,
    Option<"attentionWgmmaStages", "attention-wgmma-stages", "int64_t", "0",
           "K/V ring stages of the warpgroup-MMA attention: 2 to 4 (0: as "
           "many as fit in the shared memory, at most 4)">,
    Option<"attentionWgmmaPersistent", "attention-wgmma-persistent",
           "int64_t", "-1",
           "Resident blocks of the warpgroup-MMA attention that take its "
           "(batch, head, row block) items in turn, one item's stores "
           "overlapping the next's loads (0: a block per item; -1: the "
           "kernel's choice, one block a multiprocessor under a window)">,
    Option<"attentionWgmmaBlocksPerSM", "attention-wgmma-blocks-per-sm",
           "int64_t", "0",
           "Blocks of the warpgroup-MMA attention a multiprocessor: 1, or 2 "
           "(two consumer warpgroups at 104 registers and 64-key tiles, "
           "where the head dims are at most 64 and nothing is masked; else "
           "1) (0: the kernel's choice)">,
    Option<"attentionWgmmaRows", "attention-wgmma-rows", "int64_t", "0",
           "Query rows per block of the warpgroup-MMA attention: 128 (two "
           "consumer warpgroups), 192 (three; 128 keys per tile by "
           "default) or 256 (four; 64 keys per tile) (0: the kernel's "
           "choice)">,
    Option<"attentionDecodeRows", "attention-decode-rows", "int64_t", "0",
           "Query rows of one KV head per warp of the split-key attention: "
           "1 to 8 (0: 4)">,
    Option<"attentionDecodeBlocks", "attention-decode-blocks", "int64_t",
           "0",
           "Blocks the split-key tensor-core attention's key splits aim at "
           "(0: the kernel's choice, one wave of two blocks an SM where the "
           "query tiles allow)">,
    Option<"attentionDecodeTma", "attention-decode-tma", "int64_t", "-1",
           "Stages of the split-key tensor-core attention's TMA ring on "
           "sm_90a, a copy warp beside the warps of rows (0: cp.async by "
           "every thread, one K and one V tile; -1: the kernel's choice)">,
    Option<"attentionDecodeKeys", "attention-decode-keys", "int64_t", "0",
           "Keys per step of the split-key attention (their loads issued "
           "together): 1, 2, 4, 8 or 16 (0: 8)">,
    Option<"attentionDecodeVector", "attention-decode-vector", "bool",
           "true",
           "The split-key attention's lanes hold contiguous head dims and "
           "read each K/V row piece as one vector load (head dims of 32·P, "
           "P a power of two, at most 16 bytes a lane)">,
    Option<"attentionDecodeTranspose", "attention-decode-transpose", "bool",
           "true",
           "The split-key attention sums its rows x keys scores over the "
           "lanes with a transposed reduction and a broadcast (63 shuffles "
           "for 32 scores instead of 160)">,
    Option<"selectiveScanTimeSplit", "selective-scan-time-split", "int64_t",
           "0",
           "Steps per time split of seq.selective_scan (rounded up to a "
           "multiple of 16): the splits are scanned in parallel from a zero "
           "state, their carries composed by a second kernel, and rescanned "
           "from the carried-in state by a third. 0: the lowering's choice "
           "(splits of 64 steps or more that bring the launch to about 6144 "
           "warps); the length or more: no split">,
    Option<"selectiveScanBCSteps", "selective-scan-bc-steps", "int64_t",
           "2",
           "Steps of seq.selective_scan's B and C that one vector load per "
           "state reads: 2 or 4 where the length is a multiple of 4; 1 (or "
           "another length): a scalar load per state and step">,
    Option<"selectiveScanPipelined", "selective-scan-pipelined", "bool",
           "true",
           "seq.selective_scan's pipelined kernels where a lane holds a "
           "channel, B and C are f32 and rows are whole 16-byte vectors: u, "
           "delta and z by cp.async into two buffers, B and C transposed "
           "to [step][state]; 0: the chunk-at-a-time kernels">,
    Option<"selectiveScanPolyExp", "selective-scan-poly-exp", "int64_t",
           "0",
           "States of seq.selective_scan's pipelined kernels whose decay "
           "2^x runs as a degree-5 polynomial on the FMA pipe instead of "
           "ex2 on the special-function unit (0 up to N; FlashAttention-3's "
           "balance of the two pipes)">,
    Option<"selectiveScanStateLanes", "selective-scan-state-lanes",
           "int64_t", "0",
           "Lanes that share a channel of seq.selective_scan, each holding "
           "N / lanes of its states (1, 2, 4, 8 or 16; a power of two that "
           "does not divide N is halved until it does): more warps, fewer "
           "registers, y summed over the lanes by shuffles; 0: the "
           "lowering's choice (2 for the pipelined kernels, else 1)">,
    Option<"attentionSplitKeys", "attention-split-keys", "bool", "false",
           "SIMT attention with few query rows (decoding): split each row's "
           "keys across warps (a warp per up to 4 rows of one KV head; up to "
           "256 splits of 64 keys or more) and "
           "combine the partial softmaxes in a second kernel">,
    Option<"attentionDecodeSimt", "attention-decode-simt", "bool", "false",
           "With attention-split-keys: bf16/f16 decoding with at most 8 "
           "query rows per KV head runs the split-key SIMT kernel even "
           "where the split-key tensor-core kernel applies (few (batch, "
           "head) pairs of up to 64 rows); without it the SIMT kernel takes "
           "such rows only in pairs that fill the GPU">,
    Option<"scanStepsPerThread", "scan-steps-per-thread", "int64_t", "4",
           "Steps of a row each thread of the innermost linear recurrence's "
           "block scan holds in registers (a tile is 256 times this; one "
           "vector load of each input where they make 8 or 16 bytes and "
           "divide the row)">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::nvgpu::NVGPUDialect",
    "::mlir::NVVM::NVVMDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def SeqcTileMatmuls : Pass<"seqc-tile-matmuls"> {
  let summary = "Lower static f32-accumulating linalg.matmul to parallel register micro-kernels";
  let description = [{
    `convert-linalg-to-loops` turns a `linalg.matmul` into a scalar triple
    loop. Models are full of matmuls (projections, a recurrence's hoisted
    input projection), so each static `linalg.matmul` on tensors with an f32
    result and the default indexing maps is rewritten here, before
    bufferization, into the register micro-kernel the attention lowering uses:
    row tiles of `tile-rows` rows run in parallel (`scf.forall`), and within
    a tile each block of columns keeps its accumulator rows in vector
    registers across the whole reduction.

    ```mlir
    %c = linalg.matmul ins(%a, %b : tensor<512x256xf32>, tensor<256x1024xf32>)
                       outs(%acc : tensor<512x1024xf32>) -> tensor<512x1024xf32>
    // becomes scf.forall over 16 row tiles, each an scf.for over 16 column
    // blocks of vector<64xf32> FMAs.
    ```

    Matmuls with other result types, dynamic shapes or user-defined maps
    are left alone.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect",
  ];
  let options = [
    Option<"tileRows", "tile-rows", "int64_t", "32",
           "Rows per parallel tile">,
    Option<"tileCols", "tile-cols", "int64_t", "64",
           "Columns per register block (one vector per accumulator row)">,
  ];
}

#endif // SEQC_CONVERSION_PASSES
