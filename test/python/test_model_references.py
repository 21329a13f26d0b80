"""The whole-model float64 references of model_references.py, checked.

Where an independent formulation exists, the reference is compared with it:
the recurrent scans (Mamba, Mamba-2, GLA) with their quadratic "attention"
forms built from cumulative log decays, also swapped into the whole models;
LSTM/GRU with torch.nn.LSTM/GRU (loading our weights by their names);
attention with per-query loops, torch's scaled_dot_product_attention and
nn.MultiheadAttention (GPT-2's Conv1D layout); RoPE with its complex form.
Every model is checked for exact weight names and shapes, causality, batch
independence and greedy decoding. These run without the seqc library.
"""

import importlib.util
import math

import numpy as np
import pytest

import model_references as mr

HAVE_TORCH = importlib.util.find_spec("torch") is not None
needs_torch = pytest.mark.skipif(not HAVE_TORCH, reason="torch not importable")
NAMES = sorted(mr.MODELS)


def rng(seed):
    return np.random.default_rng(seed)


def close(a, b, tol=1e-11):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


_weights_cache = {}


def model(name, seed=0):
    """(forward, weights, cfg) of the default config, weights cached."""
    fwd, init, _ = mr.MODELS[name]
    cfg = mr.CONFIGS[name]
    key = (name, seed)
    if key not in _weights_cache:
        _weights_cache[key] = init(cfg, rng(seed))
    return fwd, _weights_cache[key], cfg


def tokens(cfg, B, T, seed=1):
    return rng(seed).integers(0, cfg["V"], (B, T))


# ---------------------------------------------------------------------------
# every model: names, init, causality, batches, greedy
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_init_matches_params(name):
    fwd, init, params = mr.MODELS[name]
    cfg = mr.CONFIGS[name]
    w = init(cfg, rng(0))
    expect = params(cfg)
    assert list(w) == list(expect)
    for k, shape in expect.items():
        assert w[k].shape == tuple(shape), k
        assert w[k].dtype == np.float32, k
        assert np.all(np.isfinite(w[k])), k
    w2 = init(cfg, rng(0))
    assert all(np.array_equal(w[k], w2[k]) for k in w)
    assert all(np.array_equal(w[k], v)
               for k, v in init(cfg, 0).items())          # a seed works too
    w3 = init(cfg, rng(1))
    assert not all(np.array_equal(w[k], w3[k]) for k in w if w[k].size > 1
                   and "A_log" not in k)


def test_param_names_spot_checks():
    p = mr.PARAMS_llama(dict(V=10, d=8, L=1, H=4, Hkv=2, F=12))
    assert p["model.layers.0.self_attn.k_proj.weight"] == (4, 8)
    assert p["model.layers.0.self_attn.o_proj.weight"] == (8, 8)
    assert p["model.layers.0.mlp.down_proj.weight"] == (8, 12)
    p = mr.PARAMS_gpt2(dict(V=10, d=8, L=1, H=2, P=16))
    assert p["transformer.h.0.attn.c_attn.weight"] == (8, 24)
    assert p["transformer.h.0.mlp.c_proj.weight"] == (32, 8)
    assert "lm_head.weight" not in p
    p = mr.PARAMS_mamba(dict(V=10, d=8, L=1, Di=16, N=4, R=2, W=3))
    assert p["backbone.layers.0.mixer.x_proj.weight"] == (10, 16)
    assert p["backbone.layers.0.mixer.conv1d.weight"] == (16, 1, 3)
    p = mr.PARAMS_mamba2(dict(V=10, d=8, L=1, Di=16, N=4, Hm=2, W=3))
    assert p["backbone.layers.0.mixer.in_proj.weight"] == (42, 8)
    assert p["backbone.layers.0.mixer.conv1d.weight"] == (24, 1, 3)
    p = mr.PARAMS_lstm(dict(V=10, d=8, L=2))
    assert p["rnn.weight_hh_l1"] == (32, 8) and p["lm_head.bias"] == (10,)
    assert mr.PARAMS_gru(dict(V=10, d=8, L=2))["rnn.bias_ih_l0"] == (24,)


