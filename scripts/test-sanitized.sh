#!/usr/bin/env bash
# The test suite under AddressSanitizer and UndefinedBehaviorSanitizer:
# builds build-sanitize/ (the configuration scripts/fuzz.sh uses), runs the
# lit suite, the C++ unit tests and the C API smoke test through ctest, then
# the pytest suite with the ASan runtime preloaded into Python (the C library
# it loads is instrumented; the code seqc generates is not), and last the
# correctness suite with bounds-checked generated code. Any sanitizer report
# or out-of-bounds access fails the run.
#
#   scripts/test-sanitized.sh [pytest args...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SEQC_SANITIZE_DIR:-$root/build-sanitize}"
SEQC_BUILD_DIR="$build" \
SEQC_CMAKE_ARGS="-C $root/scripts/sanitize.cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo" \
  "$root/scripts/build.sh"
# allocator_may_return_null: a failed allocation returns null, as malloc does
# (the out-of-memory tests check that seqc reports it).
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=0:handle_segv=0:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
(cd "$build" && ctest --output-on-failure -E seqc-python)
asan_rt="$(clang-22 -print-file-name=libclang_rt.asan-x86_64.so)"
cd "$root/test/python"
LD_PRELOAD="$asan_rt" SEQC_LIBRARY="$build/lib/libseqc_c.so" \
  ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0" \
  /usr/bin/python3 -m pytest -q -p no:cacheprovider "$@"
# The correctness suite once more on the normal build with bounds-checked
# generated code: every memref access of the compiled CPU code is checked
# (SEQC_BOUNDS_CHECK=1; an out-of-bounds access aborts with its location).
"$root/scripts/build.sh" >/dev/null
SEQC_BOUNDS_CHECK=1 SEQC_LIBRARY="$root/build/lib/libseqc_c.so" \
  /usr/bin/python3 -m pytest -q -p no:cacheprovider test_ops.py test_bf16.py \
  test_edges.py test_in_place.py test_recurrence.py test_raising.py \
  test_examples.py test_models.py -k "not c_generate"
