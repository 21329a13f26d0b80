//===- CudaRuntime.cpp - the mgpu* ABI on a dlopen'ed CUDA driver ---------===//
//
// Part of seqc. See CudaRuntime.h for the contract. The driver's types are
// declared here (opaque handles, int results) so that building needs no CUDA
// headers; the functions are looked up by name in libcuda.so.1 on first use.
//
//===----------------------------------------------------------------------===//

#include "CudaRuntime.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

namespace {

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st *;
using CUmodule = struct CUmod_st *;
using CUfunction = struct CUfunc_st *;
using CUstream = struct CUstream_st *;
using CUevent = struct CUevent_st *;

constexpr int kComputeCapabilityMajor = 75; // CU_DEVICE_ATTRIBUTE_...
constexpr int kComputeCapabilityMinor = 76;
constexpr int kMultiprocessorCount = 16;
constexpr int kMaxDynamicSharedBytes = 8;   // CU_FUNC_ATTRIBUTE_...
constexpr int kPointerMemoryType = 2;       // CU_POINTER_ATTRIBUTE_MEMORY_TYPE
constexpr int kMemoryTypeDevice = 2;        // CU_MEMORYTYPE_DEVICE
constexpr int kMemPoolReleaseThreshold = 4; // CU_MEMPOOL_ATTR_RELEASE_THRESHOLD
constexpr int kLaunchAttributeClusterDimension = 4;
// CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION
constexpr int kLaunchAttributeProgrammaticSerialization = 6;

// cuLaunchKernelEx's configuration (cuda.h's CUlaunchConfig/Attribute).
struct LaunchAttribute {
  int id;
  char pad[4];
  union {
    char bytes[64];
    struct {
      unsigned x, y, z;
    } clusterDim;
    int programmaticStreamSerializationAllowed;
  } value;
};
struct LaunchConfig {
  unsigned gridDimX, gridDimY, gridDimZ;
  unsigned blockDimX, blockDimY, blockDimZ;
  unsigned sharedMemBytes;
  CUstream hStream;
  LaunchAttribute *attrs;
  unsigned numAttrs;
};

/// The driver entry points seqc uses, resolved once.
struct Driver {
#define SEQC_CU_FUNCTIONS(X)                                                   \
  X(cuInit, (unsigned))                                            \
  X(cuGetErrorName, (CUresult, const char **))                     \
  X(cuGetErrorString, (CUresult, const char **))                   \
  X(cuDeviceGet, (CUdevice *, int))                                \
  X(cuDeviceGetCount, (int *))                                     \
  X(cuDeviceGetName, (char *, int, CUdevice))                      \
  X(cuDeviceGetAttribute, (int *, int, CUdevice))                  \
  X(cuDevicePrimaryCtxRetain, (CUcontext *, CUdevice))             \
  X(cuCtxSetCurrent, (CUcontext))                                  \
  X(cuModuleLoadData, (CUmodule *, const void *))                  \
  X(cuModuleUnload, (CUmodule))                                    \
  X(cuModuleGetFunction, (CUfunction *, CUmodule, const char *))   \
  X(cuFuncSetAttribute, (CUfunction, int, int))                    \
  X(cuLaunchKernel,                                                            \
    (CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, \
                 unsigned, unsigned, CUstream, void **, void **))              \
  X(cuLaunchKernelEx,                                                          \
    (const LaunchConfig *, CUfunction, void **, void **))          \
  X(cuStreamSynchronize, (CUstream))                               \
  X(cuStreamWaitEvent, (CUstream, CUevent, unsigned))              \
  X(cuEventCreate, (CUevent *, unsigned))                          \
  X(cuEventDestroy_v2, (CUevent))                                  \
  X(cuEventRecord, (CUevent, CUstream))                            \
  X(cuEventSynchronize, (CUevent))                                 \
  X(cuMemAlloc_v2, (CUdeviceptr *, size_t))                        \
  X(cuMemFree_v2, (CUdeviceptr))                                   \
  X(cuMemAllocAsync, (CUdeviceptr *, size_t, CUstream))            \
  X(cuMemFreeAsync, (CUdeviceptr, CUstream))                       \
  X(cuMemcpyAsync,                                                             \
    (CUdeviceptr, CUdeviceptr, size_t, CUstream))                  \
  X(cuMemsetD32Async,                                                          \
    (CUdeviceptr, unsigned, size_t, CUstream))                     \
  X(cuMemsetD16Async,                                                          \
    (CUdeviceptr, unsigned short, size_t, CUstream))               \
  X(cuPointerGetAttribute, (void *, int, CUdeviceptr))                        \
  X(cuMemcpyHtoD_v2, (CUdeviceptr, const void *, size_t))                      \
  X(cuDeviceGetDefaultMemPool, (void **, CUdevice))                            \
  X(cuMemPoolSetAttribute, (void *, int, void *))                              \
  X(cuMemPoolTrimTo, (void *, size_t))                                         \
  X(cuCtxSynchronize, ())
#define SEQC_CU_MEMBER(name, args) CUresult(*name) args = nullptr;
  SEQC_CU_FUNCTIONS(SEQC_CU_MEMBER)
#undef SEQC_CU_MEMBER
  /// cuTensorMapEncodeTiled (CUDA 12 drivers and later); looked up apart so
  /// that an older driver still runs everything that needs no tensor map.
  CUresult (*cuTensorMapEncodeTiled)(void *, int, unsigned, void *,
                                     const uint64_t *, const uint64_t *,
                                     const unsigned *, const unsigned *, int,
                                     int, int, int) = nullptr;

