"""Shared helpers of the seqc Python tests."""

import numpy as np

TOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float16): 1e-2}


def rng(seed):
    return np.random.default_rng(seed)


def randn(r, shape, dtype=np.float32, scale=1.0):
    return (scale * r.standard_normal(shape)).astype(dtype)


def uniform(r, lo, hi, shape, dtype=np.float32):
    return r.uniform(lo, hi, shape).astype(dtype)


def f64(x):
    """What the reference sees: the stored (possibly f16-rounded) values."""
    return np.asarray(x).astype(np.float64)


def assert_close(out, ref, dtype, name="output", tol=None):
    """‖out − ref‖ / ‖ref‖ (Frobenius; the absolute max error when
    ‖ref‖ == 0) below the tolerance of ``dtype``. Where the reference is
    finite the output must be finite; where it is ±inf the output must be
    the same infinity. NaN never passes."""
    out = np.asarray(out)
    ref = np.asarray(ref, dtype=np.float64)
    assert out.shape == ref.shape, "%s: shape %s, expected %s" % (
        name, out.shape, ref.shape)
    o = out.astype(np.float64)
    assert not np.isnan(o).any(), "%s: %d NaN(s) at %s" % (
        name, np.isnan(o).sum(), np.argwhere(np.isnan(o))[:5].tolist())
    finite = np.isfinite(ref)
    bad = finite & ~np.isfinite(o)
    assert not bad.any(), "%s: non-finite values where the reference is " \
        "finite, at %s" % (name, np.argwhere(bad)[:5].tolist())
    inf_mismatch = ~finite & (o != ref)
    assert not inf_mismatch.any(), "%s: expected %s at %s, got %s" % (
        name, ref[inf_mismatch][:5], np.argwhere(inf_mismatch)[:5].tolist(),
        o[inf_mismatch][:5])
    tol = TOL[np.dtype(dtype)] if tol is None else tol
    r = np.where(finite, ref, 0.0)
    diff = np.where(finite, o, 0.0) - r
    norm = np.linalg.norm(r)
    err = np.linalg.norm(diff) / norm if norm > 0 else (
        np.abs(diff).max() if diff.size else 0.0)
    assert err < tol, "%s: relative error %.3g >= %.3g (max abs diff %.3g)" % (
        name, err, tol, np.abs(diff).max() if diff.size else 0.0)
    return err


def strided(x, kind):
    """A view of the values of ``x`` with a different memory layout:
    "offset" (a slice of a larger buffer at a non-zero offset), "transpose"
    (the last two axes stored swapped), "step" (every other element)."""
    x = np.asarray(x)
    if kind == "contiguous":
        return x
    if kind == "offset":
        big = np.empty((x.size + 7,), x.dtype)
        view = big[3:3 + x.size].reshape(x.shape)
        view[...] = x
        assert not view.flags.owndata and view.ctypes.data != big.ctypes.data
        return view
    if kind == "transpose":
        if x.ndim < 2:
            return strided(x, "step")
        t = np.ascontiguousarray(np.swapaxes(x, -1, -2))
        view = np.swapaxes(t, -1, -2)
        assert not view.flags.c_contiguous or x.shape[-1] == 1 or x.shape[-2] == 1
        return view
    if kind == "step":
        big = np.empty(x.shape[:-1] + (2 * x.shape[-1] + 1,), x.dtype)
        view = big[..., 1::2]
        view[...] = x
        return view
    raise ValueError(kind)
