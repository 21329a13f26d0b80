"""float64 NumPy reference implementations of the seq ops.

Written from the op spec (dialects/seq/README.md) alone, independently of the
seqc package. Every function takes arrays of any float dtype, computes in
float64 and returns float64 results (integer scans stay integer).
"""

import numpy as np

__all__ = [
    "attention", "scan", "COMBINERS", "IDENTITIES", "linear_recurrence",
    "selective_scan", "gated_linear_attention", "causal_conv1d", "rms_norm",
    "rope", "softplus", "silu",
]


def _f64(x):
    return None if x is None else np.asarray(x, dtype=np.float64)


def softplus(x):
    # log(1 + exp(x)), overflow-safe
    return np.logaddexp(0.0, x)


def silu(x):
    return x / (1.0 + np.exp(-x))


# ---------------------------------------------------------------------------
# attention
# ---------------------------------------------------------------------------

def attention_visible(B, Sq, Skv, causal=False, window=(-1, -1),
                      kv_lengths=None, q_segment_ids=None,
                      kv_segment_ids=None):
    """The visibility predicate as a [B, Sq, Skv] boolean array."""
    left, right = window
    i = np.arange(Sq)[:, None]
    j = np.arange(Skv)[None, :]
    vis = np.zeros((B, Sq, Skv), dtype=bool)
    for b in range(B):
        L = int(kv_lengths[b]) if kv_lengths is not None else Skv
        p = i + L - Sq
        m = j < L
        if causal:
            m = m & (j <= p)
        if left >= 0:
            m = m & (j >= p - left)
        if right >= 0:
            m = m & (j <= p + right)
        if q_segment_ids is not None:
            m = m & (np.asarray(q_segment_ids)[b][:, None] ==
                     np.asarray(kv_segment_ids)[b][None, :])
        vis[b] = m
    return vis


def attention(q, k, v, causal=False, window=(-1, -1), scale=None,
              softcap=None, kv_lengths=None, q_segment_ids=None,
              kv_segment_ids=None):
    """(out [B, Hq, Sq, Dv], lse [B, Hq, Sq]) in float64."""
    q, k, v = _f64(q), _f64(k), _f64(v)
    B, Hq, Sq, D = q.shape
    Hkv, Skv = k.shape[1], k.shape[2]
    G = Hq // Hkv
    if scale is None:
        scale = 1.0 / np.sqrt(D)
    kk = np.repeat(k, G, axis=1)          # query head h reads kv head h // G
    vv = np.repeat(v, G, axis=1)
    s = scale * np.einsum("bhid,bhjd->bhij", q, kk)
    if softcap is not None:
        s = softcap * np.tanh(s / softcap)
    vis = attention_visible(B, Sq, Skv, causal, window, kv_lengths,
                            q_segment_ids, kv_segment_ids)[:, None]
    s = np.where(vis, s, -np.inf)
    any_vis = vis.any(axis=-1)                                 # [B, 1, Sq]
    m = np.where(any_vis, s.max(axis=-1, initial=-np.inf), 0.0)
    e = np.where(vis, np.exp(s - m[..., None]), 0.0)
    denom = e.sum(axis=-1)
    safe = np.where(any_vis, denom, 1.0)
    out = np.einsum("bhij,bhjd->bhid", e, vv) / safe[..., None]
    out = np.where(any_vis[..., None], out, 0.0)
    lse = np.where(any_vis, m + np.log(safe), -np.inf)
    out = np.broadcast_to(out, (B, Hq, Sq, v.shape[3])).copy()
    lse = np.broadcast_to(lse, (B, Hq, Sq)).copy()
    return out, lse


# ---------------------------------------------------------------------------
# scans
# ---------------------------------------------------------------------------

def _linear(l, r):
    (a1, b1), (a2, b2) = l, r
    return (a1 * a2, a2 * b1 + b2)


COMBINERS = {
    "add": lambda l, r: tuple(x + y for x, y in zip(l, r)),
    "mul": lambda l, r: tuple(x * y for x, y in zip(l, r)),
    "max": lambda l, r: tuple(np.maximum(x, y) for x, y in zip(l, r)),
    "min": lambda l, r: tuple(np.minimum(x, y) for x, y in zip(l, r)),
    "linear": _linear,
}


def IDENTITIES(name, dtype):
    """The identity carry element of a named combiner for one dtype."""
    dtype = np.dtype(dtype)
    if name == "add":
        return 0
    if name == "mul":
        return 1
    if name == "max":
        return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min
    if name == "min":
        return np.inf if dtype.kind == "f" else np.iinfo(dtype).max
    raise ValueError(name)


def scan(combine, xs, dim=-1, reverse=False, exclusive=False, initial=None):
    """Sequential scan straight from the spec.

    ``combine``: a name of COMBINERS or a function (tuple, tuple) -> tuple.
    Floats compute in float64; integers keep their dtype (wrapping).
    Returns (outputs list, carries list).
    """
    if isinstance(combine, str):
        combine = COMBINERS[combine]
    xs = [np.asarray(x) for x in xs]
    xs = [x.astype(np.float64) if x.dtype.kind == "f" else x for x in xs]
    dim = dim % xs[0].ndim
    moved = [np.moveaxis(x, dim, 0) for x in xs]
    T = moved[0].shape[0]
    order = range(T - 1, -1, -1) if reverse else range(T)
    outs = [np.zeros_like(m) for m in moved]
    carry = None
    if initial is not None:
        carry = tuple(np.broadcast_to(np.asarray(c, dtype=m.dtype),
                                      m.shape[1:]).copy()
                      for c, m in zip(initial, moved))
    assert not (exclusive and carry is None), "exclusive scans need initial"
    for t in order:
        x_t = tuple(m[t] for m in moved)
        new = x_t if carry is None else tuple(combine(carry, x_t))
        for o, val, prev in zip(outs, new, carry if exclusive else new):
            o[t] = prev
        carry = tuple(np.asarray(c) for c in new)
    if carry is None:
        raise ValueError("zero-length scan without initial carries")
    outs = [np.moveaxis(o, 0, dim) for o in outs]
    return outs, list(carry)


