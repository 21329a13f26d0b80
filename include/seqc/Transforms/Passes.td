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

    ```mlir
    // seqc-opt --seqc-check-contract=stage=linalg
    %o = seq.rms_norm %x, %w : ...   // error: 'seq.rms_norm' op survived lowering ...
    ```
  }];
  let options = [
    Option<"stage", "stage", "std::string", "\"linalg\"",
           "Which contract: `linalg` (no seq ops) or `llvm` (only llvm ops)">,
  ];
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

#endif // SEQC_TRANSFORMS_PASSES
