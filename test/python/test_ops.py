"""The functional ops (seqc.attention, seqc.scan, ...) against the float64
references of reference.py, on random inputs.

Shapes include sizes that are no multiple of any tile (1, 3, 17, 33, 65),
length-1 sequences, GQA/MQA, all masks, initial states, f32 and f16 storage,
and non-contiguous / offset inputs. SEQC_POISON_OUTPUTS=1 (conftest) makes
unwritten outputs NaN. Shapes are reused across tests: each distinct
signature costs one compilation.
"""

import os

import numpy as np
import pytest

import reference as ref
import seqc
from testutil import assert_close, f64, randn, rng, strided, uniform

pytestmark = pytest.mark.needs_library

F32, F16 = np.float32, np.float16


# ---------------------------------------------------------------------------
# attention
# ---------------------------------------------------------------------------

def attn_inputs(seed, B, Hq, Hkv, Sq, Skv, D, Dv, dtype=F32):
    r = rng(seed)
    return (randn(r, (B, Hq, Sq, D), dtype), randn(r, (B, Hkv, Skv, D), dtype),
            randn(r, (B, Hkv, Skv, Dv), dtype))


def check_attention(q, k, v, dtype=F32, also_plain=False, **kw):
    out, lse = seqc.attention(q, k, v, return_lse=True, **kw)
    ro, rl = ref.attention(f64(q), f64(k), f64(v), **kw)
    assert out.dtype == np.dtype(dtype) and lse.dtype == np.float32
    assert_close(out, ro, dtype, "out")
    assert_close(lse, rl, F32 if dtype == F32 else F16, "lse")
    if also_plain:  # without the lse result (another compilation)
        plain = seqc.attention(q, k, v, **kw)
        assert isinstance(plain, np.ndarray)
        assert_close(plain, ro, dtype, "out without lse")
    return out, lse


ATTN_SHAPES = {
    # name: (B, Hq, Hkv, Sq, Skv, D, Dv)
    "single": (1, 1, 1, 1, 1, 8, 8),
    "mha_17": (2, 4, 4, 17, 17, 16, 16),
    "gqa_33x65": (1, 4, 2, 33, 65, 32, 16),
    "mqa_decode": (2, 8, 1, 3, 65, 64, 64),
    "sq_gt_skv": (1, 2, 2, 65, 33, 8, 4),
}


@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("shape", list(ATTN_SHAPES))
def test_attention_shapes(shape, causal):
    q, k, v = attn_inputs(list(ATTN_SHAPES).index(shape) * 2 + causal,
                          *ATTN_SHAPES[shape])
    out, lse = check_attention(q, k, v, causal=causal,
                               also_plain=shape in ("single", "gqa_33x65"))
    if shape == "sq_gt_skv" and causal:
        # bottom-right alignment: the first Sq - Skv queries see no key
        assert np.all(out[:, :, :32] == 0) and np.all(lse[:, :, :32] == -np.inf)


@pytest.mark.parametrize("window,causal", [((8, 0), True), ((4, 4), False),
                                           ((0, -1), False), ((-1, 3), False),
                                           ((2, 5), True)])
def test_attention_window(window, causal):
    q, k, v = attn_inputs(10, 2, 4, 2, 33, 33, 16, 16)
    check_attention(q, k, v, causal=causal, window=window)


@pytest.mark.parametrize("scale,softcap", [(0.37, None), (None, 2.5), (1.5, 0.75)])
def test_attention_scale_softcap(scale, softcap):
    q, k, v = attn_inputs(11, 2, 4, 4, 17, 17, 16, 16)
    check_attention(q, k, v, causal=True, scale=scale, softcap=softcap)


@pytest.mark.parametrize("idtype,causal", [(np.int32, True), (np.int64, False)])
def test_attention_kv_lengths(idtype, causal):
    q, k, v = attn_inputs(12, 4, 4, 2, 3, 33, 16, 8)
    lengths = np.array([0, 33, 1, 17], dtype=idtype)   # empty, full, 1, odd
    out, lse = check_attention(q, k, v, causal=causal, kv_lengths=lengths)
    assert np.all(out[0] == 0) and np.all(lse[0] == -np.inf)   # no keys
    if not causal:
        assert np.all(np.isfinite(lse[1:]))
    else:  # L = 1: only the last query (p = 0) sees a key
        assert np.all(lse[2, :, :2] == -np.inf) and np.all(out[2, :, :2] == 0)


