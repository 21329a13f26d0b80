//===- Compiler.cpp - compile sessions: text -> runnable module -----------===//
//
// Part of seqc. A compile parses the text in a fresh context, records the
// public functions' signatures while they still speak tensors, runs the
// target's pipeline, and hands the LLVM dialect to mlir::ExecutionEngine. The
// context dies with the compile: the engine owns its own LLVM module.
//
//===----------------------------------------------------------------------===//

#include "seqc/Compiler/Compiler.h"

#include "seqc/InitAll.h"
#include "seq/IR/SeqDialect.h"

#include "llvm/Support/CrashRecoveryContext.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "seqc/Pipelines/Pipelines.h"

#include "Runtime/CudaRuntime.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"

#include "llvm/IR/Instructions.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Target/TargetMachine.h"
#include "mlir/Target/LLVMIR/Export.h"

#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <map>
#include <mutex>
#include <set>

using namespace mlir;
using namespace mlir::seqc;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

//===----------------------------------------------------------------------===//
// DTypes and options
//===----------------------------------------------------------------------===//

size_t mlir::seqc::dtypeSize(DType dtype) {
  switch (dtype) {
  case DType::F64:
  case DType::I64:
    return 8;
  case DType::F32:
  case DType::I32:
    return 4;
  case DType::F16:
  case DType::BF16:
    return 2;
  case DType::I8:
  case DType::I1:
    return 1;
  }
  return 0;
}

llvm::StringRef mlir::seqc::dtypeName(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "f32";
  case DType::F64:
    return "f64";
  case DType::F16:
    return "f16";
  case DType::BF16:
    return "bf16";
  case DType::I32:
    return "i32";
  case DType::I64:
    return "i64";
  case DType::I8:
    return "i8";
  case DType::I1:
    return "i1";
  }
  return "?";
}

static std::optional<DType> dtypeOf(Type type) {
  if (type.isF32())
    return DType::F32;
  if (type.isF64())
    return DType::F64;
  if (type.isF16())
    return DType::F16;
  if (type.isBF16())
    return DType::BF16;
  if (type.isSignlessInteger(32))
    return DType::I32;
  if (type.isSignlessInteger(64))
    return DType::I64;
  if (type.isSignlessInteger(8))
    return DType::I8;
  if (type.isSignlessInteger(1))
    return DType::I1;
  return std::nullopt;
}

llvm::Expected<CompileOptions> CompileOptions::parse(llvm::StringRef text) {
  CompileOptions options;
  llvm::SmallVector<llvm::StringRef> words;
  text.split(words, ' ', -1, /*KeepEmpty=*/false);
  bool splitKeysGiven = false, splitKGiven = false;
  for (llvm::StringRef word : words) {
    auto [key, value] = word.split('=');
    int64_t number = 0;
    if (key == "target") {
      if (value != "cpu" && value != "cuda")
        return makeError("unsupported target '" + value +
                         "' (this build supports: cpu, cuda)");
      options.target = value.str();
    } else if (key == "chip") {
      // sm_80 and later: the tensor-core attention uses mma.sync with bf16.
      unsigned arch = 0;
      if (!value.starts_with("sm_") ||
          value.drop_front(3).take_while(llvm::isDigit).getAsInteger(10, arch))
        return makeError("option 'chip' needs an NVIDIA architecture such as "
                         "sm_80 or sm_90a, got '" +
                         value + "'");
      if (arch < 80)
        return makeError("option 'chip': seqc's GPU kernels need sm_80 or "
                         "newer, got '" +
                         value + "'");
      options.chip = value.str();
    } else if (key == "gpu-format") {
      if (!llvm::is_contained({"auto", "isa", "bin", "fatbin"}, value))
        return makeError("option 'gpu-format' must be auto, isa, bin or "
                         "fatbin, got '" +
                         value + "'");
      options.gpuFormat = value.str();
    } else if (key == "gpu-scan-steps") {
      if (value.getAsInteger(10, number) || number < 1 || number > 64)
        return makeError("option 'gpu-scan-steps' needs an integer in [1, 64], "
                         "got '" +
                         value + "'");
      options.gpuScanSteps = number;
    } else if (key == "attention-tile-q" || key == "attention-tile-kv") {
      if (value.getAsInteger(10, number) || number < 1)
        return makeError("option '" + key + "' needs a positive integer, got '" +
                         value + "'");
      (key == "attention-tile-q" ? options.attentionTileQ
                                 : options.attentionTileKV) = number;
    } else if (key == "attention-wgmma-stages") {
      if (value.getAsInteger(10, number) || number < 2 || number > 4)
        return makeError("option 'attention-wgmma-stages' needs an integer in "
                         "[2, 4], got '" +
                         value + "'");
      options.attentionWgmmaStages = number;
    } else if (key == "attention-wgmma-persistent") {
      if (value.getAsInteger(10, number) || number < -1 || number > 4096)
        return makeError("option 'attention-wgmma-persistent' needs an "
                         "integer in [-1, 4096] (resident blocks; 0: a block "
                         "per row block; -1: the kernel's choice), got '" +
                         value + "'");
      options.attentionWgmmaPersistent = number;
    } else if (key == "attention-wgmma-blocks-per-sm") {
      if (value.getAsInteger(10, number) || number < 0 || number > 2)
        return makeError("option 'attention-wgmma-blocks-per-sm' needs 0, 1 "
                         "or 2 (0: the kernel's choice), got '" +
                         value + "'");
      options.attentionWgmmaBlocksPerSM = number;
    } else if (key == "attention-decode-rows") {
      if (value.getAsInteger(10, number) || number < 1 || number > 8)
        return makeError("option 'attention-decode-rows' needs an integer in "
                         "[1, 8], got '" +
                         value + "'");
      options.attentionDecodeRows = number;
    } else if (key == "selective-scan-time-split") {
      if (value.getAsInteger(10, number) || number < 0)
        return makeError("option 'selective-scan-time-split' needs a "
                         "non-negative integer (0: the compiler's choice), got '" +
                         value + "'");
      options.selectiveScanTimeSplit = number;
    } else if (key == "selective-scan-bc-steps") {
      if (value.getAsInteger(10, number) || !llvm::is_contained({1, 2, 4}, number))
        return makeError("option 'selective-scan-bc-steps' must be 1, 2 or "
                         "4, got '" +
                         value + "'");
      options.selectiveScanBCSteps = number;
    } else if (key == "selective-scan-state-lanes") {
      if (value.getAsInteger(10, number) ||
          !llvm::is_contained({0, 1, 2, 4, 8, 16}, number))
        return makeError("option 'selective-scan-state-lanes' must be 0 (the "
                         "compiler's choice), 1, 2, 4, 8 or 16, got '" +
                         value + "'");
      options.selectiveScanStateLanes = number;
    } else if (key == "selective-scan-poly-exp") {
      if (value.getAsInteger(10, number) || number < 0 || number > 256)
        return makeError("option 'selective-scan-poly-exp' needs an integer "
                         "from 0 to 256 (states), got '" +
                         value + "'");
      options.selectiveScanPolyExp = number;
    } else if (key == "attention-decode-blocks") {
      if (value.getAsInteger(10, number) || number < 0 || number > 65536)
        return makeError("option 'attention-decode-blocks' needs an integer "
                         "in [0, 65536] (0: the kernel's choice), got '" +
                         value + "'");
      options.attentionDecodeBlocks = number;
    } else if (key == "attention-decode-tma") {
      if (value.getAsInteger(10, number) || number < -1 || number == 1 ||
          number > 8)
        return makeError("option 'attention-decode-tma' must be -1 (the "
                         "kernel's choice), 0 (off) or 2 to 8 stages, got '" +
                         value + "'");
      options.attentionDecodeTma = number;
    } else if (key == "attention-decode-keys") {
      if (value.getAsInteger(10, number) ||
          !llvm::is_contained({1, 2, 4, 8, 16}, number))
        return makeError("option 'attention-decode-keys' must be 1, 2, 4, 8 "
                         "or 16, got '" +
                         value + "'");
      options.attentionDecodeKeys = number;
    } else if (bool *flag = key == "matmul-split-k" ? &options.matmulSplitK
                           : key == "attention-split-keys"
                               ? &options.attentionSplitKeys
                           : key == "attention-decode-simt"
                               ? &options.attentionDecodeSimt
                           : key == "attention-decode-vector"
                               ? &options.attentionDecodeVector
                           : key == "attention-decode-transpose"
                               ? &options.attentionDecodeTranspose
                           : key == "attention-wgmma" ? &options.attentionWgmma
                           : key == "selective-scan-pipelined"
                               ? &options.selectiveScanPipelined
                           : key == "bounds-check" ? &options.boundsCheck
                                                   : nullptr) {
      // The 0/1 options.
      if (value != "0" && value != "1")
        return makeError("option '" + key + "' must be 0 or 1, got '" + value +
                         "'");
      *flag = value == "1";
      splitKGiven |= key == "matmul-split-k";
      splitKeysGiven |= key == "attention-split-keys";
    } else {
      return makeError("unknown compile option '" + word +
                       "' (known: target, chip, gpu-format, gpu-scan-steps, "
                       "attention-tile-q, attention-tile-kv, "
                       "attention-wgmma-stages, attention-wgmma-persistent, "
                       "attention-wgmma-blocks-per-sm, "
                       "attention-split-keys, "
                       "attention-decode-rows, attention-decode-keys, "
                       "attention-decode-blocks, attention-decode-tma, "
                       "selective-scan-time-split, selective-scan-bc-steps, "
                       "selective-scan-state-lanes, selective-scan-pipelined, "
                       "selective-scan-poly-exp, "
                       "attention-decode-vector, "
                       "attention-decode-transpose, attention-wgmma, "
                       "attention-decode-simt, matmul-split-k, bounds-check)");
    }
  }
  if (options.target == "cuda") {
    // The decoding kernels are on by default on the GPU (they apply only
    // where the rows or the outputs are too few to fill it).
    if (!splitKeysGiven)
      options.attentionSplitKeys = true;
    if (!splitKGiven)
      options.matmulSplitK = true;
    if (options.boundsCheck)
      return makeError("option 'bounds-check' is for target=cpu (on the GPU, "
                       "run compute-sanitizer memcheck)");
    if (!llvm::is_contained({0, 64, 128, 192, 256}, options.attentionTileQ))
      return makeError("option 'attention-tile-q' must be 64, 128, 192 or 256 "
                       "(sm_90a's warpgroup-MMA kernel) for target=cuda, "
                       "got " +
                       std::to_string(options.attentionTileQ));
    if (options.attentionTileKV % 16 || options.attentionTileKV > 256)
      return makeError("option 'attention-tile-kv' must be a multiple of 16 "
                       "up to 256 for target=cuda (the mma.sync kernel takes "
                       "16, 32, 64 or 128), got " +
                       std::to_string(options.attentionTileKV));
  }
  return options;
}

