//===- seqc.cpp - the seqc ahead-of-time compiler driver ------------------===//
//
// Part of seqc. `seqc model.mlir --target=cpu -o model.so` writes a shared
// library of the module's public functions (and `model.h` declaring them);
// `--emit=mlir|llvm|obj` writes an intermediate form instead.
//
//===----------------------------------------------------------------------===//

#include "seqc/Compiler/Compiler.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/WithColor.h"

using namespace llvm;

static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<input.mlir>"),
                                      cl::init("-"));
static cl::opt<std::string> outputFile("o", cl::desc("Output file"),
                                       cl::value_desc("path"), cl::Required);
static cl::opt<std::string> target("target", cl::desc("cpu (cuda: later)"),
                                   cl::init("cpu"));
static cl::opt<mlir::seqc::EmitKind> emit(
    "emit", cl::desc("What to write"),
    cl::values(clEnumValN(mlir::seqc::EmitKind::SharedLibrary, "so",
                          "a shared library and a C header (default)"),
               clEnumValN(mlir::seqc::EmitKind::Object, "obj",
                          "an object file"),
               clEnumValN(mlir::seqc::EmitKind::LLVMIR, "llvm", "LLVM IR"),
               clEnumValN(mlir::seqc::EmitKind::MLIR, "mlir",
                          "MLIR in the LLVM dialect")),
    cl::init(mlir::seqc::EmitKind::SharedLibrary));
static cl::opt<std::string> headerFile(
    "header", cl::desc("C header path (default: the output with .h)"),
    cl::value_desc("path"));
static cl::opt<std::string> extraOptions(
    "options", cl::desc("Compile options, e.g. 'attention-tile-q=32'"),
    cl::init(""));

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv, "seqc ahead-of-time compiler\n");
  auto fail = [](const Twine &message) {
    WithColor::error(errs(), "seqc") << message << "\n";
    return 1;
  };

  auto buffer = MemoryBuffer::getFileOrSTDIN(inputFile);
  if (!buffer)
    return fail("cannot read '" + inputFile + "': " +
                buffer.getError().message());
  auto options = mlir::seqc::CompileOptions::parse("target=" + target + " " +
                                                   extraOptions);
  if (!options)
    return fail(toString(options.takeError()));
  std::string header;
  if (emit == mlir::seqc::EmitKind::SharedLibrary) {
    header = headerFile;
    if (header.empty()) {
      SmallString<128> path(outputFile);
      sys::path::replace_extension(path, "h");
      header = std::string(path);
    }
  }
  StringRef name = inputFile == "-" ? "<stdin>" : StringRef(inputFile);
  if (Error error = mlir::seqc::compileToFile(
          (*buffer)->getBuffer(), name, *options, emit, outputFile, header)) {
    // Compiler diagnostics already carry their location and severity.
    errs() << toString(std::move(error));
    return 1;
  }
  return 0;
}
