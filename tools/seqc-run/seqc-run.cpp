//===- seqc-run.cpp - run a function of an MLIR module on .npy files ------===//
//
// Part of seqc. `seqc-run model.mlir --entry=f --input=q.npy --input=k.npy
// --output=o.npy` JIT-compiles the module, checks each input file's dtype
// and shape against the function's signature, runs the function once and
// writes each result as a .npy file; `--bench=N` then runs it N more times
// and prints the median time.
//
//===----------------------------------------------------------------------===//

#include "Runtime/Npy.h"
#include "seqc/Compiler/Compiler.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

using namespace llvm;
using mlir::seqc::BufferRef;
using mlir::seqc::CompiledModule;
using mlir::seqc::CompileOptions;
using mlir::seqc::DType;
using mlir::seqc::FunctionSignature;
using mlir::seqc::NpyArray;
using mlir::seqc::TensorSpec;

static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<model.mlir>"),
                                      cl::init("-"));
static cl::opt<std::string>
    entryName("entry",
              cl::desc("Function to run (default: the module's only public "
                       "function)"),
              cl::value_desc("name"));
static cl::list<std::string>
    inputPaths("input",
               cl::desc("A .npy file per function input, in order"),
               cl::value_desc("file.npy"));
static cl::list<std::string>
    outputPaths("output",
                cl::desc("A .npy file per function result, in order"),
                cl::value_desc("file.npy"));
static cl::opt<std::string> target("target", cl::desc("cpu (cuda: later)"),
                                   cl::init("cpu"));
static cl::opt<std::string> extraOptions(
    "options", cl::desc("Compile options, e.g. 'attention-tile-q=32'"),
    cl::init(""));
static cl::opt<unsigned>
    benchRuns("bench",
              cl::desc("Run N more times and print the median time"),
              cl::value_desc("N"), cl::init(0));

static std::string countString(size_t count, StringRef noun) {
  return std::to_string(count) + " " + noun.str() + (count == 1 ? "" : "s");
}

static std::string functionList(const std::vector<FunctionSignature> &sigs) {
  std::string list;
  for (const FunctionSignature &sig : sigs) {
    if (!list.empty())
      list += ", ";
    list += "@" + sig.name;
  }
  return list;
}

/// Empty when `paths` has one file per spec; else what is missing or extra.
static std::string countMismatch(const FunctionSignature &sig,
                                 const std::vector<TensorSpec> &specs,
                                 const cl::list<std::string> &paths,
                                 StringRef verb, StringRef noun,
                                 StringRef flag) {
  if (paths.size() == specs.size())
    return "";
  std::string message = "@" + sig.name + " " + verb.str() + " " +
                        countString(specs.size(), noun) + ", got " +
                        countString(paths.size(), ("--" + flag + " file").str());
  if (paths.size() < specs.size()) {
    message += "; missing ";
    for (size_t i = paths.size(); i < specs.size(); ++i) {
      if (i != paths.size())
        message += ", ";
      message += noun.str() + " #" + std::to_string(i) + " (" +
                 mlir::seqc::formatSpec(specs[i]) + ")";
    }
  } else {
    message += "; extra ";
    for (size_t i = specs.size(); i < paths.size(); ++i) {
      if (i != specs.size())
        message += ", ";
      message += "--" + flag.str() + "=" + paths[i];
    }
  }
  return message;
}

static int64_t numElements(ArrayRef<int64_t> shape) {
  int64_t count = 1;
  for (int64_t d : shape)
    count *= d;
  return count;
}

