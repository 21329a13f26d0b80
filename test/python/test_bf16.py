"""bf16 storage end to end: compiled functions with bf16 arguments and
results, called with bf16 bit patterns (uint16 arrays), against float64
references computed on the bf16-rounded inputs (DESIGN bound: 1e-2)."""

import os

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


# f32 values whose bf16 rounding has an edge: ties to even both ways, a
# negative tie, overflow to +-inf, infinities, NaN, a denormal, -0.
ROUNDING_EDGES = np.array(
    [1 + 2 ** -8, 1 + 3 * 2 ** -8, -(1 + 2 ** -8), 3.4e38, -3.4e38, np.inf,
     -np.inf, np.nan, 1e-40, -0.0, 0.1, 65504.0], np.float32)
TRUNCF_SOURCE = """
func.func @main(%%x: tensor<%dxf32>) -> tensor<%dxbf16> {
  %%y = arith.truncf %%x : tensor<%dxf32> to tensor<%dxbf16>
  return %%y : tensor<%dxbf16>
}""" % ((len(ROUNDING_EDGES),) * 5)


def test_compiled_f32_to_bf16_rounding():
    """Compiled code's f32 -> bf16 rounding, bit for bit against the
    reference rounding (nearest even, NaN kept). On CPUs without a bf16
    conversion instruction LLVM calls __truncsfbf2, which libgcc lacks
    before GCC 13: the JIT takes seqc's own (HostRuntime.c)."""
    out = seqc.compile(TRUNCF_SOURCE).main(ROUNDING_EDGES)
    assert out.dtype == np.uint16
    np.testing.assert_array_equal(out, seqc.to_bf16_bits(ROUNDING_EDGES))


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


# The functional ops take bf16 too: uint16 bit arrays in, uint16 bits out;
# torch bfloat16 tensors in, torch bfloat16 tensors out. References run in
# float64 on the bf16-rounded inputs; f32 parameters stay f32 where the op
# allows it (weights, gates, states).

def _g(seed):
    return np.random.default_rng(seed)


def _out64(bits):
    assert bits.dtype == np.uint16
    got = seqc.from_bf16_bits(bits).astype(np.float64)
    assert np.all(np.isfinite(got))
    return got


@pytest.mark.parametrize("causal,Hq,Hkv,Sq,Skv", [(True, 4, 2, 33, 33),
                                                  (False, 3, 1, 1, 19),
                                                  (True, 2, 2, 5, 70)])
def test_functional_attention_bf16(causal, Hq, Hkv, Sq, Skv):
    g = _g(Hq * 100 + Sq)
    q, q64 = bf16(g.standard_normal((2, Hq, Sq, 24)).astype(np.float32))
    k, k64 = bf16(g.standard_normal((2, Hkv, Skv, 24)).astype(np.float32))
    v, v64 = bf16(g.standard_normal((2, Hkv, Skv, 24)).astype(np.float32))
    out = seqc.attention(q, k, v, causal=causal)
    expected = ref.attention(q64, k64, v64, causal=causal)
    expected = expected[0] if isinstance(expected, tuple) else expected
    assert rel(_out64(out), expected) < 1e-2


def test_functional_recurrence_norm_rope_conv_bf16():
    g = _g(11)
    a, a64 = bf16(g.uniform(0.5, 1.0, (3, 41)).astype(np.float32))
    b, b64 = bf16(g.standard_normal((3, 41)).astype(np.float32))
    h, last = seqc.linear_recurrence(a, b, reverse=True)
    h_ref, last_ref = ref.linear_recurrence(a64, b64, reverse=True)
    assert rel(_out64(h), h_ref) < 1e-2 and rel(_out64(last), last_ref) < 1e-2

    x, x64 = bf16(g.standard_normal((2, 3, 9, 16)).astype(np.float32))
    w, w64 = bf16(g.uniform(0.5, 1.5, 16).astype(np.float32))
    assert rel(_out64(seqc.rms_norm(x, w)), ref.rms_norm(x64, w64)) < 1e-2
    pos = np.arange(9) * 3
    assert rel(_out64(seqc.rope(x, pos)), ref.rope(x64, pos)) < 1e-2

    u, u64 = bf16(g.standard_normal((2, 8, 13)).astype(np.float32))
    cw, cw64 = bf16(g.standard_normal((8, 4)).astype(np.float32))
    got = seqc.causal_conv1d(u, cw, activation="silu")
    assert rel(_out64(got), ref.causal_conv1d(u64, cw64, activation="silu")) < 1e-2


def test_functional_gla_and_selective_scan_bf16():
    g = _g(12)
    q, q64 = bf16(g.standard_normal((1, 2, 17, 8)).astype(np.float32))
    k, k64 = bf16(g.standard_normal((1, 2, 17, 8)).astype(np.float32))
    v, v64 = bf16(g.standard_normal((1, 2, 17, 6)).astype(np.float32))
    gate, gate64 = bf16(-g.uniform(0.01, 0.5, (1, 2, 17, 8)).astype(np.float32))
    o, s = seqc.gated_linear_attention(q, k, v, g=gate, output_final_state=True)
    o_ref, s_ref = ref.gated_linear_attention(q64, k64, v64, g=gate64)
    assert rel(_out64(o), o_ref) < 1e-2
    assert s.dtype == np.float32 and rel(s.astype(np.float64), s_ref) < 1e-2

    u, u64 = bf16(g.standard_normal((1, 8, 11)).astype(np.float32))
    dt, dt64 = bf16(g.uniform(0.01, 0.2, (1, 8, 11)).astype(np.float32))
    A, A64 = bf16(-g.uniform(0.5, 2.0, (8, 4)).astype(np.float32))
    Bm, B64 = bf16(g.standard_normal((1, 1, 4, 11)).astype(np.float32))
    Cm, C64 = bf16(g.standard_normal((1, 1, 4, 11)).astype(np.float32))
    y = seqc.selective_scan(u, dt, A, Bm, Cm)
    y_ref = ref.selective_scan(u64, dt64, A64, B64, C64)
    y_ref = y_ref[0] if isinstance(y_ref, tuple) else y_ref
    assert rel(_out64(y), y_ref) < 1e-2


@pytest.mark.skipif(os.environ.get("SEQC_TEST_DEVICE") == "cuda",
                    reason="checks CPU torch tensors; the GPU run wraps the ops")
def test_functional_ops_take_torch_bfloat16():
    torch = pytest.importorskip("torch")
    g = torch.Generator().manual_seed(3)
    q = torch.randn(1, 4, 21, 32, generator=g).bfloat16()
    k = torch.randn(1, 2, 21, 32, generator=g).bfloat16()
    v = torch.randn(1, 2, 21, 32, generator=g).bfloat16()
    out = seqc.attention(q, k, v, causal=True)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.bfloat16
    q64, k64, v64 = (t.double().numpy() for t in (q, k, v))
    expected = ref.attention(q64, k64, v64, causal=True)
    expected = expected[0] if isinstance(expected, tuple) else expected
    assert rel(out.double().numpy(), expected) < 1e-2
    w = torch.ones(32).bfloat16()
    normed = seqc.rms_norm(q, w)
    assert normed.dtype == torch.bfloat16 and normed.shape == q.shape


def test_functional_dtype_errors_name_bf16():
    x = np.zeros((2, 3), np.float64)
    with pytest.raises(TypeError, match="bfloat16 \\(uint16 bits\\)"):
        seqc.rms_norm(x, np.ones(3, np.float32))
