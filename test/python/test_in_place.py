"""Results written in place (`seq.in_place`): a decode step's KV cache.

The step writes row `pos` of the cache and returns the per-row sums of the
updated cache. The cache must be updated in the caller's buffer (no copy is
returned), on the JIT, the ahead-of-time library and the GPU, and every other
behaviour (read-only inputs, `out=`, mismatched buffers in the C API) must
keep the function's value semantics.
"""

import ctypes
import os
import subprocess

import numpy as np
import pytest

import seqc
from seqc import _capi

from test_aot import SEQC_TOOL

SOURCE = """
func.func @step(%cache: tensor<2x8x4xf32>, %pos: tensor<i32>, %new: tensor<2x4xf32>)
    -> (tensor<2x4xf32>, tensor<2x8x4xf32> {seq.in_place = 0 : i64}) {
  %p = tensor.extract %pos[] : tensor<i32>
  %i = arith.index_cast %p : i32 to index
  %n3 = tensor.expand_shape %new [[0, 1], [2]] output_shape [2, 1, 4]
      : tensor<2x4xf32> into tensor<2x1x4xf32>
  %c = tensor.insert_slice %n3 into %cache[0, %i, 0] [2, 1, 4] [1, 1, 1]
      : tensor<2x1x4xf32> into tensor<2x8x4xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<2x4xf32>) -> tensor<2x4xf32>
  %s = linalg.reduce ins(%c : tensor<2x8x4xf32>) outs(%f : tensor<2x4xf32>)
      dimensions = [1]
    (%a: f32, %b: f32) {
      %r = arith.addf %a, %b : f32
      linalg.yield %r : f32
    }
  return %s, %c : tensor<2x4xf32>, tensor<2x8x4xf32>
}
"""


def _steps(fn, cache, as_array=np.asarray, convert=lambda x: x):
    rng = np.random.default_rng(3)
    ref = np.asarray(convert(cache)).astype(np.float64)
    for t in [0, 5, 7, 2]:
        new = rng.standard_normal((2, 4)).astype(np.float32)
        sums, updated = fn(cache, as_array(np.array(t, np.int32)), as_array(new))
        ref[:, t] = new
        assert updated is cache, "the cache must be updated, not copied"
        np.testing.assert_array_equal(np.asarray(convert(cache)), ref)
        np.testing.assert_allclose(np.asarray(convert(sums)), ref.sum(1),
                                   rtol=1e-6, atol=1e-6)


def test_jit_updates_cache_in_place():
    fn = seqc.compile(SOURCE, target="cpu").step
    assert fn.in_place == [-1, 0]
    _steps(fn, np.zeros((2, 8, 4), np.float32))


def test_read_only_and_strided_caches_are_copied():
    fn = seqc.compile(SOURCE, target="cpu").step
    base = np.zeros((2, 8, 4), np.float32)
    base.setflags(write=False)
    sums, updated = fn(base, np.array(3, np.int32), np.ones((2, 4), np.float32))
    assert updated is not base and base.sum() == 0
    np.testing.assert_array_equal(updated[:, 3], 1.0)
    # A non-contiguous view: the updated copy is returned, the view is
    # left as it was (value semantics).
    wide = np.zeros((2, 16, 4), np.float32)
    view = wide[:, ::2]
    _, updated = fn(view, np.array(1, np.int32), np.ones((2, 4), np.float32))
    assert wide.sum() == 0 and updated[:, 1].sum() == 8


def test_out_argument():
    fn = seqc.compile(SOURCE, target="cpu").step
    cache = np.zeros((2, 8, 4), np.float32)
    sums = np.empty((2, 4), np.float32)
    got = fn(cache, np.array(0, np.int32), np.ones((2, 4), np.float32),
             out=(sums, None))
    assert got[0] is sums and got[1] is cache and cache[:, 0].sum() == 8
    with pytest.raises(ValueError, match=r"written in place into argument 1 "
                                         r"\('cache'\) of @step"):
        fn(cache, np.array(0, np.int32), np.ones((2, 4), np.float32),
           out=(sums, np.zeros_like(cache)))


def test_c_api_checks_the_in_place_buffer():
    module = seqc.compile(SOURCE, target="cpu")
    backend = module._backend
    cache = np.zeros((2, 8, 4), np.float32)
    other = np.zeros_like(cache)
    arrays = [cache, np.array(1, np.int32), np.ones((2, 4), np.float32),
              np.empty((2, 4), np.float32), other]
    with pytest.raises(seqc.SeqcError,
                       match=r"result #1 is written in place into input #0 "
                             r"\(seq.in_place\): pass input #0's buffer"):
        backend.invoke("step", arrays)
    assert cache.sum() == 0 and other.sum() == 0
    lib = _capi.lib()
    k = ctypes.c_int64()
    assert lib.seqc_function_in_place(backend._handle, b"step", 1,
                                      ctypes.byref(k)) == 0 and k.value == 0
    assert lib.seqc_function_in_place(backend._handle, b"step", 2,
                                      ctypes.byref(k)) != 0
    assert "has 2 results, index 2 is out of range" in _capi.last_error()


def test_library_updates_cache_in_place(tmp_path):
    src = tmp_path / "step.mlir"
    src.write_text(SOURCE)
    out = tmp_path / "step.so"
    subprocess.run([SEQC_TOOL, str(src), "-o", str(out)], check=True)
    header = (tmp_path / "step.h").read_text()
    assert "result 1 is written in place into input0" in header
    fn = seqc.load(str(out)).step
    assert fn.in_place == [-1, 0]
    _steps(fn, np.zeros((2, 8, 4), np.float32))


@pytest.mark.cuda
def test_cuda_cache_stays_on_device():
    import torch
    fn = seqc.compile(SOURCE, target="cuda").step
    cache = torch.zeros((2, 8, 4), device="cuda")
    ptr = cache.data_ptr()
    _steps(fn, cache, as_array=lambda a: torch.from_numpy(a).cuda(),
           convert=lambda t: t.cpu().numpy())
    assert cache.data_ptr() == ptr
    # NumPy arrays through a CUDA module: staged, and copied back.
    host = np.zeros((2, 8, 4), np.float32)
    _steps(fn, host)
