//===- Compiler.h - compile sessions: text -> runnable module ---*- C++ -*-===//
//
// Part of seqc. Parses a module (with `seq` ops), records the signatures of
// its public functions, runs the target's pipeline and JIT-compiles the
// result; then invokes functions on caller-provided strided buffers.
//
//===----------------------------------------------------------------------===//

#ifndef SEQC_COMPILER_COMPILER_H
#define SEQC_COMPILER_COMPILER_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <string>
#include <vector>

namespace mlir {
class ExecutionEngine;
} // namespace mlir

namespace mlir::seqc {

/// Element types at the interface; the values match `seqc_dtype`.
enum class DType : int { F32 = 0, F64, F16, BF16, I32, I64, I8, I1 };

/// Size in bytes of one element (I1 is stored as one byte).
size_t dtypeSize(DType dtype);
llvm::StringRef dtypeName(DType dtype);

/// A tensor argument or result of a compiled function: dtype and static
/// shape.
struct TensorSpec {
  DType dtype;
  llvm::SmallVector<int64_t> shape;
  /// For a result marked `seq.in_place = k`: k, the input whose buffer the
  /// result is written into (callers pass that buffer for both); else -1.
  int64_t inPlace = -1;
};

/// `[2,3]` and `f32[2,3]`: the one spelling of shapes and specs in messages,
/// headers and signature tables.
std::string formatShape(llvm::ArrayRef<int64_t> shape);
std::string formatSpec(const TensorSpec &spec);

struct FunctionSignature {
  std::string name;
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> results;
};

/// What to compile for.
struct CompileOptions {
  /// `cpu` (this host) or `cuda` (NVIDIA GPUs through NVPTX).
  std::string target = "cpu";
  /// The GPU architecture of `cuda` modules (`sm_80`, `sm_90a`, ...).
  std::string chip = "sm_90a";
  /// How `cuda` modules embed their kernels: `isa` (PTX, which the driver
  /// compiles at load), `bin` (cubin), `fatbin` (cubin + PTX), or `auto`
  /// (fatbin when ptxas is on PATH, else isa).
  std::string gpuFormat = "auto";
  /// Steps per thread of the GPU's innermost linear-recurrence block scan
  /// (4 f32: one 16-byte load of each input; measured on an H100 at B16
  /// D2048 L4096, kernel 0.549 ms, 94% of copy bandwidth by wall time).
  int64_t gpuScanSteps = 4;
  /// Attention tiles: query rows and keys per tile (0: the target's
  /// choice; CPU 64 and 64; CUDA tensor cores 64 or 128 rows, 16 to 128
  /// keys).
  int64_t attentionTileQ = 0;
  int64_t attentionTileKV = 0;
  /// CUDA split-key (decoding) attention: query rows of one KV head per
  /// warp (1 to 8) and keys per step (1, 2, 4, 8, 16); 0: the kernel's
  /// choice (4 and 8).
  int64_t attentionDecodeRows = 0;
  int64_t attentionDecodeKeys = 0;
  /// Blocks the split-key tensor-core attention's splits aim at (0: the
  /// kernel's choice).
  int64_t attentionDecodeBlocks = 0;
  /// Stages of the split-key attention's TMA ring on sm_90a (0: off; -1:
  /// the kernel's choice).
  int64_t attentionDecodeTma = -1;
  /// K/V ring stages of the sm_90a attention (2-4; 0: as many as fit).
  int64_t attentionWgmmaStages = 0;
  /// Resident blocks of the sm_90a attention that take its row blocks in
  /// turn (0: a block per row block; -1: the kernel's choice, one a
  /// multiprocessor under a window).
  int64_t attentionWgmmaPersistent = -1;
  /// Blocks of the sm_90a attention a multiprocessor: 1, or 2 (two
  /// consumer warpgroups at 104 registers, head dims up to 64, no masks;
  /// 0: the kernel's choice).
  int64_t attentionWgmmaBlocksPerSM = 0;
  /// CUDA split-key attention: each lane reads its contiguous head dims of
  /// a K/V row as one vector load, and the scores are summed over the lanes
  /// by a transposed reduction (fewer shuffles). On by default: together
  /// 0.160 -> 0.136 ms of kernels at B8 KV8192 on an H100.
  bool attentionDecodeVector = true;
  bool attentionDecodeTranspose = true;
  /// CUDA, chip sm_90a: bf16/f16 prefill attention on warpgroup MMA with
  /// TMA and mbarrier pipelines (128 query rows a block; attention-tile-kv
  /// keys a tile, 0: 128) rather than mma.sync.
  bool attentionWgmma = true;
  /// CUDA: steps per time split of seq.selective_scan (0: the lowering's
  /// choice; the length or more: none, each thread walks all of time).
  int64_t selectiveScanTimeSplit = 0;
  /// CUDA: steps of seq.selective_scan's B and C per vector load (1, 2, 4).
  int64_t selectiveScanBCSteps = 2;
  /// CUDA: lanes sharing a channel of seq.selective_scan (1, 2, 4, 8, 16;
  /// 0: the lowering's choice).
  int64_t selectiveScanStateLanes = 0;
  /// CUDA: seq.selective_scan's pipelined kernels where they apply.
  bool selectiveScanPipelined = true;
  /// CUDA: states of the pipelined selective scan whose decay is a
  /// polynomial on the FMA pipe (0: all on the special-function unit).
  int64_t selectiveScanPolyExp = 0;
  /// CPU: every memref access and view of the generated code checked
  /// against its bounds at run time (MLIR's runtime verification); a
  /// violation prints the op and its location and aborts. For testing.
  bool boundsCheck = false;
  /// CUDA: SIMT attention with few query rows (decoding) splits each row's
  /// keys across threads and combines them in a second kernel. On by
  /// default for target=cuda (with matmulSplitK, a decode step 34x
  /// faster on an H100).
  bool attentionSplitKeys = false;
  /// Matmuls with few outputs (decoding's GEMVs) split along K into
  /// partials and a sum (seqc-split-small-matmuls). On by default for
  /// target=cuda; off for the CPU, where it is not measured.
  bool matmulSplitK = false;
  /// CUDA, with attentionSplitKeys: bf16/f16 decoding with at most 8
  /// query rows per KV head (heads of a GQA group x queries) on the
  /// split-key SIMT kernel even where the split-key tensor-core kernel
  /// applies. Off by default: the tensor-core kernel was faster on every
  /// decode row measured on an H100 (session 10); the SIMT kernel still
  /// takes such rows where (batch, head) pairs fill the GPU.
  bool attentionDecodeSimt = false;

