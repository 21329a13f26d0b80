#!/usr/bin/env bash
# The GPU flow (DESIGN.md section 7), in two halves:
#
#   scripts/gpu.sh pack   here: builds the self-contained libseqc.so, an
#                         ahead-of-time CUDA library of an example block, and
#                         packs them (xz) into .dist/bundle.tar.xz
#   scripts/gpu.sh run    on the GPU machine (Python 3.12, NumPy, torch, a
#                         driver; no LLVM): unpacks the bundle, runs the GPU
#                         tests (pytest -m cuda, torch as a second oracle) and
#                         the GPU benchmark, and writes logs under $OUT
#
# With the device tool: pack here, then run `bash scripts/gpu.sh run` there
# carrying .dist.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dist="$root/.dist"

pack() {
  "$root/scripts/build-static.sh"
  rm -rf "$dist" && mkdir -p "$dist/stage/aot" "$dist/stage/site"
  cp "$root/build-static/libseqc.so" "$root/build-static/libseqc_cuda_runtime.a" \
    "$dist/stage/"
  # The OpenMP runtime of CPU-compiled modules (the tests compare with them).
  cp -L /usr/lib/llvm-22/lib/libomp.so.5 "$dist/stage/"
  # An AOT CUDA library, compiled here (where LLVM and ptxas are), loaded
  # there through ctypes alone.
  "$root/build/bin/seqc" "$root/examples/mamba_block.mlir" \
    --options="target=cuda chip=sm_90a" -o "$dist/stage/aot/mamba_block_cuda.so"
  # The tensor-core attention kernels and every op's kernel as cubins, for
  # the SASS instruction counts there (cuobjdump is on that machine).
  PATH="$PATH:/usr/local/cuda/bin" python3 "$root/scripts/sass-report.py" \
    "$root/test/Pipelines/Inputs/attention-bf16.mlir" --out "$dist/stage/cubins/attention"
  PATH="$PATH:/usr/local/cuda/bin" python3 "$root/scripts/sass-report.py" \
    "$root/test/Pipelines/Inputs/all-ops-static.mlir" --out "$dist/stage/cubins/all-ops"
  # pytest for a machine that may lack it (pure Python, from this machine).
  for m in pytest _pytest pluggy iniconfig py.py; do
    p=/usr/lib/python3/dist-packages/$m
    [ -e "$p" ] && cp -r "$p" "$dist/stage/site/"
  done
  tar -C "$dist/stage" -cJf "$dist/bundle.tar.xz" .
  rm -rf "$dist/stage"
  echo "packed $dist/bundle.tar.xz ($(du -h "$dist/bundle.tar.xz" | cut -f1))"
}

