/*===- HostRuntime.c - allocation hooks of CPU-compiled code --------------===*
 *
 * Part of seqc.
 *
 * CPU code compiled by seqc allocates through these functions
 * (seqc-host-alloc-checks): a failed allocation is recorded for the calling
 * thread, the compiled function returns at once, and the runtime reports
 * the failure as the call's error instead of the code writing through a
 * null pointer. Compiled into libseqc for JIT-compiled modules, and from
 * this same text into every ahead-of-time CPU library (whose copy the
 * loader finds with dlsym). C only: nothing beyond libc.
 *
 *===----------------------------------------------------------------------===*/

#include <stdint.h>
#include <stdlib.h>

#define SEQC_HOST_EXPORT __attribute__((visibility("default")))

/* The bytes of this thread's first failed allocation since the last take;
 * 0 when none failed. */
static __thread int64_t seqcHostFailedBytes = 0;

static void *seqcHostRecord(void *p, uint64_t bytes) {
  if (!p && seqcHostFailedBytes == 0)
    seqcHostFailedBytes = bytes ? (int64_t)bytes : 1;
  return p;
}

SEQC_HOST_EXPORT void *seqcHostAlloc(uint64_t bytes) {
  return seqcHostRecord(malloc(bytes ? bytes : 1), bytes);
}

SEQC_HOST_EXPORT void *seqcHostAlignedAlloc(uint64_t alignment,
                                            uint64_t bytes) {
  void *p = 0;
  if (alignment < sizeof(void *))
    alignment = sizeof(void *);
  if (posix_memalign(&p, alignment, bytes ? bytes : 1) != 0)
    p = 0;
  return seqcHostRecord(p, bytes);
}

/* Whether an allocation of this thread failed (compiled code checks it
 * after each call of one of its own functions). */
SEQC_HOST_EXPORT int32_t seqcHostAllocFailed(void) {
  return seqcHostFailedBytes != 0;
}

/* The failed allocation's size (0: none), and clears it. */
SEQC_HOST_EXPORT int64_t seqcHostTakeAllocFailure(void) {
  int64_t bytes = seqcHostFailedBytes;
  seqcHostFailedBytes = 0;
  return bytes;
}
