//===- seqc-opt.cpp - mlir-opt with seqc registered -----------------------===//
//
// Part of seqc. The standard MlirOptMain driver over the `seq` dialect and the
// upstream dialects and passes seqc lowers through.
//
//===----------------------------------------------------------------------===//

#include "seqc/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mlir::seqc::registerAllDialects(registry);
  mlir::seqc::registerAllPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "seqc optimizer driver\n", registry));
}
