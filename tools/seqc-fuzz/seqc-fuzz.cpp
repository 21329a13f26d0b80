//===- seqc-fuzz.cpp - libFuzzer target over seqc's front half ------------===//
//
// Part of seqc. Feeds bytes through what a user's module meets first: parse
// (all of seqc's dialects), verify, then, for modules that verify,
// `seqc-cpu-pipeline` to the LLVM dialect and `seqc-cuda-pipeline` to PTX
// (format=isa: the NVPTX backend runs, no ptxas). Diagnostics are collected
// and dropped: an error is a fine outcome, a crash, hang or sanitizer report
// is not.
//
// Two mutation modes (SEQC_FUZZ_MODE):
//   bytes      libFuzzer's byte-level mutations only;
//   structure  (the default) also edits valid modules where seq's
//              constraints live: a dimension of a tensor type, an element
//              type, an integer or float literal (attributes: dim, window,
//              eps, theta, scale), a unit attribute dropped or added, an
//              arithmetic op of a region body swapped for another. Seeds
//              (the lit tests and examples, one module per `// -----`
//              split) keep the mutants close to valid IR.
//
// Built only in a sanitized build (scripts/fuzz.sh).
//
//===----------------------------------------------------------------------===//

#include "seqc/InitAll.h"
#include "seqc/Pipelines/Pipelines.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include "llvm/Support/CrashRecoveryContext.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <cstring>
#include <random>
#include <regex>
#include <string>

using namespace mlir;

extern "C" size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t maxSize);

namespace {

DialectRegistry &registry() {
  static DialectRegistry *r = [] {
    auto *reg = new DialectRegistry();
    seqc::registerAllDialects(*reg);
    return reg;
  }();
  return *r;
}

void runPipeline(ModuleOp module, bool cuda) {
  PassManager pm(module.getContext());
  if (cuda) {
    seqc::CUDAPipelineOptions options;
    options.format = "isa";
    seqc::buildCUDAPipeline(pm, options);
  } else {
    seqc::buildCPUPipeline(pm, seqc::CPUPipelineOptions());
  }
  (void)pm.run(module);
}

/// Keeps an input whose parse crashed (and was recovered) next to the
/// fuzzer's artifacts, and counts it (printed at exit).
unsigned recovered = 0;
void recordRecovered(const uint8_t *data, size_t size) {
  ++recovered;
  const char *dir = std::getenv("SEQC_FUZZ_RECOVERED_DIR");
  if (!dir)
    return;
  std::string path = std::string(dir) + "/recovered-" +
                     std::to_string(std::hash<std::string>()(
                         std::string(reinterpret_cast<const char *>(data), size)));
  if (FILE *f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(data, 1, size, f);
    std::fclose(f);
  }
}
} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  llvm::CrashRecoveryContext::Enable();
  std::atexit([] {
    std::fprintf(stderr, "seqc-fuzz: %u inputs crashed an upstream parser "
                         "(recovered)\n", recovered);
  });
  llvm::InitializeAllTargets();
  llvm::InitializeAllTargetMCs();
  llvm::InitializeAllAsmPrinters();
  seqc::registerAllPasses();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // Modules beyond 64 KiB only slow the search down.
  if (size > (64 << 10))
    return 0;
  MLIRContext context(registry(), MLIRContext::Threading::DISABLED);
  context.allowUnregisteredDialects(false);
  ScopedDiagnosticHandler drop(&context, [](Diagnostic &) { return success(); });
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(
          llvm::StringRef(reinterpret_cast<const char *>(data), size), "fuzz"),
      llvm::SMLoc());
  // As seqc's compile API does, a crash of an upstream op parser is
  // recovered (llvm::CrashRecoveryContext; run with ASAN_OPTIONS
  // handle_segv=0 so that the signal reaches it). Recovered inputs are
  // counted and kept, not reported as crashes: they are upstream MLIR's
  // bugs, and seqc turns them into errors. Crashes anywhere else (seqc's
  // passes, and every sanitizer report) end the run.
  OwningOpRef<ModuleOp> module;
  llvm::CrashRecoveryContext recovery;
  if (!recovery.RunSafely(
          [&] { module = parseSourceFile<ModuleOp>(sourceMgr, &context); })) {
    (void)module.release();
    recordRecovered(data, size);
    return 0;
  }
  if (!module || failed(verify(*module)))
    return 0;
  OwningOpRef<ModuleOp> copy = module->clone();
  runPipeline(*module, /*cuda=*/false);
  runPipeline(*copy, /*cuda=*/true);
  return 0;
}

