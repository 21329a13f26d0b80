#!/usr/bin/env bash
# The concurrency tests under ThreadSanitizer: builds build-tsan/ (the C
# library instrumented with -fsanitize=thread), then runs
# test/python/test_concurrency.py (threads compiling one source and
# different sources, invoking one module, and the functional-op cache, each
# result checked) with the TSan runtime preloaded into Python. seqc's own
# code is instrumented; MLIR, LLVM, Python and the generated code are not
# (their accesses are not checked). Any report fails the run.
#
#   scripts/test-threads.sh [pytest args...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SEQC_TSAN_DIR:-$root/build-tsan}"
SEQC_BUILD_DIR="$build" \
SEQC_CMAKE_ARGS="-C $root/scripts/tsan.cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo" \
  "$root/scripts/build.sh" seqc_c
tsan_rt="$(clang-22 -print-file-name=libclang_rt.tsan-x86_64.so)"
export TSAN_OPTIONS="halt_on_error=1:exitcode=66:ignore_noninstrumented_modules=1:report_signal_unsafe=0"
# Control: an instrumented library with a data race, called from Python
# threads the same way, must be reported (exit 66), or this run proves
# nothing.
control="$(mktemp -d)"
trap 'rm -rf "$control"' EXIT
printf 'long counter;\nvoid bump(long n) { for (long i = 0; i < n; ++i) counter++; }\n' \
  > "$control/race.c"
clang-22 -shared -fPIC -g -fsanitize=thread -shared-libsan "$control/race.c" \
  -o "$control/librace.so"
set +e
LD_PRELOAD="$tsan_rt" /usr/bin/python3 -c "
import ctypes, threading
lib = ctypes.CDLL('$control/librace.so')
ts = [threading.Thread(target=lib.bump, args=(ctypes.c_long(100000),)) for _ in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]" 2>/dev/null
control_status=$?
set -e
if [ "$control_status" != 66 ]; then
  echo "test-threads: ThreadSanitizer missed the control race (exit $control_status)" >&2
  exit 1
fi
echo "test-threads: the control race was reported; now seqc's concurrency tests"
cd "$root/test/python"
LD_PRELOAD="$tsan_rt" SEQC_LIBRARY="$build/lib/libseqc_c.so" \
  /usr/bin/python3 -m pytest -q -p no:cacheprovider test_concurrency.py "$@"