std::string CompileOptions::str() const {
  std::string text = "target=" + target;
  if (target == "cuda")
    text += " chip=" + chip + " gpu-format=" + gpuFormat +
            " gpu-scan-steps=" + std::to_string(gpuScanSteps);
  return text + " attention-tile-q=" + std::to_string(attentionTileQ) +
         " attention-tile-kv=" + std::to_string(attentionTileKV) +
         (attentionDecodeRows
              ? " attention-decode-rows=" + std::to_string(attentionDecodeRows)
              : "") +
         (attentionDecodeKeys
              ? " attention-decode-keys=" + std::to_string(attentionDecodeKeys)
              : "") +
         (attentionDecodeTma >= 0 ? " attention-decode-tma=" +
                                        std::to_string(attentionDecodeTma)
                                  : "") +
         (attentionDecodeBlocks ? " attention-decode-blocks=" +
                                      std::to_string(attentionDecodeBlocks)
                                : "") +
         (attentionWgmmaStages ? " attention-wgmma-stages=" +
                                     std::to_string(attentionWgmmaStages)
                               : "") +
         (attentionWgmmaPersistent >= 0
              ? " attention-wgmma-persistent=" +
                    std::to_string(attentionWgmmaPersistent)
              : "") +
         (attentionWgmmaBlocksPerSM
              ? " attention-wgmma-blocks-per-sm=" +
                    std::to_string(attentionWgmmaBlocksPerSM)
              : "") +
         (selectiveScanTimeSplit ? " selective-scan-time-split=" +
                                       std::to_string(selectiveScanTimeSplit)
                                 : "") +
         " selective-scan-bc-steps=" + std::to_string(selectiveScanBCSteps) +
         " selective-scan-state-lanes=" +
         std::to_string(selectiveScanStateLanes) +
         (selectiveScanPipelined ? "" : " selective-scan-pipelined=0") +
         (selectiveScanPolyExp ? " selective-scan-poly-exp=" +
                                     std::to_string(selectiveScanPolyExp)
                               : "") +
         (boundsCheck ? " bounds-check=1" : "") +
         (attentionSplitKeys ? " attention-split-keys=1" : "") +
         (matmulSplitK ? " matmul-split-k=1" : "") +
         (attentionDecodeSimt ? " attention-decode-simt=1" : "") +
         " attention-decode-vector=" + (attentionDecodeVector ? "1" : "0") +
         " attention-decode-transpose=" +
         (attentionDecodeTranspose ? "1" : "0") +
         (attentionWgmma ? "" : " attention-wgmma=0");
}

/// The embedded GPU code format: `auto` is a fatbin (cubin + PTX) when
/// ptxas can assemble one here, else PTX that the driver compiles at load.
static std::string resolveGpuFormat(const CompileOptions &options) {
  if (options.gpuFormat != "auto")
    return options.gpuFormat;
  return llvm::sys::findProgramByName("ptxas") &&
                 llvm::sys::findProgramByName("fatbinary")
             ? "fatbin"
             : "isa";
}

//===----------------------------------------------------------------------===//
// Compile
//===----------------------------------------------------------------------===//

/// The signatures of the public functions, or an error at the first
/// argument or result seqc cannot pass across its interface.
static LogicalResult collectSignatures(ModuleOp module,
                                       std::vector<FunctionSignature> &out) {
  for (auto func : module.getOps<func::FuncOp>()) {
    if (!func.isPublic() || func.isDeclaration())
      continue;
    FunctionSignature sig;
    sig.name = func.getSymName().str();
    auto add = [&](Type type, StringRef what, unsigned index,
                   std::vector<TensorSpec> &specs) -> LogicalResult {
      auto tensor = dyn_cast<RankedTensorType>(type);
      std::optional<DType> dtype =
          tensor ? dtypeOf(tensor.getElementType()) : std::nullopt;
      if (!tensor || !tensor.hasStaticShape() || !dtype)
        return func.emitError()
               << what << " #" << index << " of @" << sig.name << " has type "
               << type
               << "; seqc functions take and return ranked tensors of static "
                  "shape with f32, f64, f16, bf16, i32, i64, i8 or i1 elements";
      specs.push_back({*dtype, llvm::SmallVector<int64_t>(tensor.getShape())});
      return success();
    };
    for (auto [i, type] : llvm::enumerate(func.getArgumentTypes()))
      if (failed(add(type, "argument", i, sig.inputs)))
        return failure();
    for (auto [i, type] : llvm::enumerate(func.getResultTypes())) {
      if (failed(add(type, "result", i, sig.results)))
        return failure();
      if (auto arg = func.getResultAttrOfType<IntegerAttr>(
              i, seqc::seq::SeqDialect::kInPlaceAttrName))
        sig.results.back().inPlace = arg.getInt();
    }
    // Entry points get C wrappers taking memref descriptors by pointer.
    func->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                  UnitAttr::get(func.getContext()));
    out.push_back(std::move(sig));
  }
  if (out.empty())
    return module.emitError()
           << "the module has no public function with a body to compile";
  return success();
}

static void initializeNativeTarget() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

/// The host's target machine (position-independent code for libraries).
static llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
hostMachine(bool pic) {
  initializeNativeTarget();
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder)
    return builder.takeError();
  if (pic)
    builder->setRelocationModel(llvm::Reloc::PIC_);
  builder->setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  return builder->createTargetMachine();
}

//===----------------------------------------------------------------------===//
// Signature tables
//===----------------------------------------------------------------------===//

std::string mlir::seqc::formatShape(llvm::ArrayRef<int64_t> shape) {
  return "[" +
         llvm::join(llvm::map_range(shape,
                                    [](int64_t d) { return std::to_string(d); }),
                    ",") +
         "]";
}

std::string mlir::seqc::formatSpec(const TensorSpec &spec) {
  return dtypeName(spec.dtype).str() + formatShape(spec.shape);
}

