"""bf16 storage end to end: compiled functions with bf16 arguments and
results, called with bf16 bit patterns (uint16 arrays), against float64
references computed on the bf16-rounded inputs (DESIGN bound: 1e-2)."""

import numpy as np
import pytest

import reference as ref
import seqc


def bf16(x):
    """x rounded to bf16: (bits, the same values as float64)."""
    bits = seqc.to_bf16_bits(x)
    return bits, seqc.from_bf16_bits(bits).astype(np.float64)


def rel(x, y):
    return np.linalg.norm(x - y) / np.linalg.norm(y)


def test_bits_round_trip_and_rounding():
    x = np.array([1.0, -2.5, 3.14159, 1e-3, 65504.0, np.inf, -0.0],
                 np.float32)
    back = seqc.from_bf16_bits(seqc.to_bf16_bits(x))
    assert back[0] == 1.0 and back[1] == -2.5 and np.isinf(back[5])
    assert np.all(np.abs(back[:5] - x[:5]) <= np.abs(x[:5]) * 2.0 ** -8)
    # Round to nearest even: 1 + 2^-8 is a tie between 1 and 1 + 2^-7.
    assert seqc.from_bf16_bits(seqc.to_bf16_bits(np.float32(1 + 2 ** -8))) == 1.0
    assert np.isnan(seqc.from_bf16_bits(seqc.to_bf16_bits(np.float32(np.nan))))


@pytest.mark.parametrize("causal", [False, True])
def test_attention_and_rms_norm_in_bf16(causal):
    g = np.random.default_rng(5 + causal)
    B, Hq, Hkv, S, D = 2, 4, 2, 37, 16
    T = "tensor<%dx%dx%dx%dxbf16>"
    tq, tk = T % (B, Hq, S, D), T % (B, Hkv, S, D)
    src = """
    func.func @main(%%q: %s, %%k: %s, %%v: %s, %%w: tensor<%dxbf16>) -> %s {
      %%n = seq.rms_norm %%q, %%w : %s, tensor<%dxbf16> -> %s
      %%o = seq.attention %%n, %%k, %%v %s : %s, %s, %s -> %s
      return %%o : %s
    }""" % (tq, tk, tk, D, tq, tq, D, tq, "{causal}" if causal else "",
            tq, tk, tk, tq, tq)
    fn = seqc.compile(src).main
    q, q64 = bf16(g.standard_normal((B, Hq, S, D)).astype(np.float32))
    k, k64 = bf16(g.standard_normal((B, Hkv, S, D)).astype(np.float32))
    v, v64 = bf16(g.standard_normal((B, Hkv, S, D)).astype(np.float32))
    w, w64 = bf16(g.uniform(0.5, 1.5, D).astype(np.float32))
    out = fn(q, k, v, w)
    assert out.dtype == np.uint16 and out.shape == (B, Hq, S, D)
    got = seqc.from_bf16_bits(out).astype(np.float64)
    expected = ref.attention(ref.rms_norm(q64, w64, eps=1e-6), k64, v64,
                             causal=causal)
    if isinstance(expected, tuple):
        expected = expected[0]
    assert np.all(np.isfinite(got))
    assert rel(got, expected) < 1e-2


def test_bf16_argument_errors():
    src = """
    func.func @main(%x: tensor<4xbf16>) -> tensor<4xbf16> {
      return %x : tensor<4xbf16>
    }"""
    fn = seqc.compile(src).main
    with pytest.raises(TypeError, match="expected bf16"):
        fn(np.zeros(4, np.float32))
    bits = seqc.to_bf16_bits(np.arange(4, dtype=np.float32))
    np.testing.assert_array_equal(fn(bits), bits)


def test_torch_bfloat16_tensors():
    torch = pytest.importorskip("torch")
    src = """
    func.func @main(%x: tensor<3x8xbf16>, %w: tensor<8xbf16>) -> tensor<3x8xbf16> {
      %y = seq.rms_norm %x, %w : tensor<3x8xbf16>, tensor<8xbf16> -> tensor<3x8xbf16>
      return %y : tensor<3x8xbf16>
    }"""
    fn = seqc.compile(src).main
    x = torch.randn(3, 8).to(torch.bfloat16)
    w = torch.ones(8, dtype=torch.bfloat16)
    y = fn(x, w)
    assert isinstance(y, torch.Tensor) and y.dtype == torch.bfloat16
    x64 = x.to(torch.float64).numpy()
    expected = x64 / np.sqrt((x64 ** 2).mean(-1, keepdims=True) + 1e-6)
    assert rel(y.to(torch.float64).numpy(), expected) < 1e-2