  /// Parses `key=value` words separated by spaces (`target=cpu`); unknown
  /// keys and bad values are errors.
  static llvm::Expected<CompileOptions> parse(llvm::StringRef text);
  /// A canonical spelling, part of the compile-cache key.
  std::string str() const;
};

/// A strided view passed to invoke(): element (i0..in) lives at
/// data + Σ ik·strides[k] elements.
struct BufferRef {
  void *data;
  DType dtype;
  llvm::ArrayRef<int64_t> shape;
  llvm::ArrayRef<int64_t> strides;
  /// Whether `data` is CUDA device memory (else host memory). `cuda`
  /// modules copy host buffers to and from the device around the call;
  /// `cpu` modules take host memory only.
  bool device = false;
  /// For device buffers: the caller has made sure `data` is device memory
  /// (the call skips its driver query).
  bool checked = false;
};

/// Runs `fn`, turning a crash inside it (a signal) into a false return
/// instead of the process's end. Compiles parse under it: some upstream op
/// parsers crash on malformed text.
bool runRecoveringCrashes(llvm::function_ref<void()> fn);

/// The form `compileToFile` writes.
enum class EmitKind { SharedLibrary, Object, LLVMIR, MLIR };

/// Compiles `source` ahead of time into `outputPath`: a shared library
/// (host code depending on libc, libm and, for parallel loops, libomp) with, when `headerPath`
/// is not empty, a C header declaring its entry points; or the object file,
/// LLVM IR or final MLIR. `sourceName` names the buffer in diagnostics.
llvm::Error compileToFile(llvm::StringRef source, llvm::StringRef sourceName,
                          const CompileOptions &options, EmitKind emit,
                          llvm::StringRef outputPath,
                          llvm::StringRef headerPath);

/// The signature table of a module, one function per line, as stored in an
/// ahead-of-time library (`name:f32[2,3];i32[3]->f32[2,3]`).
std::string encodeSignatures(llvm::ArrayRef<FunctionSignature> signatures);
llvm::Expected<std::vector<FunctionSignature>>
decodeSignatures(llvm::StringRef text);

/// A compiled, runnable module. Thread-safe: invoke() may run concurrently.
class CompiledModule {
public:
  /// Compiles `source`; identical (source, options) pairs share one module.
  static llvm::Expected<std::shared_ptr<CompiledModule>>
  compile(llvm::StringRef source, const CompileOptions &options);

  /// Loads a shared library written by compileToFile.
  static llvm::Expected<std::shared_ptr<CompiledModule>>
  load(llvm::StringRef path);

  ~CompiledModule();

  const std::vector<FunctionSignature> &functions() const { return signatures; }

  /// "cpu" or "cuda".
  llvm::StringRef target() const { return cuda ? "cuda" : "cpu"; }

  /// The CUDA runtime a `cuda` module calls (libseqc's own for JIT-compiled
  /// modules, the library's copy for loaded ones): errors, stream, staging.
  struct CudaRuntime {
    const char *(*takeError)() = nullptr;
    int (*synchronize)() = nullptr;
    void *(*alloc)(size_t) = nullptr;
    void (*free)(void *) = nullptr;
    int (*copy)(void *, const void *, size_t, int) = nullptr;
    int (*isDevicePointer)(const void *) = nullptr;
    void (*setStream)(void *) = nullptr;
  };

  const FunctionSignature *lookup(llvm::StringRef name) const;

  /// Runs `name` on its inputs followed by one buffer per result. Every
  /// argument is checked against the signature first.
  llvm::Error invoke(llvm::StringRef name,
                     llvm::ArrayRef<BufferRef> args) const;

private:
  CompiledModule() = default;

  /// `void entry(void **descriptors)` per signature: descriptors[i] points
  /// to argument i's memref descriptor.
  using PackedEntry = void (*)(void **);

  llvm::Error invokeCuda(const FunctionSignature &sig, PackedEntry entry,
                         llvm::ArrayRef<BufferRef> args) const;

  std::vector<FunctionSignature> signatures;
  std::vector<PackedEntry> entries;
  bool cuda = false;
  CudaRuntime runtime;
  /// A CPU module's HostRuntime.c: the size of this thread's failed
  /// allocation (0: none), cleared by the call.
  int64_t (*takeAllocFailure)() = nullptr;
  std::unique_ptr<ExecutionEngine> engine; // JIT-compiled modules
  void *library = nullptr;                 // loaded shared libraries
};

/// Orders the CUDA work of this thread (JIT-compiled modules, and staging
/// copies) on `stream` (a CUstream; null is the legacy default stream).
void setCudaStream(void *stream);

/// Whether a CUDA driver and GPU answer; the reason when not.
bool cudaAvailable(std::string *why = nullptr);

/// Device 0's name and architecture, or "" without a GPU.
std::string cudaDeviceName();

} // namespace mlir::seqc

#endif // SEQC_COMPILER_COMPILER_H