run() {
  py="${PYTHON:-python3}"
  out="${OUT:-$root/.dist/out}"
  mkdir -p "$out"
  stage=/tmp/seqc-gpu
  rm -rf "$stage" && mkdir -p "$stage"
  tar -C "$stage" -xJf "$dist/bundle.tar.xz"
  export SEQC_LIBRARY="$stage/libseqc.so"
  export SEQC_CUDA_RUNTIME="$stage/libseqc_cuda_runtime.a"
  export SEQC_LIBOMP="$stage/libomp.so.5"
  export SEQC_AOT_CUDA_LIBRARY="$stage/aot/mamba_block_cuda.so"
  export PYTHONPATH="$root/python${PYTHONPATH:+:$PYTHONPATH}"
  export PYTHONUNBUFFERED=1
  "$py" -c "import pytest" 2>/dev/null ||
    export PYTHONPATH="$PYTHONPATH:$stage/site"
  { nvidia-smi -L || echo "no nvidia-smi"; "$py" -c "import torch, numpy, sys; print('python', sys.version.split()[0], 'torch', torch.__version__, 'numpy', numpy.__version__)"; } \
    2>&1 | tee "$out/device.txt" || true
  status=0
  # SEQC_GPU_ONLY=decode: only the decode benchmark (a short run).
  if [ "${SEQC_GPU_ONLY:-}" = decode ]; then
    "$py" "$root/benchmarks/decode_bench.py" --json "$out/decode.json" \
      ${SEQC_DECODE_ARGS:---profile} 2>&1 | tee "$out/decode.log"
    return "${PIPESTATUS[0]}"
  fi
  # SEQC_GPU_ONLY=exec: the rest of the command line, with the bundle
  # unpacked and the environment above (a profiling script, ncu, ...).
  if [ "${SEQC_GPU_ONLY:-}" = exec ]; then
    "$@"
    return $?
  fi
  # SEQC_GPU_ONLY=bench: only the kernel benchmark (SEQC_GPU_BENCH_ARGS).
  if [ "${SEQC_GPU_ONLY:-}" = bench ]; then
    "$py" "$root/benchmarks/gpu_bench.py" --json "$out/bench.json" --roofline "$out/roofline.png" \
      ${SEQC_GPU_BENCH_ARGS:-} "$@" 2>&1 | tee "$out/bench.log"
    return "${PIPESTATUS[0]}"
  fi
  # SEQC_GPU_ONLY=sanitize: the GPU tests under compute-sanitizer memcheck
  # and racecheck (SEQC_SANITIZE_TESTS picks the test files; slow).
  if [ "${SEQC_GPU_ONLY:-}" = sanitize ]; then
    cs="$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)"
    # SEQC_SANITIZE_TOOLS: which (memcheck racecheck by default);
    # SEQC_SANITIZE_K: a pytest -k expression; SEQC_SANITIZE_TIMEOUT: the
    # seconds each tool may take. SEQC_SANITIZE_FIRST=1 runs the GPU tests
    # (unsanitized) first.
    if [ "${SEQC_SANITIZE_FIRST:-0}" = 1 ]; then
      (cd "$root/test/python" &&
        timeout "${SEQC_GPU_TEST_TIMEOUT:-300}" "$py" -m pytest -m cuda -q -p no:cacheprovider -rs \
          ${SEQC_GPU_PYTEST_ARGS:-} ${SEQC_GPU_PYTEST_K:+-k "$SEQC_GPU_PYTEST_K"} 2>&1) |
        tee "$out/pytest.log" | tail -5 || status=1
    fi
    # Driver-call failures are not reported as sanitizer errors: seqc checks
    # every driver result, and the tests provoke two on purpose (an invalid
    # tensor map, a 4 TiB allocation) to check the error reaches the caller.
    # SEQC_SANITIZE_SUITE=ops: the functional-op suite on the GPU instead
    # of the cuda-marked tests.
    if [ "${SEQC_SANITIZE_SUITE:-}" = ops ]; then
      export SEQC_TEST_DEVICE=cuda
      mark="not cuda" tests="test_ops.py test_bf16.py test_edges.py"
    else
      mark="cuda" tests="${SEQC_SANITIZE_TESTS:-test_cuda.py test_in_place.py}"
    fi
    for tool in ${SEQC_SANITIZE_TOOLS:-memcheck racecheck}; do
      (cd "$root/test/python" &&
        timeout "${SEQC_SANITIZE_TIMEOUT:-3000}" \
        "$cs" --tool "$tool" --error-exitcode 99 --target-processes all \
          --report-api-errors no \
          --print-limit 20 "$py" -m pytest -m "$mark" -q -p no:cacheprovider \
          $tests ${SEQC_SANITIZE_K:+-k "$SEQC_SANITIZE_K"} 2>&1) |
        tee "$out/sanitize-${SEQC_SANITIZE_SUITE:-cuda}-$tool.log" | tail -6 || status=1
    done
    return $status
  fi
  # SEQC_GPU_PYTEST_ARGS (test files) and SEQC_GPU_PYTEST_K (a -k
  # expression) narrow the GPU tests for a short run.
  # SASS of the packed kernels: tensor-core instructions (HMMA/HGMMA), local
  # memory (LDL/STL), cp.async (LDGSTS), ldmatrix (LDSM).
  "$py" "$root/scripts/sass-report.py" --cubin "$stage"/cubins/*/*.cubin 2>&1 |
    tee "$out/sass.log" || echo "no SASS counts (cuobjdump missing?)"
  (cd "$root/test/python" &&
    timeout "${SEQC_GPU_TEST_TIMEOUT:-300}" "$py" -m pytest -m cuda -q -p no:cacheprovider -rs \
      --junitxml="$out/pytest.xml" ${SEQC_GPU_PYTEST_ARGS:-} \
      ${SEQC_GPU_PYTEST_K:+-k "$SEQC_GPU_PYTEST_K"} 2>&1) | tee "$out/pytest.log" || status=1
  # The CPU suite's functional-op tests again, every op and option, on the GPU.
  (cd "$root/test/python" && SEQC_TEST_DEVICE=cuda \
    timeout "${SEQC_GPU_TEST_TIMEOUT:-300}" "$py" -m pytest -q -p no:cacheprovider \
      -m "not cuda" test_ops.py test_bf16.py test_edges.py --junitxml="$out/pytest-ops.xml" 2>&1) |
    tee "$out/pytest-ops.log" || status=1
  # SEQC_GPU_ONLY=tests: the tests and the decode benchmark, not the
  # kernel benchmark.
  [ "${SEQC_GPU_ONLY:-}" = tests ] ||
    timeout "${SEQC_GPU_BENCH_TIMEOUT:-240}" "$py" "$root/benchmarks/gpu_bench.py" --roofline "$out/roofline.png" \
      --json "$out/bench.json" ${SEQC_GPU_BENCH_ARGS:-} 2>&1 | tee "$out/bench.log" || status=1
  # Decode-step latency of the Llama-style model at KV 4096 against
  # transformers (or torch eager where transformers is missing).
  timeout "${SEQC_GPU_BENCH_TIMEOUT:-240}" "$py" "$root/benchmarks/decode_bench.py" --profile \
    --json "$out/decode.json" 2>&1 | tee "$out/decode.log" || status=1
  return $status
}

case "${1:-}" in
  pack) pack ;;
  run) shift; run "$@" ;;
  *) echo "usage: scripts/gpu.sh pack|run" >&2; exit 2 ;;
esac
