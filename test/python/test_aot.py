"""Ahead-of-time modules: `seqc model.mlir -o model.so`, then seqc.load.

The library is compiled by the `seqc` tool and loaded by seqc.load through
ctypes alone; a fresh interpreter shows that neither LLVM, MLIR nor the seqc
C library is mapped into the process, and the results match the JIT's.
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import seqc

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEQC_TOOL = os.path.join(
    os.path.dirname(os.path.dirname(os.environ.get(
        "SEQC_LIBRARY", os.path.join(ROOT, "build", "lib", "libseqc_c.so")))),
    "bin", "seqc")

SOURCE = """
func.func @step(%a: tensor<4x7xf32>, %b: tensor<4x7xf32>, %h0: tensor<4xf32>)
    -> (tensor<4x7xf32>, tensor<4xf32>) {
  %h, %last = seq.linear_recurrence %a, %b init(%h0 : tensor<4xf32>)
      {dim = 1 : i64, reverse} : tensor<4x7xf32>, tensor<4x7xf32>
      -> tensor<4x7xf32>, tensor<4xf32>
  return %h, %last : tensor<4x7xf32>, tensor<4xf32>
}
"""


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    if not os.path.exists(SEQC_TOOL):
        pytest.fail("the seqc tool is missing at %s (build it first)" % SEQC_TOOL)
    folder = tmp_path_factory.mktemp("aot")
    src = folder / "model.mlir"
    src.write_text(SOURCE)
    out = folder / "model.so"
    subprocess.run([SEQC_TOOL, str(src), "-o", str(out)], check=True)
    assert (folder / "model.h").exists()
    return out


def test_load_matches_jit(library):
    rng = np.random.default_rng(7)
    a = rng.uniform(0.5, 1.0, (7, 4)).astype(np.float32).T  # non-contiguous
    b = rng.standard_normal((4, 7)).astype(np.float32)
    h0 = rng.standard_normal(4).astype(np.float32)
    aot = seqc.load(library)
    jit = seqc.compile(SOURCE)
    h_aot, last_aot = aot.step(a, b, h0)
    h_jit, last_jit = jit.step(a, b, h0)
    np.testing.assert_array_equal(h_aot, h_jit)
    np.testing.assert_array_equal(last_aot, last_jit)
    # And both against the recurrence itself, run backwards from h0.
    state = h0.astype(np.float64)
    for t in reversed(range(7)):
        state = a[:, t] * state + b[:, t]
        np.testing.assert_allclose(h_aot[:, t], state, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(last_aot, state, rtol=1e-5, atol=1e-6)


def test_load_needs_no_llvm(library):
    script = textwrap.dedent("""
        import sys, numpy as np
        sys.path.insert(0, %r)
        import seqc
        m = seqc.load(%r)
        h, last = m.step(np.ones((4, 7), np.float32), np.ones((4, 7), np.float32),
                         np.zeros(4, np.float32))
        assert float(last[0]) == 7.0, last
        maps = open("/proc/self/maps").read()
        loaded = [n for n in ("libLLVM", "libMLIR", "libseqc_c") if n in maps]
        print("loaded:", loaded)
        sys.exit(1 if loaded else 0)
    """) % (os.path.join(ROOT, "python"), str(library))
    env = {k: v for k, v in os.environ.items() if k != "SEQC_LIBRARY"}
    proc = subprocess.run([sys.executable, "-c", script], env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        seqc.load(tmp_path / "missing.so")
    junk = tmp_path / "junk.so"
    junk.write_bytes(b"not an ELF file")
    with pytest.raises(seqc.SeqcError, match="cannot load"):
        seqc.load(junk)


def test_aot_out_of_memory_is_an_error(tmp_path):
    """An ahead-of-time CPU library carries the allocation hooks: a failed
    allocation is the call's error through seqc.load (ctypes alone) too."""
    from test_errors import OUT_OF_MEMORY, check_out_of_memory
    src = tmp_path / "oom.mlir"
    src.write_text(OUT_OF_MEMORY)
    out = tmp_path / "oom.so"
    subprocess.run([SEQC_TOOL, str(src), "-o", str(out)], check=True)
    check_out_of_memory(seqc.load(out))


def test_aot_f32_to_bf16_rounding(tmp_path):
    """An ahead-of-time library's f32 -> bf16 rounding (its own copy of
    __truncsfbf2 where the CPU has no conversion instruction), bit for bit
    against the reference rounding."""
    from test_bf16 import ROUNDING_EDGES, TRUNCF_SOURCE
    src = tmp_path / "truncf.mlir"
    src.write_text(TRUNCF_SOURCE)
    out = tmp_path / "truncf.so"
    subprocess.run([SEQC_TOOL, str(src), "-o", str(out)], check=True)
    got = seqc.load(out).main(ROUNDING_EDGES)
    np.testing.assert_array_equal(got, seqc.to_bf16_bits(ROUNDING_EDGES))
