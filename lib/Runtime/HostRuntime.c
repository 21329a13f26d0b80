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
 * loader finds with dlsym). C only: nothing beyond libc. Also the f32 to
 * bf16 rounding that LLVM calls where the CPU has no such instruction.
 *
 *===----------------------------------------------------------------------===*/

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

/* f32 -> bf16, rounded to nearest even (NaN stays a quiet NaN of its
 * sign): what LLVM calls for `fptrunc float to bfloat` on CPUs without a
 * bf16 conversion instruction (x86 before AVX512-BF16), and what libgcc
 * provides only from GCC 13 on. The result goes back as LLVM's libcall
 * expects, in the return register of a float (x86-64: xmm0) with the bf16
 * bits in its low 16 bits; a float carries it so that C compilers without
 * a bf16 type build this too. Hidden: each library (and libseqc, for JIT
 * modules, by address) binds its own. */
__attribute__((visibility("hidden"))) float __truncsfbf2(float value) {
  uint32_t bits;
  memcpy(&bits, &value, sizeof bits);
  uint32_t half;
  if ((bits & 0x7fffffffu) > 0x7f800000u)
    half = (bits >> 16) | 0x0040u;
  else
    half = (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;
  float result;
  memcpy(&result, &half, sizeof result);
  return result;
}
