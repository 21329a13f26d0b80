"""float64 NumPy reference implementations of whole language models.

Self-contained (NumPy only). Each model has

    <name>_forward(w, cfg, tokens)  -> logits, float64 [B, T, V]
    init_<name>(cfg, rng)           -> {weight name: float32 array}
    PARAMS_<name>(cfg)              -> {weight name: shape}

and ``MODELS[name] = (forward, init, PARAMS)``, ``CONFIGS[name]`` a small
default config. Weight names and layouts are those of the Hugging Face /
PyTorch modules (Linear weights are [out, in]; GPT-2's Conv1D is [in, out]).
A forward computes the whole sequence from scratch (no caches), casting every
weight to float64; it checks the weights it uses against PARAMS (missing or
mis-shaped -> ValueError listing them all; extra entries are ignored) and
refuses integer weights (bf16 bit patterns must be widened first).

    greedy(forward, w, cfg, prompt, steps) -> tokens [B, steps]

recomputes the full forward for every new token.

The building blocks (rms_norm, rope, causal_attention, causal_conv1d,
selective_scan, ssd_scan, gla_scan, lstm_layer, gru_layer, ...) are module
functions looked up at call time, so tests can check them or swap in another
formulation.

cfg keys (eps defaults to 1e-5 everywhere, theta to 10000):
    llama:  V, d, L, H, Hkv, F, eps, theta  (head dim d // H, or cfg["hd"])
    gpt2:   V, d, L, H, P, eps
    mamba:  V, d, L, Di, N, R, W, eps
    mamba2: V, d, L, Di, N, Hm, W, eps      (head dim Di // Hm, n_groups = 1)
    gla:    V, d, L, H, F, eps              (head dim K = d // H)
    lstm, gru: V, d, L
"""

import math

import numpy as np

__all__ = [
    "MODELS", "CONFIGS", "greedy",
    "llama_forward", "init_llama", "PARAMS_llama",
    "gpt2_forward", "init_gpt2", "PARAMS_gpt2",
    "mamba_forward", "init_mamba", "PARAMS_mamba",
    "mamba2_forward", "init_mamba2", "PARAMS_mamba2",
    "gla_forward", "init_gla", "PARAMS_gla",
    "lstm_forward", "init_lstm", "PARAMS_lstm",
    "gru_forward", "init_gru", "PARAMS_gru",
    "rms_norm", "layer_norm", "linear", "rope", "causal_attention",
    "gpt2_attention", "mamba_mixer", "mamba2_mixer", "causal_conv1d",
    "selective_scan", "ssd_scan", "gla_scan", "lstm_layer", "gru_layer",
    "sigmoid", "silu", "softplus", "logsigmoid", "gelu_tanh", "softmax",
]


# ---------------------------------------------------------------------------
# elementwise functions (overflow-free: the tests turn RuntimeWarnings into
# errors)
# ---------------------------------------------------------------------------

def sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def silu(x):
    return x * sigmoid(x)


def softplus(x):
    return np.logaddexp(0.0, x)


def logsigmoid(x):
    return -np.logaddexp(0.0, -x)


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi)
                                    * (x + 0.044715 * x ** 3)))


def softmax(x, axis=-1):
    m = np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    e = np.exp(x - m)
    return e / np.sum(e, axis=axis, keepdims=True)