std::string mlir::seqc::encodeSignatures(ArrayRef<FunctionSignature> sigs) {
  std::string text;
  for (const FunctionSignature &sig : sigs) {
    // A result written into input k ends in `@k`.
    auto join = [](const std::vector<TensorSpec> &specs) {
      return llvm::join(llvm::map_range(specs,
                                        [](const TensorSpec &spec) {
                                          std::string text = formatSpec(spec);
                                          if (spec.inPlace >= 0)
                                            text += "@" + std::to_string(
                                                              spec.inPlace);
                                          return text;
                                        }),
                        ";");
    };
    text += sig.name + ":" + join(sig.inputs) + "->" + join(sig.results) + "\n";
  }
  return text;
}

static llvm::Expected<TensorSpec> decodeSpec(StringRef text) {
  auto [type, inPlace] = text.split('@');
  auto [name, rest] = type.split('[');
  TensorSpec spec{DType::F32, {}};
  if (!inPlace.empty() &&
      (inPlace.getAsInteger(10, spec.inPlace) || spec.inPlace < 0))
    return makeError("malformed in-place index in signature entry '" + text +
                     "'");
  bool known = false;
  for (int code = 0; code <= static_cast<int>(DType::I1); ++code)
    if (dtypeName(static_cast<DType>(code)) == name) {
      spec.dtype = static_cast<DType>(code);
      known = true;
    }
  if (!known || !rest.consume_back("]"))
    return makeError("malformed signature entry '" + text + "'");
  llvm::SmallVector<StringRef> dims;
  rest.split(dims, ',', -1, /*KeepEmpty=*/false);
  for (StringRef dim : dims) {
    int64_t size;
    if (dim.getAsInteger(10, size) || size < 0)
      return makeError("malformed size in signature entry '" + text + "'");
    spec.shape.push_back(size);
  }
  return spec;
}

llvm::Expected<std::vector<FunctionSignature>>
mlir::seqc::decodeSignatures(StringRef text) {
  std::vector<FunctionSignature> sigs;
  llvm::SmallVector<StringRef> lines;
  text.split(lines, '\n', -1, /*KeepEmpty=*/false);
  for (StringRef line : lines) {
    auto [name, types] = line.split(':');
    auto [ins, outs] = types.split("->");
    if (name.empty() || !types.contains("->"))
      return makeError("malformed signature line '" + line + "'");
    FunctionSignature sig;
    sig.name = name.str();
    for (auto [list, specs] : {std::pair{ins, &sig.inputs}, {outs, &sig.results}}) {
      llvm::SmallVector<StringRef> entries;
      list.split(entries, ';', -1, /*KeepEmpty=*/false);
      for (StringRef entry : entries) {
        auto spec = decodeSpec(entry);
        if (!spec)
          return spec.takeError();
        specs->push_back(std::move(*spec));
      }
    }
    sigs.push_back(std::move(sig));
  }
  return sigs;
}

//===----------------------------------------------------------------------===//
// Sessions: source -> LLVM dialect
//===----------------------------------------------------------------------===//

namespace {
DialectRegistry compilerRegistry() {
  DialectRegistry registry;
  registerAllDialects(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerOpenMPDialectTranslation(registry);
  registerGPUDialectTranslation(registry);
  registerNVVMDialectTranslation(registry);
  return registry;
}

/// One compilation: its own context, the source buffer, and every
/// diagnostic (with location and source line) collected as text.
struct Session {
  Session(StringRef source, StringRef name)
      : context(compilerRegistry(), MLIRContext::Threading::DISABLED),
        logStream(log) {
    sourceMgr.AddNewSourceBuffer(
        llvm::MemoryBuffer::getMemBufferCopy(source, name), llvm::SMLoc());
    handler = std::make_unique<SourceMgrDiagnosticHandler>(sourceMgr,
                                                           &context, logStream);
  }

  llvm::Error error(StringRef fallback) {
    return makeError(log.empty() ? fallback : StringRef(log));
  }

  /// Parses, records the public signatures, runs the CPU pipeline and adds
  /// the packed entry points and the signature table.
  FailureOr<OwningOpRef<ModuleOp>>
  lower(const CompileOptions &options, std::vector<FunctionSignature> &sigs);

  MLIRContext context;
  llvm::SourceMgr sourceMgr;
  std::string log;
  llvm::raw_string_ostream logStream;
  std::unique_ptr<SourceMgrDiagnosticHandler> handler;
};
} // namespace

/// For each public function, `void _seqc_packed_<name>(void **descriptors)`
/// calling `_mlir_ciface_<name>` with descriptors[i] as argument i: one
/// calling convention for any arity, in the JIT and in shared libraries.
static LogicalResult addPackedEntryPoints(ModuleOp module,
                                          ArrayRef<FunctionSignature> sigs) {
  MLIRContext *ctx = module.getContext();
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  Location loc = module.getLoc();
  for (const FunctionSignature &sig : sigs) {
    auto target = module.lookupSymbol<LLVM::LLVMFuncOp>("_mlir_ciface_" + sig.name);
    if (!target)
      return module.emitError() << "no C entry point for @" << sig.name;
    // The user's own names stay inside the library: `@step` must not be
    // interposed by libc's step(), nor clash with another module's `@main`.
    if (auto body = module.lookupSymbol<LLVM::LLVMFuncOp>(sig.name))
      body.setLinkage(LLVM::Linkage::Internal);
    auto type = LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx), {ptr});
    auto packed = LLVM::LLVMFuncOp::create(b, loc, "_seqc_packed_" + sig.name, type);
    OpBuilder::InsertionGuard guard(b);
    Block *entry = packed.addEntryBlock(b);
    b.setInsertionPointToStart(entry);
    // descriptors[] holds every input, then every result; a result written
    // in place (seq.in_place) has no out-parameter of its own.
    SmallVector<int32_t> slots;
    for (int32_t i = 0, e = sig.inputs.size(); i < e; ++i)
      slots.push_back(i);
    for (auto [j, result] : llvm::enumerate(sig.results))
      if (result.inPlace < 0)
        slots.push_back(sig.inputs.size() + j);
    if (slots.size() != target.getNumArguments())
      return module.emitError()
             << "@" << sig.name << " takes " << target.getNumArguments()
             << " buffers after lowering, expected " << slots.size();
    SmallVector<Value> args;
    for (int32_t i : slots) {
      Value slot = LLVM::GEPOp::create(b, loc, ptr, ptr, entry->getArgument(0),
                                       ArrayRef<LLVM::GEPArg>{i});
      args.push_back(LLVM::LoadOp::create(b, loc, ptr, slot));
    }
    LLVM::CallOp::create(b, loc, target, args);
    LLVM::ReturnOp::create(b, loc, ValueRange{});
  }
  std::string table = encodeSignatures(sigs);
  table.push_back('\0');
  auto tableType =
      LLVM::LLVMArrayType::get(IntegerType::get(ctx, 8), table.size());
  LLVM::GlobalOp::create(b, loc, tableType, /*isConstant=*/true,
                         LLVM::Linkage::External, "_seqc_signatures",
                         b.getStringAttr(table));
  return success();
}

bool mlir::seqc::runRecoveringCrashes(llvm::function_ref<void()> fn) {
  // Signal handlers are process-wide, and LLVM's own (installed when a
  // compile writes files) replace the recovery's: reinstall it each time.
  {
    static std::mutex mutex;
    std::lock_guard<std::mutex> lock(mutex);
    llvm::CrashRecoveryContext::Disable();
    llvm::CrashRecoveryContext::Enable();
  }
  llvm::CrashRecoveryContext recovery;
  return recovery.RunSafely(fn);
}

