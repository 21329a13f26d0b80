"""Errors: clear, early, and naming the argument.

The functional-op checks run in Python before anything is compiled, so they
need no library; the module-level checks (seqc.compile diagnostics, argument
validation of compiled functions) do.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

import seqc

F32, F16 = np.float32, np.float16
needs_library = pytest.mark.needs_library


def z(*shape, dtype=F32):
    return np.zeros(shape, dtype)


def raises(exc, op, *args, match=(), **kwargs):
    with pytest.raises(exc) as info:
        getattr(seqc, op)(*args, **kwargs)
    text = str(info.value)
    assert text.startswith("seqc.%s: " % op), text
    for m in ([match] if isinstance(match, str) else match):
        assert m in text, "%r not in %r" % (m, text)
    return text


# ---------------------------------------------------------------------------
# functional ops (no library needed)
# ---------------------------------------------------------------------------

Q, K, V = z(2, 4, 8, 16), z(2, 2, 8, 16), z(2, 2, 8, 16)


def test_attention_argument_errors():
    raises(ValueError, "attention", z(4, 8, 16), K, V, match=("q", "rank 4", "(4, 8, 16)"))
    raises(ValueError, "attention", Q, z(2, 2, 8, 15), V,
           match="k head dim (15) does not match q head dim (16)")
    raises(ValueError, "attention", Q, K, z(2, 2, 9, 16),
           match=("v sequence length (9)", "k sequence length (8)"))
    raises(ValueError, "attention", Q, z(2, 3, 8, 16), z(2, 3, 8, 16),
           match=("q heads (4)", "(3)"))
    raises(ValueError, "attention", Q, K, z(2, 1, 8, 16), match="v heads (1)")
    raises(ValueError, "attention", Q, z(3, 2, 8, 16), V, match="k batch size (3)")
    raises(TypeError, "attention", Q.astype(np.float64), K, V, match=("q", "float64"))
    raises(TypeError, "attention", Q, K.astype(F16), V, match=("k", "float16"))
    raises(TypeError, "attention", Q, K, V.astype(np.int32), match=("v", "int32"))
    raises(ValueError, "attention", Q, K, V, window=(-2, 0), match="window")
    raises(ValueError, "attention", Q, K, V, window=(1, 2, 3), match="window")
    raises(TypeError, "attention", Q, K, V, window=(1.5, 0), match="window")
    raises(ValueError, "attention", Q, K, V, softcap=0.0, match="softcap")
    raises(ValueError, "attention", Q, K, V, softcap=-1.0, match="softcap")
    raises(ValueError, "attention", Q, K, V, scale=float("inf"), match="scale")
    raises(ValueError, "attention", Q, K, V, scale=1e39, match="scale")
    raises(ValueError, "attention", Q, K, V, q_segment_ids=z(2, 8, dtype=np.int32),
           match="given together")
    raises(ValueError, "attention", Q, K, V, kv_lengths=z(3, dtype=np.int32),
           match=("kv_lengths", "(2,)", "(3,)"))
    raises(ValueError, "attention", Q, K, V, kv_lengths=[1, 9], match="kv_lengths")
    raises(TypeError, "attention", Q, K, V, kv_lengths=z(2), match=("kv_lengths", "float32"))
    raises(ValueError, "attention", Q, K, V, q_segment_ids=z(2, 7, dtype=np.int32),
           kv_segment_ids=z(2, 8, dtype=np.int32), match=("q_segment_ids", "(2, 7)"))
    raises(TypeError, "attention", Q, K, V, causal="yes", match="causal")


def test_scan_and_recurrence_errors():
    x = z(3, 5)
    raises(ValueError, "scan", "sum", x, match=("combiner", "'sum'"))
    raises(TypeError, "scan", "add", match="at least one input")
    raises(TypeError, "scan", "linear", x, x, x, match="exactly two")
    raises(ValueError, "scan", "add", x, z(3, 4), match=("input 1", "(3, 4)"))
    raises(ValueError, "scan", "add", x, dim=2, match="dim 2")
    raises(ValueError, "scan", "add", x, initial=[z(5)], match=("initial[0]", "(3,)"))
    raises(ValueError, "scan", "add", x, x, initial=[z(3)], match="initial")
    raises(TypeError, "scan", "add", x, initial=[z(3, dtype=F16)], match="initial[0]")
    raises(TypeError, "scan", "add", z(3, dtype=np.complex64), match="complex64")
    raises(ValueError, "linear_recurrence", x, z(3, 4), match=("b", "(3, 4)"))
    raises(TypeError, "linear_recurrence", x, x.astype(F16), match=("b", "float16"))
    raises(ValueError, "linear_recurrence", x, x, dim=-3, match="dim -3")
    raises(ValueError, "linear_recurrence", x, x, h0=z(5), match=("h0", "(3,)", "(5,)"))
    raises(ValueError, "linear_recurrence", x, x, h0=z(3), dim=0, match="h0")


def test_selective_scan_errors():
    u, A, B = z(2, 8, 5), z(8, 4), z(2, 2, 4, 5)
    raises(ValueError, "selective_scan", z(8, 5), u, A, B, B, match=("u", "rank 3"))
    raises(ValueError, "selective_scan", u, u, z(7, 4), B, B, match="A channels (7)")
    raises(ValueError, "selective_scan", u, u, A, z(2, 3, 4, 5), z(2, 3, 4, 5),
           match="multiple of B/C groups (3)")
    raises(ValueError, "selective_scan", u, u, A, z(2, 2, 5, 5), z(2, 2, 5, 5),
           match="B state size (5)")
    raises(ValueError, "selective_scan", u, u, A, B, z(2, 2, 4, 6), match="C must have B's shape")
    raises(ValueError, "selective_scan", u, u, A, B, B, D=z(7), match=("D", "(7,)"))
    raises(ValueError, "selective_scan", u, u, A, B, B, delta_bias=z(8, 1),
           match="delta_bias")
    raises(TypeError, "selective_scan", u, u.astype(F16), A, B, B, match="delta")
    raises(ValueError, "selective_scan", u, u, A, B, B, z=z(2, 8, 4), match="z must")


def test_gla_and_helper_errors():
    q, v = z(2, 3, 5, 4), z(2, 3, 5, 6)
    raises(ValueError, "gated_linear_attention", q, z(2, 3, 5, 3), v, match="k must have")
    raises(ValueError, "gated_linear_attention", q, q, z(2, 3, 4, 6),
           match="v sequence length (4)")
    raises(ValueError, "gated_linear_attention", q, q, v, g=z(2, 3, 5, 6), match="g must")
    raises(ValueError, "gated_linear_attention", q, q, v, g=z(2, 3), match=("g", "rank"))
    raises(ValueError, "gated_linear_attention", q, q, v, initial_state=z(2, 3, 6, 4),
           match=("initial_state", "(2, 3, 4, 6)"))
    raises(TypeError, "gated_linear_attention", q, q, v.astype(F16), match="v")
    x, w = z(2, 4, 9), z(4, 3)
    raises(ValueError, "causal_conv1d", x, w, activation="relu", match="activation")
    raises(ValueError, "causal_conv1d", x, z(5, 3), match="weight channels (5)")
    raises(ValueError, "causal_conv1d", x, z(4, 0), match="at least 1")
    raises(ValueError, "causal_conv1d", x, w, bias=z(3), match="bias")
    raises(ValueError, "rms_norm", x, z(4), match=("weight", "(9,)", "(4,)"))
    raises(ValueError, "rms_norm", x, z(9), eps=-1.0, match="eps")
    raises(ValueError, "rms_norm", z(), z(1), match="rank")
    raises(ValueError, "rope", z(1, 2, 3, 5), z(3, dtype=np.int32), match="even")
    raises(TypeError, "rope", z(1, 2, 3, 4), z(3), match=("positions", "float32"))
    raises(ValueError, "rope", z(1, 2, 3, 4), z(4, dtype=np.int32), match="positions length (4)")
    raises(ValueError, "rope", z(1, 2, 3, 4), z(2, 3, dtype=np.int64), match="positions batch size (2)")
    raises(ValueError, "rope", z(1, 2, 3, 4), z(3, dtype=np.int32), theta=0.0, match="theta")


def test_unsupported_dtypes():
    from seqc import _core
    with pytest.raises(TypeError, match="complex64"):
        _core.seqc_dtype(np.complex64)
    # bf16 has no NumPy dtype: its values travel as uint16 bit patterns.
    assert _core.numpy_dtype(seqc._capi.SEQC_BF16) == np.uint16
    assert _core.seqc_dtype(np.dtype(">f4")) == seqc._capi.SEQC_F32


def test_missing_library_is_a_clear_error(tmp_path):
    env = dict(os.environ, SEQC_LIBRARY=str(tmp_path / "nope.so"))
    code = ("import seqc\n"
            "try:\n"
            "    seqc.compile('func.func @f() { return }')\n"
            "except seqc.SeqcError as e:\n"
            "    print('SeqcError:', e)\n")
    res = subprocess.run([sys.executable, "-c", code], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         cwd=os.path.dirname(seqc.__path__[0]))
    out = res.stdout.decode()
    assert res.returncode == 0, res.stderr.decode()
    assert "SeqcError:" in out and "nope.so" in out and "SEQC_LIBRARY" in out


# ---------------------------------------------------------------------------
# compiled modules (library needed)
# ---------------------------------------------------------------------------

ATTENTION = """
func.func @main(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32> {
  %o = seq.attention %q, %k, %v : tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32> -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}
"""


@pytest.fixture(scope="module")
def attention_module():
    return seqc.compile(ATTENTION)


@needs_library
def test_call_argument_errors(attention_module):
    f = attention_module.main
    q = z(2, 4, 8, 16)
    with pytest.raises(TypeError, match=r"@main takes 3 arguments, got 2"):
        f(q, q)
    with pytest.raises(ValueError) as info:
        f(q, z(2, 4, 8, 15), q)
    assert str(info.value) == ("argument 2 ('k') of @main: expected shape "
                               "(2, 4, 8, 16), got (2, 4, 8, 15)")
    with pytest.raises(ValueError, match=r"argument 3 \('v'\) of @main: expected rank 4"):
        f(q, q, z(2, 4, 8))
    with pytest.raises(TypeError, match=r"argument 1 \('q'\) of @main: expected dtype "
                                        r"float32 \(f32\), got float16"):
        f(q.astype(F16), q, q)
    with pytest.raises(TypeError, match="argument 2 .* got int64"):
        f(q, q.astype(np.int64), q)


@needs_library
def test_unnamed_arguments_use_numbers(attention_module):
    f = seqc.Function(attention_module, "main")   # no names known
    with pytest.raises(ValueError, match=r"^argument #2 of @main: expected shape"):
        f(z(2, 4, 8, 16), z(1, 4, 8, 16), z(2, 4, 8, 16))


@needs_library
def test_compile_garbage_reports_located_errors():
    with pytest.raises(seqc.SeqcError) as info:
        seqc.compile("func.func @main( this is not mlir")
    assert "error:" in str(info.value)
    assert "error:" in info.value.message
    # a verifier error of a seq op: located, with the op's message
    bad = ATTENTION.replace("%k: tensor<2x4x8x16xf32>", "%k: tensor<2x4x8x15xf32>", 1) \
                   .replace("tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32> ->",
                            "tensor<2x4x8x16xf32>, tensor<2x4x8x15xf32>, tensor<2x4x8x16xf32> ->")
    with pytest.raises(seqc.SeqcError) as info:
        seqc.compile(bad)
    text = str(info.value)
    assert "error:" in text and "3:" in text and "head dim" in text, text
    # the library keeps working after errors
    assert "main" in seqc.compile(ATTENTION)


@needs_library
def test_missing_function_and_bad_target(attention_module):
    with pytest.raises(KeyError, match="@nope"):
        attention_module["nope"]
    with pytest.raises(AttributeError):
        attention_module.nope
    with pytest.raises(ValueError, match="target"):
        seqc.compile(ATTENTION, target="tpu")
    with pytest.raises(FileNotFoundError):
        seqc.compile("does/not/exist.mlir")
    with pytest.raises(FileNotFoundError):
        seqc.load("does/not/exist.so")


def test_bad_compile_options_are_errors():
    src = ("func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {\n"
           "  return %x : tensor<4xf32>\n}")
    with pytest.raises(seqc.SeqcError, match="attention-tile-q.*positive"):
        seqc.compile(src, options="attention-tile-q=0")
    with pytest.raises(seqc.SeqcError, match="unknown compile option"):
        seqc.compile(src, options="tile=3")


def test_upstream_parser_crash_is_an_error():
    """Fuzzing found that linalg.transpose's parser (upstream MLIR 22)
    crashes on a float in its permutation. seqc recovers the crash: the
    compile fails with a message, and the process (and later compiles)
    carry on."""
    bad = """
func.func @f(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
  %e = tensor.empty() : tensor<3x2xf32>
  %t = linalg.transpose ins(%x : tensor<2x3xf32>) outs(%e : tensor<3x2xf32>) permutation = [1, 1.0e-30]
  return %t : tensor<3x2xf32>
}
"""
    with pytest.raises(seqc.SeqcError, match="the MLIR parser crashed on this input"):
        seqc.compile(bad, target="cpu")
    good = bad.replace("1.0e-30", "0")
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(seqc.compile(good, target="cpu").f(x), x.T)


def test_bounds_check_option_catches_out_of_bounds_reads(tmp_path):
    """bounds-check=1 (SEQC_BOUNDS_CHECK=1 in the environment) makes the CPU
    code check every memory access: an index read from the input that is
    out of range aborts with the op and its source location instead of
    reading past the buffer. (The correctness suite passes with it on:
    scripts/test-sanitized.sh.)"""
    script = tmp_path / "oob.py"
    script.write_text(
        "import sys, numpy as np\n"
        "sys.path.insert(0, %r)\n"
        "import seqc\n"
        "m = seqc.compile('''\n"
        "func.func @f(%%t: tensor<4xf32>, %%i: tensor<i32>) -> tensor<1xf32> {\n"
        "  %%p = tensor.extract %%i[] : tensor<i32>\n"
        "  %%ix = arith.index_cast %%p : i32 to index\n"
        "  %%v = tensor.extract %%t[%%ix] : tensor<4xf32>\n"
        "  %%r = tensor.from_elements %%v : tensor<1xf32>\n"
        "  return %%r : tensor<1xf32>\n"
        "}''', target='cpu', options='bounds-check=1')\n"
        "print(float(m.f(np.arange(4, dtype=np.float32), np.array(int(sys.argv[1]), np.int32))[0]))\n"
        % os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__)))), "python"))
    ok = subprocess.run([sys.executable, str(script), "2"], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.strip() == "2.0", ok.stderr
    bad = subprocess.run([sys.executable, str(script), "9"], capture_output=True, text=True)
    assert bad.returncode != 0
    text = bad.stdout + bad.stderr
    assert "out-of-bounds access" in text and 'loc("<input>":5:' in text
    with pytest.raises(seqc.SeqcError, match="option 'bounds-check' is for target=cpu"):
        seqc.compile("func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> { return %x : tensor<4xf32> }",
                     target="cuda", options="bounds-check=1")


# A 4 TiB intermediate, summed: the signature and body of a function (here
# @direct and the private function @nested calls; test_cuda's device
# out-of-memory test too).
HUGE_SUM = """(%x: tensor<4xf32>) -> tensor<f32> {
  %c = arith.constant 1.0 : f32
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1099511627776xf32>
  %big = linalg.fill ins(%c : f32) outs(%e : tensor<1099511627776xf32>) -> tensor<1099511627776xf32>
  %e0 = tensor.empty() : tensor<f32>
  %acc = linalg.fill ins(%z : f32) outs(%e0 : tensor<f32>) -> tensor<f32>
  %s = linalg.reduce ins(%big : tensor<1099511627776xf32>) outs(%acc : tensor<f32>) dimensions = [0]
    (%a: f32, %b: f32) {
      %r = arith.addf %a, %b : f32
      linalg.yield %r : f32
    }
  return %s : tensor<f32>
}"""

OUT_OF_MEMORY = ("func.func private @huge_sum" + HUGE_SUM + "\n"
                 "func.func @direct" + HUGE_SUM + """
func.func @nested(%x: tensor<4xf32>) -> tensor<f32> {
  %s = func.call @huge_sum(%x) : (tensor<4xf32>) -> tensor<f32>
  return %s : tensor<f32>
}
func.func @fine(%x: tensor<4xf32>) -> tensor<4xf32> {
  %d = arith.addf %x, %x : tensor<4xf32>
  return %d : tensor<4xf32>
}
""")


def check_out_of_memory(module):
    """A 4 TiB intermediate fails to allocate: the call raises (directly and
    through a call of a private function), and the module and process go
    on."""
    x = np.ones(4, np.float32)
    for name in ("direct", "nested"):
        with pytest.raises(seqc.SeqcError,
                           match=r"@%s: out of memory: allocating 4398046511\d+ bytes failed"
                           % name):
            module[name](x)
    np.testing.assert_array_equal(module.fine(x), 2 * x)


def test_cpu_out_of_memory_is_an_error():
    """CPU code allocates through seqc's hooks (seqc-host-alloc-checks): a
    failed malloc returns from the compiled function and becomes the call's
    error, not a store through a null pointer."""
    check_out_of_memory(seqc.compile(OUT_OF_MEMORY, target="cpu"))
