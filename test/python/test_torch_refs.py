"""The benchmarks' chunked gated-linear-attention baseline
(benchmarks/torch_refs.gla_chunked), run with NumPy, against the recurrent
float64 reference: the GPU benchmark's baseline computes the same function."""

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
