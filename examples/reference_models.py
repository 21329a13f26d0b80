"""float64 NumPy references of the example blocks in examples/*.mlir.

Written from each file's header comment and its MLIR (constants, layouts,
which weights are [in, out]) and from the op spec (dialects/seq/README.md),
independently of the compiler: nothing here imports seqc. Every op the blocks
use is re-implemented below in a few lines of float64 NumPy;
test/python/test_examples.py cross-checks these op implementations against
the op-level references of test/python/reference.py as well.

Each block function takes its arguments by the MLIR argument names (so a
caller binds them by name, not by position) and returns float64.
"""

import numpy as np

__all__ = [
    "CONFIGS", "REFERENCES",
    "llama_block", "mamba_block", "gla_block", "lru_block",
    "rms_norm", "silu", "softplus", "log_sigmoid", "rope_rotate_half",
    "gqa_causal_attention", "causal_conv1d", "selective_scan",
    "gated_linear_attention",
]

# Constants of each block, as its header comment states them. run_examples.py
# checks that the `eps` / `theta` attributes in the MLIR agree with these.
CONFIGS = {
    "llama_block": {"eps": 1e-5, "theta": 500000.0, "n_heads": 8,
                    "n_kv_heads": 2},
    "mamba_block": {"eps": 1e-5, "dt_rank": 8, "d_state": 16},
    "gla_block": {"eps": 1e-5, "n_heads": 4},
    "lru_block": {"eps": 1e-5},
}
# The unfused Llama block is the same model written with its attention
# unfused (seq-raise-attention raises it).
CONFIGS["llama_block_unfused"] = CONFIGS["llama_block"]
# Likewise the gated linear RNN written with seq.scan (seq-raise-scans).
CONFIGS["lru_block_scan"] = CONFIGS["lru_block"]


def _f64(a):
    return np.asarray(a, dtype=np.float64)


# ---------------------------------------------------------------------------
# Op-level building blocks (float64)
# ---------------------------------------------------------------------------

def rms_norm(x, w, eps):
    """x / sqrt(mean(x^2, last axis) + eps) * w."""
    x = _f64(x)
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * _f64(w)


def silu(a):
    """a * sigmoid(a), without overflow for large |a|."""
    a = _f64(a)
    return a * np.exp(-np.logaddexp(0.0, -a))


def softplus(a):
    """log(1 + exp(a)), without overflow."""
    return np.logaddexp(0.0, _f64(a))


def log_sigmoid(a):
    """log(sigmoid(a)) = -softplus(-a)."""
    return -np.logaddexp(0.0, -_f64(a))


def rope_rotate_half(x, positions, theta):
    """Hugging Face Llama rotary embedding on x [B, H, T, D] at positions [T]:
    pairs (x_i, x_{i+D/2}) rotated by pos * theta^(-2i/D)."""
    x = _f64(x)
    D = x.shape[-1]
    half = D // 2
    inv_freq = theta ** (-2.0 * np.arange(half) / D)              # [D/2]
    ang = np.asarray(positions, dtype=np.float64)[:, None] * inv_freq  # [T, D/2]
    cos, sin = np.cos(ang), np.sin(ang)
    x1, x2 = x[..., :half], x[..., half:]
    return np.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], axis=-1)


def gqa_causal_attention(q, k, v, scale=None):
    """Causal softmax attention; q [B, Hq, T, D], k/v [B, Hkv, T, D]; query
    head h reads kv head h // (Hq / Hkv); scale defaults to 1/sqrt(D)."""
    q, k, v = _f64(q), _f64(k), _f64(v)
    B, Hq, T, D = q.shape
    Hkv = k.shape[1]
    group = Hq // Hkv
    if scale is None:
        scale = 1.0 / np.sqrt(D)
    kv_head = np.arange(Hq) // group
    kh, vh = k[:, kv_head], v[:, kv_head]                      # [B, Hq, T, D]
    s = scale * np.einsum("bhid,bhjd->bhij", q, kh)
    future = np.triu(np.ones((T, T), dtype=bool), k=1)         # j > i
    s = np.where(future, -np.inf, s)
    s = s - s.max(axis=-1, keepdims=True)
    p = np.exp(s)
    p /= p.sum(axis=-1, keepdims=True)
    return np.einsum("bhij,bhjd->bhid", p, vh)


