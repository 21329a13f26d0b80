#!/usr/bin/env bash
# The whole test run: installs what is missing, builds, then runs every test
# (lit suite, C++ unit tests, C API smoke test, pytest suite) through ctest,
# then a bounded fuzzing smoke (scripts/fuzz.sh, SEQC_FUZZ_SMOKE_SECONDS,
# default 120) in the sanitized build.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/build.sh"
build="${SEQC_BUILD_DIR:-$root/build}"
cd "$build"
ctest --output-on-failure
"$root/scripts/fuzz.sh" "${SEQC_FUZZ_SMOKE_SECONDS:-120}"
