#!/usr/bin/env bash
# Configures (once) and builds seqc in build/ with clang-22, lld and Ninja,
# linking the shared libMLIR.so. Extra arguments go to `ninja` (targets).
# SEQC_BUILD_DIR picks another build folder, SEQC_CMAKE_ARGS adds configure
# options (the sanitized build of scripts/fuzz.sh and scripts/test-sanitized.sh).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup-deps.sh"

build="${SEQC_BUILD_DIR:-$root/build}"
llvm_prefix="$(llvm-config-22 --prefix)"
if [ ! -f "$build/build.ninja" ]; then
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -G Ninja -S "$root" -B "$build" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DLLVM_USE_LINKER=lld \
    -DMLIR_DIR="$llvm_prefix/lib/cmake/mlir" \
    -DLLVM_EXTERNAL_LIT="$llvm_prefix/bin/lit" \
    -DPython3_EXECUTABLE=/usr/bin/python3 \
    "${launcher[@]}" ${SEQC_CMAKE_ARGS:-} >/dev/null
fi
cmake --build "$build" -- "$@"
