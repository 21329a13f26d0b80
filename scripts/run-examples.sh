#!/usr/bin/env bash
# The main job. Builds seqc, prints each example model's seq-op census
# (seqc-opt parses, verifies and canonicalizes it), then compiles every
# example for the CPU through the Python package, runs it on random inputs
# and checks it against a float64 NumPy reference of the whole block
# (examples/run_examples.py), printing one table row per example. Any
# example that fails to verify, compile or match its reference fails the run.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/build.sh" seqc_c seqc-opt
build="${SEQC_BUILD_DIR:-$root/build}"
opt="$build/bin/seqc-opt"

printf '%-28s %-6s %s\n' "example" "status" "seq ops after canonicalize"
status=0
for f in "$root"/examples/*.mlir; do
  name="$(basename "$f")"
  if out="$("$opt" "$f" --canonicalize 2>&1)"; then
    ops="$(grep -oE '\bseq\.[a-z_0-9]+' <<<"$out" | sort | uniq -c |
           awk '{printf "%s%s x%s", sep, $2, $1; sep=", "}')"
    printf '%-28s %-6s %s\n' "$name" "ok" "$ops"
  else
    printf '%-28s %-6s\n%s\n' "$name" "FAIL" "$out"
    status=1
  fi
done
echo

# Compile for the CPU, run, and compare with the NumPy references.
PYTHONPATH="$root/python${PYTHONPATH:+:$PYTHONPATH}" \
SEQC_LIBRARY="$build/lib/libseqc_c.so" \
  /usr/bin/python3 "$root/examples/run_examples.py" || status=1
echo

# The model library: whole models (prefill + 32 greedy decode steps, state
# updated in place) against independent float64 NumPy models.
PYTHONPATH="$root/python${PYTHONPATH:+:$PYTHONPATH}" \
SEQC_LIBRARY="$build/lib/libseqc_c.so" \
  /usr/bin/python3 "$root/examples/run_models.py" || status=1
exit $status
