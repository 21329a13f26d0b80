#!/usr/bin/env bash
# Fuzzes seqc's front half (parse -> verify -> seqc-cpu-pipeline and
# seqc-cuda-pipeline to PTX) with libFuzzer, ASan and UBSan:
#
#   scripts/fuzz.sh [SECONDS=60] [MODE=structure|bytes]
#
# Builds build-sanitize/ (clang-22, -fsanitize=address,undefined plus
# fuzzer coverage, SEQC_FUZZER=ON), seeds the corpus with every module of the
# lit tests and examples (split at `// -----`), runs for SECONDS, and prints
# libFuzzer's final statistics (executions, coverage). A crash, timeout or
# sanitizer report fails the run and leaves the input under
# build-sanitize/fuzz/artifacts/ (turn it into a test under test/).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-60}"
mode="${2:-structure}"
build="${SEQC_SANITIZE_DIR:-$root/build-sanitize}"
SEQC_BUILD_DIR="$build" \
SEQC_CMAKE_ARGS="-C $root/scripts/sanitize.cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo" \
  "$root/scripts/build.sh" seqc-fuzz >/dev/null

work="$build/fuzz"
mkdir -p "$work/seeds" "$work/corpus" "$work/artifacts"
/usr/bin/python3 - "$root" "$work/seeds" <<'PY'
import pathlib, sys
root, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
n = 0
for path in sorted(list((root / "test").rglob("*.mlir")) + list((root / "examples").glob("*.mlir"))):
    for i, part in enumerate(path.read_text().split("// -----")):
        if "func.func" in part and len(part) < 60000:
            (out / ("%s-%d.mlir" % (path.stem, i))).write_text(part)
            n += 1
print("fuzz: %d seed modules" % n)
PY
# handle_segv=0: a crash of an upstream parser reaches the harness's
# recovery (as in seqc's compile API); the inputs go to recovered/.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:allocator_may_return_null=1:handle_segv=0"
export SEQC_FUZZ_RECOVERED_DIR="$work/recovered"
mkdir -p "$work/recovered"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export SEQC_FUZZ_MODE="$mode"
LD_PRELOAD="$(clang-22 -print-file-name=libclang_rt.asan-x86_64.so)" \
  "$build/bin/seqc-fuzz" "$work/corpus" "$work/seeds" \
  -max_total_time="$seconds" -timeout=60 -rss_limit_mb=6144 -max_len=65536 \
  -print_final_stats=1 -artifact_prefix="$work/artifacts/" 2>&1 |
  grep -vE "^#[0-9]+\s+(NEW|REDUCE|pulse)" | tail -40
