/*===-- seqc-c/Seqc.h - seqc C API -------------------------------*- C -*-===*\
|*                                                                            *|
|* Part of seqc. The C interface to the compiler and runtime: compile MLIR    *|
|* text (with `seq` ops) for a target, or load an ahead-of-time compiled      *|
|* `.so`, then look up and invoke its functions on strided buffers.           *|
|*                                                                            *|
|* Every call returns a seqc_status; on SEQC_ERROR, seqc_last_error() holds   *|
|* the message (per thread) until the next failing call on that thread.       *|
|* Nothing here aborts the process.                                           *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef SEQC_C_SEQC_H
#define SEQC_C_SEQC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define SEQC_CAPI_EXPORTED __declspec(dllexport)
#else
#define SEQC_CAPI_EXPORTED __attribute__((visibility("default")))
#endif

typedef enum seqc_status {
  SEQC_OK = 0,
  SEQC_ERROR = 1,
} seqc_status;

/// Element types of buffers (and of function arguments).
typedef enum seqc_dtype {
  SEQC_F32 = 0,
  SEQC_F64 = 1,
  SEQC_F16 = 2,
  SEQC_BF16 = 3,
  SEQC_I32 = 4,
  SEQC_I64 = 5,
  SEQC_I8 = 6,
  SEQC_I1 = 7,
} seqc_dtype;

/// A strided view of memory: element (i0, ..., in) lives at
/// data + sum(ik * strides[k]) elements. Strides are in elements, may be any
/// non-negative value (non-contiguous and offset views are fine).
typedef struct seqc_buffer {
  void *data;
  seqc_dtype dtype;
  int64_t rank;
  const int64_t *shape;
  const int64_t *strides;
  /// Where `data` lives: SEQC_HOST (0, the default of a zeroed struct) or
  /// SEQC_CUDA (device memory of CUDA device 0). Modules compiled for
  /// target=cuda take either (host buffers are copied to the device and
  /// back); target=cpu modules take host memory only. SEQC_CUDA_CHECKED is
  /// SEQC_CUDA from a caller that has itself made sure that `data` is
  /// device memory (a binding that took it from a CUDA tensor): the call
  /// then skips its own check, a driver query per buffer.
  int32_t device;
} seqc_buffer;

enum { SEQC_HOST = 0, SEQC_CUDA = 1, SEQC_CUDA_CHECKED = 2 };

/// A compiled module: its functions, ready to invoke.
typedef struct seqc_module_impl *seqc_module;

/// The last error message on this thread ("" if none).
SEQC_CAPI_EXPORTED const char *seqc_last_error(void);

/// Size in bytes of one element of `dtype` (0 for an unknown value).
SEQC_CAPI_EXPORTED size_t seqc_dtype_size(seqc_dtype dtype);

/// Compiles MLIR `source` (`length` bytes) into a module. `options` is a
/// space-separated list of `key=value`, may be NULL: `target=cpu|cuda`,
/// `chip=sm_90a` (cuda), `gpu-format=auto|isa|bin|fatbin` (cuda),
/// `attention-tile-q=N`, `attention-tile-kv=N`. Compiled modules are cached
/// by source and options. A cuda module loads its kernels when compiled:
/// without a GPU that is an error saying so.
SEQC_CAPI_EXPORTED seqc_status seqc_compile(const char *source, size_t length,
                                            const char *options,
                                            seqc_module *out);

/// Loads a module compiled ahead of time (`seqc model.mlir -o model.so`).
SEQC_CAPI_EXPORTED seqc_status seqc_load(const char *path, seqc_module *out);

/// "cpu" or "cuda": what the module's functions run on.
SEQC_CAPI_EXPORTED const char *seqc_module_target(seqc_module module);

/// 1 when a CUDA driver and GPU answer; else 0, with the reason in *why
/// (when not NULL; valid for the process).
SEQC_CAPI_EXPORTED int seqc_cuda_available(const char **why);

/// Device 0's name and architecture ("" without a GPU).
SEQC_CAPI_EXPORTED const char *seqc_cuda_device_name(void);

/// Orders this thread's CUDA work (JIT-compiled cuda modules' kernels and
/// staging copies) on `stream`, a CUstream (NULL: the legacy default
/// stream). Modules loaded from a `.so` have their own runtime copy and
/// export `seqcCudaSetStream` for the same purpose.
SEQC_CAPI_EXPORTED void seqc_cuda_set_stream(void *stream);

/// Releases a module (NULL is ignored).
SEQC_CAPI_EXPORTED void seqc_module_destroy(seqc_module module);

/// The module's public functions.
SEQC_CAPI_EXPORTED int64_t seqc_num_functions(seqc_module module);
SEQC_CAPI_EXPORTED const char *seqc_function_name(seqc_module module,
                                                  int64_t index);

/// A function's inputs and results (results are written by seqc_invoke into
/// caller-provided buffers).
SEQC_CAPI_EXPORTED seqc_status seqc_function_arity(seqc_module module,
                                                   const char *name,
                                                   int64_t *num_inputs,
                                                   int64_t *num_results);

/// Argument `index` of a function: inputs first, then results. `shape`
/// points into the module (valid while it lives); -1 marks a dynamic size.
SEQC_CAPI_EXPORTED seqc_status seqc_function_arg(seqc_module module,
                                                 const char *name,
                                                 int64_t index,
                                                 seqc_dtype *dtype,
                                                 int64_t *rank,
                                                 const int64_t **shape);

/// Result `result` of a function is written in place into input `*input`
/// (the MLIR result attribute `seq.in_place`: a KV cache or a recurrent
/// state updated by a decode step), or `*input` is -1. seqc_invoke then
/// takes that input's buffer for the result too, and updates it.
SEQC_CAPI_EXPORTED seqc_status seqc_function_in_place(seqc_module module,
                                                      const char *name,
                                                      int64_t result,
                                                      int64_t *input);

/// Runs function `name` on `args`: its inputs, then one buffer per result
/// (written in place). Shapes and dtypes are checked against the signature;
/// a mismatch is an error naming the argument. A `cuda` module's call on
/// device buffers alone is asynchronous on the thread's stream, like a CUDA
/// launch: it returns once the kernels are queued (launch errors are its
/// status; a fault while they run surfaces at the next synchronization).
/// With host buffers, or SEQC_CUDA_SYNC=1 or CUDA_LAUNCH_BLOCKING=1 in the
/// environment, it returns after its kernels have finished.
SEQC_CAPI_EXPORTED seqc_status seqc_invoke(seqc_module module,
                                           const char *name,
                                           const seqc_buffer *args,
                                           int64_t num_args);

/*===------------------------------------------------------------------===*
 * Weights: .safetensors files (the format of PyTorch / Hugging Face
 * checkpoints), memory-mapped. Tensors are read-only host views, valid until
 * seqc_weights_close; pass them to seqc_invoke as inputs.
 *===------------------------------------------------------------------===*/