def test_attention_kv_lengths_full_equals_none():
    q, k, v = attn_inputs(13, 4, 4, 2, 3, 33, 16, 8)
    a = seqc.attention(q, k, v, causal=True, kv_lengths=np.full(4, 33, np.int32))
    b = seqc.attention(q, k, v, causal=True)
    want = ref.attention(f64(q), f64(k), f64(v), causal=True)[0]
    assert_close(a, want, F32)
    assert_close(b, want, F32)


@pytest.mark.parametrize("causal", [False, True])
def test_attention_segment_ids(causal):
    B, Sq, Skv = 2, 17, 17
    q, k, v = attn_inputs(14, B, 4, 2, Sq, Skv, 16, 16)
    # packed sequences of odd lengths; batch 1 has a query segment (9) that
    # has no key at all: those rows are fully masked
    qs = np.array([[0] * 5 + [1] * 7 + [2] * 5,
                   [3] * 3 + [9] * 4 + [4] * 10], dtype=np.int32)
    ks = np.array([[0] * 5 + [1] * 7 + [2] * 5,
                   [3] * 7 + [4] * 10], dtype=np.int32)
    out, lse = check_attention(q, k, v, causal=causal, q_segment_ids=qs,
                               kv_segment_ids=ks, also_plain=causal)
    assert np.all(out[1, :, 3:7] == 0) and np.all(lse[1, :, 3:7] == -np.inf)


def test_attention_everything():
    q, k, v = attn_inputs(15, 3, 6, 2, 17, 33, 32, 16)
    r = rng(16)
    check_attention(q, k, v, causal=True, window=(9, 2), scale=0.2,
                    softcap=3.0, kv_lengths=np.array([33, 20, 0], np.int64),
                    q_segment_ids=r.integers(0, 3, (3, 17)),
                    kv_segment_ids=r.integers(0, 3, (3, 33)))


@pytest.mark.parametrize("shape,causal", [("mha_17", True), ("mqa_decode", False)])
def test_attention_f16(shape, causal):
    q, k, v = attn_inputs(17, *ATTN_SHAPES[shape], dtype=F16)
    check_attention(q, k, v, F16, causal=causal)


@pytest.mark.parametrize("layout", ["offset", "transpose", "step", "bshd"])
def test_attention_strided_inputs(layout):
    B, H, S, D = ATTN_SHAPES["mha_17"][0], 4, 17, 16
    q, k, v = attn_inputs(18, B, H, H, S, S, D, D)
    if layout == "bshd":   # [B, S, H, D] storage, as most frameworks keep it
        q, k, v = (np.ascontiguousarray(x.transpose(0, 2, 1, 3)).transpose(0, 2, 1, 3)
                   for x in (q, k, v))
        assert not q.flags.c_contiguous
    else:
        q, k, v = (strided(x, layout) for x in (q, k, v))
    check_attention(q, k, v, causal=True)


def test_attention_lse_is_consistent():
    q, k, v = attn_inputs(19, *ATTN_SHAPES["gqa_33x65"])
    out, lse = seqc.attention(q, k, v, return_lse=True)
    # splitting the keys in two and merging with the lse gives the whole
    o1, l1 = ref.attention(f64(q), f64(k[:, :, :30]), f64(v[:, :, :30]))
    o2, l2 = ref.attention(f64(q), f64(k[:, :, 30:]), f64(v[:, :, 30:]))
    l = np.logaddexp(l1, l2)
    merged = (np.exp(l1 - l)[..., None] * o1 + np.exp(l2 - l)[..., None] * o2)
    assert_close(out, merged, F32)
    assert_close(lse, l, F32)


def test_attention_cache_reuses_modules():
    q, k, v = attn_inputs(20, *ATTN_SHAPES["single"])
    seqc.attention(q, k, v)
    n = seqc.ops.cache_size()
    q2, k2, v2 = attn_inputs(21, *ATTN_SHAPES["single"])
    out = seqc.attention(q2, k2, v2)
    assert seqc.ops.cache_size() == n
    assert_close(out, ref.attention(f64(q2), f64(k2), f64(v2))[0], F32)