static SmallVector<int64_t> rowMajorStrides(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t d = static_cast<int64_t>(shape.size()) - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(
      argc, argv,
      "seqc-run: run a function of an MLIR module on .npy files\n");
  auto fail = [](const Twine &message) {
    WithColor::error(errs(), "seqc-run") << message << "\n";
    return 1;
  };

  // Inputs first: a missing or malformed file is reported before compiling.
  std::vector<NpyArray> arrays;
  for (size_t i = 0; i < inputPaths.size(); ++i) {
    auto array = mlir::seqc::readNpy(inputPaths[i]);
    if (!array)
      return fail("cannot read input #" + Twine(i) + ": " +
                  toString(array.takeError()));
    arrays.push_back(std::move(*array));
  }

  auto buffer = MemoryBuffer::getFileOrSTDIN(inputFile);
  if (!buffer)
    return fail("cannot read '" + inputFile + "': " +
                buffer.getError().message());
  auto options = CompileOptions::parse("target=" + target + " " +
                                       extraOptions);
  if (!options)
    return fail(toString(options.takeError()));
  auto compiled = CompiledModule::compile((*buffer)->getBuffer(), *options);
  if (!compiled) {
    // Compiler diagnostics already carry their location and severity.
    std::string text = toString(compiled.takeError());
    if (StringRef(text).contains("error:")) {
      errs() << text;
      if (!text.empty() && text.back() != '\n')
        errs() << "\n";
      return 1;
    }
    return fail(text);
  }
  std::shared_ptr<CompiledModule> module = std::move(*compiled);

  // The entry point.
  const std::vector<FunctionSignature> &functions = module->functions();
  const FunctionSignature *sig = nullptr;
  if (entryName.empty()) {
    if (functions.size() != 1)
      return fail("the module has " +
                  countString(functions.size(), "public function") + " (" +
                  functionList(functions) + "); choose one with --entry");
    sig = &functions.front();
  } else {
    StringRef name = entryName;
    name.consume_front("@");
    sig = module->lookup(name);
    if (!sig)
      return fail("no public function named @" + name + " (the module has " +
                  functionList(functions) + ")");
  }

  // Files against the signature.
  std::string mismatch = countMismatch(*sig, sig->inputs, inputPaths, "takes",
                                       "input", "input");
  if (!mismatch.empty())
    return fail(mismatch);
  mismatch = countMismatch(*sig, sig->results, outputPaths, "returns",
                           "result", "output");
  if (!mismatch.empty())
    return fail(mismatch);
  for (size_t i = 0; i < arrays.size(); ++i) {
    const TensorSpec &spec = sig->inputs[i];
    const NpyArray &array = arrays[i];
    std::string what =
        "input #" + std::to_string(i) + " (" + inputPaths[i] + ")";
    if (array.dtype != spec.dtype)
      return fail(what + ": dtype " + mlir::seqc::dtypeName(array.dtype) +
                  " does not match the signature's " +
                  mlir::seqc::dtypeName(spec.dtype) +
                  (spec.dtype == DType::BF16
                       ? " (bf16 cannot be stored in .npy files)"
                       : ""));
    if (ArrayRef<int64_t>(array.shape) != ArrayRef<int64_t>(spec.shape))
      return fail(what + ": shape " + mlir::seqc::formatShape(array.shape) +
                  " does not match the signature's " +
                  mlir::seqc::formatShape(spec.shape));
  }
  for (size_t i = 0; i < sig->results.size(); ++i)
    if (sig->results[i].dtype == DType::BF16)
      return fail("result #" + Twine(i) + " of @" + sig->name +
                  " is bf16, which .npy files cannot hold");

  // Buffers: the input arrays, then freshly allocated results.
  size_t numInputs = sig->inputs.size(), numResults = sig->results.size();
  std::vector<SmallVector<int64_t>> strides(numInputs + numResults);
  std::vector<std::vector<char>> results(numResults);
  std::vector<BufferRef> args;
  args.reserve(numInputs + numResults);
  for (size_t i = 0; i < numInputs; ++i) {
    strides[i] = rowMajorStrides(arrays[i].shape);
    args.push_back(BufferRef{arrays[i].data.data(), arrays[i].dtype,
                             ArrayRef<int64_t>(arrays[i].shape),
                             ArrayRef<int64_t>(strides[i])});
  }
  for (size_t i = 0; i < numResults; ++i) {
    const TensorSpec &spec = sig->results[i];
    results[i].resize(static_cast<size_t>(numElements(spec.shape)) *
                      mlir::seqc::dtypeSize(spec.dtype));
    strides[numInputs + i] = rowMajorStrides(spec.shape);
    args.push_back(BufferRef{results[i].data(), spec.dtype,
                             ArrayRef<int64_t>(spec.shape),
                             ArrayRef<int64_t>(strides[numInputs + i])});
  }

  if (Error error = module->invoke(sig->name, args))
    return fail(toString(std::move(error)));
  for (size_t i = 0; i < numResults; ++i) {
    const TensorSpec &spec = sig->results[i];
    if (Error error = mlir::seqc::writeNpy(outputPaths[i], spec.dtype,
                                           spec.shape, results[i].data()))
      return fail("cannot write result #" + Twine(i) + ": " +
                  toString(std::move(error)));
  }

  unsigned runs = benchRuns;
  if (runs > 0) {
    std::vector<double> times;
    times.reserve(runs);
    for (unsigned n = 0; n < runs; ++n) {
      auto start = std::chrono::steady_clock::now();
      Error error = module->invoke(sig->name, args);
      auto stop = std::chrono::steady_clock::now();
      if (error)
        return fail(toString(std::move(error)));
      times.push_back(
          std::chrono::duration<double, std::milli>(stop - start).count());
    }
    std::sort(times.begin(), times.end());
    double median = runs % 2 ? times[runs / 2]
                             : (times[runs / 2 - 1] + times[runs / 2]) / 2;
    outs() << "median " << format("%.3f", median) << " ms over " << runs
           << (runs == 1 ? " run\n" : " runs\n");
  }
  return 0;
}