def causal_conv1d(x, w, b):
    """Depthwise causal conv along L: x [B, D, L], w [D, W], b [D];
    out[t] = b + sum_i w[i] * x[t - W + 1 + i] (zeros before t = 0)."""
    x, w, b = _f64(x), _f64(w), _f64(b)
    Bt, Dc, L = x.shape
    W = w.shape[1]
    xp = np.concatenate([np.zeros((Bt, Dc, W - 1)), x], axis=-1)
    out = np.broadcast_to(b[None, :, None], (Bt, Dc, L)).copy()
    for i in range(W):
        out += w[None, :, i, None] * xp[:, :, i:i + L]
    return out


def selective_scan(u, dt, A, Bm, Cm, D, z, dt_bias):
    """Mamba-1 S6 with delta_softplus, D skip and silu(z) gating.

    u, dt, z [B, Dc, L]; A [Dc, N]; Bm, Cm [B, N, L] (one group); D,
    dt_bias [Dc]. Returns y [B, Dc, L]."""
    u, dt, A, Bm, Cm = map(_f64, (u, dt, A, Bm, Cm))
    delta = softplus(dt + _f64(dt_bias)[:, None])              # [B, Dc, L]
    Bt, Dc, L = u.shape
    h = np.zeros((Bt, Dc, A.shape[1]))
    y = np.empty((Bt, Dc, L))
    for t in range(L):
        d_t = delta[:, :, t, None]                             # [B, Dc, 1]
        h = (np.exp(d_t * A[None]) * h +
             d_t * Bm[:, None, :, t] * u[:, :, t, None])
        y[:, :, t] = np.einsum("bdn,bn->bd", h, Cm[:, :, t])
    y = y + _f64(D)[:, None] * u
    return y * silu(z)


def gated_linear_attention(q, k, v, g, scale=None):
    """S_t = diag(exp(g_t)) S_{t-1} + k_t^T v_t, o_t = scale * q_t S_t, with
    q, k, g [B, H, T, K] and v [B, H, T, V]; scale defaults to 1/sqrt(K)."""
    q, k, v, g = map(_f64, (q, k, v, g))
    Bt, H, T, K = q.shape
    if scale is None:
        scale = 1.0 / np.sqrt(K)
    S = np.zeros((Bt, H, K, v.shape[-1]))
    o = np.empty((Bt, H, T, v.shape[-1]))
    for t in range(T):
        S = (np.exp(g[:, :, t, :, None]) * S +
             k[:, :, t, :, None] * v[:, :, t, None, :])
        o[:, :, t] = scale * np.einsum("bhk,bhkv->bhv", q[:, :, t], S)
    return o


def _heads(a2d, B, T, H):
    """[B*T, H*Dh] -> [B, H, T, Dh]."""
    return a2d.reshape(B, T, H, -1).transpose(0, 2, 1, 3)


def _unheads(a):
    """[B, H, T, Dh] -> [B*T, H*Dh]."""
    B, H, T, Dh = a.shape
    return a.transpose(0, 2, 1, 3).reshape(B * T, H * Dh)


# ---------------------------------------------------------------------------
# Blocks
# ---------------------------------------------------------------------------

def llama_block(x, positions, attn_norm_w, wq, wk, wv, wo, ffn_norm_w,
                w1, w3, w2, *, eps=1e-5, theta=500000.0, n_heads=8,
                n_kv_heads=2):
    """examples/llama_block.mlir: pre-norm GQA attention with RoPE, then a
    pre-norm SwiGLU MLP, each with a residual."""
    x = _f64(x)
    wq, wk, wv, wo, w1, w3, w2 = map(_f64, (wq, wk, wv, wo, w1, w3, w2))
    B, T, Dm = x.shape
    h = rms_norm(x, attn_norm_w, eps).reshape(B * T, Dm)
    q = _heads(h @ wq, B, T, n_heads)                          # [B, Hq, T, D]
    k = _heads(h @ wk, B, T, n_kv_heads)                       # [B, Hkv, T, D]
    v = _heads(h @ wv, B, T, n_kv_heads)
    q = rope_rotate_half(q, positions, theta)
    k = rope_rotate_half(k, positions, theta)
    attn = gqa_causal_attention(q, k, v)                       # scale 1/sqrt(D)
    x1 = x + (_unheads(attn) @ wo).reshape(B, T, Dm)
    h2 = rms_norm(x1, ffn_norm_w, eps).reshape(B * T, Dm)
    act = silu(h2 @ w1) * (h2 @ w3)
    return x1 + (act @ w2).reshape(B, T, Dm)


