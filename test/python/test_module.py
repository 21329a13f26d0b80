"""seqc.compile / seqc.load and calling compiled functions directly:
argument conversion, strided buffers, several functions per module."""

import os
import subprocess

import numpy as np
import pytest

import reference as ref
import seqc
from testutil import assert_close, f64, randn, rng, strided

pytestmark = pytest.mark.needs_library

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TWO_FUNCTIONS = """
func.func @norm(%x: tensor<3x17xf32>, %w: tensor<17xf32>) -> tensor<3x17xf32> {
  %y = seq.rms_norm %x, %w {eps = 1.0e-5 : f32} : tensor<3x17xf32>, tensor<17xf32> -> tensor<3x17xf32>
  return %y : tensor<3x17xf32>
}
func.func @cumsum(%x: tensor<3x17xf32>) -> (tensor<3x17xf32>, tensor<3xf32>) {
  %y, %c = seq.scan ins(%x : tensor<3x17xf32>) {dim = 1 : i64} -> tensor<3x17xf32>, tensor<3xf32> {
  ^bb0(%l: f32, %r: f32):
    %s = arith.addf %l, %r : f32
    seq.yield %s : f32
  }
  return %y, %c : tensor<3x17xf32>, tensor<3xf32>
}
"""


@pytest.fixture(scope="module")
def module():
    return seqc.compile(TWO_FUNCTIONS)


def test_functions_and_access(module):
    assert sorted(module.functions) == ["cumsum", "norm"]
    assert "norm" in module and len(module) == 2
    assert module.norm is module["norm"]
    assert module.norm.arg_names == ["x", "w"]
    assert [s for _, s in module.cumsum.results] == [(3, 17), (3,)]
    assert "@cumsum" in repr(module) and "@norm" in repr(module.norm)


@pytest.mark.parametrize("layout", ["contiguous", "offset", "transpose", "step"])
def test_call_with_strided_inputs(module, layout):
    r = rng(1)
    x = strided(randn(r, (3, 17)), layout)
    w = randn(r, (17,))
    y = module.norm(x, w)
    assert isinstance(y, np.ndarray) and y.dtype == np.float32
    assert_close(y, ref.rms_norm(f64(x), f64(w), 1e-5), np.float32)
    s, c = module.cumsum(x)
    assert_close(s, np.cumsum(f64(x), 1), np.float32)
    assert_close(c, f64(x).sum(1), np.float32)


def test_call_with_unusual_layouts(module):
    r = rng(2)
    x = randn(r, (3, 17))
    # negative strides and a byte stride that is no multiple of the item size
    # (a field of a packed record) are copied; lists are converted
    rec = np.zeros((3, 17), dtype=[("a", np.float32), ("b", np.int8)])
    rec["a"] = x
    assert rec["a"].strides[1] == 5
    w = np.ones(17, np.float32)
    for view in (x[::-1, ::-1], rec["a"]):
        assert_close(module.norm(view, w), ref.rms_norm(f64(view), f64(w), 1e-5),
                     np.float32)
    assert_close(module.norm(x.tolist(), [1.0] * 17),
                 ref.rms_norm(f64(x), f64(w), 1e-5), np.float32)
    # a broadcast (zero-stride) input
    xb = np.broadcast_to(x[:1], (3, 17))
    assert xb.strides[0] == 0
    assert_close(module.cumsum(xb)[0], np.cumsum(f64(xb), 1), np.float32)


def test_outputs_are_fresh_and_inputs_untouched(module):
    x = randn(rng(3), (3, 17))
    keep = x.copy()
    a, _ = module.cumsum(x)
    b, _ = module.cumsum(x)
    assert a is not b and not np.shares_memory(a, b)
    np.testing.assert_array_equal(x, keep)
    assert os.environ.get("SEQC_POISON_OUTPUTS") == "1"


def test_compile_from_path_and_bytes(tmp_path):
    p = tmp_path / "m.mlir"
    p.write_text(TWO_FUNCTIONS)
    for src in (p, str(p), TWO_FUNCTIONS.encode()):
        m = seqc.compile(src, target="cpu")
        assert sorted(m.functions) == ["cumsum", "norm"]
    assert seqc.compile(p).origin == str(p)


def test_calling_a_closed_module_says_so():
    """A function of a closed module raises SeqcError naming it (not an
    AttributeError from the released backend)."""
    m = seqc.compile(TWO_FUNCTIONS, target="cpu")
    f = m["cumsum"]
    x = randn(rng(1071), (3, 17)).astype(np.float32)
    f(x)
    m.close()
    with pytest.raises(seqc.SeqcError, match="@cumsum: its module was closed"):
        f(x)


def test_load_ahead_of_time_module(tmp_path):
    tool = os.path.join(REPO, "build", "bin", "seqc")
    if not os.path.isfile(tool):
        pytest.skip("the seqc AOT tool is not built (build/bin/seqc)")
    src = tmp_path / "m.mlir"
    src.write_text(TWO_FUNCTIONS)
    so = tmp_path / "m.so"
    res = subprocess.run([tool, str(src), "--target=cpu", "-o", str(so)],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert res.returncode == 0, res.stdout.decode()
    m = seqc.load(so)
    x = randn(rng(4), (3, 17))
    assert_close(m.cumsum(x)[0], np.cumsum(f64(x), 1), np.float32)


def test_out_arrays_are_written_in_place():
    src = """
    func.func @main(%a: tensor<3x9xf32>, %b: tensor<3x9xf32>)
        -> (tensor<3x9xf32>, tensor<3xf32>) {
      %h, %l = seq.linear_recurrence %a, %b {dim = 1 : i64}
          : tensor<3x9xf32>, tensor<3x9xf32> -> tensor<3x9xf32>, tensor<3xf32>
      return %h, %l : tensor<3x9xf32>, tensor<3xf32>
    }
    """
    fn = seqc.compile(src).main
    rng = np.random.default_rng(3)
    a = rng.uniform(0.5, 1.0, (3, 9)).astype(np.float32)
    b = rng.standard_normal((3, 9)).astype(np.float32)
    h_ref, l_ref = fn(a, b)
    h = np.full((3, 9), np.nan, np.float32)
    last = np.full(3, np.nan, np.float32)
    got = fn(a, b, out=(h, last))
    assert got[0] is h and got[1] is last
    np.testing.assert_array_equal(h, h_ref)
    np.testing.assert_array_equal(last, l_ref)
    with pytest.raises(TypeError, match="out\\[1\\].*dtype"):
        fn(a, b, out=(h, last.astype(np.float64)))
    with pytest.raises(ValueError, match="out\\[0\\].*contiguous"):
        fn(a, b, out=(np.zeros((9, 3), np.float32).T, last))
    with pytest.raises(TypeError, match="2 results, got 1"):
        fn(a, b, out=(h,))
