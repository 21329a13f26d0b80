//===- Passes.td - seqc project-wide passes ----------------*- tablegen -*-===//
//
// Part of seqc.
//
//===----------------------------------------------------------------------===//

#ifndef SEQC_TRANSFORMS_PASSES
#define SEQC_TRANSFORMS_PASSES

include "mlir/Pass/PassBase.td"

def SeqcCheckContract : Pass<"seqc-check-contract", "ModuleOp"> {
  let summary = "Fail loudly if IR left for a backend has ops it cannot take";
  let description = [{
    The last pass of every seqc pipeline stage. With `stage=linalg` (after
    `convert-seq-to-linalg`) no `seq` op may survive; with `stage=llvm` (the
    end of a CPU pipeline) only the `llvm` dialect, the `omp` dialect (which
    LLVM IR translation turns into OpenMP runtime calls) and the builtin
    module may remain. Each offending op gets an error at its location, and the pass
    fails, so a pipeline never hands a backend IR it would mistranslate.
    With `stage=gpu-host` (the CUDA pipeline, once loops are kernels) host
    functions may not load, store, copy or compute on memrefs outside a
    `gpu.launch`: their buffers live on the device. At the `llvm` stage a
    GPU module's `gpu.binary` (the embedded kernels) may remain too.

    ```mlir
    // seqc-opt --seqc-check-contract=stage=linalg
    %o = seq.rms_norm %x, %w : ...   // error: 'seq.rms_norm' op survived lowering ...
    ```
  }];
  let options = [
    Option<"stage", "stage", "std::string", "\"linalg\"",
           "Which contract: `linalg` (no seq ops), `gpu-host` (host code of "
           "a GPU module touches no memory) or `llvm` (only llvm ops, and "
           "gpu.binary)">,
  ];
}

