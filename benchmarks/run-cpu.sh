#!/usr/bin/env bash
# CPU benchmark of seqc against PyTorch and the machine's ceilings (see
# benchmarks/README.md): installs what is missing (Debian's PyTorch and
# OpenBLAS; idempotent, silent when present), builds seqc's C library, then
# runs benchmarks/cpu_bench.py, passing every argument through, e.g.
#   benchmarks/run-cpu.sh --quick
#   benchmarks/run-cpu.sh --only attention --json attention.json
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# libopenblas0-pthread takes over libblas.so.3 through update-alternatives
# (higher priority than the reference BLAS), so numpy and torch both run
# OpenBLAS: the matmul ceiling is OpenBLAS's rate.
packages=(python3-torch python3-numpy libopenblas0-pthread)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
if [ ${#missing[@]} -ne 0 ]; then
  echo "run-cpu: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

"$root/scripts/build.sh" seqc_c

build="${SEQC_BUILD_DIR:-$root/build}"
export PYTHONPATH="$root/python${PYTHONPATH:+:$PYTHONPATH}"
export SEQC_LIBRARY="${SEQC_LIBRARY:-$build/lib/libseqc_c.so}"
exec /usr/bin/python3 "$root/benchmarks/cpu_bench.py" "$@"