namespace {
/// One structure-aware edit of `text`; false when none applies.
bool mutateStructure(std::string &text, std::mt19937 &rng) {
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  auto matches = [&](const std::regex &re) {
    std::vector<std::pair<size_t, size_t>> out;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), re);
         it != std::sregex_iterator(); ++it)
      out.push_back({static_cast<size_t>(it->position(1)),
                     static_cast<size_t>(it->length(1))});
    return out;
  };
  static const std::regex dims(R"(tensor<((?:\d+x)*)[a-z])");
  static const std::regex elementType(R"(\b(f32|f16|bf16|f64|i32|i64|i8|i1)\b)");
  static const std::regex number(R"([=\[, (-](\d+(?:\.\d+)?(?:e[-+]?\d+)?))");
  static const std::regex unit(R"(\{(causal|reverse|delta_softplus|silu|interleaved|exclusive)\})");
  static const std::regex arith(R"(\b(arith\.(?:addf|mulf|subf|maximumf|minimumf|divf))\b)");
  switch (pick(5)) {
  case 0: { // a dimension of a tensor type
    auto found = matches(dims);
    if (found.empty())
      return false;
    auto [pos, len] = found[pick(found.size())];
    std::string list = text.substr(pos, len);
    std::vector<size_t> starts;
    for (size_t i = 0; i < list.size(); ++i)
      if (i == 0 || list[i - 1] == 'x')
        starts.push_back(i);
    if (starts.empty())
      return false;
    size_t s = starts[pick(starts.size())];
    size_t e = list.find('x', s);
    static const char *sizes[] = {"0", "1", "2", "3", "7", "16", "17", "64", "65", "4096"};
    list.replace(s, e - s, sizes[pick(10)]);
    text.replace(pos, len, list);
    return true;
  }
  case 1: { // an element type
    auto found = matches(elementType);
    if (found.empty())
      return false;
    auto [pos, len] = found[pick(found.size())];
    static const char *types[] = {"f32", "f16", "bf16", "f64", "i32", "i64", "i8", "i1"};
    text.replace(pos, len, types[pick(8)]);
    return true;
  }
  case 2: { // a literal
    auto found = matches(number);
    if (found.empty())
      return false;
    auto [pos, len] = found[pick(found.size())];
    static const char *values[] = {"0", "1", "2", "3", "-1", "-2", "0.0", "1.0e-30",
                                   "3.0e+38", "1024", "9223372036854775807", "nan", "inf"};
    text.replace(pos, len, values[pick(13)]);
    return true;
  }
  case 3: { // a unit attribute dropped
    auto found = matches(unit);
    if (found.empty())
      return false;
    auto [pos, len] = found[pick(found.size())];
    text.replace(pos, len, "");
    return true;
  }
  default: { // a combiner op swapped
    auto found = matches(arith);
    if (found.empty())
      return false;
    auto [pos, len] = found[pick(found.size())];
    static const char *ops[] = {"arith.addf", "arith.mulf", "arith.subf",
                                "arith.maximumf", "arith.minimumf", "arith.divf"};
    text.replace(pos, len, ops[pick(6)]);
    return true;
  }
  }
}
} // namespace

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size,
                                          size_t maxSize, unsigned seed) {
  static const bool bytesOnly = [] {
    const char *mode = std::getenv("SEQC_FUZZ_MODE");
    return mode && std::strcmp(mode, "bytes") == 0;
  }();
  std::mt19937 rng(seed);
  if (!bytesOnly && rng() % 4 != 0) {
    std::string text(reinterpret_cast<char *>(data), size);
    for (int tries = 0; tries < 4; ++tries)
      if (mutateStructure(text, rng) && text.size() <= maxSize) {
        std::memcpy(data, text.data(), text.size());
        return text.size();
      }
  }
  return LLVMFuzzerMutate(data, size, maxSize);
}
