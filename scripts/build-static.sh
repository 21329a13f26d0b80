#!/usr/bin/env bash
# Builds the self-contained libseqc.so: the C API with seqc, MLIR and LLVM
# linked in statically (symbols hidden, only seqc_* exported), libstdc++
# static too, so that it needs nothing beyond glibc. Day-to-day builds link
# the shared libMLIR.so instead (scripts/build.sh); this is for distribution
# and for the GPU machine, which has no LLVM.
#
#   scripts/build-static.sh            -> build-static/libseqc.so (+ the CUDA
#                                         runtime archive AOT links need)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# LLVM's Support library calls zlib and zstd: their static archives.
"$root/scripts/setup-deps.sh" zlib1g-dev libzstd-dev
"$root/scripts/build.sh" seqc_c SeqcCudaRuntime >/dev/null

build="${SEQC_BUILD_DIR:-$root/build}"
out="$root/build-static"
llvm_lib=/usr/lib/llvm-22/lib
mkdir -p "$out"

cat > "$out/exports.map" <<'MAP'
{
  global:
    seqc_*;
  local:
    *;
};
MAP

# lld pulls from every archive what is needed, in any order.
archives=("$build"/lib/libSeqc*.a "$build"/lib/libseqc_cuda_runtime.a "$llvm_lib"/libMLIR*.a "$llvm_lib"/libLLVM*.a)
clang++-22 -shared -fuse-ld=lld -o "$out/libseqc.so.tmp" \
  "$build/lib/CAPI/CMakeFiles/seqc_c.dir/Seqc.cpp.o" \
  "${archives[@]}" \
  -static-libstdc++ -static-libgcc \
  -Wl,--exclude-libs,ALL -Wl,--gc-sections -Wl,--no-undefined \
  -Wl,--version-script="$out/exports.map" \
  -Wl,-soname,libseqc.so \
  -l:libzstd.a -l:libz.a -ldl -lpthread -lm
llvm-strip-22 --strip-unneeded "$out/libseqc.so.tmp"
mv "$out/libseqc.so.tmp" "$out/libseqc.so"
cp "$build/lib/libseqc_cuda_runtime.a" "$out/"

echo "built $out/libseqc.so ($(du -h "$out/libseqc.so" | cut -f1)); needs:"
readelf -d "$out/libseqc.so" | grep NEEDED | sed 's/^/  /'
