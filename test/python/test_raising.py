"""Unfused attention through the whole CPU pipeline: raised when the mask is
a band (seq-raise-attention), compiled as plain linalg when it is not
(seqc-decompose-aggregates); both against float64 NumPy."""

import numpy as np
import pytest

import seqc
from testutil import rng

pytestmark = pytest.mark.needs_library

UNFUSED = """
func.func @main(%q: tensor<2x5x4xf32>, %k: tensor<2x5x4xf32>, %v: tensor<2x5x4xf32>) -> tensor<2x5x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<2x4x5xf32>
  %kt = linalg.transpose ins(%k : tensor<2x5x4xf32>) outs(%e0 : tensor<2x4x5xf32>) permutation = [0, 2, 1]
  %e1 = tensor.empty() : tensor<2x5x5xf32>
  %z1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<2x5x5xf32>) -> tensor<2x5x5xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x5x4xf32>, tensor<2x4x5xf32>) outs(%z1 : tensor<2x5x5xf32>) -> tensor<2x5x5xf32>
  %c = arith.constant dense<0.5> : tensor<2x5x5xf32>
  %ss = arith.mulf %s, %c : tensor<2x5x5xf32>
  %vis2 = arith.constant dense<MASK> : tensor<5x5xi1>
  %eb = tensor.empty() : tensor<2x5x5xi1>
  %vis = linalg.broadcast ins(%vis2 : tensor<5x5xi1>) outs(%eb : tensor<2x5x5xi1>) dimensions = [0]
  %ninf = arith.constant dense<0xFF800000> : tensor<2x5x5xf32>
  %sm = arith.select %vis, %ss, %ninf : tensor<2x5x5xi1>, tensor<2x5x5xf32>
  %p = linalg.softmax dimension(2) ins(%sm : tensor<2x5x5xf32>) outs(%e1 : tensor<2x5x5xf32>) -> tensor<2x5x5xf32>
  %e4 = tensor.empty() : tensor<2x5x4xf32>
  %z4 = linalg.fill ins(%zero : f32) outs(%e4 : tensor<2x5x4xf32>) -> tensor<2x5x4xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x5x5xf32>, tensor<2x5x4xf32>) outs(%z4 : tensor<2x5x4xf32>) -> tensor<2x5x4xf32>
  return %o : tensor<2x5x4xf32>
}
"""


def numpy_attention(q, k, v, visible):
    s = 0.5 * q.astype(np.float64) @ np.swapaxes(k, 1, 2).astype(np.float64)
    s = np.where(visible[None], s, -np.inf)
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    return p @ v.astype(np.float64)


@pytest.mark.parametrize("kind", ["causal", "window", "not_a_band"])
def test_unfused_attention_compiles_and_matches(kind):
    i, j = np.meshgrid(np.arange(5), np.arange(5), indexing="ij")
    visible = {"causal": j <= i,
               "window": (j >= i - 1) & (j <= i + 2),
               # query 2 sees keys 0 and 2 but not 1: not a band
               "not_a_band": (j <= i) & ~((i == 2) & (j == 1))}[kind]
    text = UNFUSED.replace("MASK", "[%s]" % ", ".join(
        "[%s]" % ", ".join("true" if x else "false" for x in row)
        for row in visible))
    r = rng(5)
    q, k, v = (r.standard_normal((2, 5, 4)).astype(np.float32)
               for _ in range(3))
    out = seqc.compile(text, target="cpu")["main"](q, k, v)
    np.testing.assert_allclose(out, numpy_attention(q, k, v, visible),
                               rtol=1e-5, atol=1e-6)
