//===- Passes.h - seqc project-wide passes ----------------------*- C++ -*-===//
//
// Part of seqc.
//
//===----------------------------------------------------------------------===//

#ifndef SEQC_TRANSFORMS_PASSES_H
#define SEQC_TRANSFORMS_PASSES_H

#include "mlir/Pass/Pass.h"

#include <string>

namespace mlir::seqc {

/// On a `gpu.launch`, the blocks its kernel must fit on one multiprocessor
/// (an i32 above 1): seqc-gpu-name-kernels carries it through outlining to
/// the first op of the body, and seqc-gpu-kernel-bounds makes it the
/// kernel's `nvvm.minctasm`.
inline constexpr llvm::StringLiteral kMinBlocksPerSMAttr =
    "seqc.min_blocks_per_sm";

#define GEN_PASS_DECL
#include "seqc/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "seqc/Transforms/Passes.h.inc"

} // namespace mlir::seqc

#endif // SEQC_TRANSFORMS_PASSES_H