def rms_norm(x, weight, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * weight


def layer_norm(x, weight, bias, eps):
    mu = np.mean(x, axis=-1, keepdims=True)
    var = np.mean((x - mu) ** 2, axis=-1, keepdims=True)   # biased
    return (x - mu) / np.sqrt(var + eps) * weight + bias


def linear(x, weight, bias=None):
    """x @ weight.T (+ bias): a torch.nn.Linear, weight [out, in]."""
    y = x @ weight.T
    return y if bias is None else y + bias


# ---------------------------------------------------------------------------
# sequence mixers
# ---------------------------------------------------------------------------

def rope(x, positions, theta):
    """Rotate-half RoPE (Hugging Face Llama): x [..., T, hd], positions [T].

    Dimension i pairs with i + hd/2 and turns by positions * theta^(-2i/hd).
    """
    hd = x.shape[-1]
    half = hd // 2
    inv_freq = theta ** (-np.arange(half, dtype=np.float64) * 2.0 / hd)
    ang = np.asarray(positions, np.float64)[:, None] * inv_freq[None, :]
    cos = np.concatenate([np.cos(ang)] * 2, axis=-1)
    sin = np.concatenate([np.sin(ang)] * 2, axis=-1)
    rotated = np.concatenate([-x[..., half:], x[..., :half]], axis=-1)
    return x * cos + rotated * sin


def causal_attention(q, k, v, scale=None):
    """Causal softmax attention with grouped KV heads.

    q [B, H, T, D], k and v [B, Hkv, T, D(v)]; query head h reads KV head
    h // (H // Hkv). Scale 1/sqrt(D) unless given.
    """
    B, H, T, D = q.shape
    Hkv = k.shape[1]
    if H % Hkv:
        raise ValueError("%d query heads are not a multiple of %d KV heads"
                         % (H, Hkv))
    G = H // Hkv
    k = np.repeat(k, G, axis=1)
    v = np.repeat(v, G, axis=1)
    scale = 1.0 / math.sqrt(D) if scale is None else scale
    s = np.einsum("bhid,bhjd->bhij", q, k) * scale
    future = np.triu(np.ones((T, T), dtype=bool), k=1)
    s = np.where(future, -np.inf, s)
    return np.einsum("bhij,bhjd->bhid", softmax(s), v)


def causal_conv1d(x, weight, bias=None):
    """Depthwise causal convolution: x [B, T, C], weight [C, W], bias [C].

    out[t, c] = sum_k weight[c, k] * x[t - W + 1 + k, c] (+ bias[c]), with
    zeros before t = 0 (torch Conv1d, groups=C, padding W-1, first T outputs).
    """
    B, T, C = x.shape
    W = weight.shape[1]
    xp = np.concatenate([np.zeros((B, W - 1, C)), x], axis=1)
    out = np.zeros((B, T, C))
    for k in range(W):
        out += weight[:, k] * xp[:, k:k + T, :]
    return out if bias is None else out + bias


def selective_scan(u, dt, A, Bm, Cm, D):
    """Mamba-1 selective scan, step by step.

    u, dt [B, T, Di]; A [Di, N]; Bm, Cm [B, T, N]; D [Di]. State h [B, Di, N]:
    h = exp(dt A) h + dt Bm u;  y = h @ Cm + D u.  Returns y [B, T, Di].
    """
    Bsz, T, Di = u.shape
    h = np.zeros((Bsz, Di, A.shape[1]))
    y = np.empty((Bsz, T, Di))
    for t in range(T):
        d = dt[:, t, :, None]
        h = np.exp(d * A) * h + d * Bm[:, t, None, :] * u[:, t, :, None]
        y[:, t] = np.einsum("bdn,bn->bd", h, Cm[:, t])
    return y + D * u


def ssd_scan(x, dt, A, Bm, Cm, D):
    """Mamba-2 (SSD, one group) scan, step by step.

    x [B, T, Hm, P]; dt [B, T, Hm] (after softplus); A [Hm] (negative);
    Bm, Cm [B, T, N]; D [Hm]. Per head a state S [P, N]:
    S = exp(dt A) S + dt x B^T;  y = S C + D x.  Returns y [B, T, Hm, P].
    """
    Bsz, T, Hm, P = x.shape
    S = np.zeros((Bsz, Hm, P, Bm.shape[-1]))
    y = np.empty((Bsz, T, Hm, P))
    for t in range(T):
        a = np.exp(dt[:, t] * A)[:, :, None, None]
        S = a * S + np.einsum("bh,bhp,bn->bhpn", dt[:, t], x[:, t], Bm[:, t])
        y[:, t] = np.einsum("bhpn,bn->bhp", S, Cm[:, t])
    return y + D[:, None] * x


def gla_scan(q, k, v, gk, scale=None):
    """Gated linear attention, step by step.

    q, k, gk [B, H, T, K] (gk: log decays, <= 0); v [B, H, T, Kv].
    S = diag(exp(gk_t)) S + k_t v_t^T;  o_t = (q_t S) * scale, scale
    1/sqrt(K) unless given. Returns o [B, H, T, Kv].
    """
    Bsz, H, T, K = q.shape
    scale = 1.0 / math.sqrt(K) if scale is None else scale
    S = np.zeros((Bsz, H, K, v.shape[-1]))
    o = np.empty(q.shape[:3] + (v.shape[-1],))
    for t in range(T):
        S = np.exp(gk[:, :, t])[..., None] * S + \
            k[:, :, t, :, None] * v[:, :, t, None, :]
        o[:, :, t] = np.einsum("bhk,bhkv->bhv", q[:, :, t], S) * scale
    return o


def lstm_layer(x, w_ih, w_hh, b_ih, b_hh):
    """One torch.nn.LSTM layer (gates i, f, g, o), zero initial state.

    x [B, T, In] -> h [B, T, Hd].
    """
    Bsz, T, _ = x.shape
    Hd = w_hh.shape[1]
    h = np.zeros((Bsz, Hd))
    c = np.zeros((Bsz, Hd))
    xi = linear(x, w_ih, b_ih)
    out = np.empty((Bsz, T, Hd))
    for t in range(T):
        g = xi[:, t] + linear(h, w_hh, b_hh)
        i, f, gg, o = np.split(g, 4, axis=-1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(gg)
        h = sigmoid(o) * np.tanh(c)
        out[:, t] = h
    return out


def gru_layer(x, w_ih, w_hh, b_ih, b_hh):
    """One torch.nn.GRU layer (gates r, z, n), zero initial state."""
    Bsz, T, _ = x.shape
    Hd = w_hh.shape[1]
    h = np.zeros((Bsz, Hd))
    xi = linear(x, w_ih, b_ih)
    out = np.empty((Bsz, T, Hd))
    for t in range(T):
        xr, xz, xn = np.split(xi[:, t], 3, axis=-1)
        hr, hz, hn = np.split(linear(h, w_hh, b_hh), 3, axis=-1)
        r = sigmoid(xr + hr)
        z = sigmoid(xz + hz)
        n = np.tanh(xn + r * hn)
        h = (1.0 - z) * n + z * h
        out[:, t] = h
    return out


# ---------------------------------------------------------------------------
# shared plumbing
# ---------------------------------------------------------------------------

def _weights(w, params, model):
    """float64 copies of the weights named in params, checked."""
    missing = [k for k in params if k not in w]
    wrong = ["%s: expected %s, got %s" % (k, tuple(s), tuple(np.shape(w[k])))
             for k, s in params.items()
             if k in w and tuple(np.shape(w[k])) != tuple(s)]
    if missing or wrong:
        raise ValueError("%s weights: %s" % (model, "; ".join(
            (["missing: " + ", ".join(missing)] if missing else []) + wrong)))
    out = {}
    for k in params:
        a = np.asarray(w[k])
        if a.dtype.kind != "f":
            raise TypeError("%s weight %s has dtype %s; expected floats (widen "
                            "bf16 bit patterns first)" % (model, k, a.dtype))
        out[k] = a.astype(np.float64)
    return out


def _tokens(tokens, V, model):
    t = np.asarray(tokens)
    if t.ndim != 2 or t.dtype.kind not in "iu":
        raise ValueError("%s: tokens must be an integer array [B, T], got %s "
                         "%s" % (model, t.dtype, t.shape))
    if t.size and (t.min() < 0 or t.max() >= V):
        raise ValueError("%s: token ids must be in [0, %d), got [%d, %d]"
                         % (model, V, t.min(), t.max()))
    return t.astype(np.int64)


def _rng(rng):
    return rng if isinstance(rng, np.random.Generator) else \
        np.random.default_rng(rng)


def _init(params, rng, special=None):
    """Random float32 weights by name: Linear/Conv1D ~ N(0, 1/fan_in), norm
    weights 1 + 0.1 N(0, 1), biases 0.1 N(0, 1), embeddings N(0, 1);
    ``special(name, shape, rng)`` may return an array for a name first."""
    rng = _rng(rng)
    out = {}
    for name, shape in params.items():
        a = special(name, shape, rng) if special else None
        if a is None:
            if name.endswith("bias"):
                a = 0.1 * rng.standard_normal(shape)
            elif "norm" in name or "ln_" in name:
                a = 1.0 + 0.1 * rng.standard_normal(shape)
            elif "embed" in name or name.endswith(("wte.weight",
                                                   "wpe.weight")):
                a = rng.standard_normal(shape)
            elif ".c_attn." in name or ".c_fc." in name or (
                    ".c_proj." in name and name.startswith("transformer.")):
                a = rng.standard_normal(shape) / math.sqrt(shape[0])  # [in, out]
            else:   # [out, in], and conv1d [C, 1, W]: fan_in = last dim
                a = rng.standard_normal(shape) / math.sqrt(shape[-1])
        out[name] = np.asarray(a, dtype=np.float32)
    return out


def _eps(cfg):
    return float(cfg.get("eps", 1e-5))


def greedy(forward, w, cfg, prompt, steps):
    """Greedy decoding: appends argmax(logits[:, -1]) ``steps`` times,
    recomputing the whole forward each time. prompt [B, T0], T0 >= 1.
    Returns the new tokens, int64 [B, steps] (ties go to the lowest id)."""
    seq = np.asarray(prompt).astype(np.int64)
    if seq.ndim != 2 or seq.shape[1] < 1:
        raise ValueError("prompt must be [B, T0] with T0 >= 1, got shape %s"
                         % (seq.shape,))
    B, T0 = seq.shape
    for _ in range(int(steps)):
        logits = forward(w, cfg, seq)
        nxt = np.argmax(logits[:, -1], axis=-1).astype(np.int64)
        seq = np.concatenate([seq, nxt[:, None]], axis=1)
    return seq[:, T0:]


# ---------------------------------------------------------------------------
# (a) llama
# ---------------------------------------------------------------------------

def _llama_hd(cfg):
    return int(cfg.get("hd", cfg["d"] // cfg["H"]))


def _swiglu_shapes(prefix, d, F):
    """The SwiGLU MLP's Linear weights ([out, in]), as Llama and GLA name them."""
    return {prefix + "gate_proj.weight": (F, d), prefix + "up_proj.weight": (F, d),
            prefix + "down_proj.weight": (d, F)}


def PARAMS_llama(cfg):
    V, d, L, H, Hkv, F = (cfg[k] for k in ("V", "d", "L", "H", "Hkv", "F"))
    hd = _llama_hd(cfg)
    p = {"model.embed_tokens.weight": (V, d)}
    for i in range(L):
        pre = "model.layers.%d." % i
        p[pre + "input_layernorm.weight"] = (d,)
        p[pre + "self_attn.q_proj.weight"] = (H * hd, d)
        p[pre + "self_attn.k_proj.weight"] = (Hkv * hd, d)
        p[pre + "self_attn.v_proj.weight"] = (Hkv * hd, d)
        p[pre + "self_attn.o_proj.weight"] = (d, H * hd)
        p[pre + "post_attention_layernorm.weight"] = (d,)
        p.update(_swiglu_shapes(pre + "mlp.", d, F))
    p["model.norm.weight"] = (d,)
    p["lm_head.weight"] = (V, d)
    return p


def init_llama(cfg, rng):
    return _init(PARAMS_llama(cfg), rng)


def llama_forward(w, cfg, tokens):
    w = _weights(w, PARAMS_llama(cfg), "llama")
    tok = _tokens(tokens, cfg["V"], "llama")
    H, Hkv, hd = cfg["H"], cfg["Hkv"], _llama_hd(cfg)
    eps, theta = _eps(cfg), float(cfg.get("theta", 10000.0))
    B, T = tok.shape
    pos = np.arange(T)
    x = w["model.embed_tokens.weight"][tok]
    for i in range(cfg["L"]):
        p = "model.layers.%d." % i
        h = rms_norm(x, w[p + "input_layernorm.weight"], eps)

        def heads(name, n):
            y = linear(h, w[p + "self_attn.%s.weight" % name])
            return y.reshape(B, T, n, hd).transpose(0, 2, 1, 3)
        q = rope(heads("q_proj", H), pos, theta)
        k = rope(heads("k_proj", Hkv), pos, theta)
        v = heads("v_proj", Hkv)
        o = causal_attention(q, k, v).transpose(0, 2, 1, 3).reshape(
            B, T, H * hd)
        x = x + linear(o, w[p + "self_attn.o_proj.weight"])
        h = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        m = silu(linear(h, w[p + "mlp.gate_proj.weight"])) * \
            linear(h, w[p + "mlp.up_proj.weight"])
        x = x + linear(m, w[p + "mlp.down_proj.weight"])
    x = rms_norm(x, w["model.norm.weight"], eps)
    return linear(x, w["lm_head.weight"])


# ---------------------------------------------------------------------------
# (b) gpt2
# ---------------------------------------------------------------------------

def PARAMS_gpt2(cfg):
    V, d, L, P = (cfg[k] for k in ("V", "d", "L", "P"))
    p = {"transformer.wte.weight": (V, d), "transformer.wpe.weight": (P, d)}
    for i in range(L):
        pre = "transformer.h.%d." % i
        p[pre + "ln_1.weight"] = (d,)
        p[pre + "ln_1.bias"] = (d,)
        p[pre + "attn.c_attn.weight"] = (d, 3 * d)        # Conv1D: [in, out]
        p[pre + "attn.c_attn.bias"] = (3 * d,)
        p[pre + "attn.c_proj.weight"] = (d, d)
        p[pre + "attn.c_proj.bias"] = (d,)
        p[pre + "ln_2.weight"] = (d,)
        p[pre + "ln_2.bias"] = (d,)
        p[pre + "mlp.c_fc.weight"] = (d, 4 * d)
        p[pre + "mlp.c_fc.bias"] = (4 * d,)
        p[pre + "mlp.c_proj.weight"] = (4 * d, d)
        p[pre + "mlp.c_proj.bias"] = (d,)
    p["transformer.ln_f.weight"] = (d,)
    p["transformer.ln_f.bias"] = (d,)
    return p


def init_gpt2(cfg, rng):
    return _init(PARAMS_gpt2(cfg), rng)


def gpt2_attention(h, c_attn_w, c_attn_b, c_proj_w, c_proj_b, H):
    """GPT-2 self-attention on an ln_1 output h [B, T, d] (Conv1D weights)."""
    B, T, d = h.shape
    hd = d // H
    qkv = h @ c_attn_w + c_attn_b
    q, k, v = (a.reshape(B, T, H, hd).transpose(0, 2, 1, 3)
               for a in np.split(qkv, 3, axis=-1))
    o = causal_attention(q, k, v).transpose(0, 2, 1, 3).reshape(B, T, d)
    return o @ c_proj_w + c_proj_b


def gpt2_forward(w, cfg, tokens):
    w = _weights(w, PARAMS_gpt2(cfg), "gpt2")
    tok = _tokens(tokens, cfg["V"], "gpt2")
    B, T = tok.shape
    if T > cfg["P"]:
        raise ValueError("gpt2: %d tokens exceed n_positions %d"
                         % (T, cfg["P"]))
    eps = _eps(cfg)
    x = w["transformer.wte.weight"][tok] + w["transformer.wpe.weight"][:T]
    for i in range(cfg["L"]):
        p = "transformer.h.%d." % i
        h = layer_norm(x, w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps)
        x = x + gpt2_attention(h, w[p + "attn.c_attn.weight"],
                               w[p + "attn.c_attn.bias"],
                               w[p + "attn.c_proj.weight"],
                               w[p + "attn.c_proj.bias"], cfg["H"])
        h = layer_norm(x, w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps)
        m = gelu_tanh(h @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"])
        x = x + m @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
    x = layer_norm(x, w["transformer.ln_f.weight"],
                   w["transformer.ln_f.bias"], eps)
    return x @ w["transformer.wte.weight"].T                 # tied head


# ---------------------------------------------------------------------------
# (c) mamba (Mamba-1)
# ---------------------------------------------------------------------------

def PARAMS_mamba(cfg):
    V, d, L, Di, N, R, W = (cfg[k] for k in ("V", "d", "L", "Di", "N", "R",
                                             "W"))
    p = {"backbone.embeddings.weight": (V, d)}
    for i in range(L):
        pre = "backbone.layers.%d." % i
        p[pre + "norm.weight"] = (d,)
        p[pre + "mixer.in_proj.weight"] = (2 * Di, d)
        p[pre + "mixer.conv1d.weight"] = (Di, 1, W)
        p[pre + "mixer.conv1d.bias"] = (Di,)
        p[pre + "mixer.x_proj.weight"] = (R + 2 * N, Di)
        p[pre + "mixer.dt_proj.weight"] = (Di, R)
        p[pre + "mixer.dt_proj.bias"] = (Di,)
        p[pre + "mixer.A_log"] = (Di, N)
        p[pre + "mixer.D"] = (Di,)
        p[pre + "mixer.out_proj.weight"] = (d, Di)
    p["backbone.norm_f.weight"] = (d,)
    p["lm_head.weight"] = (V, d)
    return p


def _dt_bias(shape, rng):
    """inverse softplus of dt ~ exp(U(log 1e-3, log 1e-1))."""
    dt = np.exp(rng.uniform(math.log(1e-3), math.log(1e-1), shape))
    return dt + np.log(-np.expm1(-dt))


def init_mamba(cfg, rng):
    N = cfg["N"]

    def special(name, shape, rng):
        if name.endswith("A_log"):
            return np.broadcast_to(np.log(np.arange(1, N + 1.0)), shape)
        if name.endswith("dt_proj.bias"):
            return _dt_bias(shape, rng)
        if name.endswith("mixer.D"):
            return 1.0 + 0.1 * rng.standard_normal(shape)
        return None
    return _init(PARAMS_mamba(cfg), rng, special)


def mamba_mixer(h, w, p, cfg):
    Di, N, R = cfg["Di"], cfg["N"], cfg["R"]
    xz = linear(h, w[p + "in_proj.weight"])
    xs, z = xz[..., :Di], xz[..., Di:]
    u = silu(causal_conv1d(xs, w[p + "conv1d.weight"][:, 0, :],
                           w[p + "conv1d.bias"]))
    dbc = linear(u, w[p + "x_proj.weight"])
    dt_low, Bm, Cm = dbc[..., :R], dbc[..., R:R + N], dbc[..., R + N:]
    dt = softplus(linear(dt_low, w[p + "dt_proj.weight"],
                         w[p + "dt_proj.bias"]))
    A = -np.exp(w[p + "A_log"])
    y = selective_scan(u, dt, A, Bm, Cm, w[p + "D"])
    return linear(y * silu(z), w[p + "out_proj.weight"])


def mamba_forward(w, cfg, tokens):
    w = _weights(w, PARAMS_mamba(cfg), "mamba")
    tok = _tokens(tokens, cfg["V"], "mamba")
    eps = _eps(cfg)
    x = w["backbone.embeddings.weight"][tok]
    for i in range(cfg["L"]):
        p = "backbone.layers.%d." % i
        x = x + mamba_mixer(rms_norm(x, w[p + "norm.weight"], eps), w,
                            p + "mixer.", cfg)
    x = rms_norm(x, w["backbone.norm_f.weight"], eps)
    return linear(x, w["lm_head.weight"])


# ---------------------------------------------------------------------------
# (d) mamba2
# ---------------------------------------------------------------------------

def PARAMS_mamba2(cfg):
    V, d, L, Di, N, Hm, W = (cfg[k] for k in ("V", "d", "L", "Di", "N", "Hm",
                                              "W"))
    p = {"backbone.embeddings.weight": (V, d)}
    for i in range(L):
        pre = "backbone.layers.%d." % i
        p[pre + "norm.weight"] = (d,)
        p[pre + "mixer.in_proj.weight"] = (2 * Di + 2 * N + Hm, d)
        p[pre + "mixer.conv1d.weight"] = (Di + 2 * N, 1, W)
        p[pre + "mixer.conv1d.bias"] = (Di + 2 * N,)
        p[pre + "mixer.dt_bias"] = (Hm,)
        p[pre + "mixer.A_log"] = (Hm,)
        p[pre + "mixer.D"] = (Hm,)
        p[pre + "mixer.norm.weight"] = (Di,)
        p[pre + "mixer.out_proj.weight"] = (d, Di)
    p["backbone.norm_f.weight"] = (d,)
    p["lm_head.weight"] = (V, d)
    return p


def init_mamba2(cfg, rng):
    def special(name, shape, rng):
        if name.endswith("A_log"):
            return np.log(np.arange(1, shape[0] + 1.0))
        if name.endswith("dt_bias"):
            return _dt_bias(shape, rng)
        if name.endswith("mixer.D"):
            return 1.0 + 0.1 * rng.standard_normal(shape)
        return None
    return _init(PARAMS_mamba2(cfg), rng, special)


def mamba2_mixer(h, w, p, cfg, eps):
    Di, N, Hm = cfg["Di"], cfg["N"], cfg["Hm"]
    P = Di // Hm
    B, T, _ = h.shape
    proj = linear(h, w[p + "in_proj.weight"])
    z = proj[..., :Di]
    xBC = proj[..., Di:2 * Di + 2 * N]
    dt = proj[..., 2 * Di + 2 * N:]
    xBC = silu(causal_conv1d(xBC, w[p + "conv1d.weight"][:, 0, :],
                             w[p + "conv1d.bias"]))
    x, Bm, Cm = xBC[..., :Di], xBC[..., Di:Di + N], xBC[..., Di + N:]
    dt = softplus(dt + w[p + "dt_bias"])
    A = -np.exp(w[p + "A_log"])
    y = ssd_scan(x.reshape(B, T, Hm, P), dt, A, Bm, Cm, w[p + "D"])
    g = y.reshape(B, T, Di) * silu(z)
    y = rms_norm(g, w[p + "norm.weight"], eps)
    return linear(y, w[p + "out_proj.weight"])


def mamba2_forward(w, cfg, tokens):
    w = _weights(w, PARAMS_mamba2(cfg), "mamba2")
    tok = _tokens(tokens, cfg["V"], "mamba2")
    eps = _eps(cfg)
    x = w["backbone.embeddings.weight"][tok]
    for i in range(cfg["L"]):
        p = "backbone.layers.%d." % i
        x = x + mamba2_mixer(rms_norm(x, w[p + "norm.weight"], eps), w,
                             p + "mixer.", cfg, eps)
    x = rms_norm(x, w["backbone.norm_f.weight"], eps)
    return linear(x, w["lm_head.weight"])


# ---------------------------------------------------------------------------
# (e) gla
# ---------------------------------------------------------------------------

def PARAMS_gla(cfg):
    V, d, L, F = (cfg[k] for k in ("V", "d", "L", "F"))
    p = {"model.embeddings.weight": (V, d)}
    for i in range(L):
        pre = "model.layers.%d." % i
        p[pre + "attn_norm.weight"] = (d,)
        for name in ("q_proj", "k_proj", "v_proj", "gk_proj", "g_proj",
                     "o_proj"):
            p[pre + "attn.%s.weight" % name] = (d, d)
        p[pre + "mlp_norm.weight"] = (d,)
        p.update(_swiglu_shapes(pre + "mlp.", d, F))
    p["model.norm.weight"] = (d,)
    p["lm_head.weight"] = (V, d)
    return p


def init_gla(cfg, rng):
    return _init(PARAMS_gla(cfg), rng)


def gla_forward(w, cfg, tokens):
    w = _weights(w, PARAMS_gla(cfg), "gla")
    tok = _tokens(tokens, cfg["V"], "gla")
    d, H = cfg["d"], cfg["H"]
    K = d // H
    eps = _eps(cfg)
    B, T = tok.shape
    x = w["model.embeddings.weight"][tok]
    for i in range(cfg["L"]):
        p = "model.layers.%d." % i
        h = rms_norm(x, w[p + "attn_norm.weight"], eps)

        def heads(name):
            y = linear(h, w[p + "attn.%s.weight" % name])
            return y.reshape(B, T, H, K).transpose(0, 2, 1, 3)
        gk = logsigmoid(heads("gk_proj"))
        o = gla_scan(heads("q_proj"), heads("k_proj"), heads("v_proj"), gk)
        o = o.transpose(0, 2, 1, 3).reshape(B, T, d)
        o = o * silu(linear(h, w[p + "attn.g_proj.weight"]))
        x = x + linear(o, w[p + "attn.o_proj.weight"])
        h = rms_norm(x, w[p + "mlp_norm.weight"], eps)
        m = silu(linear(h, w[p + "mlp.gate_proj.weight"])) * \
            linear(h, w[p + "mlp.up_proj.weight"])
        x = x + linear(m, w[p + "mlp.down_proj.weight"])
    x = rms_norm(x, w["model.norm.weight"], eps)
    return linear(x, w["lm_head.weight"])


# ---------------------------------------------------------------------------
# (f) lstm, (g) gru
# ---------------------------------------------------------------------------

def _rnn_params(cfg, gates):
    V, d, L = cfg["V"], cfg["d"], cfg["L"]
    p = {"embed.weight": (V, d)}
    for k in range(L):
        p["rnn.weight_ih_l%d" % k] = (gates * d, d)
        p["rnn.weight_hh_l%d" % k] = (gates * d, d)
        p["rnn.bias_ih_l%d" % k] = (gates * d,)
        p["rnn.bias_hh_l%d" % k] = (gates * d,)
    p["lm_head.weight"] = (V, d)
    p["lm_head.bias"] = (V,)
    return p


def PARAMS_lstm(cfg):
    return _rnn_params(cfg, 4)


def PARAMS_gru(cfg):
    return _rnn_params(cfg, 3)


def init_lstm(cfg, rng):
    return _init(PARAMS_lstm(cfg), rng)


def init_gru(cfg, rng):
    return _init(PARAMS_gru(cfg), rng)


def _rnn_forward(w, cfg, tokens, params, layer, model):
    w = _weights(w, params, model)
    tok = _tokens(tokens, cfg["V"], model)
    x = w["embed.weight"][tok]
    for k in range(cfg["L"]):
        x = layer(x, w["rnn.weight_ih_l%d" % k], w["rnn.weight_hh_l%d" % k],
                  w["rnn.bias_ih_l%d" % k], w["rnn.bias_hh_l%d" % k])
    return linear(x, w["lm_head.weight"], w["lm_head.bias"])


def lstm_forward(w, cfg, tokens):
    return _rnn_forward(w, cfg, tokens, PARAMS_lstm(cfg), lstm_layer, "lstm")


def gru_forward(w, cfg, tokens):
    return _rnn_forward(w, cfg, tokens, PARAMS_gru(cfg), gru_layer, "gru")


# ---------------------------------------------------------------------------
# registry
# ---------------------------------------------------------------------------

MODELS = {
    "llama": (llama_forward, init_llama, PARAMS_llama),
    "gpt2": (gpt2_forward, init_gpt2, PARAMS_gpt2),
    "mamba": (mamba_forward, init_mamba, PARAMS_mamba),
    "mamba2": (mamba2_forward, init_mamba2, PARAMS_mamba2),
    "gla": (gla_forward, init_gla, PARAMS_gla),
    "lstm": (lstm_forward, init_lstm, PARAMS_lstm),
    "gru": (gru_forward, init_gru, PARAMS_gru),
}

CONFIGS = {
    "llama": dict(V=96, d=64, L=2, H=4, Hkv=2, F=160, eps=1e-5,
                  theta=10000.0),
    "gpt2": dict(V=96, d=64, L=2, H=4, P=128, eps=1e-5),
    "mamba": dict(V=96, d=64, L=2, Di=128, N=8, R=4, W=4, eps=1e-5),
    "mamba2": dict(V=96, d=64, L=2, Di=128, N=16, Hm=4, W=4, eps=1e-5),
    "gla": dict(V=96, d=64, L=2, H=4, F=160, eps=1e-5),
    "lstm": dict(V=96, d=64, L=2),
    "gru": dict(V=96, d=64, L=2),
}

# The config keys above -> seqc.models' config keys (the one bridge between
# the two; the references themselves never use it).
SEQC_KEYS = {"V": "vocab", "d": "d", "L": "layers", "H": "heads", "Hkv": "kv_heads",
             "F": "ffn", "eps": "eps", "theta": "theta", "P": "positions",
             "Di": "d_inner", "N": "d_state", "R": "dt_rank", "W": "conv",
             "Hm": "heads"}


def seqc_config(name):
    """CONFIGS[name] in seqc.models' keys."""
    return {SEQC_KEYS[k]: v for k, v in CONFIGS[name].items()}
