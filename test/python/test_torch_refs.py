"""The benchmarks' baselines that are not a library call (benchmarks/
torch_refs: the chunked gated linear attention, the time-parallel selective
scan), run with NumPy, against the float64 references: the GPU benchmark's
baselines compute the same functions."""

import os
import sys

import numpy as np
import pytest

import reference as ref

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "benchmarks"))
import torch_refs  # noqa: E402


@pytest.mark.parametrize("chunk", [1, 4, 16])
def test_gla_chunked_matches_the_recurrence(chunk):
    r = np.random.default_rng(77)
    B, H, T, K, V = 2, 3, 32, 8, 5
    q, k = r.standard_normal((B, H, T, K)), r.standard_normal((B, H, T, K))
    v = r.standard_normal((B, H, T, V))
    g = -r.uniform(0.0, 0.3, (B, H, T, K))
    got = torch_refs.gla_chunked(np, q, k, v, g, chunk=chunk)
    want, _ = ref.gated_linear_attention(q, k, v, g)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


class _NumpyAsTorch:
    """The few torch calls selective_scan_parallel makes, on NumPy arrays."""
    exp = staticmethod(np.exp)
    einsum = staticmethod(np.einsum)


class _Arr(np.ndarray):
    def unsqueeze(self, d):
        return np.expand_dims(self, d).view(_Arr)

    def transpose(self, *axes):
        if len(axes) == 2:
            order = list(range(self.ndim))
            order[axes[0]], order[axes[1]] = order[axes[1]], order[axes[0]]
            axes = order
        return np.ndarray.transpose(self, *axes).view(_Arr)


def test_selective_scan_parallel_matches_the_reference():
    r = np.random.default_rng(78)
    B, D, L, N = 2, 3, 17, 4
    u = r.standard_normal((B, D, L)).view(_Arr)
    delta = r.uniform(0.01, 0.2, (B, D, L)).view(_Arr)
    A = -r.uniform(0.5, 2.0, (D, N))
    Bm, Cm = (r.standard_normal((B, N, L)).view(_Arr) for _ in range(2))

    def sequential_scan(a, b, dim):   # the recurrence, step by step
        x = np.zeros_like(b)
        h = np.zeros(b.shape[:dim] + b.shape[dim + 1:])
        for t in range(b.shape[dim]):
            h = a[:, :, t] * h + b[:, :, t]
            x[:, :, t] = h
        return x

    got = torch_refs.selective_scan_parallel(_NumpyAsTorch, u, delta, A, Bm,
                                             Cm, sequential_scan)
    want, _ = ref.selective_scan(np.asarray(u), np.asarray(delta), A,
                                 np.asarray(Bm)[:, None], np.asarray(Cm)[:, None])
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-10, atol=1e-10)