def SeqRaiseAttention : Pass<"seq-raise-attention"> {
  let summary = "Raise unfused attention (matmul, scale, mask, softmax, "
                "matmul) to seq.attention";
  let description = [{
    Frontends write attention as `Q·Kᵀ -> scale -> mask -> softmax -> ·V`.
    Anchored on each `linalg.softmax` over the key dimension, this pass walks
    back through the score chain and forward to the `P·V` matmul and, when it
    can prove the chain equivalent, replaces it by one `seq.attention` (whose
    lowerings never build the `Sq x Skv` scores).

    Accepted: `linalg.batch_matmul` on `[B·H, S, D]` operands (K transposed
    by `linalg.transpose [0, 2, 1]`, or a batch_matmul whose indexing maps
    read `K[b, j, d]`), both zero-initialized; scales (`arith.mulf`/`divf`
    by splat constants, or elementwise `linalg.generic` multiplying by a
    constant); one mask, additive (0 and -inf, or finite values <= -1e30 as
    Hugging Face's `finfo.min`) or a `select` of the scores and -inf, given
    as a constant or generated from indices (`tensor.generate`, or an
    input-less `linalg.generic` reading `linalg.index`) of shape `[Sq, Skv]`
    broadcast over the batch; head reshapes (`tensor.collapse_shape` of
    `[B, H, S, D]`) and GQA broadcasts (`linalg.broadcast` of `[B, Hkv, S,
    D]` over a group dimension, collapsed) on Q, K and V.

    The mask is evaluated at every (query, key) and must be exactly a causal
    and/or sliding-window band (bottom-right aligned) with no fully masked
    row. Everything else stays as it is; with `explain`, each softmax that
    was not raised gets a remark saying why (also under `-debug` in builds
    with assertions).

    ```mlir
    %kt = linalg.transpose ins(%k : tensor<8x64x32xf32>) outs(%e : tensor<8x32x64xf32>) permutation = [0, 2, 1]
    %s = linalg.batch_matmul ins(%q, %kt : ...) outs(%zero : tensor<8x64x64xf32>) -> tensor<8x64x64xf32>
    %ss = arith.mulf %s, %scale : tensor<8x64x64xf32>
    %sm = arith.addf %ss, %causal_mask : tensor<8x64x64xf32>
    %p = linalg.softmax dimension(2) ins(%sm : tensor<8x64x64xf32>) outs(%e2 : tensor<8x64x64xf32>) -> tensor<8x64x64xf32>
    %o = linalg.batch_matmul ins(%p, %v : ...) outs(%zero2 : tensor<8x64x32xf32>) -> tensor<8x64x32xf32>
    // becomes
    %o4 = seq.attention %q4, %k4, %v4 {causal, scale = 0.176 : f32} : ...
    %o = tensor.collapse_shape %o4 [[0, 1], [2], [3]] : tensor<1x8x64x32xf32> into tensor<8x64x32xf32>
    ```
  }];
  let options = [
    Option<"explain", "explain", "bool", "false",
           "Remark at each linalg.softmax that was not raised, saying why">,
  ];
  let dependentDialects = ["::mlir::seqc::seq::SeqDialect",
                           "::mlir::tensor::TensorDialect"];
}

def SeqRaiseScans : Pass<"seq-raise-scans"> {
  let summary = "Raise linear-recurrence scans to seq.linear_recurrence";
  let description = [{
    A `seq.scan` of two tensors whose combiner is the composition of affine
    maps, `(a1, b1), (a2, b2) -> (a1·a2, a2·b1 + b2)` (in any operand order,
    or with `math.fma(a2, b1, b2)`), is the linear recurrence
    `h_t = a_t·h_{t-1} + b_t`: it becomes `seq.linear_recurrence` (plus a
    multiplicative scan of the decays, only when their running product is
    used). Exclusive scans and other combiners stay; with `explain`, each
    scan that was not raised gets a remark saying why.

    ```mlir
    %pa, %h, %ca, %ch = seq.scan ins(%a, %b : ...) {dim = 1 : i64} -> ... {
    ^bb0(%a1: f32, %b1: f32, %a2: f32, %b2: f32):
      %m = arith.mulf %a1, %a2 : f32
      %t = arith.mulf %a2, %b1 : f32
      %n = arith.addf %t, %b2 : f32
      seq.yield %m, %n : f32, f32
    }
    // becomes (the decay products %pa, %ca unused)
    %h, %last = seq.linear_recurrence %a, %b {dim = 1 : i64} : ...
    ```
  }];
  let options = [
    Option<"explain", "explain", "bool", "false",
           "Remark at each seq.scan that was not raised, saying why">,
  ];
  let dependentDialects = ["::mlir::seqc::seq::SeqDialect",
                           "::mlir::arith::ArithDialect"];
}

def SeqcDecomposeAggregates : Pass<"seqc-decompose-aggregates"> {
  let summary = "Decompose aggregated linalg ops (linalg.softmax) into "
                "generics";
  let description = [{
    What seq-raise-attention leaves (a softmax it could not prove part of
    an attention) still has to compile: each op with linalg's
    `AggregatedOpInterface` becomes its decomposition (for `linalg.softmax`:
    max, subtract, exp, sum, divide as `linalg.generic`s), which the
    pipelines lower like any other linalg code.
  }];
}

def SeqcCopiesToLinalg : Pass<"seqc-copies-to-linalg"> {
  let summary = "Rewrite memref.copy as linalg.copy so that copies become loops";
  let description = [{
    `finalize-memref-to-llvm` lowers a `memref.copy` between buffers of
    non-identity layout into a call to the `memrefCopy` runtime function, a
    dependency neither the JIT nor an ahead-of-time `.so` should have.
    Bufferization and out-parameters produce exactly such copies (every
    public argument has a fully dynamic layout), so they are turned into
    `linalg.copy`, which later passes lower to loops like any other linalg op.

    ```mlir
    memref.copy %a, %b : memref<4xf32, strided<[?], offset: ?>> to memref<4xf32>
    // becomes
    linalg.copy ins(%a : memref<4xf32, strided<[?], offset: ?>>) outs(%b : memref<4xf32>)
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def SeqcReadonlyArguments : Pass<"seqc-readonly-arguments", "ModuleOp"> {
  let summary = "Mark the tensor arguments of public functions read-only for bufferization";
  let description = [{
    Callers own the buffers they pass in: a compiled function must never
    write its inputs. One-Shot Bufferize may otherwise update an argument in
    place (a recurrence whose state starts from `h0`, say). This pass sets
    `bufferization.writable = false` on every tensor argument of every public
    function, so that such updates work on a copy.

    ```mlir
    func.func @f(%h0: tensor<4xf32>) -> ...
    // becomes
    func.func @f(%h0: tensor<4xf32> {bufferization.writable = false}) -> ...
    ```
  }];
  let dependentDialects = ["::mlir::bufferization::BufferizationDialect"];
}

def SeqcInPlaceResults : Pass<"seqc-in-place-results", "ModuleOp"> {
  let summary = "Write `seq.in_place` results into their arguments' buffers";
  let description = [{
    Runs after One-Shot Bufferize at function boundaries. A public function's
    result marked `{seq.in_place = k}` is the new value of argument `k` (a
    KV cache, a recurrent state), whose buffer `seqc-readonly-arguments` left
    writable. The result is removed from the function: where bufferization
    updated the argument's buffer in place, the returned buffer is that
    argument (through casts) and nothing else is needed; otherwise the
    returned buffer is copied into the argument before returning. A function
    that also returns the argument's buffer (or a view of it) as another
    result is an error, since the copy would change that result.

    ```mlir
    func.func @step(%c: memref<8xf32, strided<[?], offset: ?>>)
        -> (memref<8xf32, strided<[?], offset: ?>> {seq.in_place = 0 : i64}) {
      ... writes %c ...
      return %c : memref<8xf32, strided<[?], offset: ?>>
    }
    // becomes
    func.func @step(%c: memref<8xf32, strided<[?], offset: ?>>) {
      ... writes %c ...
      return
    }
    ```
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def SeqcBoundaryLayouts : Pass<"seqc-boundary-layouts", "ModuleOp"> {
  let summary = "Fix the buffer layouts at the boundary of public functions";
  let description = [{
    Runs after One-Shot Bufferize with fully dynamic layouts at function
    boundaries, and settles the calling convention of compiled functions:

    - Arguments take any offset and outer strides but a unit innermost
      stride, `strided<[?, ..., ?, 1], offset: ?>`: rows are contiguous, so
      loads along the last dimension vectorize. (The runtime copies the rare
      input whose last dimension is strided.)
    - A result returned as a cast of a freshly allocated, contiguous buffer
      gets that buffer's identity layout, so that
      `buffer-results-to-out-params` makes the caller's output buffer the
      allocation itself: results are written in place, never copied at the
      end. Other results are copied into a new contiguous buffer. Callers
      pass contiguous (row-major) output buffers.

    ```mlir
    func.func @f(%a: memref<4x8xf32, strided<[?, ?], offset: ?>>) -> memref<4xf32, strided<[?], offset: ?>> {
      ...
      %cast = memref.cast %alloc : memref<4xf32> to memref<4xf32, strided<[?], offset: ?>>
      return %cast : memref<4xf32, strided<[?], offset: ?>>
    // becomes
    func.func @f(%a: memref<4x8xf32, strided<[?, 1], offset: ?>>) -> memref<4xf32> {
      %0 = memref.cast %a : memref<4x8xf32, strided<[?, 1], offset: ?>> to memref<4x8xf32, strided<[?, ?], offset: ?>>
      ...
      return %alloc : memref<4xf32>
    ```
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def SeqcMathApproximations : Pass<"seqc-math-approximations"> {
  let summary = "Replace transcendental math ops by polynomial approximations";
  let description = [{
    `math.exp`, `math.log`, `math.log1p`, `math.tanh` and friends otherwise
    become calls into libm, one element at a time, which keeps the loops
    around them (softmax's exponentials, softcap's tanh, softplus) from
    vectorizing. Upstream's polynomial approximations are plain arithmetic
    that LLVM vectorizes; their error (a few ulp in f32) is far inside seqc's
    bounds.

    ```mlir
    %e = math.exp %x : f32
    // becomes a range reduction, a polynomial and an exponent reconstruction
    // in arith/math.fma ops
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect"];
}

def SeqcFoldUnitTransposes : Pass<"seqc-fold-unit-transposes", "ModuleOp"> {
  let summary = "Transposes that only move unit dimensions become reshapes";
  let description = [{
    A `linalg.transpose` on tensors whose permutation keeps the order of the
    dimensions larger than 1 moves no data: at one token, the head split
    `[B, 1, H, D] -> [B, H, 1, D]` of a decode step is such a transpose.
    This pass replaces it with a `tensor.collapse_shape` to those
    dimensions and a `tensor.expand_shape` to the result's shape (views
    after bufferization), instead of a copy (a kernel launch on the GPU).

    ```mlir
    %t = linalg.transpose ins(%x : tensor<1x1x16x128xf32>) outs(%e : tensor<1x16x1x128xf32>) permutation = [0, 2, 1, 3]
    // becomes
    %c = tensor.collapse_shape %x [[0, 1, 2], [3]] : tensor<1x1x16x128xf32> into tensor<16x128xf32>
    %t = tensor.expand_shape %c [[0, 1], [2, 3]] output_shape [1, 16, 1, 128] : tensor<16x128xf32> into tensor<1x16x1x128xf32>
    ```
  }];
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
}

def SeqcHostAllocChecks : Pass<"seqc-host-alloc-checks", "ModuleOp"> {
  let summary = "Allocations of CPU code that fail return an error instead of crashing";
  let description = [{
    Runs on the LLVM dialect of a CPU module. Each `malloc` and
    `aligned_alloc` call becomes a call of seqc's allocation hook
    (`seqcHostAlloc`, `seqcHostAlignedAlloc`, lib/Runtime/HostRuntime.c),
    which records a failure for the calling thread; when the pointer is
    null the function returns at once. After each call of a function
    defined in the module, the function returns too when
    `seqcHostAllocFailed()` says an allocation failed below it. The runtime
    then reports the failure as the call's error: "out of memory", with the
    size, instead of a store through a null pointer.

    Allocations inside OpenMP regions (which cannot return) are not
    checked; seqc's lowerings allocate outside them.

    ```mlir
    %p = llvm.call @malloc(%n) : (i64) -> !llvm.ptr
    // becomes
    %p = llvm.call @seqcHostAlloc(%n) : (i64) -> !llvm.ptr
    %null = llvm.icmp "eq" %p, %zero : !llvm.ptr
    llvm.cond_br %null, ^failed, ^next
    ...
    ^failed:
      llvm.return
    ```
  }];
}

def SeqcGpuNameKernels : Pass<"seqc-gpu-name-kernels", "ModuleOp"> {
  let summary = "Name each kernel after its function and what it does";
  let description = [{
    Kernel outlining names every kernel of a function `<function>_kernel`,
    so a profile of a decode step lists hundreds of launches of one name.
    This pass, before outlining, names each `gpu.launch` that has no name
    yet (the seq lowerings name theirs after the op: `decode_attention`)
    after its function and its shape of work: `<function>_map` for an
    elementwise kernel, `<function>_reduce` for one whose threads loop (a
    reduction, a matmul's K loop) and `<function>_serial` for a one-thread
    kernel. Outlining keeps the names, adding `_0`, `_1`, ... to repeats.

    Outlining drops a launch's other attributes, so a launch's
    `seqc.min_blocks_per_sm` moves to the first op of its body, which
    outlining copies; seqc-gpu-kernel-bounds then puts it on the kernel.
  }];
}

def SeqcGpuDynamicShared
    : Pass<"seqc-gpu-dynamic-shared", "gpu::GPUModuleOp"> {
  let summary = "A kernel module's dynamic shared memory as an extern symbol";
  let description = [{
    Upstream's NVVM lowering gives `gpu.dynamic_shared_memory` an internal
    zero-size global, which the NVPTX backend turns into a one-byte static
    shared variable of the kernel (`// demoted variable`): ptxas lays it out
    among the kernel's other statics (mbarriers), and the driver's dynamic
    bytes begin after all of them, so the symbol's address is not where
    the dynamic bytes are. A kernel with static shared memory besides then
    overlaps its statics or runs past its block's shared memory (the
    warpgroup-MMA attention did, as the second of two blocks on a
    multiprocessor). This pass, before the NVVM lowering, declares the
    symbol that lowering reuses as `external`, which the backend prints as
    `.extern .shared .align 16 .b8 ...[]`: the start of the dynamic bytes.

    ```mlir
    gpu.module @k {
      // added:
      llvm.mlir.global external @__seqc_dynamic_shared()
          {addr_space = 3 : i32, alignment = 16 : i64} : !llvm.array<0 x i8>
      gpu.func @k() kernel {
        %s = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
    ```
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def SeqcGpuKernelBounds : Pass<"seqc-gpu-kernel-bounds", "gpu::GPUModuleOp"> {
  let summary = "Occupancy bounds of outlined kernels (nvvm.minctasm)";
  let description = [{
    After kernel outlining: a `seqc.min_blocks_per_sm` left on an op of a
    kernel (by seqc-gpu-name-kernels, from the lowering's `gpu.launch`)
    becomes the kernel's `nvvm.minctasm`, so that ptxas caps its registers
    at what that many blocks of the kernel's threads leave each (a kernel
    with `setmaxnreg` counts on that cap). Two different bounds in one
    kernel are an error.

    ```mlir
    gpu.func @k() kernel attributes {known_block_size = array<i32: 384, 1, 1>} {
      %c = arith.constant {seqc.min_blocks_per_sm = 2 : i32} 0 : index
    // becomes
    gpu.func @k() kernel attributes {known_block_size = ..., nvvm.minctasm = 2 : i32} {
      %c = arith.constant 0 : index
    ```
  }];
}

def SeqcGpuSinkScalarLoads : Pass<"seqc-gpu-sink-scalar-loads", "ModuleOp"> {
  let summary = "Read scalars of device tensors inside the kernels that use them";
  let description = [{
    Host code of a `cuda` module holds device pointers only, so a scalar read
    from an input tensor (`tensor.extract %pos[]`: a decode step's position)
    cannot run on the host. Where such a load, and the index arithmetic and
    views computed from it (the offset of the KV-cache row a step writes),
    are used only to feed `gpu.launch` ops, this pass clones the chain into
    each launch, so that every thread reads the scalar itself. It sinks loads
    from the function's arguments that nothing in the function writes (the
    arguments a `seq.in_place` result updates are not read this way, since a
    kernel between the load and the launch could change them); any other
    host load remains, and `seqc-check-contract` reports it.

    First, a store left on the host (a loop nest of one iteration that
    canonicalization folded away, a 0-d linalg op: `kv_lengths = pos + 1`
    at batch 1) becomes a one-thread `gpu.launch` with the loads and scalar
    arithmetic it depends on, when nothing between those loads and the
    store writes memory.

    ```mlir
    %p = memref.load %pos[] : memref<i32, ...>
    %i = arith.index_cast %p : i32 to index
    %row = memref.subview %cache[0, %i, 0] [2, 1, 4] [1, 1, 1] : ...
    gpu.launch ... { ... memref.store %v, %row[...] ... }
    // becomes
    gpu.launch ... {
      %p = memref.load %pos[] : memref<i32, ...>
      %i = arith.index_cast %p : i32 to index
      %row = memref.subview %cache[0, %i, 0] [2, 1, 4] [1, 1, 1] : ...
      ... memref.store %v, %row[...] ...
    }
    ```
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::memref::MemRefDialect"];
}

def SeqcSplitSmallMatmuls : Pass<"seqc-split-small-matmuls", "ModuleOp"> {
  let summary = "Split the reduction of matmuls with too few outputs (decoding's GEMVs)";
  let description = [{
    A GPU kernel with a thread per output of `linalg.matmul` has M·N
    threads, each summing K products: at M = 1 (a decode step's
    projections) that is too few threads to keep memory busy. This pass
    rewrites a static-shape float matmul whose M·N is below `min-threads`
    into a split-K form: partials over S chunks of K (the smallest power of
    two S with M·N·S >= min-threads and chunks of at least `min-chunk`),
    iterated
    with N innermost of the parallel dimensions so that neighbouring
    threads read neighbouring columns, then a sum over S added to the
    matmul's init.

    ```mlir
    %r = linalg.matmul ins(%x, %w : tensor<1x2048xf32>, tensor<2048x5632xf32>) outs(%c : tensor<1x5632xf32>)
    // becomes (min-threads = 65536: S = 16, chunks of 128)
    %p = linalg.generic (s, m, n, kk) { A[m, 128s + kk] * B[128s + kk, n] } -> tensor<16x1x5632xf32>
    %r = linalg.generic (m, n, s) { C[m, n] + sum_s P[s, m, n] } -> tensor<1x5632xf32>
    ```
  }];
  let options = [
    Option<"minThreads", "min-threads", "int64_t", "65536",
           "Split while M*N*S is below this">,
    Option<"minChunk", "min-chunk", "int64_t", "64",
           "The fewest K elements per chunk">,
  ];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect"];
}

def SeqcGpuHostBuffers : Pass<"seqc-gpu-host-buffers", "ModuleOp"> {
  let summary = "Free the host code's intermediate (device) buffers";
  let description = [{
    In the CUDA pipeline every buffer host code handles is device memory: the
    caller passes device pointers, and the pipeline lowers the host's
    `memref.alloc`/`memref.dealloc` to `_mlir_memref_to_llvm_alloc`/`_free`,
    which seqc's CUDA runtime implements with stream-ordered device
    allocation. After bufferization (and out-parameters), this pass frees
    each allocation that does not leave its block (is not returned or
    yielded) at the end of that block. The runtime orders allocation,
    kernels and frees on one stream, so freeing after the last launch is
    safe.

    ```mlir
    %t = memref.alloc() : memref<4x8xf32>       // an intermediate
    gpu.launch ... uses %t ...
    return
    // becomes
    %t = memref.alloc() : memref<4x8xf32>
    gpu.launch ...
    memref.dealloc %t : memref<4x8xf32>
    return
    ```
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def SeqcGpuHostAllocator : Pass<"seqc-gpu-host-allocator", "ModuleOp"> {
  let summary = "Make the host code's malloc/free device allocations";
  let description = [{
    The last step of the CUDA pipeline's host code: every buffer host code
    allocates is device memory (kernels read and write it; host code never
    touches it, which `seqc-check-contract{stage=gpu-host}` enforces), so the
    `malloc`, `aligned_alloc` and `free` calls that memref lowering left in
    host functions are redirected to `seqcDeviceMalloc`, `seqcDeviceAlignedAlloc`
    and `seqcDeviceFree`, which seqc's CUDA runtime implements on the
    stream-ordered allocator. Calls inside `gpu.module`s are left alone.

    ```mlir
    %p = llvm.call @malloc(%size) : (i64) -> !llvm.ptr
    // becomes
    %p = llvm.call @seqcDeviceMalloc(%size) : (i64) -> !llvm.ptr
    ```
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def SeqcGpuMathIntrinsics : Pass<"seqc-gpu-math-intrinsics"> {
  let summary = "Lower the math left in kernels to LLVM intrinsics, not libdevice calls";
  let description = [{
    `convert-gpu-to-nvvm` turns `math.fma`, `math.sqrt`, `math.absf` and
    `math.floor` (what seqc's kernels and the polynomial approximations of
    exp/log/tanh/sin/cos use) into calls to libdevice's `__nv_*` functions,
    which only link when the CUDA toolkit is found at compile time. Run on
    a `gpu.module` before it, this pass emits the LLVM intrinsics
    (`llvm.fma.f32`, `llvm.sqrt.f32`, ...) instead, which the NVPTX backend
    turns into single instructions (`fma.rn`, `sqrt.rn`, `abs`, `cvt.rmi`);
    so seqc's GPU code needs no libdevice anywhere. It also expands the
    arith ceil/floor divisions (which have no LLVM instruction), and only
    those: upstream's `arith-expand` would also turn `arith.maxnumf` into
    two compares and two selects where NVPTX has one `max.f32`.

    ```mlir
    %y = math.sqrt %x : f32
    // becomes
    %y = llvm.call_intrinsic "llvm.sqrt.f32"(%x) : (f32) -> f32
    ```
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def SeqcGpuConstants : Pass<"seqc-gpu-constants", "ModuleOp"> {
  let summary = "Make tensor constants device values: splats become fills";
  let description = [{
    Bufferization turns a constant tensor into a `memref.global` in host
    memory, which kernels cannot read. In the CUDA pipeline, before
    bufferization, each splat constant tensor (`dense<1.0> : tensor<3x20xf32>`,
    what frontends emit for ones and zeros) becomes a `linalg.fill` of a
    `tensor.empty`, computed on the device like any other op. Other constant
    tensors are reported at their location: copying them to the device is
    not supported yet.

    ```mlir
    %one = arith.constant dense<1.0> : tensor<3x20xf32>
    // becomes
    %e = tensor.empty() : tensor<3x20xf32>
    %c = arith.constant 1.0 : f32
    %one = linalg.fill ins(%c : f32) outs(%e : tensor<3x20xf32>) -> tensor<3x20xf32>
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def SeqcGpuMapLoops : Pass<"seqc-gpu-map-loops", "ModuleOp"> {
  let summary = "Tile host scf.parallel loops into blocks x threads";
  let description = [{
    Linalg code the CUDA pipeline has no kernel for (a recurrence's body, a
    model's own linalg ops, copies) becomes `scf.parallel` loops on the host.
    Each outermost one is tiled so that its innermost dimension runs
    `threads` wide (256 by default; the others one per tile); then
    `gpu-map-parallel-loops` maps tiles to blocks and elements to threads, and
    `convert-parallel-loops-to-gpu` makes each a `gpu.launch`.

    ```mlir
    scf.parallel (%i) = (%c0) to (%c1000) step (%c1) { ... }
    // becomes scf.parallel over 4 tiles (blocks) of an scf.parallel over
    // 256 elements (threads), guarded for the last, partial tile.
    ```
  }];
  let options = [
    Option<"threads", "threads", "int64_t", "256",
           "Threads per block along the innermost loop">,
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect", "::mlir::scf::SCFDialect"];
}

#endif // SEQC_TRANSFORMS_PASSES