@pytest.mark.parametrize("name", NAMES)
def test_logits_finite_and_not_degenerate(name):
    fwd, w, cfg = model(name)
    x = tokens(cfg, 2, 16)
    lg = fwd(w, cfg, x)
    assert lg.shape == (2, 16, cfg["V"]) and lg.dtype == np.float64
    assert np.all(np.isfinite(lg))
    assert 0.05 < lg.std() < 50
    assert np.all(lg.std(axis=-1) > 0.02)
    assert len(np.unique(lg.argmax(-1))) >= 4
    # the input dtype of the weights does not matter beyond rounding
    w64 = {k: v.astype(np.float64) for k, v in w.items()}
    assert np.array_equal(fwd(w64, cfg, x), lg)


@pytest.mark.parametrize("name", NAMES)
def test_causal(name):
    fwd, w, cfg = model(name)
    x = tokens(cfg, 2, 10)
    base = fwd(w, cfg, x)
    for t in (0, 4, 9):
        y = x.copy()
        y[:, t] = (y[:, t] + 1 + np.arange(2)) % cfg["V"]
        lg = fwd(w, cfg, y)
        close(lg[:, :t], base[:, :t], tol=1e-13)
        assert np.all(np.abs(lg[:, t] - base[:, t]).max(-1) > 1e-6)
        # and a prefix is a sequence of its own
        close(fwd(w, cfg, x[:, :t + 1]), base[:, :t + 1], tol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_batch_rows_independent(name):
    fwd, w, cfg = model(name)
    x = tokens(cfg, 3, 7)
    lg = fwd(w, cfg, x)
    for b in range(3):
        close(fwd(w, cfg, x[b:b + 1]), lg[b:b + 1], tol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_greedy(name):
    fwd, w, cfg = model(name)
    prompt = tokens(cfg, 2, 3, seed=5)
    out = mr.greedy(fwd, w, cfg, prompt, 4)
    assert out.shape == (2, 4) and out.dtype == np.int64
    assert np.array_equal(out, mr.greedy(fwd, w, cfg, prompt, 4))
    # step by step by hand
    seq = prompt.copy()
    for _ in range(4):
        nxt = fwd(w, cfg, seq)[:, -1].argmax(-1)
        seq = np.concatenate([seq, nxt[:, None]], axis=1)
    assert np.array_equal(seq[:, 3:], out)
    # rows decode independently; fewer steps give a prefix
    assert np.array_equal(mr.greedy(fwd, w, cfg, prompt[1:], 4), out[1:])
    assert np.array_equal(mr.greedy(fwd, w, cfg, prompt, 2), out[:, :2])
    assert mr.greedy(fwd, w, cfg, prompt, 0).shape == (2, 0)


def test_forward_argument_checks():
    fwd, w, cfg = model("llama")
    x = tokens(cfg, 1, 4)
    bad = dict(w)
    del bad["model.layers.1.mlp.up_proj.weight"]
    bad["model.norm.weight"] = np.ones(cfg["d"] + 1, np.float32)
    with pytest.raises(ValueError) as e:
        fwd(bad, cfg, x)
    assert "model.layers.1.mlp.up_proj.weight" in str(e.value)
    assert "model.norm.weight: expected (64,), got (65,)" in str(e.value)
    with pytest.raises(TypeError, match="bf16"):
        fwd(dict(w, **{"lm_head.weight": w["lm_head.weight"].view(
            np.uint32)[:, ::1].astype(np.uint16)}), cfg, x)
    with pytest.raises(ValueError, match="token ids"):
        fwd(w, cfg, x + cfg["V"])
    with pytest.raises(ValueError, match="integer array"):
        fwd(w, cfg, x[0])
    assert fwd(dict(w, extra=np.zeros(3)), cfg, x).shape == (1, 4, cfg["V"])
    g, gw, gcfg = model("gpt2")
    with pytest.raises(ValueError, match="n_positions"):
        g(gw, gcfg, np.zeros((1, gcfg["P"] + 1), np.int64))
    with pytest.raises(ValueError, match="T0 >= 1"):
        mr.greedy(fwd, w, cfg, np.zeros((1, 0), np.int64), 2)


# ---------------------------------------------------------------------------
# attention and RoPE
# ---------------------------------------------------------------------------

def attention_loops(q, k, v, scale):
    B, H, T, D = q.shape
    G = H // k.shape[1]
    out = np.zeros(q.shape[:3] + (v.shape[-1],))
    for b in range(B):
        for h in range(H):
            for i in range(T):
                s = np.array([q[b, h, i] @ k[b, h // G, j] * scale
                              for j in range(i + 1)])
                p = np.exp(s - s.max())
                p /= p.sum()
                out[b, h, i] = sum(p[j] * v[b, h // G, j]
                                   for j in range(i + 1))
    return out


@pytest.mark.parametrize("H,Hkv", [(4, 4), (4, 2), (6, 1)])
def test_causal_attention_loops(H, Hkv):
    r = rng(H * 10 + Hkv)
    q = r.standard_normal((2, H, 6, 8))
    k = r.standard_normal((2, Hkv, 6, 8))
    v = r.standard_normal((2, Hkv, 6, 5))
    close(mr.causal_attention(q, k, v), attention_loops(q, k, v, 8 ** -0.5),
          tol=1e-13)
    close(mr.causal_attention(q, k, v, scale=0.3),
          attention_loops(q, k, v, 0.3), tol=1e-13)


@needs_torch
def test_causal_attention_torch_sdpa():
    import torch
    sdpa = getattr(torch.nn.functional, "scaled_dot_product_attention", None)
    if sdpa is None:
        pytest.skip("torch %s has no scaled_dot_product_attention"
                    % torch.__version__)
    r = rng(3)
    q = r.standard_normal((2, 4, 9, 16))
    k = r.standard_normal((2, 2, 9, 16))
    v = r.standard_normal((2, 2, 9, 16))
    t = [torch.from_numpy(a) for a in (q, np.repeat(k, 2, 1),
                                       np.repeat(v, 2, 1))]
    close(mr.causal_attention(q, k, v), sdpa(*t, is_causal=True).numpy())


@needs_torch
def test_gpt2_attention_torch_multihead():
    """GPT-2 attention (Conv1D [in, out] weights, [q|k|v] split, heads as
    consecutive chunks) equals nn.MultiheadAttention with the transposes."""
    import torch
    _, w, cfg = model("gpt2")
    d, H = cfg["d"], cfg["H"]
    p = "transformer.h.1.attn."
    W = {k: w[p + k].astype(np.float64) for k in
         ("c_attn.weight", "c_attn.bias", "c_proj.weight", "c_proj.bias")}
    h = rng(4).standard_normal((2, 11, d))
    ours = mr.gpt2_attention(h, W["c_attn.weight"], W["c_attn.bias"],
                             W["c_proj.weight"], W["c_proj.bias"], H)
    mha = torch.nn.MultiheadAttention(d, H, batch_first=True).double()
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.from_numpy(W["c_attn.weight"].T))
        mha.in_proj_bias.copy_(torch.from_numpy(W["c_attn.bias"]))
        mha.out_proj.weight.copy_(torch.from_numpy(W["c_proj.weight"].T))
        mha.out_proj.bias.copy_(torch.from_numpy(W["c_proj.bias"]))
        x = torch.from_numpy(h)
        mask = torch.triu(torch.ones(11, 11, dtype=torch.bool), 1)
        theirs, _ = mha(x, x, x, attn_mask=mask, need_weights=False)
    close(ours, theirs.numpy())


@needs_torch
def test_norms_and_gelu_torch():
    import torch
    import torch.nn.functional as F
    r = rng(5)
    x = r.standard_normal((3, 7, 16)) * 3
    g, b = r.standard_normal(16), r.standard_normal(16)
    close(mr.layer_norm(x, g, b, 1e-5),
          F.layer_norm(torch.from_numpy(x), (16,), torch.from_numpy(g),
                       torch.from_numpy(b), 1e-5).numpy())
    close(mr.gelu_tanh(x),
          F.gelu(torch.from_numpy(x), approximate="tanh").numpy())
    close(mr.silu(x), F.silu(torch.from_numpy(x)).numpy())
    close(mr.softplus(x), F.softplus(torch.from_numpy(x)).numpy())
    close(mr.logsigmoid(x), F.logsigmoid(torch.from_numpy(x)).numpy())
    big = np.array([-800.0, -30.0, 0.0, 30.0, 800.0])
    close(mr.sigmoid(big), torch.sigmoid(torch.from_numpy(big)).numpy())
    rms = np.sqrt(np.mean(x ** 2, axis=-1, keepdims=True) + 1e-6)
    close(mr.rms_norm(x, g, 1e-6), x / rms * g)


def test_rope_complex_form_and_relative_positions():
    r = rng(6)
    hd, T, theta = 16, 9, 500.0
    x = r.standard_normal((2, 3, T, hd))
    pos = np.arange(T) + 3
    got = mr.rope(x, pos, theta)
    # pairs (i, i + hd/2) as complex numbers turned by pos * theta^(-2i/hd)
    z = x[..., :hd // 2] + 1j * x[..., hd // 2:]
    freq = theta ** (-2.0 * np.arange(hd // 2) / hd)
    z = z * np.exp(1j * pos[:, None] * freq)
    close(got, np.concatenate([z.real, z.imag], axis=-1), tol=1e-13)
    # q.k after RoPE depends on the position difference only
    q, k = r.standard_normal(hd), r.standard_normal(hd)

    def dot(m, n):
        return mr.rope(q[None], [m], theta)[0] @ mr.rope(k[None], [n], theta)[0]
    close(dot(7, 3), dot(104, 100), tol=1e-12)
    close(dot(0, 0), q @ k, tol=1e-13)
    close(np.linalg.norm(got, axis=-1), np.linalg.norm(x, axis=-1), tol=1e-13)


def test_llama_gqa_equals_repeated_kv_heads():
    """GQA query head h reads KV head h // (H / Hkv): the same model with
    Hkv = H and each KV head's weights repeated gives the same logits."""
    fwd, w, cfg = model("llama")
    H, Hkv, d = cfg["H"], cfg["Hkv"], cfg["d"]
    hd, G = d // H, H // Hkv
    mha_cfg = dict(cfg, Hkv=H)
    w2 = dict(w)
    for i in range(cfg["L"]):
        for name in ("k_proj", "v_proj"):
            key = "model.layers.%d.self_attn.%s.weight" % (i, name)
            w2[key] = np.repeat(w[key].reshape(Hkv, hd, d), G, axis=0
                                ).reshape(H * hd, d)
    x = tokens(cfg, 2, 8)
    close(fwd(w2, mha_cfg, x), fwd(w, cfg, x), tol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_order_matters(name):
    """Swapping two earlier tokens changes later logits (attention models
    see positions through RoPE / wpe; recurrences through their order)."""
    fwd, w, cfg = model(name)
    x = np.array([[3, 5, 9, 1, 4, 2]])
    y = x[:, [0, 2, 1, 3, 4, 5]]
    assert np.abs(fwd(w, cfg, x)[0, 3:] - fwd(w, cfg, y)[0, 3:]).max() > 1e-4


# ---------------------------------------------------------------------------
# causal convolution
# ---------------------------------------------------------------------------

def test_causal_conv1d_np_convolve():
    r = rng(7)
    x = r.standard_normal((2, 10, 5))
    wt = r.standard_normal((5, 4))
    b = r.standard_normal(5)
    got = mr.causal_conv1d(x, wt, b)
    for bi in range(2):
        for c in range(5):
            ref = np.convolve(x[bi, :, c], wt[c, ::-1])[:10] + b[c]
            close(got[bi, :, c], ref, tol=1e-13)


@needs_torch
def test_causal_conv1d_torch():
    import torch
    r = rng(8)
    x = r.standard_normal((2, 9, 6))
    wt = r.standard_normal((6, 1, 3))
    b = r.standard_normal(6)
    conv = torch.nn.functional.conv1d(
        torch.from_numpy(x.transpose(0, 2, 1)), torch.from_numpy(wt),
        torch.from_numpy(b), padding=2, groups=6)[..., :9]
    close(mr.causal_conv1d(x, wt[:, 0], b), conv.numpy().transpose(0, 2, 1))


# ---------------------------------------------------------------------------
# recurrences against their quadratic (parallel) forms
# ---------------------------------------------------------------------------

def decay_matrix(cum):
    """exp(cum[t] - cum[s]) for s <= t, else 0: cum [B, T, ...] ->
    [B, T(t), T(s), ...]."""
    T = cum.shape[1]
    seg = cum[:, :, None] - cum[:, None, :]
    lower = np.tril(np.ones((T, T), dtype=bool))
    lower = lower.reshape((1, T, T) + (1,) * (cum.ndim - 2))
    return np.exp(np.where(lower, seg, -np.inf))


def selective_scan_parallel(u, dt, A, Bm, Cm, D):
    # y_t = sum_{s<=t} sum_n C_t[n] exp(sum_{s<r<=t} dt_r A[:, n]) B_s[n]
    #       dt_s u_s  + D u_t
    cum = np.cumsum(dt[..., None] * A, axis=1)              # [B, T, Di, N]
    L = decay_matrix(cum)                                   # [B, t, s, Di, N]
    return np.einsum("btn,btsdn,bsn,bsd->btd", Cm, L, Bm, dt * u) + D * u


def ssd_parallel(x, dt, A, Bm, Cm, D):
    # the SSD "attention" form: y = (L o C B^T) (dt x) + D x, one L per head
    cum = np.cumsum(dt * A, axis=1)                         # [B, T, Hm]
    L = decay_matrix(cum)                                   # [B, t, s, Hm]
    CB = np.einsum("btn,bsn->bts", Cm, Bm)
    return np.einsum("btsh,bts,bsh,bshp->bthp", L, CB, dt, x) + \
        D[:, None] * x


def gla_parallel(q, k, v, gk, scale=None):
    K = q.shape[-1]
    scale = 1.0 / math.sqrt(K) if scale is None else scale
    cum = np.cumsum(gk, axis=2).transpose(0, 2, 1, 3)       # [B, T, H, K]
    L = decay_matrix(cum)                                   # [B, t, s, H, K]
    return scale * np.einsum("bhtk,btshk,bhsk,bhsv->bhtv", q, L, k, v)


def test_selective_scan_parallel_form():
    r = rng(9)
    B, T, Di, N = 2, 12, 6, 5
    u = r.standard_normal((B, T, Di))
    dt = mr.softplus(r.standard_normal((B, T, Di)))          # O(1) decays
    A = -np.exp(r.standard_normal((Di, N)))
    Bm, Cm = r.standard_normal((B, T, N)), r.standard_normal((B, T, N))
    D = r.standard_normal(Di)
    close(mr.selective_scan(u, dt, A, Bm, Cm, D),
          selective_scan_parallel(u, dt, A, Bm, Cm, D))


def test_ssd_scan_parallel_form():
    r = rng(10)
    B, T, Hm, P, N = 2, 12, 3, 4, 5
    x = r.standard_normal((B, T, Hm, P))
    dt = mr.softplus(r.standard_normal((B, T, Hm)))
    A = -np.exp(r.standard_normal(Hm))
    Bm, Cm = r.standard_normal((B, T, N)), r.standard_normal((B, T, N))
    D = r.standard_normal(Hm)
    close(mr.ssd_scan(x, dt, A, Bm, Cm, D), ssd_parallel(x, dt, A, Bm, Cm, D))
    # Mamba-2 is Mamba-1 with A and dt shared by a head's channels
    Di = Hm * P
    u = x.reshape(B, T, Di)
    close(mr.ssd_scan(x, dt, A, Bm, Cm, D).reshape(B, T, Di),
          mr.selective_scan(u, np.repeat(dt, P, axis=2),
                            np.repeat(A, P)[:, None] * np.ones(N), Bm, Cm,
                            np.repeat(D, P)))


def test_gla_scan_parallel_form():
    r = rng(11)
    B, H, T, K, Kv = 2, 3, 12, 4, 6
    q, k = r.standard_normal((B, H, T, K)), r.standard_normal((B, H, T, K))
    v = r.standard_normal((B, H, T, Kv))
    gk = mr.logsigmoid(2 * r.standard_normal((B, H, T, K)))
    close(mr.gla_scan(q, k, v, gk), gla_parallel(q, k, v, gk))
    # no decay (gk = 0): plain causal linear attention
    zero = np.zeros_like(gk)
    mask = np.tril(np.ones((T, T)))
    lin = np.einsum("bhtk,bhsk,ts,bhsv->bhtv", q, k, mask, v) * 0.5
    close(mr.gla_scan(q, k, v, zero), lin)


@pytest.mark.parametrize("name,attr,parallel", [
    ("mamba", "selective_scan", selective_scan_parallel),
    ("mamba2", "ssd_scan", ssd_parallel),
    ("gla", "gla_scan", gla_parallel),
])
def test_whole_model_with_parallel_form(monkeypatch, name, attr, parallel):
    fwd, w, cfg = model(name)
    x = tokens(cfg, 2, 12)
    scan = fwd(w, cfg, x)
    monkeypatch.setattr(mr, attr, parallel)
    close(fwd(w, cfg, x), scan, tol=1e-10)


def test_mamba_init_decays():
    _, w, cfg = model("mamba")
    A_log = w["backbone.layers.0.mixer.A_log"]
    close(A_log, np.broadcast_to(np.log(np.arange(1, cfg["N"] + 1)),
                                 A_log.shape), tol=1e-6)
    dt = mr.softplus(w["backbone.layers.0.mixer.dt_proj.bias"].astype(float))
    assert dt.min() > 0.9e-3 and dt.max() < 1.1e-1
    _, w2, cfg2 = model("mamba2")
    dt = mr.softplus(w2["backbone.layers.1.mixer.dt_bias"].astype(float))
    assert dt.min() > 0.9e-3 and dt.max() < 1.1e-1


# ---------------------------------------------------------------------------
# LSTM / GRU against torch
# ---------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("name", ["lstm", "gru"])
def test_rnn_against_torch(name):
    import torch
    fwd, w, cfg = model(name)
    V, d, L = cfg["V"], cfg["d"], cfg["L"]
    rnn_cls = torch.nn.LSTM if name == "lstm" else torch.nn.GRU

    class LM(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = torch.nn.Embedding(V, d)
            self.rnn = rnn_cls(d, d, num_layers=L, batch_first=True)
            self.lm_head = torch.nn.Linear(d, V)

        def forward(self, t):
            return self.lm_head(self.rnn(self.embed(t))[0])

    lm = LM().double()
    # strict: our names are exactly the torch module's state_dict keys
    lm.load_state_dict({k: torch.from_numpy(v.astype(np.float64))
                        for k, v in w.items()}, strict=True)
    x = tokens(cfg, 3, 13)
    with torch.no_grad():
        theirs = lm(torch.from_numpy(x)).numpy()
    close(fwd(w, cfg, x), theirs, tol=1e-10)