  CUcontext context = nullptr;
  CUdevice device = 0;
  /// The device's default memory pool (cuMemAllocAsync's), or null.
  void *pool = nullptr;
  char failure[512] = {0}; // why the driver is unusable, or empty
  char deviceName[300] = {0};
  int multiprocessors = 0;
};

// No C++ library: this file is also linked into ahead-of-time libraries that
// must need nothing beyond libc and libdl.
constexpr size_t kMessageSize = 1024;
thread_local char threadError[kMessageSize];
thread_local bool threadHasError = false;
thread_local char takenError[kMessageSize];
thread_local CUstream threadStream = nullptr;
thread_local CUcontext threadContext = nullptr;

__attribute__((format(printf, 1, 2))) void setErrorf(const char *format,
                                                     ...) {
  if (threadHasError)
    return;
  threadHasError = true;
  va_list args;
  va_start(args, format);
  vsnprintf(threadError, kMessageSize, format, args);
  va_end(args);
}

Driver theDriver;
pthread_once_t driverOnce = PTHREAD_ONCE_INIT;

const char *resultText(Driver &d, CUresult r, char *buffer, size_t size) {
  const char *name = nullptr, *text = nullptr;
  d.cuGetErrorName(r, &name);
  d.cuGetErrorString(r, &text);
  snprintf(buffer, size, "%s (%s)", name ? name : "?",
           text ? text : "no description");
  return buffer;
}

void openDriver() {
  Driver &d = theDriver;
  void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char *why = dlerror();
    snprintf(d.failure, sizeof(d.failure),
             "no CUDA driver: cannot load libcuda.so.1 (%s)",
             why ? why : "unknown reason");
    return;
  }
#define SEQC_CU_LOOKUP(name, args)                                             \
  d.name = reinterpret_cast<CUresult(*) args>(dlsym(lib, #name));              \
  if (!d.name && !d.failure[0])                                                \
    snprintf(d.failure, sizeof(d.failure),                                     \
             "the CUDA driver lacks " #name " (driver too old?)");
  SEQC_CU_FUNCTIONS(SEQC_CU_LOOKUP)
#undef SEQC_CU_LOOKUP
  d.cuTensorMapEncodeTiled = reinterpret_cast<decltype(d.cuTensorMapEncodeTiled)>(
      dlsym(lib, "cuTensorMapEncodeTiled"));
  if (d.failure[0])
    return;
  char text[256];
  auto check = [&](CUresult r, const char *what) {
    if (r == 0)
      return true;
    snprintf(d.failure, sizeof(d.failure), "%s failed: %s", what,
             resultText(d, r, text, sizeof(text)));
    return false;
  };
  int count = 0;
  if (!check(d.cuInit(0), "cuInit") ||
      !check(d.cuDeviceGetCount(&count), "cuDeviceGetCount"))
    return;
  if (count == 0) {
    snprintf(d.failure, sizeof(d.failure), "the CUDA driver reports no GPU");
    return;
  }
  if (!check(d.cuDeviceGet(&d.device, 0), "cuDeviceGet") ||
      !check(d.cuDevicePrimaryCtxRetain(&d.context, d.device),
             "cuDevicePrimaryCtxRetain"))
    return;
  // The default pool keeps what seqc frees for the next call. With the
  // driver's default release threshold (0) every synchronization hands the
  // pool's memory back to the OS, and the next call's allocations map it
  // again: some 0.25 ms per call. (A failed allocation trims the pool and
  // retries, so the cache never causes an out-of-memory error.)
  if (d.cuDeviceGetDefaultMemPool(&d.pool, d.device) == 0) {
    uint64_t keep = UINT64_MAX;
    if (d.cuMemPoolSetAttribute(d.pool, kMemPoolReleaseThreshold, &keep) != 0)
      d.pool = nullptr;
  } else {
    d.pool = nullptr;
  }
  char name[256] = {0};
  int major = 0, minor = 0;
  d.cuDeviceGetName(name, sizeof(name) - 1, d.device);
  d.cuDeviceGetAttribute(&major, kComputeCapabilityMajor, d.device);
  d.cuDeviceGetAttribute(&minor, kComputeCapabilityMinor, d.device);
  if (d.cuDeviceGetAttribute(&d.multiprocessors, kMultiprocessorCount,
                             d.device) != 0 ||
      d.multiprocessors <= 0)
    d.multiprocessors = 0;
  snprintf(d.deviceName, sizeof(d.deviceName), "%s (sm_%d%d)", name, major,
           minor);
}

/// The driver, opened once per process; device 0's primary context (the one
/// PyTorch and the CUDA runtime use, so pointers are shared) retained.
Driver &driver() {
  pthread_once(&driverOnce, openDriver);
  return theDriver;
}

/// The driver, ready on this thread (primary context current), or null with
/// the reason recorded. Also null once this thread has an untaken error, so
/// that nothing runs after a failure.
Driver *ready(const char *what) {
  if (threadHasError)
    return nullptr;
  Driver &d = driver();
  if (d.failure[0]) {
    setErrorf("%s: %s", what, d.failure);
    return nullptr;
  }
  if (threadContext != d.context) {
    if (d.cuCtxSetCurrent(d.context) != 0) {
      setErrorf("%s: cuCtxSetCurrent failed", what);
      return nullptr;
    }
    threadContext = d.context;
  }
  return &d;
}

/// Records a failed driver call with its name and the driver's message.
bool ok(Driver &d, CUresult r, const char *call) {
  if (r == 0)
    return true;
  char text[256];
  setErrorf("CUDA error in %s: %s", call, resultText(d, r, text, sizeof(text)));
  return false;
}

CUdeviceptr dptr(const void *p) {
  return static_cast<CUdeviceptr>(reinterpret_cast<uintptr_t>(p));
}

} // namespace

#define SEQC_EXPORT extern "C" __attribute__((visibility("default")))

//===----------------------------------------------------------------------===//
// seqc's own entry points
//===----------------------------------------------------------------------===//

SEQC_EXPORT int seqcCudaAvailable(const char **why) {
  Driver &d = driver();
  if (why)
    *why = d.failure[0] ? d.failure : nullptr;
  return !d.failure[0];
}

SEQC_EXPORT const char *seqcCudaTakeError(void) {
  if (!threadHasError)
    return nullptr;
  memcpy(takenError, threadError, kMessageSize);
  threadHasError = false;
  threadError[0] = 0;
  return takenError;
}

SEQC_EXPORT void seqcCudaSetError(const char *message) {
  setErrorf("%s", message ? message : "unknown error");
}

SEQC_EXPORT void seqcCudaSetStream(void *stream) {
  threadStream = static_cast<CUstream>(stream);
}

SEQC_EXPORT void *seqcCudaGetStream(void) { return threadStream; }

SEQC_EXPORT int seqcCudaSynchronize(void) {
  Driver *d = ready("synchronize");
  return d && ok(*d, d->cuStreamSynchronize(threadStream), "cuStreamSynchronize");
}

SEQC_EXPORT void *seqcCudaAlloc(size_t bytes) {
  Driver *d = ready("device allocation");
  if (!d)
    return nullptr;
  CUdeviceptr p = 0;
  CUresult r = d->cuMemAllocAsync(&p, bytes ? bytes : 1, threadStream);
  if (r != 0 && d->pool) {
    // Memory the pool keeps may be what is missing: release it, retry.
    d->cuStreamSynchronize(threadStream);
    d->cuMemPoolTrimTo(d->pool, 0);
    r = d->cuMemAllocAsync(&p, bytes ? bytes : 1, threadStream);
  }
  if (!ok(*d, r, "cuMemAllocAsync"))
    return nullptr;
  return reinterpret_cast<void *>(static_cast<uintptr_t>(p));
}

SEQC_EXPORT void seqcCudaFree(void *ptr) {
  if (!ptr)
    return;
  // Frees even after an error (ready() would refuse), so nothing leaks.
  Driver &d = driver();
  if (!d.failure[0])
    d.cuMemFreeAsync(dptr(ptr), threadStream);
}

SEQC_EXPORT int seqcCudaCopy(void *dst, const void *src, size_t bytes,
                             int kind) {
  (void)kind; // unified addressing: the driver knows each side's kind
  Driver *d = ready("copy");
  if (!d || !ok(*d, d->cuMemcpyAsync(dptr(dst), dptr(src), bytes, threadStream),
                "cuMemcpyAsync"))
    return 0;
  // Host memory may be reused as soon as this returns.
  return ok(*d, d->cuStreamSynchronize(threadStream), "cuStreamSynchronize");
}

SEQC_EXPORT int seqcCudaIsDevicePointer(const void *ptr) {
  Driver &d = driver();
  if (d.failure[0] || !ptr)
    return 0;
  if (threadContext != d.context && d.cuCtxSetCurrent(d.context) == 0)
    threadContext = d.context;
  unsigned type = 0;
  if (d.cuPointerGetAttribute(&type, kPointerMemoryType, dptr(ptr)) != 0)
    return 0;
  return type == kMemoryTypeDevice;
}

SEQC_EXPORT int32_t seqcCudaMultiprocessorCount(void) {
  Driver *d = ready("counting the GPU's multiprocessors");
  if (!d)
    return 1;
  if (d->multiprocessors <= 0) {
    setErrorf("counting the GPU's multiprocessors: cuDeviceGetAttribute "
              "failed");
    return 1;
  }
  return d->multiprocessors;
}

SEQC_EXPORT const char *seqcCudaDeviceName(void) {
  Driver &d = driver();
  return d.failure[0] ? nullptr : d.deviceName;
}

//===----------------------------------------------------------------------===//
// The mgpu* ABI of MLIR's GPU lowering
//===----------------------------------------------------------------------===//

SEQC_EXPORT void *mgpuModuleLoad(void *data, size_t /*size*/) {
  Driver *d = ready("loading a GPU module");
  CUmodule module = nullptr;
  if (!d || !ok(*d, d->cuModuleLoadData(&module, data), "cuModuleLoadData"))
    return nullptr;
  return module;
}

SEQC_EXPORT void *mgpuModuleLoadJIT(void *data, int /*optLevel*/) {
  return mgpuModuleLoad(data, 0);
}

namespace {
/// Kernel lookups, cached per thread: the GPU lowering asks for the kernel
/// before every launch (135 times in a decode step). An entry is keyed by
/// the module and the name's address (a constant of the compiled code) and
/// valid for one generation of loaded modules: every unload starts a new
/// one, so a module loaded later at a freed handle never hits a stale entry.
uint64_t moduleGeneration = 1; // __atomic builtins (no C++ library here)
struct KernelCacheEntry {
  void *module = nullptr;
  const char *name = nullptr;
  uint64_t generation = 0;
  void *function = nullptr; // the handle mgpuModuleGetFunction returns
};
constexpr size_t kKernelCacheSlots = 64;
thread_local KernelCacheEntry kernelCache[kKernelCacheSlots];

KernelCacheEntry &kernelCacheSlot(void *module, const char *name) {
  auto bits = reinterpret_cast<uintptr_t>(module) * 0x9E3779B97F4A7C15ull ^
              reinterpret_cast<uintptr_t>(name);
  return kernelCache[(bits >> 4) % kKernelCacheSlots];
}
} // namespace

SEQC_EXPORT void mgpuModuleUnload(void *module) {
  __atomic_add_fetch(&moduleGeneration, 1, __ATOMIC_ACQ_REL);
  Driver &d = driver();
  if (module && !d.failure[0])
    d.cuModuleUnload(static_cast<CUmodule>(module));
}

SEQC_EXPORT void *mgpuModuleGetFunction(void *module, const char *name) {
  if (!module) {
    setErrorf("kernel %s: its GPU module did not load", name);
    return nullptr;
  }
  KernelCacheEntry &entry = kernelCacheSlot(module, name);
  uint64_t generation = __atomic_load_n(&moduleGeneration, __ATOMIC_ACQUIRE);
  if (entry.module == module && entry.name == name &&
      entry.generation == generation)
    return entry.function; // the launch that follows checks the thread's state
  Driver *d = ready("looking up a kernel");
  CUfunction f = nullptr;
  if (!d || !ok(*d, d->cuModuleGetFunction(&f, static_cast<CUmodule>(module),
                                          name),
                "cuModuleGetFunction"))
    return nullptr;
  // A dependent kernel's handle carries a tag in its low bit (functions
  // are aligned) for mgpuLaunchKernel.
  void *handle = f;
  size_t length = strlen(name), suffix = strlen(SEQC_DEPENDENT_KERNEL_SUFFIX);
  if (length > suffix &&
      strcmp(name + length - suffix, SEQC_DEPENDENT_KERNEL_SUFFIX) == 0)
    handle = reinterpret_cast<void *>(reinterpret_cast<uintptr_t>(f) | 1);
  entry = {module, name, generation, handle};
  return handle;
}

namespace {
/// The dynamic shared memory limit this thread last raised each kernel to
/// (a driver call per launch otherwise; the limit is the kernel's, so a
/// thread that has not raised it raises it again, harmlessly).
struct SharedLimitEntry {
  CUfunction function = nullptr;
  uint64_t generation = 0;
  int32_t bytes = 0;
};
constexpr size_t kSharedLimitSlots = 16;
thread_local SharedLimitEntry sharedLimits[kSharedLimitSlots];

/// The kernel of a handle from mgpuModuleGetFunction, and whether it is a
/// dependent kernel (the tag in the low bit).
CUfunction kernelOf(void *handle, bool *dependent = nullptr) {
  auto bits = reinterpret_cast<uintptr_t>(handle);
  if (dependent)
    *dependent = bits & 1;
  return reinterpret_cast<CUfunction>(bits & ~uintptr_t(1));
}

/// cuLaunchKernelEx of `function` on the thread's stream with one launch
/// `attribute`.
void launchWith(Driver &d, const LaunchAttribute &attribute, void *function,
                intptr_t gridX, intptr_t gridY, intptr_t gridZ, intptr_t blockX,
                intptr_t blockY, intptr_t blockZ, int32_t smem, void **params,
                void **extra, const char *what) {
  LaunchConfig config = {static_cast<unsigned>(gridX),
                         static_cast<unsigned>(gridY),
                         static_cast<unsigned>(gridZ),
                         static_cast<unsigned>(blockX),
                         static_cast<unsigned>(blockY),
                         static_cast<unsigned>(blockZ),
                         static_cast<unsigned>(smem),
                         threadStream,
                         const_cast<LaunchAttribute *>(&attribute),
                         1};
  ok(d,
     d.cuLaunchKernelEx(&config, static_cast<CUfunction>(function), params,
                        extra),
     what);
}

bool prepareLaunch(Driver *&d, void *&function, int32_t smem) {
  function = kernelOf(function);
  d = ready("kernel launch");
  if (!d)
    return false;
  if (!function) {
    setErrorf("kernel launch: no kernel (its module failed to load)");
    return false;
  }
  if (smem <= 48 * 1024)
    return true;
  auto f = static_cast<CUfunction>(function);
  SharedLimitEntry &entry =
      sharedLimits[(reinterpret_cast<uintptr_t>(function) >> 4) %
                   kSharedLimitSlots];
  uint64_t generation = __atomic_load_n(&moduleGeneration, __ATOMIC_ACQUIRE);
  if (entry.function == f && entry.generation == generation &&
      entry.bytes >= smem)
    return true;
  if (!ok(*d, d->cuFuncSetAttribute(f, kMaxDynamicSharedBytes, smem),
          "cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES)"))
    return false;
  entry = {f, generation, smem};
  return true;
}
} // namespace

SEQC_EXPORT void mgpuLaunchKernel(void *function, intptr_t gridX,
                                  intptr_t gridY, intptr_t gridZ,
                                  intptr_t blockX, intptr_t blockY,
                                  intptr_t blockZ, int32_t smem,
                                  void * /*stream*/, void **params,
                                  void **extra, size_t /*paramsCount*/) {
  Driver *d;
  bool dependent;
  kernelOf(function, &dependent);
  if (!prepareLaunch(d, function, smem))
    return;
  if (dependent) {
    // May start before the kernel ahead of it on the stream has finished
    // (the kernel waits on griddepcontrol.wait before reading its output).
    LaunchAttribute attribute;
    memset(&attribute, 0, sizeof(attribute));
    attribute.id = kLaunchAttributeProgrammaticSerialization;
    attribute.value.programmaticStreamSerializationAllowed = 1;
    launchWith(*d, attribute, function, gridX, gridY, gridZ, blockX, blockY,
               blockZ, smem, params, extra,
               "cuLaunchKernelEx (dependent launch)");
    return;
  }
  ok(*d,
     d->cuLaunchKernel(static_cast<CUfunction>(function), gridX, gridY, gridZ,
                       blockX, blockY, blockZ, smem, threadStream, params,
                       extra),
     "cuLaunchKernel");
}

SEQC_EXPORT void mgpuLaunchClusterKernel(
    void *function, intptr_t clusterX, intptr_t clusterY, intptr_t clusterZ,
    intptr_t gridX, intptr_t gridY, intptr_t gridZ, intptr_t blockX,
    intptr_t blockY, intptr_t blockZ, int32_t smem, void * /*stream*/,
    void **params, void **extra, size_t /*paramsCount*/) {
  Driver *d;
  if (!prepareLaunch(d, function, smem))
    return;
  LaunchAttribute attribute;
  memset(&attribute, 0, sizeof(attribute));
  attribute.id = kLaunchAttributeClusterDimension;
  attribute.value.clusterDim.x = clusterX;
  attribute.value.clusterDim.y = clusterY;
  attribute.value.clusterDim.z = clusterZ;
  launchWith(*d, attribute, function, gridX, gridY, gridZ, blockX, blockY,
             blockZ, smem, params, extra, "cuLaunchKernelEx (cluster launch)");
}

// Generated code brackets each synchronous launch with a stream of its own;
// seqc orders everything on the thread's stream instead.
SEQC_EXPORT void *mgpuStreamCreate(void) { return threadStream; }
SEQC_EXPORT void mgpuStreamDestroy(void * /*stream*/) {}
SEQC_EXPORT void mgpuStreamSynchronize(void * /*stream*/) {}

SEQC_EXPORT void mgpuStreamWaitEvent(void * /*stream*/, void * /*event*/) {}
SEQC_EXPORT void *mgpuEventCreate(void) {
  Driver *d = ready("event creation");
  CUevent e = nullptr;
  if (!d || !ok(*d, d->cuEventCreate(&e, 2 /*CU_EVENT_DISABLE_TIMING*/),
                "cuEventCreate"))
    return nullptr;
  return e;
}
SEQC_EXPORT void mgpuEventDestroy(void *event) {
  Driver &d = driver();
  if (event && !d.failure[0])
    d.cuEventDestroy_v2(static_cast<CUevent>(event));
}
SEQC_EXPORT void mgpuEventSynchronize(void *event) {
  Driver *d = ready("event synchronization");
  if (d && event)
    ok(*d, d->cuEventSynchronize(static_cast<CUevent>(event)),
       "cuEventSynchronize");
}
SEQC_EXPORT void mgpuEventRecord(void *event, void * /*stream*/) {
  Driver *d = ready("event record");
  if (d && event)
    ok(*d, d->cuEventRecord(static_cast<CUevent>(event), threadStream),
       "cuEventRecord");
}

SEQC_EXPORT void *mgpuMemAlloc(uint64_t sizeBytes, void * /*stream*/,
                               bool /*isHostShared*/) {
  return seqcCudaAlloc(sizeBytes);
}

SEQC_EXPORT void mgpuMemFree(void *ptr, void * /*stream*/) { seqcCudaFree(ptr); }

// Host code's malloc/free in CUDA modules (seqc-gpu-host-allocator).
SEQC_EXPORT void *seqcDeviceMalloc(size_t bytes) { return seqcCudaAlloc(bytes); }
SEQC_EXPORT void *seqcDeviceAlignedAlloc(size_t /*alignment*/, size_t bytes) {
  // Device allocations are aligned to at least 256 bytes.
  return seqcCudaAlloc(bytes);
}
SEQC_EXPORT void seqcDeviceFree(void *ptr) { seqcCudaFree(ptr); }

SEQC_EXPORT void mgpuMemcpy(void *dst, void *src, size_t sizeBytes,
                            void * /*stream*/) {
  Driver *d = ready("device copy");
  if (d)
    ok(*d, d->cuMemcpyAsync(dptr(dst), dptr(src), sizeBytes, threadStream),
       "cuMemcpyAsync");
}

SEQC_EXPORT void mgpuMemset32(void *dst, unsigned value, size_t count,
                              void * /*stream*/) {
  Driver *d = ready("device memset");
  if (d)
    ok(*d, d->cuMemsetD32Async(dptr(dst), value, count, threadStream),
       "cuMemsetD32Async");
}

SEQC_EXPORT void mgpuMemset16(void *dst, unsigned short value, size_t count,
                              void * /*stream*/) {
  Driver *d = ready("device memset");
  if (d)
    ok(*d, d->cuMemsetD16Async(dptr(dst), value, count, threadStream),
       "cuMemsetD16Async");
}

//===----------------------------------------------------------------------===//
// Tensor maps (TMA descriptors): nvgpu.tma.create.descriptor's host call
//===----------------------------------------------------------------------===//

namespace {
/// Bytes per element of each CUtensorMapDataType (cuda.h's order: UINT8,
/// UINT16, UINT32, INT32, UINT64, INT64, FLOAT16, FLOAT32, FLOAT64,
/// BFLOAT16, FLOAT32_FTZ, TFLOAT32, TFLOAT32_FTZ).
constexpr int kTensorMapElementBytes[] = {1, 2, 4, 4, 8, 8, 2, 4, 8, 2, 4, 4, 4};
constexpr int kTensorMapBytes = 128; // sizeof(CUtensorMap)
constexpr int kTensorMapMaxRank = 5;

/// What a tensor map is encoded from: equal inputs give the same map, so
/// a call that passes the same tensors as an earlier one (a benchmark, a
/// model's repeated step on the caching allocator's buffers) reuses that
/// one's map without the driver's encoding (~2 us a map on a lent H100's
/// host) or a copy. Zero-filled before use, so that it compares by bytes.
struct TensorMapKey {
  int64_t rank, dataType, interleave, swizzle, l2Promotion, oobFill;
  uint64_t address;
  int64_t sizes[kTensorMapMaxRank], strides[kTensorMapMaxRank],
      box[kTensorMapMaxRank];
};

/// Tensor maps in device memory (kernels read their map from global
/// memory), each copied once and kept, found by their key through an
/// open-addressed hash table. When the entries run out, the table starts
/// over in the other of two device blocks, once the context is
/// synchronized: the block it goes back to held the maps of two rounds
/// ago, which no kernel can still read, while the maps handed out in the
/// round just ended (an earlier map of the call being made, say) stay in
/// place.
struct TensorMapCache {
  static constexpr unsigned kEntries = 1024;
  static constexpr unsigned kSlots = 4 * kEntries; // a power of two
  pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  CUdeviceptr blocks[2] = {0, 0};
  unsigned round = 0; // the block of this round's entries
  unsigned used = 0;
  TensorMapKey keys[kEntries];
  unsigned slots[kSlots]; // entry + 1, or 0 for a free slot
};
TensorMapCache tensorMaps;

/// FNV-1a over the key's bytes.
uint64_t hashKey(const TensorMapKey &key) {
  const unsigned char *bytes = reinterpret_cast<const unsigned char *>(&key);
  uint64_t h = 14695981039346656037ull;
  for (size_t i = 0; i < sizeof(key); ++i)
    h = (h ^ bytes[i]) * 1099511628211ull;
  return h;
}

/// The device copy of the map of `key` if one is in the table, else 0.
/// `slot` receives where the key is or would go. Called with the lock.
CUdeviceptr findTensorMap(TensorMapCache &c, const TensorMapKey &key,
                          unsigned &slot) {
  for (slot = hashKey(key) & (TensorMapCache::kSlots - 1);;
       slot = (slot + 1) & (TensorMapCache::kSlots - 1)) {
    unsigned entry = c.slots[slot];
    if (!entry)
      return 0;
    if (!memcmp(&c.keys[entry - 1], &key, sizeof(key)))
      return c.blocks[c.round] + (entry - 1) * kTensorMapBytes;
  }
}

/// The device copy of `map` (encoded from `key`; 64-byte aligned), or 0
/// with an error recorded.
CUdeviceptr deviceTensorMap(Driver &d, const TensorMapKey &key,
                            const unsigned char *map) {
  TensorMapCache &c = tensorMaps;
  pthread_mutex_lock(&c.lock);
  unsigned slot;
  CUdeviceptr result = findTensorMap(c, key, slot); // another thread's
  bool ready = !result;
  if (ready && c.used == TensorMapCache::kEntries) {
    ready = ok(d, d.cuCtxSynchronize(), "cuCtxSynchronize (tensor maps)");
    if (ready) {
      c.round ^= 1;
      c.used = 0;
      memset(c.slots, 0, sizeof(c.slots));
      findTensorMap(c, key, slot);
    }
  }
  if (ready && !c.blocks[c.round])
    ready = ok(d,
               d.cuMemAlloc_v2(&c.blocks[c.round],
                               TensorMapCache::kEntries * kTensorMapBytes),
               "cuMemAlloc (tensor maps)");
  if (ready) {
    unsigned i = c.used;
    CUdeviceptr at = c.blocks[c.round] + i * kTensorMapBytes;
    // Synchronous: the map is in place before any later launch.
    if (ok(d, d.cuMemcpyHtoD_v2(at, map, kTensorMapBytes),
           "cuMemcpyHtoD (tensor map)")) {
      c.keys[i] = key;
      c.slots[slot] = i + 1;
      c.used = i + 1;
      result = at;
    }
  }
  pthread_mutex_unlock(&c.lock);
  return result;
}
} // namespace

/// A tiled tensor map for the ranked memref `descriptor` ({allocated,
/// aligned, offset, sizes[rank], strides[rank]}) with boxes of `boxDims`
/// (outermost first), in device memory; what `nvgpu.tma.create.descriptor`
/// lowers to. The enums are cuTensorMapEncodeTiled's. Null (with the error
/// recorded) on failure.
SEQC_EXPORT void *mgpuTensorMapEncodeTiledMemref(
    int64_t rank, void *descriptor, int64_t dataType, int64_t interleave,
    int64_t swizzle, int64_t l2Promotion, int64_t oobFill,
    const int64_t *boxDims) {
  Driver *d = ready("tensor map encoding");
  if (!d)
    return nullptr;
  if (!d->cuTensorMapEncodeTiled) {
    setErrorf("tensor map encoding: the CUDA driver lacks "
              "cuTensorMapEncodeTiled (CUDA 12 or newer is needed)");
    return nullptr;
  }
  if (rank < 1 || rank > kTensorMapMaxRank) {
    setErrorf("tensor map encoding: rank %lld is outside [1, %d]",
              static_cast<long long>(rank), kTensorMapMaxRank);
    return nullptr;
  }
  if (dataType < 0 ||
      dataType >= static_cast<int64_t>(sizeof(kTensorMapElementBytes) /
                                       sizeof(int))) {
    setErrorf("tensor map encoding: unknown element type code %lld",
              static_cast<long long>(dataType));
    return nullptr;
  }
  struct Ranked {
    char *allocated, *aligned;
    int64_t offset, sizesAndStrides[2 * kTensorMapMaxRank];
  };
  const Ranked *m = static_cast<const Ranked *>(descriptor);
  const int64_t *sizes = m->sizesAndStrides, *strides = sizes + rank;
  int64_t bytes = kTensorMapElementBytes[dataType];
  if (strides[rank - 1] != 1) {
    setErrorf("tensor map encoding: the innermost stride is %lld elements; "
              "a tensor map needs 1",
              static_cast<long long>(strides[rank - 1]));
    return nullptr;
  }
  // The driver's order is innermost first; its strides are in bytes and
  // start at the second dimension.
  uint64_t globalDim[kTensorMapMaxRank], globalStrides[kTensorMapMaxRank];
  unsigned box[kTensorMapMaxRank], elementStrides[kTensorMapMaxRank];
  for (int64_t i = 0; i < rank; ++i) {
    globalDim[i] = static_cast<uint64_t>(sizes[rank - 1 - i]);
    globalStrides[i] = static_cast<uint64_t>(strides[rank - 1 - i] * bytes);
    box[i] = static_cast<unsigned>(boxDims[rank - 1 - i]);
    elementStrides[i] = 1;
  }
  TensorMapKey key;
  memset(&key, 0, sizeof(key));
  key.rank = rank;
  key.dataType = dataType;
  key.interleave = interleave;
  key.swizzle = swizzle;
  key.l2Promotion = l2Promotion;
  key.oobFill = oobFill;
  key.address = reinterpret_cast<uintptr_t>(m->aligned + m->offset * bytes);
  for (int64_t i = 0; i < rank; ++i) {
    key.sizes[i] = sizes[i];
    key.strides[i] = strides[i];
    key.box[i] = boxDims[i];
  }
  {
    TensorMapCache &c = tensorMaps;
    pthread_mutex_lock(&c.lock);
    unsigned slot;
    CUdeviceptr known = findTensorMap(c, key, slot);
    pthread_mutex_unlock(&c.lock);
    if (known)
      return reinterpret_cast<void *>(static_cast<uintptr_t>(known));
  }
  alignas(64) unsigned char map[kTensorMapBytes];
  memset(map, 0, sizeof(map));
  if (!ok(*d,
          d->cuTensorMapEncodeTiled(
              map, static_cast<int>(dataType), static_cast<unsigned>(rank),
              m->aligned + m->offset * bytes, globalDim, globalStrides + 1,
              box, elementStrides, static_cast<int>(interleave),
              static_cast<int>(swizzle), static_cast<int>(l2Promotion),
              static_cast<int>(oobFill)),
          "cuTensorMapEncodeTiled"))
    return nullptr;
  CUdeviceptr p = deviceTensorMap(*d, key, map);
  return p ? reinterpret_cast<void *>(static_cast<uintptr_t>(p)) : nullptr;
}

SEQC_EXPORT void mgpuSetDefaultDevice(int32_t device) {
  if (device != 0)
    setErrorf("seqc uses CUDA device 0 only, not device %d", device);
}