FailureOr<OwningOpRef<ModuleOp>>
Session::lower(const CompileOptions &options,
               std::vector<FunctionSignature> &sigs) {
  // Some upstream op parsers crash on malformed text (a float in
  // linalg.transpose's permutation, found by fuzzing): the crash becomes
  // this compile's error instead of taking the caller's process down.
  OwningOpRef<ModuleOp> module;
  if (!runRecoveringCrashes(
          [&] { module = parseSourceFile<ModuleOp>(sourceMgr, &context); })) {
    (void)module.release(); // half-built IR: leave it alone
    log += sourceMgr.getMemoryBuffer(1)->getBufferIdentifier().str() +
           ": error: the MLIR parser crashed on this input (a bug in an "
           "upstream op's parser, recovered by seqc): check the syntax of "
           "the ops' attributes\n";
    return failure();
  }
  if (!module || failed(collectSignatures(*module, sigs)))
    return failure();
  PassManager pm(&context);
  if (options.target == "cuda") {
    CUDAPipelineOptions pipelineOptions;
    pipelineOptions.chip = options.chip;
    pipelineOptions.format = resolveGpuFormat(options);
    pipelineOptions.scanStepsPerThread = options.gpuScanSteps;
    // Rows per block: 64 or 128 on mma.sync (4 warps), 128, 192 or 256 on
    // wgmma.
    pipelineOptions.attentionRowsPerWarp =
        options.attentionTileQ > 128 ? 0 : options.attentionTileQ / 4;
    pipelineOptions.attentionWgmmaRows =
        options.attentionTileQ >= 128 ? options.attentionTileQ : 0;
    pipelineOptions.attentionKeysPerTile = options.attentionTileKV;
    pipelineOptions.attentionDecodeRows = options.attentionDecodeRows;
    pipelineOptions.attentionDecodeKeys = options.attentionDecodeKeys;
    pipelineOptions.attentionDecodeBlocks = options.attentionDecodeBlocks;
    pipelineOptions.attentionDecodeTma = options.attentionDecodeTma;
    pipelineOptions.attentionWgmmaStages = options.attentionWgmmaStages;
    pipelineOptions.attentionWgmmaPersistent = options.attentionWgmmaPersistent;
    pipelineOptions.attentionWgmmaBlocksPerSM =
        options.attentionWgmmaBlocksPerSM;
    pipelineOptions.selectiveScanTimeSplit = options.selectiveScanTimeSplit;
    pipelineOptions.selectiveScanBCSteps = options.selectiveScanBCSteps;
    pipelineOptions.selectiveScanStateLanes = options.selectiveScanStateLanes;
    pipelineOptions.selectiveScanPipelined = options.selectiveScanPipelined;
    pipelineOptions.selectiveScanPolyExp = options.selectiveScanPolyExp;
    pipelineOptions.attentionDecodeVector = options.attentionDecodeVector;
    pipelineOptions.attentionDecodeTranspose = options.attentionDecodeTranspose;
    pipelineOptions.attentionSplitKeys = options.attentionSplitKeys;
    pipelineOptions.attentionDecodeSimt = options.attentionDecodeSimt;
    pipelineOptions.attentionWgmma = options.attentionWgmma;
    pipelineOptions.matmulSplitK = options.matmulSplitK;
    buildCUDAPipeline(pm, pipelineOptions);
  } else {
    CPUPipelineOptions pipelineOptions;
    if (options.attentionTileQ)
      pipelineOptions.attentionTileQ = options.attentionTileQ;
    if (options.attentionTileKV)
      pipelineOptions.attentionTileKV = options.attentionTileKV;
    pipelineOptions.boundsCheck = options.boundsCheck;
    pipelineOptions.matmulSplitK = options.matmulSplitK;
    buildCPUPipeline(pm, pipelineOptions);
  }
  // A pass that crashes becomes this compile's error too, with a
  // reproducer (the module before the failing pass, and the pipeline) for
  // the bug report.
  llvm::SmallString<128> reproducer;
  llvm::sys::path::system_temp_directory(/*ErasedOnReboot=*/true, reproducer);
  llvm::sys::path::append(reproducer,
                          "seqc-crash-" +
                              std::to_string(llvm::sys::Process::getProcessId()) +
                              "-" + std::to_string(reinterpret_cast<uintptr_t>(this)) +
                              ".mlir");
  pm.enableCrashReproducerGeneration(reproducer, /*genLocalReproducer=*/false);
  if (failed(pm.run(*module))) {
    if (llvm::sys::fs::exists(reproducer))
      log += "error: a pass crashed while compiling this module (a compiler "
             "bug); a reproducer is in " +
             reproducer.str().str() + "\n";
    return failure();
  }
  if (failed(addPackedEntryPoints(*module, sigs)))
    return failure();
  return module;
}

//===----------------------------------------------------------------------===//
// CUDA runtime
//===----------------------------------------------------------------------===//

extern "C" {
// The mgpu* ABI (CudaRuntime.cpp), for the JIT's symbol table.
void *mgpuModuleLoad(void *, size_t);
void *mgpuModuleLoadJIT(void *, int);
void mgpuModuleUnload(void *);
void *mgpuModuleGetFunction(void *, const char *);
void mgpuLaunchKernel(void *, intptr_t, intptr_t, intptr_t, intptr_t,
                      intptr_t, intptr_t, int32_t, void *, void **, void **,
                      size_t);
void mgpuLaunchClusterKernel(void *, intptr_t, intptr_t, intptr_t, intptr_t,
                             intptr_t, intptr_t, intptr_t, intptr_t, intptr_t,
                             int32_t, void *, void **, void **, size_t);
void *mgpuStreamCreate(void);
void mgpuStreamDestroy(void *);
void mgpuStreamSynchronize(void *);
void mgpuStreamWaitEvent(void *, void *);
void *mgpuEventCreate(void);
void mgpuEventDestroy(void *);
void mgpuEventSynchronize(void *);
void mgpuEventRecord(void *, void *);
void *mgpuMemAlloc(uint64_t, void *, bool);
void mgpuMemFree(void *, void *);
void mgpuMemcpy(void *, void *, size_t, void *);
void mgpuMemset32(void *, unsigned, size_t, void *);
void mgpuMemset16(void *, unsigned short, size_t, void *);
void mgpuSetDefaultDevice(int32_t);
void *mgpuTensorMapEncodeTiledMemref(int64_t, void *, int64_t, int64_t,
                                     int64_t, int64_t, int64_t,
                                     const int64_t *);
void *seqcDeviceMalloc(size_t);
void *seqcDeviceAlignedAlloc(size_t, size_t);
void seqcDeviceFree(void *);
int32_t seqcCudaMultiprocessorCount(void);
// lib/Runtime/HostRuntime.c: the allocation hooks of CPU-compiled code.
void *seqcHostAlloc(uint64_t);
void *seqcHostAlignedAlloc(uint64_t, uint64_t);
int32_t seqcHostAllocFailed(void);
int64_t seqcHostTakeAllocFailure(void);
float __truncsfbf2(float);
}

/// HostRuntime.c's text, compiled into every ahead-of-time CPU library.
static const char kHostRuntimeSource[] =
#include "HostRuntimeSource.inc"
    ;

/// Adds `function`, exported as `name`, to a JIT symbol map.
namespace {
struct SymbolAdder {
  llvm::orc::SymbolMap &symbols;
  llvm::orc::MangleAndInterner &mangle;
  template <typename F> void operator()(const char *name, F *function) {
    symbols[mangle(name)] = {llvm::orc::ExecutorAddr::fromPtr(function),
                             llvm::JITSymbolFlags::Exported};
  }
};
} // namespace

static llvm::orc::SymbolMap hostRuntimeSymbols(llvm::orc::MangleAndInterner m) {
  llvm::orc::SymbolMap symbols;
  SymbolAdder add{symbols, m};
  add("seqcHostAlloc", &seqcHostAlloc);
  add("seqcHostAlignedAlloc", &seqcHostAlignedAlloc);
  add("seqcHostAllocFailed", &seqcHostAllocFailed);
  // f32 -> bf16 rounding, which LLVM calls on CPUs without the instruction
  // (and libgcc has only from GCC 13 on).
  add("__truncsfbf2", &__truncsfbf2);
  return symbols;
}

/// Whether every use of `value`, through address arithmetic, is in `block`.
static bool usedOnlyIn(llvm::Value *value, llvm::BasicBlock *block) {
  for (llvm::User *user : value->users()) {
    auto *inst = llvm::dyn_cast<llvm::Instruction>(user);
    if (!inst || inst->getParent() != block || llvm::isa<llvm::PHINode>(inst))
      return false;
    if (llvm::isa<llvm::GetElementPtrInst, llvm::CastInst>(inst) &&
        !usedOnlyIn(inst, block))
      return false;
  }
  return true;
}

/// Moves fixed-size allocas used only in their own block (no pointer to
/// them can reach a later iteration) out of loops into the function's entry
/// block. A gpu.launch_func translates to allocas of its argument array
/// where it stands, so a launch in a host loop grew the stack by that array
/// on every iteration (a stack overflow after some 10^5 iterations); LLVM
/// only treats entry-block allocas as static. Each launch fills its array
/// just before the call that reads it, so one array per launch site
/// suffices.
static void hoistFixedAllocas(llvm::Module &module) {
  for (llvm::Function &function : module) {
    if (function.isDeclaration())
      continue;
    llvm::BasicBlock &entry = function.getEntryBlock();
    llvm::BasicBlock::iterator where = entry.getFirstNonPHIOrDbgOrAlloca();
    SmallVector<llvm::AllocaInst *> moved;
    for (llvm::BasicBlock &block : function) {
      if (&block == &entry)
        continue;
      for (llvm::Instruction &inst : block)
        if (auto *alloca = llvm::dyn_cast<llvm::AllocaInst>(&inst))
          if (llvm::isa<llvm::ConstantInt>(alloca->getArraySize()) &&
              usedOnlyIn(alloca, &block))
            moved.push_back(alloca);
    }
    for (llvm::AllocaInst *alloca : moved)
      alloca->moveBefore(entry, where);
  }
}

