//===- CudaRuntime.h - seqc's CUDA runtime (the mgpu* ABI) -------*- C -*-===//
//
// Part of seqc. The functions MLIR's `gpu-to-llvm` lowering and `gpu.binary`
// translation call (`mgpuModuleLoad`, `mgpuLaunchKernel`, `mgpuMemAlloc`, ...),
// implemented on the CUDA driver API opened with dlopen("libcuda.so.1"), so
// that a library using them loads on a machine without a GPU.
//
// Nothing here aborts or prints. The first failure on a thread is recorded
// (with the driver's message and the call that failed); later calls on that
// thread do nothing until the caller takes the error with
// seqcCudaTakeError(). Compiled host code cannot check return values, so the
// compiler's invoke() takes the error after every call.
//
// Streams: every launch, copy, allocation and free is ordered on the
// thread's current stream (seqcCudaSetStream; the legacy default stream
// unless set), which is what the generated code's mgpuStreamCreate returns.
// The generated per-launch synchronizations are no-ops: work stays ordered
// on the stream, and seqcCudaSynchronize waits for it.
//
// Plain C ABI, no dependency beyond libc/libdl: the same object is linked
// into libseqc and into every ahead-of-time CUDA library.
//
//===----------------------------------------------------------------------===//

#ifndef SEQC_LIB_RUNTIME_CUDARUNTIME_H
#define SEQC_LIB_RUNTIME_CUDARUNTIME_H

#include <stddef.h>
#include <stdint.h>

/// Kernels whose names end in this may start while the kernel before them
/// on the stream is still running (programmatic dependent launch, sm_90):
/// each one waits (griddepcontrol.wait) before it reads anything the
/// kernels before it wrote. mgpuLaunchKernel launches them so.
#define SEQC_DEPENDENT_KERNEL_SUFFIX "_dependent"

#ifdef __cplusplus
extern "C" {
#endif

/// Whether a CUDA driver and a device answer (loads the driver on first
/// use). On failure, `why` (if not null) receives the reason.
int seqcCudaAvailable(const char **why);

/// The first error recorded on this thread since the last take, or null;
/// clears it. The string stays valid until the next call on this thread.
const char *seqcCudaTakeError(void);

/// Records an error on this thread (the first one wins).
void seqcCudaSetError(const char *message);

/// The stream (a CUstream) work of this thread is ordered on.
void seqcCudaSetStream(void *stream);
void *seqcCudaGetStream(void);

/// Waits for the work on this thread's stream; records an error on failure.
int seqcCudaSynchronize(void);

/// Device memory for the compiler's staging of host arrays. Return null (and
/// record an error) on failure.
void *seqcCudaAlloc(size_t bytes);
void seqcCudaFree(void *ptr);
/// kind: 0 host-to-device, 1 device-to-host, 2 device-to-device. Ordered
/// on the thread's stream and synchronous with respect to the host.
int seqcCudaCopy(void *dst, const void *src, size_t bytes, int kind);

/// Whether `ptr` is device memory (or managed memory) of the current
/// context.
int seqcCudaIsDevicePointer(const void *ptr);

/// Device 0's multiprocessor count (compiled host code sizes persistent
/// launches by it). On failure, records an error and returns 1.
int32_t seqcCudaMultiprocessorCount(void);

/// "NVIDIA H100 80GB HBM3 (sm_90)" for device 0.
const char *seqcCudaDeviceName(void);

#ifdef __cplusplus
} // extern "C"
#endif

#endif // SEQC_LIB_RUNTIME_CUDARUNTIME_H