def linear_recurrence(a, b, h0=None, dim=-1, reverse=False):
    """(h, last): h_t = a_t * h_{t-1} + b_t along dim."""
    a, b = _f64(a), _f64(b)
    dim = dim % a.ndim
    am, bm = np.moveaxis(a, dim, 0), np.moveaxis(b, dim, 0)
    T = am.shape[0]
    h = np.zeros_like(am)
    prev = None if h0 is None else _f64(h0)
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        prev = bm[t].copy() if prev is None else am[t] * prev + bm[t]
        h[t] = prev
    if prev is None:
        prev = np.zeros(am.shape[1:])
    return np.moveaxis(h, 0, dim), prev


# ---------------------------------------------------------------------------
# selective scan (Mamba-1 S6)
# ---------------------------------------------------------------------------

def selective_scan(u, delta, A, B, C, D=None, z=None, delta_bias=None,
                   delta_softplus=False):
    """(y [B, D, L], last_state [B, D, N])."""
    u, delta, A, B, C = map(_f64, (u, delta, A, B, C))
    if B.ndim == 3:
        B = B[:, None]
    if C.ndim == 3:
        C = C[:, None]
    Bt, Dc, L = u.shape
    G, N = B.shape[1], A.shape[1]
    group = np.arange(Dc) // (Dc // G)             # channel d reads group d/(D/G)
    Bd, Cd = B[:, group], C[:, group]              # [B, D, N, L]
    dt = delta + (0.0 if delta_bias is None else _f64(delta_bias)[:, None])
    if delta_softplus:
        dt = softplus(dt)
    h = np.zeros((Bt, Dc, N))
    y = np.zeros((Bt, Dc, L))
    for t in range(L):
        h = (np.exp(dt[:, :, t, None] * A[None]) * h +
             (dt[:, :, t] * u[:, :, t])[:, :, None] * Bd[:, :, :, t])
        y[:, :, t] = np.einsum("bdn,bdn->bd", Cd[:, :, :, t], h)
    if D is not None:
        y = y + _f64(D)[:, None] * u
    if z is not None:
        y = y * silu(_f64(z))
    return y, h


# ---------------------------------------------------------------------------
# gated linear attention
# ---------------------------------------------------------------------------

def gated_linear_attention(q, k, v, g=None, scale=None, initial_state=None):
    """(o [B, H, T, V], final_state [B, H, K, V]), recurrent form."""
    q, k, v = _f64(q), _f64(k), _f64(v)
    Bt, H, T, K = q.shape
    V = v.shape[3]
    if scale is None:
        scale = 1.0 / np.sqrt(K)
    S = (np.zeros((Bt, H, K, V)) if initial_state is None
         else _f64(initial_state).copy())
    if g is not None:
        g = _f64(g)
        if g.ndim == 3:                              # scalar gate per step
            g = np.broadcast_to(g[..., None], (Bt, H, T, K))
    o = np.zeros((Bt, H, T, V))
    for t in range(T):
        if g is not None:
            S = np.exp(g[:, :, t])[..., None] * S
        S = S + k[:, :, t, :, None] * v[:, :, t, None, :]
        o[:, :, t] = scale * np.einsum("bhk,bhkv->bhv", q[:, :, t], S)
    return o, S


# ---------------------------------------------------------------------------
# layer helpers
# ---------------------------------------------------------------------------

def causal_conv1d(x, weight, bias=None, activation=None):
    x, w = _f64(x), _f64(weight)
    Bt, Dc, L = x.shape
    W = w.shape[1]
    out = np.zeros((Bt, Dc, L))
    if bias is not None:
        out += _f64(bias)[None, :, None]
    for i in range(W):
        shift = W - 1 - i                       # reads x[t - shift]
        if shift >= L:
            continue
        out[:, :, shift:] += w[None, :, i, None] * x[:, :, :L - shift]
    if activation in ("silu", "swish"):
        out = silu(out)
    return out


def rms_norm(x, weight, eps=1e-6):
    x, w = _f64(x), _f64(weight)
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def rope(x, positions, theta=10000.0, interleaved=False):
    x = _f64(x)
    Bt, H, T, D = x.shape
    pos = np.asarray(positions).astype(np.float64)
    if pos.ndim == 1:
        pos = np.broadcast_to(pos, (Bt, T))
    inv_freq = theta ** (-2.0 * np.arange(D // 2) / D)
    ang = pos[:, None, :, None] * inv_freq                # [B, 1, T, D/2]
    cos, sin = np.cos(ang), np.sin(ang)
    if interleaved:
        x1, x2 = x[..., 0::2], x[..., 1::2]
    else:
        x1, x2 = x[..., :D // 2], x[..., D // 2:]
    o1 = x1 * cos - x2 * sin
    o2 = x2 * cos + x1 * sin
    out = np.empty_like(x)
    if interleaved:
        out[..., 0::2], out[..., 1::2] = o1, o2
    else:
        out[..., :D // 2], out[..., D // 2:] = o1, o2
    return out