/// The -O3 pipeline; for the host code of CUDA modules, after
/// hoistFixedAllocas.
static std::function<llvm::Error(llvm::Module *)>
makeHostTransformer(llvm::TargetMachine *machine, bool cuda) {
  auto optimize = makeOptimizingTransformer(/*optLevel=*/3, /*sizeLevel=*/0,
                                            machine);
  return [optimize, cuda](llvm::Module *module) {
    if (cuda)
      hoistFixedAllocas(*module);
    return optimize(module);
  };
}

static llvm::orc::SymbolMap cudaRuntimeSymbols(llvm::orc::MangleAndInterner m) {
  llvm::orc::SymbolMap symbols;
  SymbolAdder add{symbols, m};
  add("mgpuModuleLoad", &mgpuModuleLoad);
  add("mgpuModuleLoadJIT", &mgpuModuleLoadJIT);
  add("mgpuModuleUnload", &mgpuModuleUnload);
  add("mgpuModuleGetFunction", &mgpuModuleGetFunction);
  add("mgpuLaunchKernel", &mgpuLaunchKernel);
  add("mgpuLaunchClusterKernel", &mgpuLaunchClusterKernel);
  add("mgpuStreamCreate", &mgpuStreamCreate);
  add("mgpuStreamDestroy", &mgpuStreamDestroy);
  add("mgpuStreamSynchronize", &mgpuStreamSynchronize);
  add("mgpuStreamWaitEvent", &mgpuStreamWaitEvent);
  add("mgpuEventCreate", &mgpuEventCreate);
  add("mgpuEventDestroy", &mgpuEventDestroy);
  add("mgpuEventSynchronize", &mgpuEventSynchronize);
  add("mgpuEventRecord", &mgpuEventRecord);
  add("mgpuMemAlloc", &mgpuMemAlloc);
  add("mgpuMemFree", &mgpuMemFree);
  add("mgpuMemcpy", &mgpuMemcpy);
  add("mgpuMemset32", &mgpuMemset32);
  add("mgpuMemset16", &mgpuMemset16);
  add("mgpuTensorMapEncodeTiledMemref", &mgpuTensorMapEncodeTiledMemref);
  add("mgpuSetDefaultDevice", &mgpuSetDefaultDevice);
  add("seqcDeviceMalloc", &seqcDeviceMalloc);
  add("seqcDeviceAlignedAlloc", &seqcDeviceAlignedAlloc);
  add("seqcDeviceFree", &seqcDeviceFree);
  add("seqcCudaMultiprocessorCount", &seqcCudaMultiprocessorCount);
  return symbols;
}

static CompiledModule::CudaRuntime ownCudaRuntime() {
  CompiledModule::CudaRuntime r;
  r.takeError = &seqcCudaTakeError;
  r.synchronize = &seqcCudaSynchronize;
  r.alloc = &seqcCudaAlloc;
  r.free = &seqcCudaFree;
  r.copy = &seqcCudaCopy;
  r.isDevicePointer = &seqcCudaIsDevicePointer;
  r.setStream = &seqcCudaSetStream;
  return r;
}

void mlir::seqc::setCudaStream(void *stream) { seqcCudaSetStream(stream); }

bool mlir::seqc::cudaAvailable(std::string *why) {
  const char *reason = nullptr;
  bool ok = seqcCudaAvailable(&reason);
  if (why)
    *why = reason ? reason : "";
  return ok;
}

std::string mlir::seqc::cudaDeviceName() {
  const char *name = seqcCudaDeviceName();
  return name ? name : "";
}

//===----------------------------------------------------------------------===//
// JIT
//===----------------------------------------------------------------------===//

llvm::Expected<std::shared_ptr<CompiledModule>>
CompiledModule::compile(llvm::StringRef source, const CompileOptions &options) {
  // Compiled modules live until the process ends and are never destroyed
  // at exit: an ExecutionEngine torn down from static destructors runs after
  // LLVM's own statics are gone.
  static std::mutex cacheMutex;
  static auto &cache =
      *new std::map<std::string, std::shared_ptr<CompiledModule>>();
  std::string key = options.str() + '\n' + source.str();
  {
    std::lock_guard<std::mutex> lock(cacheMutex);
    auto it = cache.find(key);
    if (it != cache.end())
      return it->second;
  }

  Session session(source, "<input>");
  auto compiled = std::shared_ptr<CompiledModule>(new CompiledModule());
  FailureOr<OwningOpRef<ModuleOp>> module =
      session.lower(options, compiled->signatures);
  if (failed(module))
    return session.error("compilation failed");

  auto machine = hostMachine(/*pic=*/false);
  if (!machine)
    return machine.takeError();
  // The engine keeps a reference to the transformer while it is created.
  bool cuda = options.target == "cuda";
  auto transformer = makeHostTransformer(machine->get(), cuda);
  ExecutionEngineOptions engineOptions;
  engineOptions.transformer = transformer;
  // Parallel loops call the OpenMP runtime: where it was at build time, or
  // SEQC_LIBOMP (a relocated build, like the GPU bundle's).
  const char *ompFromEnv = getenv("SEQC_LIBOMP");
  llvm::StringRef sharedLibs[] = {
      ompFromEnv && *ompFromEnv ? ompFromEnv : SEQC_LIBOMP_PATH};
  if (!cuda)
    engineOptions.sharedLibPaths = sharedLibs;
  engineOptions.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  auto engine =
      ExecutionEngine::create(**module, engineOptions, std::move(*machine));
  if (!engine)
    return engine.takeError();
  compiled->engine = std::move(*engine);
  if (cuda) {
    // Host code calls seqc's CUDA runtime, linked into this library.
    compiled->engine->registerSymbols(cudaRuntimeSymbols);
    compiled->cuda = true;
    compiled->runtime = ownCudaRuntime();
    // Loading the kernels (the module's constructors) needs a GPU.
    seqcCudaTakeError();
  } else {
    // Allocations go through libseqc's hooks (seqc-host-alloc-checks).
    compiled->engine->registerSymbols(hostRuntimeSymbols);
    compiled->takeAllocFailure = &seqcHostTakeAllocFailure;
  }
  compiled->engine->initialize();
  if (cuda)
    if (const char *error = seqcCudaTakeError())
      return makeError(llvm::Twine("loading the compiled CUDA module: ") +
                       error);
  for (const FunctionSignature &sig : compiled->signatures) {
    auto entry = compiled->engine->lookup("_seqc_packed_" + sig.name);
    if (!entry)
      return entry.takeError();
    compiled->entries.push_back(reinterpret_cast<PackedEntry>(*entry));
  }

  std::lock_guard<std::mutex> lock(cacheMutex);
  auto [it, inserted] = cache.emplace(std::move(key), compiled);
  return it->second;
}

//===----------------------------------------------------------------------===//
// Ahead of time
//===----------------------------------------------------------------------===//

static StringRef cType(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "float";
  case DType::F64:
    return "double";
  case DType::F16:
  case DType::BF16:
    return "uint16_t";
  case DType::I32:
    return "int32_t";
  case DType::I64:
    return "int64_t";
  case DType::I8:
  case DType::I1:
    return "int8_t";
  }
  return "void";
}

