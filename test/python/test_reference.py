"""The float64 references against brute-force loops and known identities.

These run without the seqc library: they make sure the oracle of test_ops.py
says what dialects/seq/README.md says.
"""

import itertools
import math

import numpy as np
import pytest

import reference as ref


def rng(seed):
    return np.random.default_rng(seed)


def close(a, b, tol=1e-12):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert a.shape == b.shape
    same_inf = np.isinf(a) & np.isinf(b) & (np.sign(a) == np.sign(b))
    assert np.all(np.isfinite(a) | same_inf), (a, b)
    assert np.all(np.isfinite(b) | same_inf), (a, b)
    fin = np.isfinite(a) & np.isfinite(b)
    np.testing.assert_allclose(a[fin], b[fin], rtol=tol, atol=tol)


# ---------------------------------------------------------------------------
# attention
# ---------------------------------------------------------------------------

def attention_loops(q, k, v, causal=False, window=(-1, -1), scale=None,
                    softcap=None, kv_lengths=None, qs=None, ks=None):
    """Scalar loops, one query at a time, straight from the spec."""
    B, Hq, Sq, D = q.shape
    Hkv, Skv, Dv = k.shape[1], k.shape[2], v.shape[3]
    G = Hq // Hkv
    scale = 1 / math.sqrt(D) if scale is None else scale
    left, right = window
    out = np.zeros((B, Hq, Sq, Dv))
    lse = np.full((B, Hq, Sq), -np.inf)
    for b, h, i in itertools.product(range(B), range(Hq), range(Sq)):
        L = Skv if kv_lengths is None else int(kv_lengths[b])
        p = i + L - Sq
        scores = {}
        for j in range(Skv):
            visible = (j < L and (not causal or j <= p) and
                       (left < 0 or j >= p - left) and
                       (right < 0 or j <= p + right) and
                       (qs is None or qs[b][i] == ks[b][j]))
            if not visible:
                continue
            s = scale * sum(float(q[b, h, i, d]) * float(k[b, h // G, j, d])
                            for d in range(D))
            if softcap is not None:
                s = softcap * math.tanh(s / softcap)
            scores[j] = s
        if not scores:
            continue
        mx = max(scores.values())
        z = sum(math.exp(s - mx) for s in scores.values())
        lse[b, h, i] = mx + math.log(z)
        for j, s in scores.items():
            out[b, h, i] += math.exp(s - mx) / z * v[b, h // G, j].astype(float)
    return out, lse


ATTN_CASES = [
    # B, Hq, Hkv, Sq, Skv, D, Dv, kwargs
    (1, 1, 1, 3, 3, 4, 4, {}),
    (2, 4, 2, 3, 5, 4, 3, dict(causal=True)),
    (1, 3, 1, 5, 5, 2, 2, dict(causal=True, window=(1, -1))),
    (2, 2, 2, 4, 6, 3, 2, dict(window=(1, 1))),
    (2, 2, 1, 2, 7, 4, 4, dict(causal=True, kv_lengths=[0, 4])),
    (2, 2, 2, 4, 4, 3, 3, dict(softcap=0.5, scale=1.7)),
    (2, 2, 2, 4, 5, 3, 3, dict(seg=True, causal=True)),
    (1, 2, 2, 6, 3, 3, 3, dict(causal=True)),   # Sq > Skv: early rows empty
    (1, 1, 1, 1, 6, 3, 3, dict(window=(2, 0), kv_lengths=[5])),
]


@pytest.mark.parametrize("case", range(len(ATTN_CASES)))
def test_attention_matches_loops(case):
    B, Hq, Hkv, Sq, Skv, D, Dv, kw = ATTN_CASES[case]
    kw = dict(kw)
    r = rng(case)
    q = r.standard_normal((B, Hq, Sq, D))
    k = r.standard_normal((B, Hkv, Skv, D))
    v = r.standard_normal((B, Hkv, Skv, Dv))
    qs = ks = None
    if kw.pop("seg", False):
        qs = r.integers(0, 2, (B, Sq))
        ks = r.integers(0, 2, (B, Skv))
    out, lse = ref.attention(q, k, v, q_segment_ids=qs, kv_segment_ids=ks, **kw)
    lw = dict(kw)
    out2, lse2 = attention_loops(q, k, v, qs=qs, ks=ks, **lw)
    close(out, out2)
    close(lse, lse2)


def test_attention_fully_masked_rows():
    r = rng(1)
    q = r.standard_normal((2, 2, 4, 3))
    k = r.standard_normal((2, 1, 4, 3))
    v = r.standard_normal((2, 1, 4, 3))
    out, lse = ref.attention(q, k, v, kv_lengths=[0, 4],
                             q_segment_ids=[[0, 0, 1, 2], [0, 1, 1, 3]],
                             kv_segment_ids=[[0, 0, 0, 0], [0, 1, 1, 1]])
    assert np.all(out[0] == 0) and np.all(lse[0] == -np.inf)
    assert np.all(out[1, :, 3] == 0) and np.all(lse[1, :, 3] == -np.inf)
    assert np.all(np.isfinite(lse[1, :, :3]))
    assert not np.any(np.isnan(out))


def test_attention_identities():
    r = rng(2)
    B, H, Sq, Skv, D = 2, 4, 3, 6, 5
    q = r.standard_normal((B, H, Sq, D))
    k = r.standard_normal((B, 2, Skv, D))
    v = r.standard_normal((B, 2, Skv, D))
    # GQA = MHA on repeated k/v heads
    o1, l1 = ref.attention(q, k, v, causal=True)
    o2, l2 = ref.attention(q, np.repeat(k, 2, 1), np.repeat(v, 2, 1), causal=True)
    close(o1, o2), close(l1, l2)
    # plain = softmax(q k^T / sqrt(D)) v
    s = np.einsum("bhid,bhjd->bhij", q, np.repeat(k, 2, 1)) / np.sqrt(D)
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    o3, l3 = ref.attention(q, k, v)
    close(o3, np.einsum("bhij,bhjd->bhid", p, np.repeat(v, 2, 1)))
    close(l3, np.log(np.exp(s).sum(-1)))
    # kv_lengths = L is attention on the first L keys (bottom-right aligned)
    for causal in (False, True):
        o4, l4 = ref.attention(q, k, v, causal=causal, kv_lengths=[4, 6])
        o5, l5 = ref.attention(q[:1], k[:1, :, :4], v[:1, :, :4], causal=causal)
        close(o4[:1], o5), close(l4[:1], l5)
    # causal with Sq == Skv is the lower triangle
    o6, _ = ref.attention(q, k[:, :, :3], v[:, :, :3], causal=True)
    close(o6[:, :, 0], np.repeat(v[:, :, 0], 2, 1))
    # window (0, 0) sees exactly the key at p
    o7, _ = ref.attention(q, k, v, window=(0, 0))
    close(o7, np.repeat(v, 2, 1)[:, :, Skv - Sq:])
    # a huge softcap is no softcap
    o8, _ = ref.attention(q, k, v, softcap=1e9)
    close(o8, o3, tol=1e-9)


# ---------------------------------------------------------------------------
# scans
# ---------------------------------------------------------------------------

def scan_loops(op, x, exclusive, reverse, init):
    """1-D scan with plain Python loops."""
    seq = list(x[::-1]) if reverse else list(x)
    out, c = [], init
    for v in seq:
        nc = v if c is None else op(c, v)
        out.append(c if exclusive else nc)
        c = nc
    if reverse:
        out = out[::-1]
    return np.array(out), c


@pytest.mark.parametrize("name,op", [("add", lambda a, b: a + b),
                                     ("mul", lambda a, b: a * b),
                                     ("max", max), ("min", min)])
@pytest.mark.parametrize("exclusive,reverse,with_init",
                         [(False, False, False), (False, True, False),
                          (False, False, True), (True, False, True),
                          (True, True, True), (False, True, True)])
def test_scan_matches_loops(name, op, exclusive, reverse, with_init):
    r = rng(3)
    x = r.standard_normal((3, 5, 4))
    init = r.standard_normal((3, 4)) if with_init else None
    outs, carries = ref.scan(name, [x], dim=1, reverse=reverse,
                             exclusive=exclusive,
                             initial=None if init is None else [init])
    for a, c in itertools.product(range(3), range(4)):
        o, carry = scan_loops(op, x[a, :, c], exclusive, reverse,
                              None if init is None else init[a, c])
        close(outs[0][a, :, c], o)
        close(carries[0][a, c], carry)


def test_scan_exclusive_is_shifted_inclusive_and_ints():
    r = rng(4)
    x = r.integers(-50, 50, (4, 7)).astype(np.int32)
    inc, ci = ref.scan("add", [x], dim=1)
    exc, ce = ref.scan("add", [x], dim=1, exclusive=True, initial=[np.zeros(4, np.int32)])
    assert inc[0].dtype == np.int32
    np.testing.assert_array_equal(exc[0][:, 1:], inc[0][:, :-1])
    np.testing.assert_array_equal(exc[0][:, 0], 0)
    np.testing.assert_array_equal(ci[0], ce[0])
    np.testing.assert_array_equal(inc[0], np.cumsum(x, axis=1))
    mx, _ = ref.scan("max", [x], dim=0, reverse=True)
    np.testing.assert_array_equal(mx[0], np.maximum.accumulate(x[::-1], 0)[::-1])
    # identities are identities
    for name in ("add", "mul", "max", "min"):
        e = ref.IDENTITIES(name, np.int32)
        o, _ = ref.scan(name, [x], dim=1, initial=[np.full(4, e, np.int32)])
        np.testing.assert_array_equal(o[0], ref.scan(name, [x], dim=1)[0][0])


def test_scan_zero_length_and_multi_input():
    x = np.zeros((3, 0))
    outs, carries = ref.scan("add", [x], dim=1, initial=[np.ones(3)])
    assert outs[0].shape == (3, 0)
    close(carries[0], np.ones(3))
    r = rng(5)
    a, b = r.standard_normal((2, 6)), r.standard_normal((2, 6))
    (sa, sb), _ = ref.scan("add", [a, b], dim=1)
    close(sa, np.cumsum(a, 1)), close(sb, np.cumsum(b, 1))


def test_linear_scan_is_linear_recurrence():
    r = rng(6)
    a, b = r.uniform(0.5, 1.0, (3, 8, 2)), r.standard_normal((3, 8, 2))
    h0 = r.standard_normal((3, 2))
    for reverse in (False, True):
        h, last = ref.linear_recurrence(a, b, h0=h0, dim=1, reverse=reverse)
        (pa, pb), (ca, cb) = ref.scan("linear", [a, b], dim=1, reverse=reverse,
                                      initial=[np.ones((3, 2)), h0])
        close(h, pb), close(last, cb)
        # brute force
        for i, j in itertools.product(range(3), range(2)):
            steps = range(7, -1, -1) if reverse else range(8)
            st = h0[i, j]
            for t in steps:
                st = a[i, t, j] * st + b[i, t, j]
                assert abs(h[i, t, j] - st) < 1e-12
        # without h0 the first step is h = b
        h2, _ = ref.linear_recurrence(a, b, dim=1, reverse=reverse)
        first = 7 if reverse else 0
        close(h2[:, first], b[:, first])
        h3, _ = ref.linear_recurrence(a, b, h0=np.zeros((3, 2)), dim=1,
                                      reverse=reverse)
        close(h2, h3)
    h, last = ref.linear_recurrence(np.ones((2, 0)), np.ones((2, 0)), dim=1)
    close(last, np.zeros(2))


# ---------------------------------------------------------------------------
# selective scan
# ---------------------------------------------------------------------------

def selective_scan_loops(u, delta, A, B, C, D, z, bias, softplus):
    Bt, Dc, L = u.shape
    G, N = B.shape[1], A.shape[1]
    y = np.zeros((Bt, Dc, L))
    last = np.zeros((Bt, Dc, N))
    for b, d in itertools.product(range(Bt), range(Dc)):
        g = d // (Dc // G)
        h = [0.0] * N
        for t in range(L):
            dt = delta[b, d, t] + (bias[d] if bias is not None else 0.0)
            if softplus:
                dt = math.log1p(math.exp(dt))
            acc = 0.0
            for n in range(N):
                h[n] = math.exp(dt * A[d, n]) * h[n] + dt * B[b, g, n, t] * u[b, d, t]
                acc += C[b, g, n, t] * h[n]
            if D is not None:
                acc += D[d] * u[b, d, t]
            if z is not None:
                acc *= z[b, d, t] / (1 + math.exp(-z[b, d, t]))
            y[b, d, t] = acc
        last[b, d] = h
    return y, last


@pytest.mark.parametrize("G,opts", [(1, False), (2, True), (4, True)])
def test_selective_scan_matches_loops(G, opts):
    r = rng(7 + G)
    Bt, Dc, L, N = 2, 4, 5, 3
    u = r.standard_normal((Bt, Dc, L))
    delta = r.uniform(-1, 1, (Bt, Dc, L))
    A = -r.uniform(0.1, 1, (Dc, N))
    B = r.standard_normal((Bt, G, N, L))
    C = r.standard_normal((Bt, G, N, L))
    D = r.standard_normal(Dc) if opts else None
    z = r.standard_normal((Bt, Dc, L)) if opts else None
    bias = r.standard_normal(Dc) if opts else None
    if not opts:
        delta = np.abs(delta)
    y, last = ref.selective_scan(u, delta, A, B, C, D, z, bias, opts)
    y2, last2 = selective_scan_loops(u, delta, A, B, C, D, z, bias, opts)
    close(y, y2), close(last, last2)
    if G == 1:  # [B, N, L] variable B/C is one group
        y3, _ = ref.selective_scan(u, delta, A, B[:, 0], C[:, 0], D, z, bias, opts)
        close(y3, y)


# ---------------------------------------------------------------------------
# gated linear attention
# ---------------------------------------------------------------------------

def gla_parallel(q, k, v, g, scale, s0):
    """Quadratic form: o_t = scale * sum_{s<=t} (q_t * decay(s, t)) . k_s v_s
    + scale * (q_t * decay(-1, t)) S0."""
    Bt, H, T, K = q.shape
    if g is None:
        g = np.zeros((Bt, H, T, K))
    elif g.ndim == 3:
        g = np.repeat(g[..., None], K, -1)
    cg = np.cumsum(g, axis=2)                      # sum_{r<=t} g_r
    o = np.zeros((Bt, H, T, v.shape[3]))
    for t in range(T):
        for s in range(t + 1):
            dec = np.exp(cg[:, :, t] - cg[:, :, s])       # prod_{s<r<=t}
            w = np.einsum("bhk,bhk->bh", q[:, :, t] * dec, k[:, :, s])
            o[:, :, t] += w[..., None] * v[:, :, s]
        if s0 is not None:
            o[:, :, t] += np.einsum("bhk,bhkv->bhv", q[:, :, t] * np.exp(cg[:, :, t]), s0)
    return scale * o


@pytest.mark.parametrize("gate", [None, "vector", "scalar"])
@pytest.mark.parametrize("with_s0", [False, True])
def test_gla_matches_parallel_form(gate, with_s0):
    r = rng(11)
    Bt, H, T, K, V = 2, 2, 6, 3, 4
    q, k = r.standard_normal((2, Bt, H, T, K))
    v = r.standard_normal((Bt, H, T, V))
    g = None
    if gate == "vector":
        g = -r.uniform(0, 1, (Bt, H, T, K))
    elif gate == "scalar":
        g = -r.uniform(0, 1, (Bt, H, T))
    s0 = r.standard_normal((Bt, H, K, V)) if with_s0 else None
    o, S = ref.gated_linear_attention(q, k, v, g, 0.7, s0)
    close(o, gla_parallel(q, k, v, g, 0.7, s0), tol=1e-10)
    # final state: decayed sum of outer products
    if g is None:
        S2 = np.einsum("bhtk,bhtv->bhkv", k, v) + (0 if s0 is None else s0)
        close(S, S2, tol=1e-10)
    # default scale is 1/sqrt(K)
    o2, _ = ref.gated_linear_attention(q, k, v, g, None, s0)
    close(o2, o / 0.7 / np.sqrt(K), tol=1e-10)
    if gate == "scalar":
        o3, S3 = ref.gated_linear_attention(q, k, v, np.repeat(g[..., None], K, -1), 0.7, s0)
        close(o3, o), close(S3, S)


# ---------------------------------------------------------------------------
# layer helpers
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("W,L", [(1, 5), (4, 9), (4, 2), (3, 1)])
def test_causal_conv1d_matches_convolve(W, L):
    r = rng(12)
    x = r.standard_normal((2, 3, L))
    w = r.standard_normal((3, W))
    bias = r.standard_normal(3)
    for act in (None, "silu"):
        out = ref.causal_conv1d(x, w, bias, act)
        for b, d in itertools.product(range(2), range(3)):
            # out[t] = sum_i w[i] x[t - W + 1 + i] = full convolution with w reversed
            e = np.convolve(x[b, d], w[d, ::-1])[:L] + bias[d]
            if act:
                e = e / (1 + np.exp(-e))
            close(out[b, d], e)


def test_rms_norm():
    r = rng(13)
    x = r.standard_normal((2, 3, 7))
    w = r.standard_normal(7)
    out = ref.rms_norm(x, w, eps=0.0)
    close(np.sqrt(np.mean((out / w) ** 2, -1)), np.ones((2, 3)))
    for idx in itertools.product(range(2), range(3)):
        row = x[idx]
        e = [row[i] / math.sqrt(sum(t * t for t in row) / 7 + 1e-3) * w[i]
             for i in range(7)]
        close(ref.rms_norm(x, w, 1e-3)[idx], e)


@pytest.mark.parametrize("interleaved", [False, True])
def test_rope(interleaved):
    r = rng(14)
    Bt, H, T, D = 2, 3, 5, 8
    x = r.standard_normal((Bt, H, T, D))
    pos = r.integers(0, 100, (Bt, T))
    out = ref.rope(x, pos, theta=500.0, interleaved=interleaved)
    for b, h, t in itertools.product(range(Bt), range(H), range(T)):
        for i in range(D // 2):
            a = pos[b, t] * 500.0 ** (-2 * i / D)
            j1, j2 = (2 * i, 2 * i + 1) if interleaved else (i, i + D // 2)
            x1, x2 = x[b, h, t, j1], x[b, h, t, j2]
            assert abs(out[b, h, t, j1] - (x1 * math.cos(a) - x2 * math.sin(a))) < 1e-12
            assert abs(out[b, h, t, j2] - (x2 * math.cos(a) + x1 * math.sin(a))) < 1e-12
    # position 0 is the identity; rotations keep norms; [T] broadcasts
    close(ref.rope(x, np.zeros(T, int), interleaved=interleaved), x)
    close(np.linalg.norm(out, axis=-1), np.linalg.norm(x, axis=-1))
    close(ref.rope(x, pos[0], interleaved=interleaved),
          ref.rope(x, np.stack([pos[0], pos[0]]), interleaved=interleaved))


def test_rope_conventions_are_permutations():
    r = rng(15)
    x = r.standard_normal((1, 2, 4, 6))
    pos = np.arange(4)
    perm = np.concatenate([np.arange(0, 6, 2), np.arange(1, 6, 2)])  # evens, odds
    a = ref.rope(x, pos, interleaved=True)
    b = ref.rope(x[..., perm], pos, interleaved=False)
    close(a[..., perm], b)
