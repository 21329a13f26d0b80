//===- CPUPipeline.cpp - seqc-cpu-pipeline --------------------------------===//
//
// Part of seqc.
//
//===----------------------------------------------------------------------===//

#include "seqc/Pipelines/Pipelines.h"

#include "seqc/Conversion/Passes.h"
#include "seqc/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::seqc::addRaisingPasses(OpPassManager &pm) {
  pm.addPass(createSeqRaiseAttention());
  pm.addPass(createSeqRaiseScans());
  // What was not raised (a softmax that is no provable attention) becomes
  // plain linalg.
  pm.addPass(createSeqcDecomposeAggregates());
}

void mlir::seqc::addBufferizationPasses(OpPassManager &pm) {
  // Public functions take fully dynamic layouts, so callers pass strided,
  // offset and non-contiguous inputs without copies; results become
  // caller-provided, contiguous out-parameters. Callers' input buffers are
  // never written, except those a `seq.in_place` result updates.
  pm.addPass(createSeqcReadonlyArguments());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::FullyDynamicLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  // Results marked seq.in_place go into their arguments' buffers.
  pm.addPass(createSeqcInPlaceResults());
  // Unit innermost strides for inputs, contiguous results written in place.
  pm.addPass(createSeqcBoundaryLayouts());
  pm.addPass(createCanonicalizerPass());
  bufferization::BufferResultsToOutParamsPassOptions outParams;
  outParams.modifyPublicFunctions = true;
  outParams.hoistStaticAllocs = true;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
}

void mlir::seqc::buildCPUPipeline(OpPassManager &pm,
                                  const CPUPipelineOptions &options) {
  // Unfused attention and linear scans raised to seq ops, then seq's
  // canonical forms: trivial scans fold away before anything is lowered.
  addRaisingPasses(pm);
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createConvertSeqToLinalg(
      {options.attentionTileQ, options.attentionTileKV}));
  pm.addPass(createSeqcCheckContract({"linalg"}));
  // Elementwise arith/math on whole tensors (in recurrence bodies, say)
  // becomes linalg.generic, which bufferizes.
  pm.addPass(createConvertElementwiseToLinalgPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  // Transposes that move only unit dimensions (a decode step's head
  // split) become reshapes: views, not copies.
  pm.addPass(createSeqcFoldUnitTransposes());
  if (options.matmulSplitK)
    pm.addPass(createSeqcSplitSmallMatmuls());
  // Matmuls (the model's projections, a recurrence's hoisted input
  // projection) become register micro-kernels instead of scalar loops.
  pm.addPass(createSeqcTileMatmuls());

  addBufferizationPasses(pm);
  bufferization::buildBufferDeallocationPipeline(pm);
  // A block written in place and then "inserted" back is a copy of a view
  // onto itself: CSE makes the two views one and the copy folds away.
  pm.addPass(createCSEPass());
  pm.addPass(createCanonicalizerPass());

  // Loops. The parallel tiles (scf.forall) become OpenMP worksharing loops
  // over the cores; copies become loops too, not runtime calls.
  pm.addPass(createSeqcCopiesToLinalg());
  pm.addPass(createForallToParallelLoopPass());
  pm.addPass(createConvertSCFToOpenMPPass());
  pm.addPass(createConvertLinalgToLoopsPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());

  // To LLVM: strided metadata into plain arithmetic; transcendental math
  // into vectorizable polynomials (the rest into LLVM intrinsics or libm
  // calls), then each dialect's conversion.
  // Vector transfers that are not plain contiguous loads (a column of a row
  // block) become unrolled element accesses.
  pm.addPass(createConvertVectorToSCFPass(
      VectorTransferToSCFOptions().enableFullUnroll()));
  pm.addPass(createCanonicalizerPass());
  // Testing: every load, store and view checked against its memref's
  // bounds (cf.assert, which aborts with the op's location).
  if (options.boundsCheck)
    pm.addPass(createGenerateRuntimeVerificationPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(arith::createArithExpandOpsPass());
  pm.addPass(createSeqcMathApproximations());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createArithToLLVMConversionPass());
  // Register transposes (the recurrence's time tiles) as 1-d shuffles;
  // horizontal sums (attention's row sums) as trees.
  ConvertVectorToLLVMPassOptions vectorToLLVM;
  vectorToLLVM.vectorTransposeLowering =
      vector::VectorTransposeLowering::Shuffle1D;
  vectorToLLVM.reassociateFPReductions = true;
  pm.addPass(createConvertVectorToLLVMPass(vectorToLLVM));
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createUBToLLVMConversionPass());
  pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createCanonicalizerPass());
  // A failed malloc returns from the compiled function and reaches the
  // caller as an error.
  pm.addPass(createSeqcHostAllocChecks());
  pm.addPass(createSeqcCheckContract({"llvm"}));
}

void mlir::seqc::registerPipelines() {
  PassPipelineRegistration<CPUPipelineOptions>(
      "seqc-cpu-pipeline",
      "Lower seq and upstream tensor ops to the LLVM dialect for the host CPU",
      buildCPUPipeline);
  PassPipelineRegistration<CUDAPipelineOptions>(
      "seqc-cuda-pipeline",
      "Lower seq and upstream tensor ops to NVIDIA GPU kernels (embedded as a "
      "gpu.binary) and host code in the LLVM dialect",
      buildCUDAPipeline);
}
