//===- CUDAPipeline.cpp - seqc-cuda-pipeline ------------------------------===//
//
// Part of seqc. seq ops become kernels (convert-seq-to-gpu); what is left of
// the model (a recurrence's body, the model's own linalg ops, copies)
// becomes loops mapped to blocks and threads; then upstream's GPU-to-NVVM
// lowering makes PTX through LLVM's NVPTX backend, serialized by
// gpu-module-to-binary into the host module.
//
//===----------------------------------------------------------------------===//

#include "seqc/Pipelines/Pipelines.h"

#include "seqc/Conversion/Passes.h"
#include "seqc/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Pipelines/Passes.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

#include "llvm/Support/CommandLine.h"

using namespace mlir;

/// Shared, constant and local memory addressed with 32-bit pointers in the
/// NVPTX backend (its `nvptx-short-ptr` option; the data layout follows).
/// Shared-memory addresses held across a kernel's loops then take one
/// register rather than two: the tensor-core attention keeps a base per
/// fragment kind live across its key loop. Process-wide, as every seqc
/// kernel wants it.
static void useShortNVPTXPointers() {
  auto &options =
      llvm::cl::getRegisteredOptions();
  auto it = options.find("nvptx-short-ptr");
  if (it != options.end())
    static_cast<llvm::cl::opt<bool> *>(it->second)->setValue(true);
}

