//===- InitAll.h - register seqc's dialects and passes ----------*- C++ -*-===//
//
// Part of seqc. One call registers everything a seqc tool needs: the `seq`
// dialect and the upstream dialects and passes that seqc lowers through.
//
//===----------------------------------------------------------------------===//

#ifndef SEQC_INITALL_H
#define SEQC_INITALL_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace mlir::seqc {

/// Adds `seq` and the upstream dialects seqc's pipelines lower to (func,
/// arith, math, tensor, linalg, scf, memref, vector, bufferization, gpu,
/// nvgpu, nvvm, llvm), with their interface implementations.
void registerAllDialects(DialectRegistry &registry);

/// Registers seqc's passes and the upstream passes its pipelines use, so
/// that tools can name them on the command line.
void registerAllPasses();

} // namespace mlir::seqc

#endif // SEQC_INITALL_H