/// A C header declaring the entry points and their memref descriptors.
static std::string headerText(ArrayRef<FunctionSignature> sigs,
                              StringRef libraryName, bool cuda) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "/* Generated by seqc: the entry points of " << libraryName
     << ".\n * Each tensor is passed as a pointer to a memref descriptor;\n"
     << " * results are written into caller-provided descriptors that follow\n"
     << " * the inputs. Strides are in elements; any layout is accepted. */\n"
     << "#ifndef SEQC_GENERATED_H\n#define SEQC_GENERATED_H\n\n"
     << "#include <stdint.h>\n\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n";
  std::set<std::string> declared;
  auto descriptor = [&](const TensorSpec &spec) {
    std::string name = ("seqc_memref_" + std::to_string(spec.shape.size()) +
                        "d_" + dtypeName(spec.dtype))
                           .str();
    if (declared.insert(name).second) {
      os << "typedef struct {\n  " << cType(spec.dtype) << " *allocated;\n  "
         << cType(spec.dtype) << " *aligned;\n  int64_t offset;\n";
      if (!spec.shape.empty())
        os << "  int64_t sizes[" << spec.shape.size() << "];\n  int64_t strides["
           << spec.shape.size() << "];\n";
      os << "} " << name << ";\n\n";
    }
    return name;
  };
  for (const FunctionSignature &sig : sigs) {
    for (const TensorSpec &spec : sig.inputs)
      descriptor(spec);
    for (const TensorSpec &spec : sig.results)
      descriptor(spec);
  }
  for (const FunctionSignature &sig : sigs) {
    os << "/* " << sig.name << ": "
       << llvm::join(llvm::map_range(sig.inputs, formatSpec), ", ") << " -> "
       << llvm::join(llvm::map_range(sig.results, formatSpec), ", ") << " */\n";
    llvm::SmallVector<std::string> params;
    for (auto [i, spec] : llvm::enumerate(sig.inputs))
      params.push_back(descriptor(spec) + " *input" + std::to_string(i));
    for (auto [i, spec] : llvm::enumerate(sig.results)) {
      if (spec.inPlace >= 0) {
        // Written into the input's buffer: no out-parameter.
        os << "/* result " << i << " is written in place into input"
           << spec.inPlace << " (seq.in_place) */\n";
        continue;
      }
      params.push_back(descriptor(spec) + " *result" + std::to_string(i));
    }
    os << "void _mlir_ciface_" << sig.name << "(";
    os << llvm::join(params, ", ") << ");\n\n";
  }
  if (!cuda)
    os << "/* Nonzero after a call on this thread that stopped because an\n"
       << " * allocation failed (its size in bytes; the results are not valid);\n"
       << " * reading it clears it. */\n"
       << "int64_t seqcHostTakeAllocFailure(void);\n\n";
  os << "#ifdef __cplusplus\n}\n#endif\n\n#endif /* SEQC_GENERATED_H */\n";
  return text;
}

static llvm::Error writeFile(StringRef path, StringRef contents) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return makeError("cannot write '" + path + "': " + ec.message());
  os << contents;
  return llvm::Error::success();
}

/// Links `object` into the shared library `output` with the system's C
/// compiler driver (libc, libm and, for parallel loops, libomp are the only
/// dependencies).
static llvm::Error linkSharedLibrary(StringRef object, StringRef output,
                                     bool cuda) {
  std::string driver;
  for (StringRef name : {"cc", "clang-22", "clang", "gcc"})
    if (auto found = llvm::sys::findProgramByName(name)) {
      driver = *found;
      break;
    }
  if (driver.empty())
    return makeError("cannot link '" + output +
                     "': no C compiler driver (cc, clang, gcc) on PATH");
  std::string errorMessage;
  // -Bsymbolic: calls inside the library bind to its own definitions.
  // Parallel loops need the OpenMP runtime, found where it was at build time.
  StringRef ompDir = llvm::sys::path::parent_path(SEQC_LIBOMP_PATH);
  std::string libDir = ("-L" + ompDir).str(), rpath = ("-Wl,-rpath," + ompDir).str();
  llvm::SmallVector<StringRef> argv = {driver,  "-shared", "-Wl,-Bsymbolic",
                                       "-o",    output,    object};
  // CUDA modules carry seqc's CUDA runtime (C only, libdl for the driver).
  std::string runtimeArchive;
  llvm::SmallString<128> hostSource;
  llvm::scope_exit removeHostSource([&] {
    if (!hostSource.empty())
      llvm::sys::fs::remove(hostSource);
  });
  if (cuda) {
    const char *fromEnv = getenv("SEQC_CUDA_RUNTIME");
    runtimeArchive = fromEnv && *fromEnv ? fromEnv : SEQC_CUDA_RUNTIME_ARCHIVE;
    if (!llvm::sys::fs::exists(runtimeArchive))
      return makeError("cannot link '" + output + "': seqc's CUDA runtime '" +
                       runtimeArchive +
                       "' is missing (set SEQC_CUDA_RUNTIME to its path)");
    argv.append({runtimeArchive, "-ldl", "-lm"});
  } else {
    // CPU modules carry the allocation hooks (HostRuntime.c, from its
    // text: C only).
    if (std::error_code ec = llvm::sys::fs::createTemporaryFile(
            "seqc-host-runtime", "c", hostSource))
      return makeError("cannot create a temporary file: " + ec.message());
    if (llvm::Error error = writeFile(hostSource, kHostRuntimeSource))
      return error;
    argv.append({"-O2", "-fPIC", "-x", "c", hostSource, "-x", "none", libDir,
                 rpath, "-lomp", "-lm"});
  }
  int status = llvm::sys::ExecuteAndWait(driver, argv, std::nullopt, {}, 0, 0,
                                         &errorMessage);
  if (status != 0)
    return makeError("linking '" + output + "' with " + driver +
                     " failed (status " + llvm::Twine(status) + ")" +
                     (errorMessage.empty() ? "" : ": " + errorMessage));
  return llvm::Error::success();
}

llvm::Error mlir::seqc::compileToFile(StringRef source, StringRef sourceName,
                                      const CompileOptions &options,
                                      EmitKind emit, StringRef outputPath,
                                      StringRef headerPath) {
  Session session(source, sourceName);
  std::vector<FunctionSignature> sigs;
  FailureOr<OwningOpRef<ModuleOp>> module = session.lower(options, sigs);
  if (failed(module))
    return session.error("compilation failed");
  if (emit == EmitKind::MLIR) {
    std::string text;
    llvm::raw_string_ostream os(text);
    (*module)->print(os);
    return writeFile(outputPath, text);
  }

  auto machine = hostMachine(/*pic=*/true);
  if (!machine)
    return machine.takeError();
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(**module, llvmContext, sourceName);
  if (!llvmModule)
    return session.error("translation to LLVM IR failed");
  llvmModule->setDataLayout((*machine)->createDataLayout());
  llvmModule->setTargetTriple((*machine)->getTargetTriple());
  if (llvm::Error error = makeHostTransformer(
          machine->get(), options.target == "cuda")(llvmModule.get()))
    return error;
  if (emit == EmitKind::LLVMIR) {
    std::string text;
    llvm::raw_string_ostream os(text);
    llvmModule->print(os, nullptr);
    return writeFile(outputPath, text);
  }

  llvm::SmallVector<char> object;
  llvm::raw_svector_ostream objectStream(object);
  llvm::legacy::PassManager codegen;
  if ((*machine)->addPassesToEmitFile(codegen, objectStream, nullptr,
                                      llvm::CodeGenFileType::ObjectFile))
    return makeError("the host target cannot emit object files");
  codegen.run(*llvmModule);
  StringRef objectBytes(object.data(), object.size());
  if (emit == EmitKind::Object)
    return writeFile(outputPath, objectBytes);

  llvm::SmallString<128> objectPath;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("seqc", "o", objectPath))
    return makeError("cannot create a temporary object file: " + ec.message());
  llvm::FileRemover removeObject(objectPath);
  if (llvm::Error error = writeFile(objectPath, objectBytes))
    return error;
  if (llvm::Error error = linkSharedLibrary(objectPath, outputPath,
                                            options.target == "cuda"))
    return error;
  if (!headerPath.empty())
    return writeFile(headerPath,
                     headerText(sigs, llvm::sys::path::filename(outputPath),
                                options.target == "cuda"));
  return llvm::Error::success();
}

