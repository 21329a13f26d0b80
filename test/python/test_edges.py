"""Numerics at the edges: inputs where naive kernels overflow, underflow or
divide by zero. Each test states what the math gives and checks seqc gives
it (finite where the math is finite, against float64 references), or checks
the documented behaviour where the math itself has no finite answer.

Runs on the CPU, and on the GPU through SEQC_TEST_DEVICE=cuda like the
functional-op suite (the GPU run of scripts/gpu.sh includes this file).
"""

import numpy as np
import pytest

import seqc
import reference as ref
from testutil import f64, rng

pytestmark = pytest.mark.needs_library


def close(out, want, rtol=2e-5, atol=1e-6):
    out = np.asarray(out, np.float64)
    assert np.isfinite(out).all() == np.isfinite(want).all(), "non-finite mismatch"
    np.testing.assert_allclose(out, want, rtol=rtol, atol=atol)


def qkv(seed, B=2, Hq=4, Hkv=2, Sq=9, Skv=33, D=16, scale=1.0):
    r = rng(seed)
    q = (r.standard_normal((B, Hq, Sq, D)) * scale).astype(np.float32)
    k = (r.standard_normal((B, Hkv, Skv, D)) * scale).astype(np.float32)
    v = r.standard_normal((B, Hkv, Skv, D)).astype(np.float32)
    return q, k, v


# -- attention ----------------------------------------------------------------

def test_attention_huge_logits():
    """Scores around 1e4: exp overflows f32 unless the row max is taken
    first; the softmax is then (nearly) one-hot, finite."""
    q, k, v = qkv(1, scale=30.0)
    out, lse = seqc.attention(q, k, v, causal=True, return_lse=True)
    want, want_lse = ref.attention(f64(q), f64(k), f64(v), causal=True)
    close(out, want, rtol=1e-3, atol=1e-3)
    close(lse, want_lse, rtol=1e-5, atol=1e-2)


