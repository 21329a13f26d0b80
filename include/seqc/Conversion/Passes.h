//===- Passes.h - seqc conversion passes ------------------------*- C++ -*-===//
//
// Part of seqc.
//
//===----------------------------------------------------------------------===//

#ifndef SEQC_CONVERSION_PASSES_H
#define SEQC_CONVERSION_PASSES_H

#include "mlir/Pass/Pass.h"

namespace mlir {
class RewritePatternSet;
namespace affine {
class AffineDialect;
} // namespace affine
namespace arith {
class ArithDialect;
} // namespace arith
namespace bufferization {
class BufferizationDialect;
} // namespace bufferization
namespace gpu {
class GPUDialect;
} // namespace gpu
namespace memref {
class MemRefDialect;
} // namespace memref
namespace nvgpu {
class NVGPUDialect;
} // namespace nvgpu
namespace NVVM {
class NVVMDialect;
} // namespace NVVM
namespace LLVM {
class LLVMDialect;
} // namespace LLVM
namespace linalg {
class LinalgDialect;
} // namespace linalg
namespace math {
class MathDialect;
} // namespace math
namespace scf {
class SCFDialect;
} // namespace scf
namespace tensor {
class TensorDialect;
} // namespace tensor
namespace vector {
class VectorDialect;
} // namespace vector
} // namespace mlir

namespace mlir::seqc {

#define GEN_PASS_DECL
#include "seqc/Conversion/Passes.h.inc"

/// Tile sizes of the attention decomposition.
struct AttentionTiling {
  int64_t tileQ = 64;
  int64_t tileKV = 64;
};

/// Patterns lowering every `seq` op to linalg/scf/tensor on tensors.
void populateSeqToLinalgPatterns(RewritePatternSet &patterns,
                                 const AttentionTiling &tiling);

#define GEN_PASS_REGISTRATION
#include "seqc/Conversion/Passes.h.inc"

} // namespace mlir::seqc

#endif // SEQC_CONVERSION_PASSES_H
