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
};

/// seq (+ linalg/tensor/arith/math) on tensors -> LLVM dialect for the host.
/// Public functions take every tensor argument and result as a strided
/// memref of any layout, results as trailing out-parameters.
void buildCPUPipeline(OpPassManager &pm, const CPUPipelineOptions &options);

/// Registers `seqc-cpu-pipeline` for tools.
void registerPipelines();

} // namespace mlir::seqc

#endif // SEQC_PIPELINES_PIPELINES_H
