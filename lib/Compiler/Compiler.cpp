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
#include "seqc/Pipelines/Pipelines.h"

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
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"

#include <map>
#include <mutex>

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
  for (llvm::StringRef word : words) {
    auto [key, value] = word.split('=');
    int64_t number = 0;
    if (key == "target") {
      if (value != "cpu")
        return makeError("unsupported target '" + value +
                         "' (this build supports: cpu)");
      options.target = value.str();
    } else if (key == "attention-tile-q" || key == "attention-tile-kv") {
      if (value.getAsInteger(10, number) || number < 1)
        return makeError("option '" + key + "' needs a positive integer, got '" +
                         value + "'");
      (key == "attention-tile-q" ? options.attentionTileQ
                                 : options.attentionTileKV) = number;
    } else {
      return makeError("unknown compile option '" + word +
                       "' (known: target, attention-tile-q, attention-tile-kv)");
    }
  }
  return options;
}

std::string CompileOptions::str() const {
  return "target=" + target + " attention-tile-q=" +
         std::to_string(attentionTileQ) +
         " attention-tile-kv=" + std::to_string(attentionTileKV);
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
    for (auto [i, type] : llvm::enumerate(func.getResultTypes()))
      if (failed(add(type, "result", i, sig.results)))
        return failure();
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

  DialectRegistry registry;
  registerAllDialects(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  MLIRContext context(registry, MLIRContext::Threading::DISABLED);

  // Every diagnostic, with its location and source line, goes to `log`.
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(source, "<input>"), llvm::SMLoc());
  std::string log;
  llvm::raw_string_ostream logStream(log);
  SourceMgrDiagnosticHandler handler(sourceMgr, &context, logStream);

  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return makeError(log);
  auto compiled = std::shared_ptr<CompiledModule>(new CompiledModule());
  if (failed(collectSignatures(*module, compiled->signatures)))
    return makeError(log);

  PassManager pm(&context);
  CPUPipelineOptions pipelineOptions;
  pipelineOptions.attentionTileQ = options.attentionTileQ;
  pipelineOptions.attentionTileKV = options.attentionTileKV;
  buildCPUPipeline(pm, pipelineOptions);
  if (failed(pm.run(*module)))
    return makeError(log.empty() ? "the CPU pipeline failed" : log);

  initializeNativeTarget();
  auto machineBuilder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!machineBuilder)
    return machineBuilder.takeError();
  auto machine = machineBuilder->createTargetMachine();
  if (!machine)
    return machine.takeError();
  // The engine keeps a reference to the transformer while it is created.
  auto transformer = makeOptimizingTransformer(/*optLevel=*/3,
                                               /*sizeLevel=*/0, machine->get());
  ExecutionEngineOptions engineOptions;
  engineOptions.transformer = transformer;
  engineOptions.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  auto engine =
      ExecutionEngine::create(*module, engineOptions, std::move(*machine));
  if (!engine)
    return engine.takeError();
  compiled->engine = std::move(*engine);
  compiled->engine->initialize();

  std::lock_guard<std::mutex> lock(cacheMutex);
  auto [it, inserted] = cache.emplace(std::move(key), compiled);
  return it->second;
}

CompiledModule::~CompiledModule() = default;

const FunctionSignature *CompiledModule::lookup(llvm::StringRef name) const {
  for (const FunctionSignature &sig : signatures)
    if (sig.name == name)
      return &sig;
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Invoke
//===----------------------------------------------------------------------===//

static std::string shapeString(llvm::ArrayRef<int64_t> shape) {
  return "[" + llvm::join(llvm::map_range(shape, [](int64_t d) {
                            return std::to_string(d);
                          }),
                          ", ") +
         "]";
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
  if (args.size() != numInputs + numResults)
    return makeError("@" + name + " takes " +
                     llvm::Twine(numInputs + numResults) + " buffers (" +
                     llvm::Twine(numInputs) + " inputs, then " +
                     llvm::Twine(numResults) + " results), got " +
                     llvm::Twine(args.size()));

  // Memref descriptors: {allocated, aligned, offset, sizes[r], strides[r]}.
  std::vector<llvm::SmallVector<int64_t>> descriptors(args.size());
  for (auto [i, arg] : llvm::enumerate(args)) {
    bool isInput = i < numInputs;
    const TensorSpec &spec =
        isInput ? sig->inputs[i] : sig->results[i - numInputs];
    std::string what = "@" + name.str() + ": " +
                       (isInput ? "input #" + std::to_string(i)
                                : "result #" + std::to_string(i - numInputs));
    if (arg.dtype != spec.dtype)
      return makeError(what + " has dtype " + dtypeName(arg.dtype) +
                       ", expected " + dtypeName(spec.dtype));
    if (arg.shape != llvm::ArrayRef<int64_t>(spec.shape))
      return makeError(what + " has shape " + shapeString(arg.shape) +
                       ", expected " + shapeString(spec.shape));
    if (arg.strides.size() != arg.shape.size())
      return makeError(what + " has " + llvm::Twine(arg.strides.size()) +
                       " strides for rank " + llvm::Twine(arg.shape.size()));
    int64_t elements = 1;
    for (int64_t d : arg.shape)
      elements *= d;
    if (!arg.data && elements != 0)
      return makeError(what + " has no data");
    auto &desc = descriptors[i];
    auto pointer = static_cast<int64_t>(reinterpret_cast<intptr_t>(arg.data));
    desc = {pointer, pointer, 0};
    desc.append(arg.shape.begin(), arg.shape.end());
    desc.append(arg.strides.begin(), arg.strides.end());
  }
  std::vector<void *> descriptorPointers(args.size());
  std::vector<void *> packed(args.size());
  for (size_t i = 0; i < args.size(); ++i) {
    descriptorPointers[i] = descriptors[i].data();
    packed[i] = &descriptorPointers[i];
  }
  return engine->invokePacked(("_mlir_ciface_" + name).str(), packed);
}