# ---------------------------------------------------------------------------
# scans and recurrences
# ---------------------------------------------------------------------------

def scan_input(r, combiner, shape, dtype):
    dtype = np.dtype(dtype)
    if dtype.kind == "i":
        lo, hi = (-3, 4) if combiner == "mul" else (-1000, 1000)
        return r.integers(lo, hi, shape).astype(dtype)
    if combiner == "mul":
        return uniform(r, 0.8, 1.25, shape, dtype)
    return randn(r, shape, dtype)


def check_scan(combiner, xs, dim=-1, reverse=False, exclusive=False,
               initial=None):
    res = seqc.scan(combiner, *xs, dim=dim, reverse=reverse,
                    exclusive=exclusive, initial=initial)
    n = len(xs)
    assert isinstance(res, tuple) and len(res) == 2 * n
    ref_init = initial
    if initial is None and exclusive:
        if combiner == "linear":
            ref_init = [1.0, 0.0]
        else:
            ref_init = [ref.IDENTITIES(combiner, x.dtype) for x in xs]
    elif initial is not None and n == 1 and not isinstance(initial, (list, tuple)):
        ref_init = [initial]
    outs, carries = ref.scan(combiner, list(xs), dim=dim, reverse=reverse,
                             exclusive=exclusive, initial=ref_init)
    for i, (got, want, x) in enumerate(zip(res[:n], outs, xs)):
        assert got.dtype == x.dtype and got.shape == x.shape
        if x.dtype.kind == "i":
            np.testing.assert_array_equal(got, want, "output %d" % i)
        else:
            assert_close(got, want, x.dtype, "output %d" % i)
    for i, (got, want, x) in enumerate(zip(res[n:], carries, xs)):
        assert got.dtype == x.dtype
        if x.dtype.kind == "i":
            np.testing.assert_array_equal(got, want, "carry %d" % i)
        else:
            assert_close(got, want, x.dtype, "carry %d" % i)
    return res


@pytest.mark.parametrize("combiner", ["add", "mul", "max", "min"])
def test_scan_named_combiners(combiner):
    x = scan_input(rng(30), combiner, (3, 33), F32)
    check_scan(combiner, [x])


@pytest.mark.parametrize("combiner,dtype,dim,reverse,exclusive", [
    ("add", F32, -1, False, True),
    ("add", F32, -1, True, False),
    ("max", np.int32, 0, True, True),
    ("min", np.int64, 1, False, True),
    ("mul", F32, 0, True, False),
    ("add", F16, 1, False, False),
    ("max", F32, 2, True, True),
])
def test_scan_options(combiner, dtype, dim, reverse, exclusive):
    x = scan_input(rng(31), combiner, (5, 17, 3), dtype)
    check_scan(combiner, [x], dim=dim, reverse=reverse, exclusive=exclusive)


@pytest.mark.parametrize("exclusive,reverse", [(False, False), (True, True)])
def test_scan_initial(exclusive, reverse):
    r = rng(32)
    x = randn(r, (4, 65))
    init = randn(r, (4,))
    check_scan("add", [x], exclusive=exclusive, reverse=reverse, initial=[init])
    # a scalar initial broadcasts
    check_scan("add", [x], exclusive=exclusive, reverse=reverse, initial=2.5)


def test_scan_multiple_inputs():
    r = rng(33)
    xs = [randn(r, (2, 17)), r.integers(-9, 9, (2, 17)).astype(np.int32)]
    check_scan("max", xs)
    check_scan("add", xs, exclusive=True, reverse=True)


@pytest.mark.parametrize("exclusive,reverse,init", [(False, False, False),
                                                    (True, True, False),
                                                    (False, True, True)])
def test_scan_linear(exclusive, reverse, init):
    r = rng(34)
    a = uniform(r, 0.5, 1.0, (3, 33))
    b = randn(r, (3, 33))
    initial = [uniform(r, 0.5, 1.0, (3,)), randn(r, (3,))] if init else None
    check_scan("linear", [a, b], exclusive=exclusive, reverse=reverse,
               initial=initial)


def test_scan_length_one_and_strided():
    r = rng(35)
    check_scan("add", [randn(r, (3, 1))])
    x = randn(r, (3, 33))
    check_scan("add", [strided(x, "step")])
    check_scan("mul", [strided(scan_input(r, "mul", (3, 33), F32), "offset")])
    check_scan("add", [strided(randn(r, (33, 3)), "transpose")], dim=0)