void mlir::seqc::buildCUDAPipeline(OpPassManager &pm,
                                   const CUDAPipelineOptions &options) {
  useShortNVPTXPointers();
  addRaisingPasses(pm);
  pm.addPass(createCanonicalizerPass());
  // seq ops to kernels; seq.recurrence (whose body is linalg code) through
  // the portable decomposition.
  ConvertSeqToGPUOptions seqToGPU;
  seqToGPU.attentionTensorCores = options.attentionTensorCores;
  // wgmma and setmaxnreg exist only on the architecture-specific target.
  seqToGPU.attentionWgmma =
      options.attentionWgmma && StringRef(options.chip) == "sm_90a";
  seqToGPU.scanStepsPerThread = options.scanStepsPerThread;
  seqToGPU.attentionRowsPerWarp = options.attentionRowsPerWarp;
  seqToGPU.attentionKeysPerTile = options.attentionKeysPerTile;
  seqToGPU.attentionWgmmaRows = options.attentionWgmmaRows;
  seqToGPU.attentionWgmmaStages = options.attentionWgmmaStages;
  seqToGPU.attentionWgmmaPersistent = options.attentionWgmmaPersistent;
  seqToGPU.attentionWgmmaBlocksPerSM = options.attentionWgmmaBlocksPerSM;
  seqToGPU.attentionDecodeRows = options.attentionDecodeRows;
  seqToGPU.attentionDecodeKeys = options.attentionDecodeKeys;
  seqToGPU.attentionDecodeBlocks = options.attentionDecodeBlocks;
  seqToGPU.attentionDecodeTma = options.attentionDecodeTma;
  seqToGPU.selectiveScanTimeSplit = options.selectiveScanTimeSplit;
  seqToGPU.selectiveScanBCSteps = options.selectiveScanBCSteps;
  seqToGPU.selectiveScanStateLanes = options.selectiveScanStateLanes;
  seqToGPU.selectiveScanPipelined = options.selectiveScanPipelined;
  seqToGPU.selectiveScanPolyExp = options.selectiveScanPolyExp;
  seqToGPU.attentionDecodeVector = options.attentionDecodeVector;
  seqToGPU.attentionDecodeTranspose = options.attentionDecodeTranspose;
  seqToGPU.attentionSplitKeys = options.attentionSplitKeys;
  seqToGPU.attentionDecodeSimt = options.attentionDecodeSimt;
  pm.addPass(createConvertSeqToGPU(seqToGPU));
  pm.addPass(createConvertSeqToLinalg());
  pm.addPass(createSeqcCheckContract({"linalg"}));
  pm.addPass(createConvertElementwiseToLinalgPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  // Transposes that move only unit dimensions (a decode step's head
  // split) become reshapes: views, not copies.
  pm.addPass(createSeqcFoldUnitTransposes());
  // Decoding's GEMVs (M = 1) as split-K partials and a sum: M·N threads
  // alone leave most of the GPU idle. 256K threads of at least 16 products
  // each, for enough independent loads in flight to stream the weights
  // (65536 threads of at least 64 read them at ~630 GB/s in a Llama decode
  // step).
  if (options.matmulSplitK)
    pm.addPass(createSeqcSplitSmallMatmuls(
        SeqcSplitSmallMatmulsOptions{/*minThreads=*/262144, /*minChunk=*/16}));
  // Constant tensors would bufferize to host globals: splats become fills.
  pm.addPass(createSeqcGpuConstants());

  // Bufferize as on the CPU: strided read-only arguments, results written
  // into caller-provided (device) buffers.
  addBufferizationPasses(pm);
  pm.addPass(createCSEPass());
  pm.addPass(createCanonicalizerPass());

  // Every remaining loop nest runs on the device: linalg (copies included)
  // to parallel loops, tiled into blocks of threads, mapped, launched.
  pm.addPass(createSeqcCopiesToLinalg());
  pm.addPass(createConvertLinalgToParallelLoopsPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createSeqcGpuMapLoops());
  // The tiled (innermost) dimension becomes threadIdx.x: up to 1024 wide,
  // where y and z stop at 1024 and 64.
  GpuMapParallelLoopsPassOptions mapping;
  mapping.mappingPolicyStr = "innermost-first";
  pm.addNestedPass<func::FuncOp>(createGpuMapParallelLoopsPass(mapping));
  pm.addPass(createConvertParallelLoopToGpuPass());
  // Scalars of input tensors (a decode step's position) are read by the
  // kernels that use them, not by the host.
  pm.addPass(createSeqcGpuSinkScalarLoads());
  pm.addPass(createSeqcGpuHostBuffers());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createSeqcCheckContract({"gpu-host"}));

  // Kernels into gpu.module functions; their transcendental math into
  // polynomials and the rest into LLVM intrinsics (no libdevice needed),
  // then upstream's NVVM lowering and serialization (PTX, cubin or fatbin).
  // Constants (which canonicalization hoists out of the launches) go back
  // into the kernels first: otherwise each becomes a kernel parameter, and
  // divisions by tile sizes become 64-bit divisions at run time.
  pm.addPass(createGpuLaunchSinkIndexComputationsPass());
  // nvgpu ops (TMA descriptors made on the host, tensor-map kernel
  // arguments, mbarriers, cp.async, ldmatrix) to NVVM before outlining, as
  // upstream's NVVM pipeline does: kernel arguments of nvgpu types become
  // pointers.
  pm.addPass(createConvertNVGPUToNVVMPass());
  pm.addPass(createSeqcGpuNameKernels());
  pm.addPass(createGpuKernelOutliningPass());
  pm.addNestedPass<gpu::GPUModuleOp>(createSeqcGpuKernelBounds());
  pm.addNestedPass<gpu::GPUModuleOp>(createSeqcGpuDynamicShared());
  pm.addNestedPass<gpu::GPUModuleOp>(createSeqcMathApproximations());
  pm.addNestedPass<gpu::GPUModuleOp>(createSeqcGpuMathIntrinsics());
  gpu::GPUToNVVMPipelineOptions nvvm;
  nvvm.cubinChip = options.chip;
  nvvm.cubinFeatures = options.features;
  nvvm.cubinFormat = options.format;
  nvvm.optLevel = options.optLevel;
  gpu::buildLowerToNVVMPassPipeline(pm, nvvm);
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  // Host buffers are device memory: malloc/free become the runtime's
  // stream-ordered device allocation.
  pm.addPass(createSeqcGpuHostAllocator());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createSeqcCheckContract({"llvm"}));
}
