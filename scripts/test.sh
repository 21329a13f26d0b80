#!/usr/bin/env bash
# The whole test run: installs what is missing, builds, then runs every test
# (lit suite and C++ unit tests) through ctest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/build.sh"
build="${SEQC_BUILD_DIR:-$root/build}"
cd "$build"
ctest --output-on-failure
