#!/usr/bin/env bash
# Installs what seqc needs on a Debian bookworm machine: LLVM/MLIR 22 and
# their tools (from bookworm-security), the sanitizer and libFuzzer runtimes,
# the build tools and the Python test
# dependencies, plus any packages named as arguments (the benchmarks add
# theirs). Idempotent, and silent when everything is present.
set -euo pipefail

packages=(
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools clang-22 lld-22
  libomp-22-dev libclang-rt-22-dev cmake ninja-build libgtest-dev python3 python3-numpy
  python3-pytest xz-utils "$@"
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