@pytest.mark.parametrize("shape,dim,reverse,h0,dtype", [
    ((3, 17), -1, False, False, F32),
    ((2, 65, 5), 1, True, True, F32),
    ((1,), 0, False, True, F32),
    ((4, 1, 3), 1, True, False, F32),
    ((2, 33, 3), -2, False, True, F16),
])
def test_linear_recurrence(shape, dim, reverse, h0, dtype):
    r = rng(40)
    a = uniform(r, 0.6, 1.0, shape, dtype)
    b = randn(r, shape, dtype)
    state = shape[:dim % len(shape)] + shape[dim % len(shape) + 1:]
    hinit = randn(r, state, dtype) if h0 else None
    h, last = seqc.linear_recurrence(a, b, h0=hinit, dim=dim, reverse=reverse)
    rh, rl = ref.linear_recurrence(f64(a), f64(b),
                                   None if hinit is None else f64(hinit),
                                   dim=dim, reverse=reverse)
    assert h.dtype == np.dtype(dtype) and last.shape == state
    assert_close(h, rh, dtype, "h")
    assert_close(last, rl, dtype, "last")


def test_linear_recurrence_strided():
    r = rng(41)
    a = strided(uniform(r, 0.6, 1.0, (3, 17)), "transpose")
    b = strided(randn(r, (3, 17)), "offset")
    h0 = strided(randn(r, (3,)), "step")
    h, last = seqc.linear_recurrence(a, b, h0=h0)
    rh, rl = ref.linear_recurrence(f64(a), f64(b), f64(h0))
    assert_close(h, rh, F32), assert_close(last, rl, F32)


# ---------------------------------------------------------------------------
# selective scan
# ---------------------------------------------------------------------------

def ssm_inputs(seed, Bt, Dc, L, N, G, dtype=F32, opts=False, layout="contiguous"):
    r = rng(seed)
    kw = dict(
        u=randn(r, (Bt, Dc, L), dtype),
        delta=uniform(r, -2.0, 0.5, (Bt, Dc, L), dtype) if opts
        else uniform(r, 0.01, 0.3, (Bt, Dc, L), dtype),
        A=(-uniform(r, 0.2, 2.0, (Dc, N))).astype(F32),
        B=randn(r, (Bt, G, N, L), dtype),
        C=randn(r, (Bt, G, N, L), dtype),
    )
    if opts:
        kw.update(D=randn(r, (Dc,)), z=randn(r, (Bt, Dc, L), dtype),
                  delta_bias=uniform(r, -0.5, 0.5, (Dc,)), delta_softplus=True)
    return {k: (strided(v, layout) if isinstance(v, np.ndarray) else v)
            for k, v in kw.items()}


@pytest.mark.parametrize("dims,opts,dtype,layout", [
    ((2, 4, 17, 8, 1), False, F32, "contiguous"),
    ((1, 8, 33, 4, 2), True, F32, "contiguous"),
    ((3, 4, 1, 16, 4), True, F32, "contiguous"),
    ((2, 4, 17, 8, 1), False, F32, "transpose"),
    ((1, 8, 33, 4, 2), True, F32, "offset"),
    ((2, 6, 17, 4, 3), True, F16, "contiguous"),
])
def test_selective_scan(dims, opts, dtype, layout):
    kw = ssm_inputs(50, *dims, dtype=dtype, opts=opts, layout=layout)
    y, last = seqc.selective_scan(return_last_state=True, **kw)
    ry, rl = ref.selective_scan(**{k: (f64(v) if isinstance(v, np.ndarray) else v)
                                   for k, v in kw.items()})
    assert y.dtype == np.dtype(dtype) and last.dtype == np.float32
    assert_close(y, ry, dtype, "y")
    assert_close(last, rl, F32 if dtype == F32 else F16, "last_state")
    y2 = seqc.selective_scan(**kw)
    assert_close(y2, ry, dtype, "y without last_state")


def test_selective_scan_variable_bc_rank3():
    kw = ssm_inputs(51, 2, 4, 17, 8, 1)
    kw["B"], kw["C"] = kw["B"][:, 0], kw["C"][:, 0]
    y = seqc.selective_scan(**kw)
    assert_close(y, ref.selective_scan(**{k: f64(v) for k, v in kw.items()})[0], F32)