def test_attention_tiny_logits():
    """Scores around 1e-30: the softmax is uniform over the visible keys."""
    q, k, v = qkv(2, scale=1e-15)
    out = seqc.attention(q, k, v, causal=True)
    want = ref.attention(f64(q), f64(k), f64(v), causal=True)[0]
    close(out, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", ["f32", "bf16"])
@pytest.mark.parametrize("Sq,Skv", [(1, 300), (9, 33), (100, 100)])
def test_attention_nan_reaches_the_rows_that_see_it(dtype, Sq, Skv):
    """A NaN in one key: every row that sees it gives NaN (output and LSE),
    every other row its finite answer; the running row max (one max.f32 on
    the GPU, which returns the non-NaN operand) must not hide it, and the
    masks must not spread it. Sizes reach the GPU's split-key (1 query),
    mma.sync (9) and wgmma (100 rows) kernels in bf16."""
    q, k, v = qkv(15, Sq=Sq, Skv=Skv)
    k[0, 0, 5, 3] = np.nan
    if dtype == "bf16":
        qb, kb, vb = (seqc.to_bf16_bits(x) for x in (q, k, v))
        out, lse = seqc.attention(qb, kb, vb, causal=True, return_lse=True)
        out = seqc.from_bf16_bits(np.asarray(out))
        q, k, v = (seqc.from_bf16_bits(x) for x in (qb, kb, vb))
        rtol = atol = 2e-2
    else:
        out, lse = seqc.attention(q, k, v, causal=True, return_lse=True)
        rtol, atol = 1e-4, 1e-5
    want, want_lse = ref.attention(f64(q), f64(k), f64(v), causal=True)
    out, lse = np.asarray(out, np.float64), np.asarray(lse, np.float64)
    nan_rows = np.isnan(want).any(axis=-1)
    assert nan_rows.any() and not nan_rows.all()
    assert np.isnan(out[nan_rows]).all() and np.isnan(lse[nan_rows]).all()
    np.testing.assert_allclose(out[~nan_rows], want[~nan_rows], rtol=rtol,
                               atol=atol)
    np.testing.assert_allclose(lse[~nan_rows], want_lse[~nan_rows],
                               rtol=rtol, atol=atol)


def test_attention_every_row_masked():
    """kv_lengths 0 for the whole batch: no row sees a key. Output 0 and
    lse -inf everywhere, never NaN."""
    q, k, v = qkv(3)
    out, lse = seqc.attention(q, k, v, kv_lengths=np.zeros(2, np.int32),
                              return_lse=True)
    assert np.all(np.asarray(out) == 0)
    assert np.all(np.asarray(lse) == -np.inf)


def test_attention_window_masks_some_rows():
    """A window right of the causal diagonal ((left, right) = (-1, -1) is
    unbounded) combined with kv_lengths: rows past the length see nothing."""
    q, k, v = qkv(4, Sq=33, Skv=33)
    lengths = np.array([5, 33], np.int64)
    out, lse = seqc.attention(q, k, v, causal=True, window=(2, 0),
                              kv_lengths=lengths, return_lse=True)
    want, want_lse = ref.attention(f64(q), f64(k), f64(v), causal=True,
                                   window=(2, 0), kv_lengths=lengths)
    close(out, want, rtol=1e-4, atol=1e-5)
    assert np.array_equal(np.isinf(np.asarray(lse)), np.isinf(want_lse))


def test_attention_softcap_saturates():
    """softcap 1 with scores around 1e4: tanh saturates, every visible key
    gets a score of about ±1, the result is finite and matches."""
    q, k, v = qkv(5, scale=30.0)
    out = seqc.attention(q, k, v, causal=True, softcap=1.0)
    want = ref.attention(f64(q), f64(k), f64(v), causal=True, softcap=1.0)[0]
    close(out, want, rtol=1e-4, atol=1e-5)


def test_attention_length_one():
    q, k, v = qkv(6, Sq=1, Skv=1)
    out = seqc.attention(q, k, v, causal=True)
    # One key: the output is its value, per kv head.
    want = np.repeat(v.astype(np.float64), 2, axis=1)
    close(out, want, rtol=1e-6, atol=1e-6)


# -- linear recurrences -------------------------------------------------------

def test_recurrence_decay_exactly_zero_and_one():
    """a = 0 resets the state (h = b), a = 1 accumulates (a running sum)."""
    r = rng(7)
    b = r.standard_normal((3, 257)).astype(np.float32)
    a = np.ones_like(b)
    a[0] = 0.0                       # reset every step
    a[2, ::16] = 0.0                 # resets inside a running sum
    h, last = seqc.linear_recurrence(a, b, dim=-1)
    want, want_last = ref.linear_recurrence(f64(a), f64(b), dim=-1)
    close(h, want, rtol=1e-5, atol=1e-4)
    close(last, want_last, rtol=1e-5, atol=1e-4)
    assert np.array_equal(np.asarray(h)[0], b[0])


def test_recurrence_length_one():
    r = rng(8)
    a = r.uniform(0, 1, (4, 1)).astype(np.float32)
    b = r.standard_normal((4, 1)).astype(np.float32)
    h0 = r.standard_normal(4).astype(np.float32)
    h, last = seqc.linear_recurrence(a, b, h0=h0, dim=-1)
    close(h[:, 0], a[:, 0].astype(np.float64) * h0 + b[:, 0], rtol=1e-6, atol=1e-6)
    close(last, h[:, 0], rtol=0, atol=0)


def test_recurrence_length_2_pow_20():
    """2^20 steps with decay 1 (a running sum of N(0,1) terms) and with
    decay 0.999: the f32 scan stays within the error of f32 summation."""
    T = 1 << 20
    r = rng(9)
    b = r.standard_normal((2, T)).astype(np.float32)
    a = np.empty_like(b)
    a[0] = 1.0
    a[1] = 0.999
    h, last = seqc.linear_recurrence(a, b, dim=-1)
    want = np.empty((2, T))
    want[0] = np.cumsum(f64(b[0]))
    want[1] = ref.linear_recurrence(f64(a[1:]), f64(b[1:]), dim=-1)[0][0]
    h = np.asarray(h, np.float64)
    assert np.isfinite(h).all()
    # Running sum: absolute error grows like sqrt(T) * eps * |partial sums|.
    err0 = np.abs(h[0] - want[0]).max() / (np.abs(want[0]).max() + 1)
    assert err0 < 1e-3, err0
    np.testing.assert_allclose(h[1], want[1], rtol=1e-3, atol=1e-3)
    close(last, want[:, -1], rtol=1e-3, atol=1e-2)


# -- selective scan and gated linear attention ---------------------------------

def test_selective_scan_extreme_steps():
    """dt + bias around ±80 (softplus overflows exp in f32 naively) and A
    down to -1e4 (exp(dt A) underflows to exactly 0): finite, matches."""
    r = rng(10)
    B, D, L, N = 1, 8, 37, 4
    u = r.standard_normal((B, D, L)).astype(np.float32)
    dt = (r.standard_normal((B, D, L)) * 80).astype(np.float32)
    A = -np.exp(r.uniform(0, np.log(1e4), (D, N))).astype(np.float32)
    Bm = r.standard_normal((B, 1, N, L)).astype(np.float32)
    Cm = r.standard_normal((B, 1, N, L)).astype(np.float32)
    y = seqc.selective_scan(u, dt, A, Bm, Cm, delta_softplus=True)
    want = ref.selective_scan(f64(u), f64(dt), f64(A), f64(Bm), f64(Cm),
                              delta_softplus=True)
    want = want[0] if isinstance(want, tuple) else want
    close(y, want, rtol=1e-4, atol=1e-3)


def test_gla_infinite_decay():
    """A log decay of -inf forgets the state exactly (exp(-inf) = 0); a
    log decay of 0 keeps it (pure linear attention)."""
    r = rng(11)
    B, H, T, K, V = 1, 2, 9, 8, 8
    q = r.standard_normal((B, H, T, K)).astype(np.float32)
    k = r.standard_normal((B, H, T, K)).astype(np.float32)
    v = r.standard_normal((B, H, T, V)).astype(np.float32)
    g = np.zeros((B, H, T, K), np.float32)
    g[:, 0, 4] = -np.inf
    o = seqc.gated_linear_attention(q, k, v, g=g)
    o = o[0] if isinstance(o, tuple) else o
    want = ref.gated_linear_attention(f64(q), f64(k), f64(v), g=f64(g))
    want = want[0] if isinstance(want, tuple) else want
    close(o, want, rtol=1e-4, atol=1e-4)


# -- norms --------------------------------------------------------------------

def test_rms_norm_zero_and_large_rows():
    """A zero row gives 0 (not NaN: eps keeps the root positive); rows of
    1e18 give x / rms * w. Beyond |x| ~ 1.8e19 the f32 sum of squares
    overflows and the output is 0 (as torch's f32 RMSNorm): documented in
    dialects/seq/README.md."""
    r = rng(12)
    x = r.standard_normal((4, 64)).astype(np.float32)
    x[0] = 0.0
    x[1] *= 1e18
    w = (1 + 0.1 * r.standard_normal(64)).astype(np.float32)
    out = seqc.rms_norm(x, w, eps=1e-6)
    want = ref.rms_norm(f64(x), f64(w), eps=1e-6)
    close(out, want, rtol=1e-5, atol=1e-6)
    assert np.all(np.asarray(out)[0] == 0)


# -- bf16 ---------------------------------------------------------------------

def test_attention_bf16_wide_range():
    """bf16 inputs spanning 1e-30 to 1e3 (bf16 keeps f32's exponent range):
    scores up to ~1e7 are accumulated in f32, the softmax is taken after the
    row max; finite, and within bf16's rounding of the float64 answer."""
    q, k, v = qkv(13, Sq=17, Skv=17)
    r = rng(14)
    mag = 10.0 ** r.uniform(-30, 3, q.shape)
    q = (np.sign(q) * mag).astype(np.float32)
    qb, kb, vb = (seqc.to_bf16_bits(x) for x in (q, k, v))
    out = seqc.attention(qb, kb, vb, causal=True)
    out = seqc.from_bf16_bits(np.asarray(out))
    qr, kr, vr = (seqc.from_bf16_bits(x).astype(np.float64) for x in (qb, kb, vb))
    want = ref.attention(qr, kr, vr, causal=True)[0]
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out, want, rtol=2e-2, atol=2e-2)