def mamba_block(x, norm_w, w_in, conv_w, conv_b, w_x, w_dt, dt_bias, A, D,
                w_out, *, eps=1e-5, dt_rank=8, d_state=16):
    """examples/mamba_block.mlir: mamba_ssm's Mamba.forward (one B/C group)
    behind an RMSNorm, with a residual."""
    x = _f64(x)
    w_in, w_x, w_dt, w_out = map(_f64, (w_in, w_x, w_dt, w_out))
    B, L, Dm = x.shape
    Di = w_dt.shape[1]
    h = rms_norm(x, norm_w, eps).reshape(B * L, Dm)
    xz = h @ w_in                                              # [B*L, 2*Di]
    xs, z = xz[:, :Di], xz[:, Di:]
    to_bdl = lambda a: a.reshape(B, L, -1).transpose(0, 2, 1)  # noqa: E731
    u = silu(causal_conv1d(to_bdl(xs), conv_w, conv_b))        # [B, Di, L]
    dbc = u.transpose(0, 2, 1).reshape(B * L, Di) @ w_x        # [B*L, R+2N]
    dt_low = dbc[:, :dt_rank]
    Bm = dbc[:, dt_rank:dt_rank + d_state]
    Cm = dbc[:, dt_rank + d_state:dt_rank + 2 * d_state]
    dt = dt_low @ w_dt                                         # [B*L, Di]
    y = selective_scan(u, to_bdl(dt), A, to_bdl(Bm), to_bdl(Cm), D,
                       to_bdl(z), dt_bias)                     # [B, Di, L]
    y2d = y.transpose(0, 2, 1).reshape(B * L, Di)
    return x + (y2d @ w_out).reshape(B, L, Dm)


def gla_block(x, norm_w, wq, wk, wv, wg, wr, wo, *, eps=1e-5, n_heads=4):
    """examples/gla_block.mlir: pre-norm gated linear attention with
    log-sigmoid key gates and a SiLU output gate, with a residual."""
    x = _f64(x)
    wq, wk, wv, wg, wr, wo = map(_f64, (wq, wk, wv, wg, wr, wo))
    B, T, Dm = x.shape
    h = rms_norm(x, norm_w, eps).reshape(B * T, Dm)
    q = _heads(h @ wq, B, T, n_heads)
    k = _heads(h @ wk, B, T, n_heads)
    v = _heads(h @ wv, B, T, n_heads)
    g = _heads(log_sigmoid(h @ wg), B, T, n_heads)
    o = _unheads(gated_linear_attention(q, k, v, g))           # [B*T, H*V]
    o = o * silu(h @ wr)
    return x + (o @ wo).reshape(B, T, Dm)


def lru_block(x, norm_w, wf, wi, wg, wo, *, eps=1e-5):
    """examples/lru_block.mlir (and lru_block_scan.mlir): a gated diagonal
    linear RNN, s_t = f_t s_(t-1) + (1 - f_t) i_t, run step by step."""
    x = _f64(x)
    wf, wi, wg, wo = map(_f64, (wf, wi, wg, wo))
    h = rms_norm(x, norm_w, eps)
    f = 1.0 / (1.0 + np.exp(-(h @ wf)))
    b = (1.0 - f) * (h @ wi)
    s = np.zeros_like(b)
    state = np.zeros((x.shape[0], wf.shape[1]))
    for t in range(x.shape[1]):
        state = f[:, t] * state + b[:, t]
        s[:, t] = state
    return x + (s * silu(h @ wg)) @ wo


REFERENCES = {
    "llama_block": llama_block,
    "mamba_block": mamba_block,
    "gla_block": gla_block,
    "llama_block_unfused": llama_block,
    "lru_block": lru_block,
    "lru_block_scan": lru_block,
}