# ---------------------------------------------------------------------------
# gated linear attention
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("dims,gate,s0,scale,dtype", [
    ((2, 2, 17, 16, 8), None, False, None, F32),
    ((1, 3, 33, 8, 16), "vector", True, None, F32),
    ((2, 2, 17, 16, 8), "scalar", True, 0.5, F32),
    ((1, 1, 1, 4, 4), "vector", False, None, F32),
    ((2, 2, 17, 16, 8), "scalar", False, None, F16),
])
def test_gated_linear_attention(dims, gate, s0, scale, dtype):
    Bt, H, T, K, V = dims
    r = rng(60)
    q, k = randn(r, (Bt, H, T, K), dtype), randn(r, (Bt, H, T, K), dtype)
    v = randn(r, (Bt, H, T, V), dtype)
    g = None
    if gate == "vector":
        g = (-uniform(r, 0.0, 0.5, (Bt, H, T, K))).astype(F32)
    elif gate == "scalar":
        g = (-uniform(r, 0.0, 0.5, (Bt, H, T))).astype(F32)
    S0 = randn(r, (Bt, H, K, V)) if s0 else None
    o, S = seqc.gated_linear_attention(q, k, v, g=g, scale=scale,
                                       initial_state=S0, output_final_state=True)
    ro, rS = ref.gated_linear_attention(f64(q), f64(k), f64(v),
                                        None if g is None else f64(g), scale,
                                        None if S0 is None else f64(S0))
    assert o.dtype == np.dtype(dtype) and S.dtype == np.float32
    assert_close(o, ro, dtype, "o")
    assert_close(S, rS, F32 if dtype == F32 else F16, "final_state")
    o2 = seqc.gated_linear_attention(q, k, v, g=g, scale=scale, initial_state=S0)
    assert_close(o2, ro, dtype, "o without final_state")


def test_gated_linear_attention_strided():
    r = rng(61)
    Bt, H, T, K, V = 2, 2, 17, 16, 8
    q = strided(randn(r, (Bt, H, T, K)), "transpose")
    k = strided(randn(r, (Bt, H, T, K)), "offset")
    v = strided(randn(r, (Bt, H, T, V)), "step")
    g = strided((-uniform(r, 0.0, 0.5, (Bt, H, T))).astype(F32), "step")
    o = seqc.gated_linear_attention(q, k, v, g=g, scale=0.5,
                                    initial_state=randn(r, (Bt, H, K, V)) * 0)
    ro, _ = ref.gated_linear_attention(f64(q), f64(k), f64(v), f64(g), 0.5)
    assert_close(o, ro, F32)


# ---------------------------------------------------------------------------
# layer helpers
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("dims,bias,activation,dtype,layout", [
    ((2, 8, 33, 4), True, "silu", F32, "contiguous"),
    ((1, 3, 1, 1), False, None, F32, "contiguous"),
    ((2, 5, 17, 3), False, None, F32, "contiguous"),
    ((2, 8, 33, 4), True, "swish", F32, "transpose"),
    ((2, 5, 17, 3), True, "silu", F16, "contiguous"),
    ((1, 4, 2, 4), True, None, F32, "offset"),   # W > L
])
def test_causal_conv1d(dims, bias, activation, dtype, layout):
    Bt, Dc, L, W = dims
    r = rng(70)
    x = strided(randn(r, (Bt, Dc, L), dtype), layout)
    w = strided(randn(r, (Dc, W), dtype), layout)
    b = randn(r, (Dc,)) if bias else None
    y = seqc.causal_conv1d(x, w, bias=b, activation=activation)
    assert y.dtype == np.dtype(dtype)
    assert_close(y, ref.causal_conv1d(f64(x), f64(w), None if b is None else f64(b),
                                      activation), dtype)


