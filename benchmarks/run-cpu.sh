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
"$root/scripts/setup-deps.sh" python3-torch libopenblas0-pthread

"$root/scripts/build.sh" seqc_c

build="${SEQC_BUILD_DIR:-$root/build}"
export PYTHONPATH="$root/python${PYTHONPATH:+:$PYTHONPATH}"
export SEQC_LIBRARY="${SEQC_LIBRARY:-$build/lib/libseqc_c.so}"
exec /usr/bin/python3 "$root/benchmarks/cpu_bench.py" "$@"