typedef struct seqc_weights_impl *seqc_weights;

/// Maps and validates `path` (header, offsets, sizes); errors name the file.
SEQC_CAPI_EXPORTED seqc_status seqc_weights_open(const char *path,
                                                 seqc_weights *out);
SEQC_CAPI_EXPORTED void seqc_weights_close(seqc_weights weights);

/// The tensors, by name in sorted order.
SEQC_CAPI_EXPORTED int64_t seqc_weights_count(seqc_weights weights);
SEQC_CAPI_EXPORTED const char *seqc_weights_name(seqc_weights weights,
                                                 int64_t index);

/// `__metadata__[key]`, or NULL.
SEQC_CAPI_EXPORTED const char *seqc_weights_metadata(seqc_weights weights,
                                                     const char *key);

/// Tensor `name` as a buffer, checked to be of `dtype` and `shape` (pass an
/// argument's from seqc_function_arg): a missing tensor (with the closest
/// names in the file) or a different dtype or shape is an error naming it.
SEQC_CAPI_EXPORTED seqc_status seqc_weights_get(seqc_weights weights,
                                                const char *name,
                                                seqc_dtype dtype, int64_t rank,
                                                const int64_t *shape,
                                                seqc_buffer *out);

#ifdef __cplusplus
}
#endif

#endif /* SEQC_C_SEQC_H */