@pytest.mark.parametrize("shape,eps,dtype,wdtype,layout", [
    ((3, 17), 1e-6, F32, F32, "contiguous"),
    ((2, 3, 64), 1e-5, F16, F32, "contiguous"),
    ((1,), 1e-6, F32, F32, "contiguous"),
    ((3, 17), 1e-6, F32, F32, "transpose"),
    ((2, 5, 33), 0.0, F32, F32, "step"),
])
def test_rms_norm(shape, eps, dtype, wdtype, layout):
    r = rng(80)
    x = strided(randn(r, shape, dtype), layout)
    w = randn(r, shape[-1:], wdtype)
    y = seqc.rms_norm(x, w, eps=eps)
    assert y.dtype == np.dtype(dtype)
    assert_close(y, ref.rms_norm(f64(x), f64(w), eps), dtype)


@pytest.mark.parametrize("dims,pos_shape,idtype,theta,interleaved,dtype,layout", [
    ((2, 3, 17, 16), "T", np.int32, 10000.0, False, F32, "contiguous"),
    ((2, 3, 17, 16), "BT", np.int64, 500000.0, True, F32, "contiguous"),
    ((1, 2, 1, 2), "T", np.int32, 10000.0, True, F32, "contiguous"),
    ((2, 3, 17, 16), "T", np.int32, 10000.0, False, F32, "bshd"),
    ((2, 4, 33, 64), "BT", np.int32, 10000.0, False, F16, "contiguous"),
])
def test_rope(dims, pos_shape, idtype, theta, interleaved, dtype, layout):
    Bt, H, T, D = dims
    r = rng(90)
    x = randn(r, dims, dtype)
    if layout == "bshd":
        x = np.ascontiguousarray(x.transpose(0, 2, 1, 3)).transpose(0, 2, 1, 3)
    # f32 angles pos * inv_freq carry a rounding error ~ pos * 2^-24: keep
    # f32 positions small enough for 1e-5; f16 storage covers long contexts
    top = 4096 if dtype == F16 else 64
    pos = r.integers(0, top, (T,) if pos_shape == "T" else (Bt, T)).astype(idtype)
    y = seqc.rope(x, pos, theta=theta, interleaved=interleaved)
    assert y.dtype == np.dtype(dtype)
    assert_close(y, ref.rope(f64(x), pos, theta, interleaved), dtype)


# ---------------------------------------------------------------------------
# torch interop (only where torch is installed)
# ---------------------------------------------------------------------------

@pytest.mark.skipif(os.environ.get("SEQC_TEST_DEVICE") == "cuda",
                    reason="checks CPU torch tensors; the GPU run wraps the ops")
def test_torch_tensors_in_and_out():
    torch = pytest.importorskip("torch")
    q, k, v = attn_inputs(100, *ATTN_SHAPES["mha_17"])
    tq, tk, tv = (torch.from_numpy(x) for x in (q, k, v))
    out = seqc.attention(tq, tk.transpose(2, 3).contiguous().transpose(2, 3), tv,
                         causal=True)
    assert isinstance(out, torch.Tensor)
    assert_close(out.numpy(), ref.attention(f64(q), f64(k), f64(v), causal=True)[0], F32)
    h, last = seqc.linear_recurrence(torch.full((3, 17), 0.9),
                                     torch.ones(3, 17, requires_grad=True))
    assert isinstance(h, torch.Tensor) and isinstance(last, torch.Tensor)


@pytest.mark.parametrize("reverse,with_h0", [(False, False), (True, True)])
def test_linear_recurrence_outer_dim_parallel_slabs(reverse, with_h0):
    # Along dim 0 with a last dimension of more than two 8192-column slabs:
    # the slabs run in parallel and the remainder (3 columns) after them.
    g = np.random.default_rng(11 + reverse)
    shape = (5, 2 * 8192 + 3)
    a = g.uniform(0.5, 1.0, shape).astype(np.float32)
    b = g.standard_normal(shape).astype(np.float32)
    h0 = g.standard_normal(shape[1]).astype(np.float32) if with_h0 else None
    h, last = seqc.linear_recurrence(a, b, h0=h0, dim=0, reverse=reverse)
    state = None if h0 is None else h0.astype(np.float64)
    expected = np.empty(shape)
    for t in (reversed(range(shape[0])) if reverse else range(shape[0])):
        state = b[t].astype(np.float64) if state is None else a[t] * state + b[t]
        expected[t] = state
    assert np.linalg.norm(h - expected) / np.linalg.norm(expected) < 1e-5
    assert np.linalg.norm(last - state) / np.linalg.norm(state) < 1e-5
