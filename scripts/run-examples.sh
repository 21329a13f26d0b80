#!/usr/bin/env bash
# The main job. Until the CPU compiler lands, it parses, verifies and
# canonicalizes every example model with seqc-opt and prints each one's
# op census; any malformed example fails the run.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/build.sh" seqc-opt
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
exit $status