llvm::Expected<std::shared_ptr<CompiledModule>>
CompiledModule::load(StringRef path) {
  void *handle = dlopen(path.str().c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    return makeError("cannot load '" + path + "': " + dlerror());
  auto module = std::shared_ptr<CompiledModule>(new CompiledModule());
  module->library = handle;
  auto *table = static_cast<const char *>(dlsym(handle, "_seqc_signatures"));
  if (!table)
    return makeError("'" + path +
                     "' is not a seqc module (it has no _seqc_signatures)");
  auto sigs = decodeSignatures(table);
  if (!sigs)
    return sigs.takeError();
  module->signatures = std::move(*sigs);
  // A CUDA module carries its own copy of the runtime: use that one.
  if (void *takeError = dlsym(handle, "seqcCudaTakeError")) {
    module->cuda = true;
    CudaRuntime &r = module->runtime;
    r.takeError = reinterpret_cast<decltype(r.takeError)>(takeError);
    r.synchronize = reinterpret_cast<decltype(r.synchronize)>(
        dlsym(handle, "seqcCudaSynchronize"));
    r.alloc = reinterpret_cast<decltype(r.alloc)>(dlsym(handle, "seqcCudaAlloc"));
    r.free = reinterpret_cast<decltype(r.free)>(dlsym(handle, "seqcCudaFree"));
    r.copy = reinterpret_cast<decltype(r.copy)>(dlsym(handle, "seqcCudaCopy"));
    r.isDevicePointer = reinterpret_cast<decltype(r.isDevicePointer)>(
        dlsym(handle, "seqcCudaIsDevicePointer"));
    r.setStream = reinterpret_cast<decltype(r.setStream)>(
        dlsym(handle, "seqcCudaSetStream"));
    if (!r.synchronize || !r.alloc || !r.free || !r.copy ||
        !r.isDevicePointer || !r.setStream)
      return makeError("'" + path + "' has an incomplete CUDA runtime");
    // Its constructors loaded the kernels (or recorded why they could not).
    if (const char *error = r.takeError())
      return makeError("loading '" + path + "': " + error);
  }
  // A CPU module's allocation hooks (libraries from before they existed
  // have none).
  module->takeAllocFailure = reinterpret_cast<int64_t (*)()>(
      dlsym(handle, "seqcHostTakeAllocFailure"));
  for (const FunctionSignature &sig : module->signatures) {
    void *entry = dlsym(handle, ("_seqc_packed_" + sig.name).c_str());
    if (!entry)
      return makeError("'" + path + "' has no entry point for @" + sig.name);
    module->entries.push_back(reinterpret_cast<PackedEntry>(entry));
  }
  return module;
}

CompiledModule::~CompiledModule() {
  if (library)
    dlclose(library);
}

const FunctionSignature *CompiledModule::lookup(llvm::StringRef name) const {
  for (const FunctionSignature &sig : signatures)
    if (sig.name == name)
      return &sig;
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Invoke
//===----------------------------------------------------------------------===//


static llvm::SmallVector<int64_t> rowMajorStrides(llvm::ArrayRef<int64_t> shape) {
  llvm::SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t d = static_cast<int64_t>(shape.size()) - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

/// Row-major contiguous, ignoring the strides of unit dimensions.
static bool isRowMajor(llvm::ArrayRef<int64_t> shape,
                       llvm::ArrayRef<int64_t> strides) {
  llvm::SmallVector<int64_t> expected = rowMajorStrides(shape);
  for (size_t d = 0; d < shape.size(); ++d)
    if (shape[d] > 1 && strides[d] != expected[d])
      return false;
  return true;
}

/// Copies a strided array into another of the same shape (strides in
/// elements of `itemSize` bytes).
static void copyStrided(const void *src, llvm::ArrayRef<int64_t> srcStrides,
                        void *dst, llvm::ArrayRef<int64_t> dstStrides,
                        llvm::ArrayRef<int64_t> shape, size_t itemSize) {
  llvm::SmallVector<int64_t> index(shape.size(), 0);
  int64_t total = 1;
  for (int64_t d : shape)
    total *= d;
  for (int64_t n = 0; n < total; ++n) {
    int64_t from = 0, to = 0;
    for (size_t d = 0; d < shape.size(); ++d) {
      from += index[d] * srcStrides[d];
      to += index[d] * dstStrides[d];
    }
    std::memcpy(static_cast<char *>(dst) + to * itemSize,
                static_cast<const char *>(src) + from * itemSize, itemSize);
    for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
      if (++index[d] < shape[d])
        break;
      index[d] = 0;
    }
  }
}

/// Argument `i` of `sig` (inputs, then results) against its spec: the
/// located message for a wrong dtype, shape, stride count or missing data;
/// otherwise its element count in `elements`.
/// "@f: input #i" or "@f: result #j", for argument i's errors (built only
/// for an error: the checks run on every call).
static std::string argumentName(const FunctionSignature &sig, size_t i) {
  size_t numInputs = sig.inputs.size();
  return "@" + sig.name + ": " +
         (i < numInputs ? "input #" + std::to_string(i)
                        : "result #" + std::to_string(i - numInputs));
}

static llvm::Error checkArgument(const FunctionSignature &sig, size_t i,
                                 const BufferRef &arg, int64_t &elements) {
  size_t numInputs = sig.inputs.size();
  bool isInput = i < numInputs;
  const TensorSpec &spec = isInput ? sig.inputs[i] : sig.results[i - numInputs];
  if (arg.dtype != spec.dtype)
    return makeError(argumentName(sig, i) + " has dtype " +
                     dtypeName(arg.dtype) + ", expected " +
                     dtypeName(spec.dtype));
  if (arg.shape != llvm::ArrayRef<int64_t>(spec.shape))
    return makeError(argumentName(sig, i) + " has shape " +
                     formatShape(arg.shape) + ", expected " +
                     formatShape(spec.shape));
  if (arg.strides.size() != arg.shape.size())
    return makeError(argumentName(sig, i) + " has " +
                     llvm::Twine(arg.strides.size()) + " strides for rank " +
                     llvm::Twine(arg.shape.size()));
  elements = 1;
  for (int64_t d : arg.shape)
    elements *= d;
  if (!arg.data && elements != 0)
    return makeError(argumentName(sig, i) + " has no data");
  return llvm::Error::success();
}

/// A result marked seq.in_place = k is written into input k's buffer: the
/// caller passes that same buffer for both.
static llvm::Error checkInPlace(const FunctionSignature &sig,
                                llvm::ArrayRef<BufferRef> args,
                                llvm::SmallVectorImpl<bool> &updated) {
  size_t numInputs = sig.inputs.size();
  updated.assign(numInputs, false);
  for (auto [j, result] : llvm::enumerate(sig.results)) {
    if (result.inPlace < 0)
      continue;
    const BufferRef &in = args[result.inPlace], &out = args[numInputs + j];
    if (in.data != out.data || in.shape != out.shape ||
        in.strides != out.strides || in.device != out.device)
      return makeError("@" + sig.name + ": result #" + llvm::Twine(j) +
                       " is written in place into input #" +
                       llvm::Twine(result.inPlace) +
                       " (seq.in_place): pass input #" +
                       llvm::Twine(result.inPlace) + "'s buffer for both");
    updated[result.inPlace] = true;
  }
  return llvm::Error::success();
}

llvm::Error CompiledModule::invoke(llvm::StringRef name,
                                   llvm::ArrayRef<BufferRef> args) const {
  const FunctionSignature *sig = lookup(name);
  if (!sig) {
    std::string known = llvm::join(
        llvm::map_range(signatures,
                        [](const FunctionSignature &s) { return "@" + s.name; }),
        ", ");
    return makeError("no function named @" + name + " (the module has " +
                     known + ")");
  }
  size_t numInputs = sig->inputs.size(), numResults = sig->results.size();
  if (args.size() == numInputs + numResults && cuda)
    return invokeCuda(*sig, entries[sig - signatures.data()], args);
  if (args.size() != numInputs + numResults)
    return makeError("@" + name + " takes " +
                     llvm::Twine(numInputs + numResults) + " buffers (" +
                     llvm::Twine(numInputs) + " inputs, then " +
                     llvm::Twine(numResults) + " results), got " +
                     llvm::Twine(args.size()));

  // Memref descriptors: {allocated, aligned, offset, sizes[r], strides[r]}.
  // Compiled code takes inputs with a unit innermost stride and contiguous
  // results; other views go through contiguous temporaries.
  llvm::SmallVector<bool> updated;
  if (llvm::Error error = checkInPlace(*sig, args, updated))
    return error;
  std::vector<llvm::SmallVector<int64_t>> descriptors(args.size());
  std::vector<std::vector<char>> temporaries(args.size());
  llvm::SmallVector<std::pair<size_t, const BufferRef *>> copyBack;
  for (auto [i, arg] : llvm::enumerate(args)) {
    bool isInput = i < numInputs;
    int64_t elements;
    if (llvm::Error error = checkArgument(*sig, i, arg, elements))
      return error;
    // An in-place result's buffer is its input's (the entry skips it).
    if (!isInput && sig->results[i - numInputs].inPlace >= 0)
      continue;
    if (arg.device)
      return makeError(argumentName(*sig, i) + " is CUDA device memory, but @" + name +
                       " was compiled for the cpu target");
    void *data = arg.data;
    llvm::SmallVector<int64_t> strides(arg.strides);
    bool fits = isInput ? (strides.empty() || arg.shape.back() <= 1 ||
                           strides.back() == 1)
                        : isRowMajor(arg.shape, arg.strides);
    if (!fits && elements > 0) {
      size_t itemSize = dtypeSize(arg.dtype);
      temporaries[i].resize(elements * itemSize);
      data = temporaries[i].data();
      strides = rowMajorStrides(arg.shape);
      if (isInput)
        copyStrided(arg.data, arg.strides, data, strides, arg.shape, itemSize);
      if (!isInput || updated[i])
        copyBack.push_back({i, &arg});
    }
    auto &desc = descriptors[i];
    auto pointer = static_cast<int64_t>(reinterpret_cast<intptr_t>(data));
    desc = {pointer, pointer, 0};
    desc.append(arg.shape.begin(), arg.shape.end());
    desc.append(strides.begin(), strides.end());
  }
  std::vector<void *> descriptorPointers(args.size());
  for (size_t i = 0; i < args.size(); ++i)
    descriptorPointers[i] = descriptors[i].data();
  if (takeAllocFailure)
    takeAllocFailure(); // a failure left by code not called through here
  entries[sig - signatures.data()](descriptorPointers.data());
  if (int64_t bytes = takeAllocFailure ? takeAllocFailure() : 0)
    return makeError("out of memory: allocating " + llvm::Twine(bytes) +
                     " bytes failed, so the call stopped (its results are "
                     "not valid)");
  for (auto [i, arg] : copyBack)
    copyStrided(temporaries[i].data(), rowMajorStrides(arg->shape), arg->data,
                arg->strides, arg->shape, dtypeSize(arg->dtype));
  return llvm::Error::success();
}

/// Whether each CUDA call waits for its kernels (SEQC_CUDA_SYNC or
/// CUDA_LAUNCH_BLOCKING set to anything but 0).
static bool synchronousCudaCalls() {
  for (const char *name : {"SEQC_CUDA_SYNC", "CUDA_LAUNCH_BLOCKING"}) {
    const char *value = std::getenv(name);
    if (value && *value && llvm::StringRef(value) != "0")
      return true;
  }
  return false;
}

/// A `cuda` module's call: device buffers pass through (inputs with a unit
/// innermost stride, results contiguous), host buffers are staged through
/// device temporaries (and the call then waits for its kernels); the
/// runtime's first error, if any, becomes the call's error.
llvm::Error CompiledModule::invokeCuda(const FunctionSignature &sig,
                                       PackedEntry entry,
                                       llvm::ArrayRef<BufferRef> args) const {
  const CudaRuntime &rt = runtime;
  rt.takeError(); // an earlier failure on this thread is not this call's
  size_t numInputs = sig.inputs.size();
  std::vector<void *> staged(args.size(), nullptr);
  llvm::scope_exit freeStaged([&] {
    for (void *p : staged)
      rt.free(p);
  });
  llvm::SmallVector<bool> updated;
  if (llvm::Error error = checkInPlace(sig, args, updated))
    return error;
  std::vector<llvm::SmallVector<int64_t>> descriptors(args.size());
  for (auto [i, arg] : llvm::enumerate(args)) {
    bool isInput = i < numInputs;
    int64_t elements;
    if (llvm::Error error = checkArgument(sig, i, arg, elements))
      return error;
    auto what = [&sig, index = size_t(i)] { return argumentName(sig, index); };
    // An in-place result's buffer is its input's (the entry skips it).
    if (!isInput && sig.results[i - numInputs].inPlace >= 0)
      continue;
    size_t bytes = elements * dtypeSize(arg.dtype);
    void *data = arg.data;
    llvm::SmallVector<int64_t> strides(arg.strides);
    if (arg.device) {
      if (elements > 0 && !arg.checked && !rt.isDevicePointer(arg.data))
        return makeError(what() + " is marked as CUDA device memory but is "
                                "not (a host pointer?)");
      bool fits = isInput ? (strides.empty() || arg.shape.back() <= 1 ||
                             strides.back() == 1)
                          : isRowMajor(arg.shape, arg.strides);
      if (!fits)
        return makeError(what() + (isInput
                                     ? " needs a unit innermost stride on the "
                                       "device (make it contiguous)"
                                     : " must be a contiguous device buffer"));
      // Kernels read 16 bytes at a time from rows that start on 16-byte
      // boundaries where the (static) shapes say so: a view whose strides
      // break that (a slice of wider rows) cannot be read in place.
      if (isInput && elements > 0 && !isRowMajor(arg.shape, arg.strides))
        for (auto [size, stride] :
             llvm::zip(arg.shape.drop_back(), arg.strides.drop_back()))
          if (size > 1 && (stride * int64_t(dtypeSize(arg.dtype))) % 16 != 0)
            return makeError(what() + " has a stride of " +
                             std::to_string(stride) +
                             " elements, not a multiple of 16 bytes, and is "
                             "not contiguous (make it contiguous)");
      // An input view off a 16-byte boundary (a slice at an odd offset) is
      // copied to a fresh buffer.
      if (isInput && elements > 0 &&
          reinterpret_cast<uintptr_t>(arg.data) % 16 != 0) {
        if (!isRowMajor(arg.shape, arg.strides))
          return makeError(what() + " starts off a 16-byte boundary and is not "
                                  "contiguous (make it contiguous)");
        staged[i] = rt.alloc(bytes);
        if (!staged[i] || !rt.copy(staged[i], arg.data, bytes, 2))
          return makeError(what() + ": " + rt.takeError());
        data = staged[i];
      }
    } else if (elements > 0) {
      // Host memory: a contiguous device copy (results copied back below).
      staged[i] = rt.alloc(bytes);
      if (!staged[i])
        return makeError(what() + ": " + rt.takeError());
      strides = rowMajorStrides(arg.shape);
      if (isInput) {
        std::vector<char> contiguous;
        const void *source = arg.data;
        if (!isRowMajor(arg.shape, arg.strides)) {
          contiguous.resize(bytes);
          copyStrided(arg.data, arg.strides, contiguous.data(), strides,
                      arg.shape, dtypeSize(arg.dtype));
          source = contiguous.data();
        }
        if (!rt.copy(staged[i], source, bytes, 0))
          return makeError(what() + ": " + rt.takeError());
      }
      data = staged[i];
    }
    auto &desc = descriptors[i];
    auto pointer = static_cast<int64_t>(reinterpret_cast<intptr_t>(data));
    desc = {pointer, pointer, 0};
    desc.append(arg.shape.begin(), arg.shape.end());
    desc.append(strides.begin(), strides.end());
  }
  std::vector<void *> descriptorPointers(args.size());
  for (size_t i = 0; i < args.size(); ++i)
    descriptorPointers[i] = descriptors[i].data();
  entry(descriptorPointers.data());
  // On device buffers alone the call is asynchronous on the thread's stream
  // (as a torch op is): launch errors are this call's, a kernel fault
  // surfaces at the next synchronization. Host buffers (copied back below)
  // and SEQC_CUDA_SYNC=1 or CUDA_LAUNCH_BLOCKING=1 wait here, so that
  // faults are the call's too.
  bool hostStaged = false;
  for (auto [i, arg] : llvm::enumerate(args))
    hostStaged |= staged[i] && !arg.device;
  if (hostStaged || synchronousCudaCalls())
    rt.synchronize();
  if (const char *error = rt.takeError())
    return makeError("@" + sig.name + ": " + error);
  // Staged results, and staged inputs that a result updated in place, go
  // back to the caller's buffers.
  for (size_t i = 0; i < args.size(); ++i) {
    const BufferRef &arg = args[i];
    bool back = i < numInputs ? updated[i]
                              : sig.results[i - numInputs].inPlace < 0;
    if (!back || !staged[i])
      continue;
    int64_t elements = 1;
    for (int64_t d : arg.shape)
      elements *= d;
    size_t bytes = elements * dtypeSize(arg.dtype);
    if (arg.device) {
      // An input copied off a 16-byte boundary (it is contiguous).
      if (!rt.copy(arg.data, staged[i], bytes, 2))
        return makeError("@" + sig.name + ": " + rt.takeError());
      continue;
    }
    if (isRowMajor(arg.shape, arg.strides)) {
      if (!rt.copy(arg.data, staged[i], bytes, 1))
        return makeError("@" + sig.name + ": " + rt.takeError());
      continue;
    }
    std::vector<char> contiguous(bytes);
    if (!rt.copy(contiguous.data(), staged[i], bytes, 1))
      return makeError("@" + sig.name + ": " + rt.takeError());
    copyStrided(contiguous.data(), rowMajorStrides(arg.shape), arg.data,
                arg.strides, arg.shape, dtypeSize(arg.dtype));
  }
  return llvm::Error::success();
}
