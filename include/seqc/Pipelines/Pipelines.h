//===- Pipelines.h - seqc's pass pipelines ----------------------*- C++ -*-===//
//
// Part of seqc. The pipelines that take a module with `seq` ops to a target:
// each is a C++ function over an options struct, registered for tools under
// its flag (`seqc-cpu-pipeline`).
//
//===----------------------------------------------------------------------===//

#ifndef SEQC_PIPELINES_PIPELINES_H
#define SEQC_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassOptions.h"

namespace mlir {
class OpPassManager;
} // namespace mlir

namespace mlir::seqc {

/// Options of `seqc-cpu-pipeline`.
struct CPUPipelineOptions : public PassPipelineOptions<CPUPipelineOptions> {
  PassOptions::Option<int64_t> attentionTileQ{
      *this, "attention-tile-q",
      llvm::cl::desc("Queries per attention tile"), llvm::cl::init(64)};
  PassOptions::Option<int64_t> attentionTileKV{
      *this, "attention-tile-kv",
      llvm::cl::desc("Keys per attention tile"), llvm::cl::init(64)};
  PassOptions::Option<bool> matmulSplitK{
      *this, "matmul-split-k",
      llvm::cl::desc("Split the reduction of matmuls with few outputs "
                     "(seqc-split-small-matmuls)"),
      llvm::cl::init(false)};
  PassOptions::Option<bool> boundsCheck{
      *this, "bounds-check",
      llvm::cl::desc("Check every memref access and view against its bounds "
                     "at run time (aborts with the op's location)"),
      llvm::cl::init(false)};
};

/// seq (+ linalg/tensor/arith/math) on tensors -> LLVM dialect for the host.
/// Public functions take every tensor argument and result as a strided
/// memref of any layout, results as trailing out-parameters.
void buildCPUPipeline(OpPassManager &pm, const CPUPipelineOptions &options);

/// Options of `seqc-cuda-pipeline`.
struct CUDAPipelineOptions : public PassPipelineOptions<CUDAPipelineOptions> {
  PassOptions::Option<std::string> chip{
      *this, "chip", llvm::cl::desc("GPU architecture (sm_80, sm_90a, ...)"),
      llvm::cl::init("sm_90a")};
  PassOptions::Option<std::string> features{
      *this, "features", llvm::cl::desc("PTX ISA version feature"),
      llvm::cl::init("+ptx80")};
  PassOptions::Option<std::string> format{
      *this, "format",
      llvm::cl::desc("Embedded GPU code: isa (PTX, JIT-compiled by the "
                     "driver), bin (cubin, needs ptxas) or fatbin (cubin + "
                     "PTX, needs ptxas and fatbinary)"),
      llvm::cl::init("fatbin")};
  PassOptions::Option<int> optLevel{
      *this, "opt-level", llvm::cl::desc("NVPTX optimization level"),
      llvm::cl::init(3)};
  PassOptions::Option<bool> attentionTensorCores{
      *this, "attention-tensor-cores",
      llvm::cl::desc("bf16/f16 attention on mma.sync tensor cores"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> attentionWgmma{
      *this, "attention-wgmma",
      llvm::cl::desc("bf16/f16 prefill attention on warpgroup MMA, TMA and "
                     "mbarriers when the chip is sm_90a"),
      llvm::cl::init(true)};
  PassOptions::Option<int64_t> attentionRowsPerWarp{
      *this, "attention-rows-per-warp",
      llvm::cl::desc("Query rows per warp of the tensor-core attention (16, "
                     "32; 0: the kernel's choice)"),
      llvm::cl::init(0)};
  PassOptions::Option<int64_t> attentionKeysPerTile{
      *this, "attention-keys-per-tile",
      llvm::cl::desc("Keys per tile of the tensor-core attention (16, 32, "
                     "64, 128; 0: the kernel's choice)"),
      llvm::cl::init(0)};
  PassOptions::Option<int64_t> attentionWgmmaStages{
      *this, "attention-wgmma-stages",
      llvm::cl::desc("K/V ring stages of the warpgroup-MMA attention (2-4; "
                     "0: as many as fit)"),
      llvm::cl::init(0)};
  PassOptions::Option<int64_t> attentionWgmmaPersistent{
      *this, "attention-wgmma-persistent",
      llvm::cl::desc("Resident blocks of the warpgroup-MMA attention that "
                     "take its row blocks in turn (0: a block per row "
                     "block; -1: the kernel's choice)"),
      llvm::cl::init(-1)};
  PassOptions::Option<int64_t> attentionWgmmaBlocksPerSM{
      *this, "attention-wgmma-blocks-per-sm",
      llvm::cl::desc("Blocks of the warpgroup-MMA attention a "
                     "multiprocessor (1, 2; 0: the kernel's choice)"),
      llvm::cl::init(0)};
  PassOptions::Option<int64_t> attentionWgmmaRows{
      *this, "attention-wgmma-rows",
      llvm::cl::desc("Query rows per block of the warpgroup-MMA attention "
                     "(128, 192, 256; 0: the kernel's choice)"),
      llvm::cl::init(0)};
  PassOptions::Option<int64_t> attentionDecodeRows{
      *this, "attention-decode-rows",
      llvm::cl::desc("Query rows of one KV head per warp of the split-key "
                     "attention (1 to 8; 0: the kernel's choice)"),
      llvm::cl::init(0)};
  PassOptions::Option<int64_t> attentionDecodeBlocks{
      *this, "attention-decode-blocks",
      llvm::cl::desc("Blocks the split-key tensor-core attention's key splits "
                     "aim at (0: the kernel's choice)"),
      llvm::cl::init(0)};
  PassOptions::Option<int64_t> attentionDecodeTma{
      *this, "attention-decode-tma",
      llvm::cl::desc("Stages of the split-key tensor-core attention's TMA "
                     "ring on sm_90a (0: off; -1: the kernel's choice)"),
      llvm::cl::init(-1)};
  PassOptions::Option<int64_t> attentionDecodeKeys{
      *this, "attention-decode-keys",
      llvm::cl::desc("Keys per step of the split-key attention (1, 2, 4, 8, "
                     "16; 0: the kernel's choice)"),
      llvm::cl::init(0)};
  PassOptions::Option<int64_t> selectiveScanTimeSplit{
      *this, "selective-scan-time-split",
      llvm::cl::desc("Steps per time split of the selective scan (0: the "
                     "lowering's choice; the length or more: none)"),
      llvm::cl::init(0)};
  PassOptions::Option<int64_t> selectiveScanBCSteps{
      *this, "selective-scan-bc-steps",
      llvm::cl::desc("Steps of the selective scan's B and C per vector load "
                     "(1, 2, 4)"),
      llvm::cl::init(2)};
  PassOptions::Option<bool> selectiveScanPipelined{
      *this, "selective-scan-pipelined",
      llvm::cl::desc("Selective scan: the pipelined kernels (cp.async, "
                     "two buffers) where they apply"),
      llvm::cl::init(true)};
  PassOptions::Option<int64_t> selectiveScanPolyExp{
      *this, "selective-scan-poly-exp",
      llvm::cl::desc("Selective scan (pipelined): states whose decay runs "
                     "as a polynomial on the FMA pipe"),
      llvm::cl::init(0)};
  PassOptions::Option<int64_t> selectiveScanStateLanes{
      *this, "selective-scan-state-lanes",
      llvm::cl::desc("Lanes sharing a channel of the selective scan, each "
                     "with N / lanes states (1, 2, 4, 8, 16; 0: the "
                     "lowering's choice)"),
      llvm::cl::init(0)};
  PassOptions::Option<bool> attentionDecodeVector{
      *this, "attention-decode-vector",
      llvm::cl::desc("Split-key attention: K/V row pieces as vector loads"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> attentionDecodeTranspose{
      *this, "attention-decode-transpose",
      llvm::cl::desc("Split-key attention: scores summed by a transposed "
                     "reduction"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> matmulSplitK{
      *this, "matmul-split-k",
      llvm::cl::desc("Split the reduction of matmuls with few outputs "
                     "(decoding's GEMVs; seqc-split-small-matmuls)"),
      llvm::cl::init(false)};
  PassOptions::Option<bool> attentionSplitKeys{
      *this, "attention-split-keys",
      llvm::cl::desc("SIMT attention: split few rows' keys across threads "
                     "(decoding) and combine"),
      llvm::cl::init(false)};
  PassOptions::Option<bool> attentionDecodeSimt{
      *this, "attention-decode-simt",
      llvm::cl::desc("bf16/f16 decoding attention (<= 8 query rows per "
                     "KV head) on the split-key SIMT kernel, not tensor cores"),
      llvm::cl::init(false)};
  PassOptions::Option<int64_t> scanStepsPerThread{
      *this, "scan-steps-per-thread",
      llvm::cl::desc("Steps per thread of the innermost linear recurrence"),
      llvm::cl::init(4)};
};

/// seq (+ linalg/tensor/arith/math) on tensors -> GPU kernels in a
/// gpu.binary and host code in the LLVM dialect calling the mgpu* runtime.
/// Public functions take device buffers (strided memrefs of any layout),
/// results as trailing out-parameters, as on the CPU.
void buildCUDAPipeline(OpPassManager &pm, const CUDAPipelineOptions &options);

/// The raising both pipelines start with: seq-raise-attention and
/// seq-raise-scans (unfused attention and linear scans become seq ops).
void addRaisingPasses(OpPassManager &pm);

/// The bufferization both pipelines share: read-only, fully dynamic layout
/// arguments (specialized to a unit innermost stride), results as
/// contiguous out-parameters.
void addBufferizationPasses(OpPassManager &pm);

/// Registers `seqc-cpu-pipeline` and `seqc-cuda-pipeline` for tools.
void registerPipelines();

} // namespace mlir::seqc

#endif // SEQC_PIPELINES_PIPELINES_H
