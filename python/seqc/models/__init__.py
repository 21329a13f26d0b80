"""seqc's model library: whole language models as MLIR, compiled by seqc.

Each architecture writes two functions, as a frontend would emit them:

``@prefill(tokens i32[B,T], states..., weights...) -> (logits f32[B,T,V], states...)``
    runs a prompt from position 0 and leaves the decoding state (each
    layer's KV cache rows [0, T), or its recurrent state) in the state
    buffers;
``@decode(tokens i32[B,1], pos i32[1], states..., weights...) -> (logits f32[B,1,V], states...)``
    runs one token at position ``pos`` against the state and updates it.

The state results carry ``seq.in_place``: the state buffers are updated in
place (on the GPU they stay on the device between steps). Weights are
function arguments in the models' Hugging Face / PyTorch names, in seqc's
layouts (projections ``[in, out]``); ``Model.arguments`` converts a
state dict (or a ``.safetensors`` file) of the original layouts.

Architectures: ``llama`` (RMSNorm, RoPE, GQA causal attention, SwiGLU),
``gpt2`` (LayerNorm, learned positions, MHA, GELU, tied LM head),
``mamba`` (Mamba-1: causal conv, selective scan), ``mamba2`` (SSD through
``seq.gated_linear_attention`` with a scalar decay per head), ``gla``
(gated linear attention with per-key decay and a SwiGLU MLP), ``lstm`` and
``gru`` (``seq.recurrence``). Each is a stack of ``layers`` blocks with an
embedding and an LM head.

    model = seqc.models.get("llama", vocab=96, d=64, layers=2, heads=4,
                            kv_heads=2, ffn=160)
    runner = model.runner(weights, batch=1, max_len=128, target="cpu")
    tokens = runner.generate(prompt, steps=32)       # greedy
"""

import math

import numpy as np

from ._mlir import Emitter, Val, function, ssa_name, tensor_type

__all__ = ["get", "ARCHITECTURES", "Model", "Runner"]


class Param:
    """A weight: its name (as in the original checkpoint), its shape in the
    compiled function, and how the checkpoint's tensor becomes it:
    ``None`` (as is), ``"T"`` (a Linear weight ``[out, in]`` transposed),
    ``"conv"`` (a depthwise Conv1d weight ``[C, 1, W]`` as ``[C, W]``), or
    ``("T", other)`` (tied: the transpose of another tensor)."""

    def __init__(self, name, shape, convert=None, source_shape=None):
        self.name, self.shape, self.convert = name, tuple(shape), convert
        if source_shape is None:
            if convert == "T":
                source_shape = tuple(reversed(shape))
            elif convert == "conv":
                source_shape = (shape[0], 1, shape[1])
            else:
                source_shape = tuple(shape)
        self.source_shape = tuple(source_shape)

    @property
    def source(self):
        return self.convert[1] if isinstance(self.convert, tuple) else self.name


class Model:
    """An architecture with a configuration."""

    name = None
    defaults = {}

    def __init__(self, **config):
        unknown = set(config) - set(self.defaults)
        if unknown:
            raise TypeError("%s: unknown config key(s) %s (known: %s)"
                            % (self.name, ", ".join(sorted(unknown)),
                               ", ".join(sorted(self.defaults))))
        self.config = dict(self.defaults, **config)
        for k, v in self.config.items():
            setattr(self, k, v)
        self.check()

    def check(self):
        pass

    # -- what subclasses define ------------------------------------------
    def params(self):
        raise NotImplementedError

    def states(self, batch, max_len):
        """[(name, shape)] of the decoding state."""
        raise NotImplementedError

    def body(self, em, x, states, weights, pos, batch, length):
        """Emits the blocks on embeddings x [B, T, d]; returns the final
        hidden states [B, T, d] and the new states."""
        raise NotImplementedError

    def embed(self, em, tokens, weights, pos, length):
        return em.gather_rows(weights[self.embedding], tokens)

    def head(self, em, h, weights):
        """Logits [B, T, V]: the LM head (stored [d, V])."""
        return em.linear(h, weights["lm_head.weight"])

    # -- the functions ----------------------------------------------------
    def mlir(self, kind, batch, length, max_len):
        """The MLIR text of ``@prefill`` (kind "prefill", ``length`` prompt
        tokens) or ``@decode`` (kind "decode", one token)."""
        if kind not in ("prefill", "decode"):
            raise ValueError("kind must be 'prefill' or 'decode', got %r" % (kind,))
        if kind == "decode":
            length = 1
        if length < 1 or length > max_len:
            raise ValueError("%s: a prompt of %d tokens does not fit max_len %d"
                             % (self.name, length, max_len))
        em = Emitter()
        tokens = Val("%tokens", (batch, length), "i32")
        args = [tokens]
        pos = None
        if kind == "decode":
            pos = Val("%pos", (1,), "i32")
            args.append(pos)
        states = [Val(ssa_name("state." + n), s) for n, s in self.states(batch, max_len)]
        weights = {p.name: Val(ssa_name(p.name), p.shape) for p in self.params()}
        args += states + list(weights.values())
        x = self.embed(em, tokens, weights, pos, length)
        h, new_states = self.body(em, x, states, weights, pos, batch, length)
        logits = self.head(em, h, weights)
        first = len(args) - len(weights) - len(states)
        in_place = {1 + i: first + i for i in range(len(states))}
        header = "// %s %s: %s (generated by seqc.models)\n" % (
            self.name, kind, ", ".join("%s=%s" % kv for kv in sorted(self.config.items())))
        return header + function(kind, args, [logits] + new_states, em.lines,
                                 [logits] + new_states, in_place)

    # -- weights ------------------------------------------------------------
    def expected_shapes(self):
        """{checkpoint name: shape} of the tensors ``arguments`` reads."""
        out = {}
        for p in self.params():
            if not isinstance(p.convert, tuple):
                out[p.name] = p.source_shape
        return out

    def arguments(self, weights):
        """The weight arguments, in order and in seqc's layouts, from a
        mapping of checkpoint names to arrays (or a .safetensors path).
        Missing, unexpected-shaped or non-float tensors are errors naming
        every one of them."""
        if isinstance(weights, (str, bytes)) or hasattr(weights, "__fspath__"):
            from .. import safetensors
            weights = safetensors.load(weights, bf16="float32")
        from ..safetensors import check_shapes
        tensors = {k: _as_numpy(v) for k, v in weights.items()}
        check_shapes(tensors, self.expected_shapes(), what="%s weights" % self.name,
                     allow_extra=True)
        out = []
        for p in self.params():
            a = tensors[p.source].astype(np.float32, copy=False)
            if p.convert == "T" or isinstance(p.convert, tuple):
                a = a.T
            elif p.convert == "conv":
                a = a.reshape(p.shape)
            out.append(np.ascontiguousarray(a, dtype=np.float32))
        return out

    def module(self, batch, prompt_len, max_len):
        """One module with ``@prefill`` (prompts of `prompt_len` tokens) and
        ``@decode``: what ``seqc model.mlir -o model.so`` compiles ahead of
        time for a C program (examples/c/generate.c)."""
        return (self.mlir("prefill", batch, prompt_len, max_len) + "\n" +
                self.mlir("decode", batch, 1, max_len))

    def save_arguments(self, path, weights):
        """Writes the weight arguments (in seqc's layouts, under their
        checkpoint names) to a .safetensors file whose metadata lists them
        in argument order ("seqc.weights"), as the C API's loader and
        examples/c/generate.c read them."""
        from .. import safetensors
        arrays = self.arguments(weights)
        names = [p.name for p in self.params()]
        import json
        safetensors.save(path, dict(zip(names, arrays)),
                         metadata={"seqc.weights": ",".join(names),
                                   "seqc.model": self.name,
                                   "seqc.config": json.dumps(self.config, sort_keys=True)})

    def runner(self, weights, batch=1, max_len=256, target="auto", options=None):
        return Runner(self, weights, batch, max_len, target, options)


def _as_numpy(x):
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "detach"):  # torch
        return x.detach().float().cpu().numpy()
    return np.asarray(x)


# ---------------------------------------------------------------------------
# Shared pieces
# ---------------------------------------------------------------------------

def _heads(em, x, heads, head_dim):
    """[B, T, H*D] -> [B, H, T, D]."""
    b, t, _ = x.shape
    x4 = em.reshape(x, (b, t, heads, head_dim), [[0], [1], [2, 3]])
    return em.transpose(x4, (0, 2, 1, 3))


def _merge_heads(em, x):
    """[B, H, T, D] -> [B, T, H*D]."""
    b, h, t, d = x.shape
    xt = em.transpose(x, (0, 2, 1, 3))
    return em.reshape(xt, (b, t, h * d), [[0], [1], [2, 3]])


def _attention(em, q, k, v, k_cache, v_cache, pos, length):
    """Causal attention of q [B, H, T, D] against this step's k, v
    [B, Hkv, T, D]; writes k, v into the caches [B, Hkv, S, D] at rows
    [pos, pos + T) (pos = 0 in prefill). Returns (out, new caches)."""
    if pos is None:
        k_new = em.insert(k, k_cache, [0, 0, 0, 0])
        v_new = em.insert(v, v_cache, [0, 0, 0, 0])
        keys, values, lengths = k, v, None
    else:
        p = em.index_of(pos)
        k_new = em.insert(k, k_cache, [0, 0, p, 0])
        v_new = em.insert(v, v_cache, [0, 0, p, 0])
        keys, values = k_new, v_new
        # Keys [0, pos + T) are visible; the query sits at pos.
        batch = q.shape[0]

        def body(a, o):
            one, s = em.fresh(), em.fresh()
            return ["%s = arith.constant %d : i32" % (one, length),
                    "%s = arith.addi %s, %s : i32" % (s, a[0], one)], s
        lengths = em.generic([(pos, ("0",))], (batch,), (0,), body,
                             dtype="i32", hint="len")
    out = Val(em.fresh("attn"), q.shape)
    extra = ""
    if lengths is not None:
        extra = " kv_lengths(%s : %s)" % (lengths.name, lengths.type)
    em.emit("%s = seq.attention %s, %s, %s%s {causal} : %s, %s, %s -> %s"
            % (out.name, q.name, keys.name, values.name, extra, q.type,
               keys.type, values.type, out.type))
    return out, k_new, v_new


def _positions(em, pos, length):
    return em.iota(length) if pos is None else pos


def _conv_step(em, xs, conv_state, w, bias, width):
    """One step of a causal depthwise conv + SiLU: xs [B, C], conv_state
    [B, C, W-1] (the previous W-1 inputs). Returns (out [B, C], new state)."""
    b, c = xs.shape
    window = em.empty((b, c, width))
    window = em.insert(conv_state, window, [0, 0, 0])
    xs3 = em.reshape(xs, (b, c, 1), [[0], [1, 2]])
    window = em.insert(xs3, window, [0, 0, width - 1])
    zero = em.full((b, c), 0.0)

    def fma(a, o):
        s = em.fresh()
        return ["%s = math.fma %s, %s, %s : f32" % (s, a[0], a[1], o)], s
    acc = em.generic([(window, (0, 1, 2)), (w, (1, 2))], (b, c, width), (0, 1),
                     fma, init=zero, reductions=(2,), hint="conv")

    def act(a, t):
        s = t()
        lines, y = em.silu_lines(s, t)
        return ["%s = arith.addf %s, %s : f32" % (s, a[0], a[1])] + lines, y
    out = em.generic([(acc, (0, 1)), (bias, (1,))], (b, c), (0, 1),
                     lambda a, o: act(a, em.fresh), hint="convact")
    new_state = em.slice(window, [0, 0, 1], [b, c, width - 1])
    return out, new_state


def _conv_prefill(em, x_bcl, w, bias, width):
    """Causal conv + SiLU over [B, C, T] and the state for decoding: the
    last W-1 inputs (zeros before the prompt)."""
    b, c, t = x_bcl.shape
    out = Val(em.fresh("conv"), x_bcl.shape)
    em.emit("%s = seq.causal_conv1d %s, %s bias(%s : %s) {silu} : %s, %s -> %s"
            % (out.name, x_bcl.name, w.name, bias.name, bias.type, x_bcl.type,
               w.type, out.type))
    padded = em.full((b, c, t + width - 1), 0.0)
    padded = em.insert(x_bcl, padded, [0, 0, width - 1])
    state = em.slice(padded, [0, 0, t], [b, c, width - 1])
    return out, state


def _neg_exp(em, a_log):
    def body(a, t):
        e, n = t(), t()
        return ["%s = math.exp %s : f32" % (e, a[0]),
                "%s = arith.negf %s : f32" % (n, e)], n
    return em.map(body, a_log, hint="A")


def _swiglu_params(prefix, d, ffn):
    """The weights `_swiglu_mlp` reads (Hugging Face names, [out, in])."""
    return [Param(prefix + "gate_proj.weight", (d, ffn), "T"),
            Param(prefix + "up_proj.weight", (d, ffn), "T"),
            Param(prefix + "down_proj.weight", (ffn, d), "T")]


def _swiglu_mlp(em, x, weights, prefix, norm_w, eps):
    h = em.rms_norm(x, weights[norm_w], eps)
    gate = em.linear(h, weights[prefix + "gate_proj.weight"])
    up = em.linear(h, weights[prefix + "up_proj.weight"])
    down = em.linear(em.swiglu(gate, up), weights[prefix + "down_proj.weight"])
    return em.add(x, down)


# ---------------------------------------------------------------------------
# Llama
# ---------------------------------------------------------------------------

class Llama(Model):
    name = "llama"
    defaults = dict(vocab=96, d=64, layers=2, heads=4, kv_heads=2, ffn=160,
                    eps=1e-5, theta=10000.0)
    embedding = "model.embed_tokens.weight"
    bounded = True  # the KV cache holds max_len positions

    def check(self):
        if self.d % self.heads or self.heads % self.kv_heads or (self.d // self.heads) % 2:
            raise ValueError("llama: d must split into heads of even size and "
                             "heads into kv_heads groups")

    @property
    def head_dim(self):
        return self.d // self.heads

    def params(self):
        d, hd, V, F = self.d, self.head_dim, self.vocab, self.ffn
        ps = [Param(self.embedding, (V, d))]
        for i in range(self.layers):
            p = "model.layers.%d." % i
            ps += [Param(p + "input_layernorm.weight", (d,)),
                   Param(p + "self_attn.q_proj.weight", (d, self.heads * hd), "T"),
                   Param(p + "self_attn.k_proj.weight", (d, self.kv_heads * hd), "T"),
                   Param(p + "self_attn.v_proj.weight", (d, self.kv_heads * hd), "T"),
                   Param(p + "self_attn.o_proj.weight", (self.heads * hd, d), "T"),
                   Param(p + "post_attention_layernorm.weight", (d,))]
            ps += _swiglu_params(p + "mlp.", d, F)
        return ps + [Param("model.norm.weight", (d,)),
                     Param("lm_head.weight", (d, V), "T")]

    def states(self, batch, max_len):
        shape = (batch, self.kv_heads, max_len, self.head_dim)
        out = []
        for i in range(self.layers):
            out += [("k%d" % i, shape), ("v%d" % i, shape)]
        return out

    def body(self, em, x, states, w, pos, batch, length):
        new_states = []
        positions = _positions(em, pos, length)
        for i in range(self.layers):
            p = "model.layers.%d." % i
            h = em.rms_norm(x, w[p + "input_layernorm.weight"], self.eps)
            q = _heads(em, em.linear(h, w[p + "self_attn.q_proj.weight"]), self.heads, self.head_dim)
            k = _heads(em, em.linear(h, w[p + "self_attn.k_proj.weight"]), self.kv_heads, self.head_dim)
            v = _heads(em, em.linear(h, w[p + "self_attn.v_proj.weight"]), self.kv_heads, self.head_dim)
            q = _rope(em, q, positions, self.theta)
            k = _rope(em, k, positions, self.theta)
            o, kc, vc = _attention(em, q, k, v, states[2 * i], states[2 * i + 1], pos, length)
            new_states += [kc, vc]
            x = em.add(x, em.linear(_merge_heads(em, o), w[p + "self_attn.o_proj.weight"]))
            x = _swiglu_mlp(em, x, w, p + "mlp.", p + "post_attention_layernorm.weight", self.eps)
        return em.rms_norm(x, w["model.norm.weight"], self.eps), new_states


def _rope(em, x, positions, theta):
    out = Val(em.fresh("rope"), x.shape)
    em.emit("%s = seq.rope %s, %s {theta = %s : f32} : %s, %s -> %s"
            % (out.name, x.name, positions.name, repr(float(theta)), x.type,
               positions.type, out.type))
    return out


# ---------------------------------------------------------------------------
# GPT-2
# ---------------------------------------------------------------------------

class GPT2(Model):
    name = "gpt2"
    defaults = dict(vocab=96, d=64, layers=2, heads=4, positions=128, eps=1e-5)
    embedding = "transformer.wte.weight"
    bounded = True

    def check(self):
        if self.d % self.heads:
            raise ValueError("gpt2: d must be a multiple of heads")

    def params(self):
        d, V = self.d, self.vocab
        ps = [Param(self.embedding, (V, d)),
              Param("transformer.wpe.weight", (self.positions, d))]
        for i in range(self.layers):
            p = "transformer.h.%d." % i
            # GPT-2's Conv1D stores [in, out] already.
            ps += [Param(p + "ln_1.weight", (d,)), Param(p + "ln_1.bias", (d,)),
                   Param(p + "attn.c_attn.weight", (d, 3 * d)),
                   Param(p + "attn.c_attn.bias", (3 * d,)),
                   Param(p + "attn.c_proj.weight", (d, d)),
                   Param(p + "attn.c_proj.bias", (d,)),
                   Param(p + "ln_2.weight", (d,)), Param(p + "ln_2.bias", (d,)),
                   Param(p + "mlp.c_fc.weight", (d, 4 * d)),
                   Param(p + "mlp.c_fc.bias", (4 * d,)),
                   Param(p + "mlp.c_proj.weight", (4 * d, d)),
                   Param(p + "mlp.c_proj.bias", (d,))]
        return ps + [Param("transformer.ln_f.weight", (d,)),
                     Param("transformer.ln_f.bias", (d,)),
                     # The LM head is the token embedding (tied).
                     Param("lm_head.weight", (d, V), ("T", self.embedding),
                           source_shape=(V, d))]

    def states(self, batch, max_len):
        if max_len > self.positions:
            raise ValueError("gpt2: max_len %d exceeds the %d learned positions"
                             % (max_len, self.positions))
        shape = (batch, self.heads, max_len, self.d // self.heads)
        out = []
        for i in range(self.layers):
            out += [("k%d" % i, shape), ("v%d" % i, shape)]
        return out

    def embed(self, em, tokens, w, pos, length):
        tok = em.gather_rows(w[self.embedding], tokens)
        positions = _positions(em, pos, length)
        pe = em.gather_rows(w["transformer.wpe.weight"], positions)  # [T, d]
        b = tokens.shape[0]
        return em.generic([(tok, (0, 1, 2)), (pe, (1, 2))], tok.shape, (0, 1, 2),
                          lambda a, o: em._add(a), hint="x")

    def body(self, em, x, states, w, pos, batch, length):
        d, H = self.d, self.heads
        hd = d // H
        new_states = []
        for i in range(self.layers):
            p = "transformer.h.%d." % i
            h = em.layer_norm(x, w[p + "ln_1.weight"], w[p + "ln_1.bias"], self.eps)
            qkv = em.linear(h, w[p + "attn.c_attn.weight"], w[p + "attn.c_attn.bias"])
            q, k, v = (_heads(em, em.slice(qkv, [0, 0, j * d], [batch, length, d]), H, hd)
                       for j in range(3))
            o, kc, vc = _attention(em, q, k, v, states[2 * i], states[2 * i + 1], pos, length)
            new_states += [kc, vc]
            x = em.add(x, em.linear(_merge_heads(em, o), w[p + "attn.c_proj.weight"],
                                    w[p + "attn.c_proj.bias"]))
            h = em.layer_norm(x, w[p + "ln_2.weight"], w[p + "ln_2.bias"], self.eps)
            m = _gelu_tanh(em, em.linear(h, w[p + "mlp.c_fc.weight"], w[p + "mlp.c_fc.bias"]))
            x = em.add(x, em.linear(m, w[p + "mlp.c_proj.weight"], w[p + "mlp.c_proj.bias"]))
        return em.layer_norm(x, w["transformer.ln_f.weight"], w["transformer.ln_f.bias"],
                             self.eps), new_states


def _gelu_tanh(em, x):
    """0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    def body(a, t):
        x0 = a[0]
        c, k, half, one, x2, x3, inner, arg, th, s, y, z = (t() for _ in range(12))
        return ["%s = arith.constant %r : f32" % (c, math.sqrt(2.0 / math.pi)),
                "%s = arith.constant 0.044715 : f32" % k,
                "%s = arith.constant 0.5 : f32" % half,
                "%s = arith.constant 1.0 : f32" % one,
                "%s = arith.mulf %s, %s : f32" % (x2, x0, x0),
                "%s = arith.mulf %s, %s : f32" % (x3, x2, x0),
                "%s = math.fma %s, %s, %s : f32" % (inner, k, x3, x0),
                "%s = arith.mulf %s, %s : f32" % (arg, c, inner),
                "%s = math.tanh %s : f32" % (th, arg),
                "%s = arith.addf %s, %s : f32" % (s, one, th),
                "%s = arith.mulf %s, %s : f32" % (y, half, x0),
                "%s = arith.mulf %s, %s : f32" % (z, y, s)], z
    return em.map(body, x, hint="gelu")


# ---------------------------------------------------------------------------
# Mamba-1
# ---------------------------------------------------------------------------

class Mamba(Model):
    name = "mamba"
    defaults = dict(vocab=96, d=64, layers=2, d_inner=128, d_state=8, dt_rank=4,
                    conv=4, eps=1e-5)
    embedding = "backbone.embeddings.weight"

    def params(self):
        d, Di, N, R, W, V = (self.d, self.d_inner, self.d_state, self.dt_rank,
                             self.conv, self.vocab)
        ps = [Param(self.embedding, (V, d))]
        for i in range(self.layers):
            p = "backbone.layers.%d." % i
            m = p + "mixer."
            ps += [Param(p + "norm.weight", (d,)),
                   Param(m + "in_proj.weight", (d, 2 * Di), "T"),
                   Param(m + "conv1d.weight", (Di, W), "conv"),
                   Param(m + "conv1d.bias", (Di,)),
                   Param(m + "x_proj.weight", (Di, R + 2 * N), "T"),
                   Param(m + "dt_proj.weight", (R, Di), "T"),
                   Param(m + "dt_proj.bias", (Di,)),
                   Param(m + "A_log", (Di, N)),
                   Param(m + "D", (Di,)),
                   Param(m + "out_proj.weight", (Di, d), "T")]
        return ps + [Param("backbone.norm_f.weight", (d,)),
                     Param("lm_head.weight", (d, V), "T")]

    def states(self, batch, max_len):
        out = []
        for i in range(self.layers):
            out += [("conv%d" % i, (batch, self.d_inner, self.conv - 1)),
                    ("ssm%d" % i, (batch, self.d_inner, self.d_state))]
        return out

    def body(self, em, x, states, w, pos, batch, length):
        Di, N, R, W = self.d_inner, self.d_state, self.dt_rank, self.conv
        B, T = batch, length
        new_states = []
        for i in range(self.layers):
            p = "backbone.layers.%d." % i
            m = p + "mixer."
            h = em.rms_norm(x, w[p + "norm.weight"], self.eps)
            xz = em.linear(h, w[m + "in_proj.weight"])                # [B, T, 2Di]
            xs = em.slice(xz, [0, 0, 0], [B, T, Di])
            z = em.slice(xz, [0, 0, Di], [B, T, Di])
            A = _neg_exp(em, w[m + "A_log"])
            if pos is None:
                u_bdl, conv_state = _conv_prefill(
                    em, em.transpose(xs, (0, 2, 1)), w[m + "conv1d.weight"],
                    w[m + "conv1d.bias"], W)
                u = em.transpose(u_bdl, (0, 2, 1))                   # [B, T, Di]
            else:
                xs2 = em.reshape(xs, (B, Di), [[0, 1], [2]])
                u2, conv_state = _conv_step(em, xs2, states[2 * i], w[m + "conv1d.weight"],
                                            w[m + "conv1d.bias"], W)
                u = em.reshape(u2, (B, 1, Di), [[0, 1], [2]])
            dbc = em.linear(u, w[m + "x_proj.weight"])                # [B, T, R+2N]
            dt = em.linear(em.slice(dbc, [0, 0, 0], [B, T, R]), w[m + "dt_proj.weight"])
            Bm = em.slice(dbc, [0, 0, R], [B, T, N])
            Cm = em.slice(dbc, [0, 0, R + N], [B, T, N])
            if pos is None:
                y, ssm = self._scan(em, u, dt, A, Bm, Cm, z, w, m, B, T)
            else:
                y, ssm = self._step(em, u, dt, A, Bm, Cm, z, w, m, states[2 * i + 1], B)
            new_states += [conv_state, ssm]
            x = em.add(x, em.linear(y, w[m + "out_proj.weight"]))
        return em.rms_norm(x, w["backbone.norm_f.weight"], self.eps), new_states

    def _scan(self, em, u, dt, A, Bm, Cm, z, w, m, B, T):
        Di, N = self.d_inner, self.d_state
        u_bdl = em.transpose(u, (0, 2, 1))
        dt_bdl = em.transpose(dt, (0, 2, 1))
        z_bdl = em.transpose(z, (0, 2, 1))
        b4 = em.transpose(em.reshape(Bm, (B, T, 1, N), [[0], [1], [2, 3]]), (0, 2, 3, 1))
        c4 = em.transpose(em.reshape(Cm, (B, T, 1, N), [[0], [1], [2, 3]]), (0, 2, 3, 1))
        y = Val(em.fresh("ssm"), (B, Di, T))
        last = Val(em.fresh("last"), (B, Di, N))
        D, bias = w[m + "D"], w[m + "dt_proj.bias"]
        em.emit("%s, %s = seq.selective_scan %s, %s, %s, %s, %s D(%s : %s) z(%s : %s) "
                "delta_bias(%s : %s) {delta_softplus} : %s, %s, %s, %s, %s -> %s, %s"
                % (y.name, last.name, u_bdl.name, dt_bdl.name, A.name, b4.name, c4.name,
                   D.name, D.type, z_bdl.name, z_bdl.type, bias.name, bias.type,
                   u_bdl.type, dt_bdl.type, A.type, b4.type, c4.type, y.type, last.type))
        return em.transpose(y, (0, 2, 1)), last

    def _step(self, em, u, dt, A, Bm, Cm, z, w, m, state, B):
        """One selective-scan step on [B, 1, ...] inputs and the state
        [B, Di, N]: h = exp(Δ A) h + Δ B u; y = C·h + D u, times silu(z)."""
        Di, N = self.d_inner, self.d_state
        u2 = em.reshape(u, (B, Di), [[0, 1], [2]])
        z2 = em.reshape(z, (B, Di), [[0, 1], [2]])
        b2 = em.reshape(Bm, (B, N), [[0, 1], [2]])
        c2 = em.reshape(Cm, (B, N), [[0, 1], [2]])
        dt2 = em.reshape(dt, (B, Di), [[0, 1], [2]])
        bias = w[m + "dt_proj.bias"]

        delta = em.generic([(dt2, (0, 1)), (bias, (1,))], (B, Di), (0, 1),
                           lambda a, o: em.softplus_sum_lines(a, em.fresh),
                           hint="delta")

        def update(a, o):
            # a: delta[b,d], A[d,n], B[b,n], u[b,d]; o: h[b,d,n]
            t = em.fresh
            da, e, dbu0, dbu, h = t(), t(), t(), t(), t()
            return ["%s = arith.mulf %s, %s : f32" % (da, a[0], a[1]),
                    "%s = math.exp %s : f32" % (e, da),
                    "%s = arith.mulf %s, %s : f32" % (dbu0, a[0], a[2]),
                    "%s = arith.mulf %s, %s : f32" % (dbu, dbu0, a[3]),
                    "%s = math.fma %s, %s, %s : f32" % (h, e, o, dbu)], h
        h = em.generic([(delta, (0, 1)), (A, (1, 2)), (b2, (0, 2)), (u2, (0, 1))],
                       (B, Di, N), (0, 1, 2), update, init=state, hint="h")

        def readout(a, o):
            s = em.fresh()
            return ["%s = math.fma %s, %s, %s : f32" % (s, a[0], a[1], o)], s
        zero = em.full((B, Di), 0.0)
        ch = em.generic([(h, (0, 1, 2)), (c2, (0, 2))], (B, Di, N), (0, 1), readout,
                        init=zero, reductions=(2,), hint="ch")

        def finish(a, t):
            # a: ch, D, u, z
            s = t()
            lines, g = em.silu_lines(a[3], t)
            y = t()
            return (["%s = math.fma %s, %s, %s : f32" % (s, a[1], a[2], a[0])] + lines +
                    ["%s = arith.mulf %s, %s : f32" % (y, s, g)]), y
        y = em.generic([(ch, (0, 1)), (w[m + "D"], (1,)), (u2, (0, 1)), (z2, (0, 1))],
                       (B, Di), (0, 1), lambda a, o: finish(a, em.fresh), hint="y")
        return em.reshape(y, (B, 1, Di), [[0, 1], [2]]), h


# ---------------------------------------------------------------------------
# Mamba-2 (SSD through gated linear attention with a scalar decay)
# ---------------------------------------------------------------------------

class Mamba2(Model):
    name = "mamba2"
    defaults = dict(vocab=96, d=64, layers=2, d_inner=128, d_state=16, heads=4,
                    conv=4, eps=1e-5)
    embedding = "backbone.embeddings.weight"

    def check(self):
        if self.d_inner % self.heads:
            raise ValueError("mamba2: d_inner must be a multiple of heads")

    @property
    def conv_dim(self):
        return self.d_inner + 2 * self.d_state

    def params(self):
        d, Di, N, H, V = self.d, self.d_inner, self.d_state, self.heads, self.vocab
        C = self.conv_dim
        ps = [Param(self.embedding, (V, d))]
        for i in range(self.layers):
            p = "backbone.layers.%d." % i
            m = p + "mixer."
            ps += [Param(p + "norm.weight", (d,)),
                   Param(m + "in_proj.weight", (d, 2 * Di + 2 * N + H), "T"),
                   Param(m + "conv1d.weight", (C, self.conv), "conv"),
                   Param(m + "conv1d.bias", (C,)),
                   Param(m + "dt_bias", (H,)),
                   Param(m + "A_log", (H,)),
                   Param(m + "D", (H,)),
                   Param(m + "norm.weight", (Di,)),
                   Param(m + "out_proj.weight", (Di, d), "T")]
        return ps + [Param("backbone.norm_f.weight", (d,)),
                     Param("lm_head.weight", (d, V), "T")]

    def states(self, batch, max_len):
        P = self.d_inner // self.heads
        out = []
        for i in range(self.layers):
            out += [("conv%d" % i, (batch, self.conv_dim, self.conv - 1)),
                    ("ssm%d" % i, (batch, self.heads, self.d_state, P))]
        return out

    def body(self, em, x, states, w, pos, batch, length):
        Di, N, H, W = self.d_inner, self.d_state, self.heads, self.conv
        P, C, B, T = Di // H, self.conv_dim, batch, length
        new_states = []
        for i in range(self.layers):
            p = "backbone.layers.%d." % i
            m = p + "mixer."
            h = em.rms_norm(x, w[p + "norm.weight"], self.eps)
            proj = em.linear(h, w[m + "in_proj.weight"])
            z = em.slice(proj, [0, 0, 0], [B, T, Di])
            xbc = em.slice(proj, [0, 0, Di], [B, T, C])
            dt = em.slice(proj, [0, 0, Di + C], [B, T, H])
            if pos is None:
                conv, conv_state = _conv_prefill(em, em.transpose(xbc, (0, 2, 1)),
                                                 w[m + "conv1d.weight"], w[m + "conv1d.bias"], W)
                xbc = em.transpose(conv, (0, 2, 1))
            else:
                c2, conv_state = _conv_step(em, em.reshape(xbc, (B, C), [[0, 1], [2]]),
                                            states[2 * i], w[m + "conv1d.weight"],
                                            w[m + "conv1d.bias"], W)
                xbc = em.reshape(c2, (B, 1, C), [[0, 1], [2]])
            xs = em.slice(xbc, [0, 0, 0], [B, T, Di])
            Bm = em.slice(xbc, [0, 0, Di], [B, T, N])
            Cm = em.slice(xbc, [0, 0, Di + N], [B, T, N])

            delta = em.generic([(dt, (0, 1, 2)), (w[m + "dt_bias"], (2,))], (B, T, H),
                               (0, 1, 2), lambda a, o: em.softplus_sum_lines(a, em.fresh),
                               hint="delta")
            A = _neg_exp(em, w[m + "A_log"])

            def mul(a, o):
                s = em.fresh()
                return ["%s = arith.mulf %s, %s : f32" % (s, a[0], a[1])], s
            # The log decay per head and step, [B, H, T].
            gate = em.generic([(delta, (0, 2, 1)), (A, (1,))], (B, H, T), (0, 1, 2),
                              mul, hint="gate")
            x4 = em.reshape(xs, (B, T, H, P), [[0], [1], [2, 3]])
            v = em.generic([(x4, (0, 2, 1, 3)), (delta, (0, 2, 1))], (B, H, T, P),
                           (0, 1, 2, 3), mul, hint="v")
            q = em.generic([(Cm, (0, 2, 3))], (B, H, T, N), (0, 1, 2, 3),
                           lambda a, o: ([], a[0]), hint="q")
            k = em.generic([(Bm, (0, 2, 3))], (B, H, T, N), (0, 1, 2, 3),
                           lambda a, o: ([], a[0]), hint="k")
            o = Val(em.fresh("ssd"), (B, H, T, P))
            S = Val(em.fresh("S"), (B, H, N, P))
            init = ""
            if pos is not None:
                init = " init(%s : %s)" % (states[2 * i + 1].name,
                                                    states[2 * i + 1].type)
            em.emit("%s, %s = seq.gated_linear_attention %s, %s, %s gate(%s : %s)%s "
                    "{scale = 1.0 : f32} : %s, %s, %s -> %s, %s"
                    % (o.name, S.name, q.name, k.name, v.name, gate.name, gate.type,
                       init, q.type, k.type, v.type, o.type, S.type))

            def skip(a, o_):
                s = em.fresh()
                return ["%s = math.fma %s, %s, %s : f32" % (s, a[1], a[2], a[0])], s
            y4 = em.generic([(o, (0, 2, 1, 3)), (w[m + "D"], (2,)), (x4, (0, 1, 2, 3))],
                            (B, T, H, P), (0, 1, 2, 3), skip, hint="y")
            y = em.reshape(y4, (B, T, Di), [[0], [1], [2, 3]])

            def gated(a, t):
                lines, g = em.silu_lines(a[1], t)
                s = t()
                return lines + ["%s = arith.mulf %s, %s : f32" % (s, a[0], g)], s
            y = em.map(gated, y, z, hint="gated")
            y = em.rms_norm(y, w[m + "norm.weight"], self.eps)
            new_states += [conv_state, S]
            x = em.add(x, em.linear(y, w[m + "out_proj.weight"]))
        return em.rms_norm(x, w["backbone.norm_f.weight"], self.eps), new_states


# ---------------------------------------------------------------------------
# Gated linear attention
# ---------------------------------------------------------------------------

class GLA(Model):
    name = "gla"
    defaults = dict(vocab=96, d=64, layers=2, heads=4, ffn=160, eps=1e-5)
    embedding = "model.embeddings.weight"

    def check(self):
        if self.d % self.heads:
            raise ValueError("gla: d must be a multiple of heads")

    def params(self):
        d, V, F = self.d, self.vocab, self.ffn
        ps = [Param(self.embedding, (V, d))]
        for i in range(self.layers):
            p = "model.layers.%d." % i
            ps += [Param(p + "attn_norm.weight", (d,))]
            ps += [Param(p + "attn.%s.weight" % n, (d, d), "T")
                   for n in ("q_proj", "k_proj", "v_proj", "gk_proj", "g_proj", "o_proj")]
            ps += [Param(p + "mlp_norm.weight", (d,))]
            ps += _swiglu_params(p + "mlp.", d, F)
        return ps + [Param("model.norm.weight", (d,)),
                     Param("lm_head.weight", (d, V), "T")]

    def states(self, batch, max_len):
        K = self.d // self.heads
        return [("S%d" % i, (batch, self.heads, K, K)) for i in range(self.layers)]

    def body(self, em, x, states, w, pos, batch, length):
        H, K = self.heads, self.d // self.heads
        new_states = []
        for i in range(self.layers):
            p = "model.layers.%d." % i
            a = p + "attn."
            h = em.rms_norm(x, w[p + "attn_norm.weight"], self.eps)
            q, k, v, gk = (_heads(em, em.linear(h, w[a + n + ".weight"]), H, K)
                           for n in ("q_proj", "k_proj", "v_proj", "gk_proj"))

            gk = em.map(lambda a, t: em.logsigmoid_lines(a[0], t), gk, hint="gk")
            o = Val(em.fresh("gla"), q.shape)
            S = Val(em.fresh("S"), (batch, H, K, K))
            init = ""
            if pos is not None:
                init = " init(%s : %s)" % (states[i].name, states[i].type)
            em.emit("%s, %s = seq.gated_linear_attention %s, %s, %s gate(%s : %s)%s "
                    ": %s, %s, %s -> %s, %s"
                    % (o.name, S.name, q.name, k.name, v.name, gk.name, gk.type, init,
                       q.type, k.type, v.type, o.type, S.type))
            new_states.append(S)
            g = em.linear(h, w[a + "g_proj.weight"])

            def gated(args, t):
                lines, s = em.silu_lines(args[1], t)
                y = t()
                return lines + ["%s = arith.mulf %s, %s : f32" % (y, args[0], s)], y
            og = em.map(gated, _merge_heads(em, o), g, hint="og")
            x = em.add(x, em.linear(og, w[a + "o_proj.weight"]))
            x = _swiglu_mlp(em, x, w, p + "mlp.", p + "mlp_norm.weight", self.eps)
        return em.rms_norm(x, w["model.norm.weight"], self.eps), new_states


# ---------------------------------------------------------------------------
# LSTM and GRU (seq.recurrence)
# ---------------------------------------------------------------------------

class _RNN(Model):
    defaults = dict(vocab=96, d=64, layers=2)
    embedding = "embed.weight"
    gates = None
    cell_states = None

    def params(self):
        d, V, G = self.d, self.vocab, self.gates
        ps = [Param(self.embedding, (V, d))]
        for i in range(self.layers):
            ps += [Param("rnn.weight_ih_l%d" % i, (d, G * d), "T"),
                   Param("rnn.weight_hh_l%d" % i, (d, G * d), "T"),
                   Param("rnn.bias_ih_l%d" % i, (G * d,)),
                   Param("rnn.bias_hh_l%d" % i, (G * d,))]
        return ps + [Param("lm_head.weight", (d, V), "T"), Param("lm_head.bias", (V,))]

    def states(self, batch, max_len):
        return [("%s%d" % (n, i), (batch, self.d)) for i in range(self.layers)
                for n in self.cell_states]

    def body(self, em, x, states, w, pos, batch, length):
        # Prefill starts from the state buffers too (zeros for a new
        # sequence): a prompt continues where the state stands.
        new_states = []
        ns = len(self.cell_states)
        for i in range(self.layers):
            init = states[ns * i: ns * (i + 1)]
            outs = self._recurrence(em, x, init, w, i, batch, length)
            x = outs[0]
            new_states += outs[1:]
        return x, new_states

    def _recurrence(self, em, x, init, w, layer, B, T):
        d, G = self.d, self.gates
        st = tensor_type((B, d))
        names = [em.fresh("st") for _ in init]
        xt = em.fresh("xt")
        # The body's lines go into the region; its names come from the
        # function's counter (a region cannot redefine a name from above).
        inner = Emitter()
        inner.fresh = em.fresh
        gx = inner.linear(Val(xt, (B, d)), w["rnn.weight_ih_l%d" % layer],
                          w["rnn.bias_ih_l%d" % layer])
        gh = inner.linear(Val(names[0], (B, d)), w["rnn.weight_hh_l%d" % layer],
                          w["rnn.bias_hh_l%d" % layer])
        new = self.cell(inner, gx, gh, [Val(n, (B, d)) for n in names], B)
        r = em.fresh("rec")
        y_type = tensor_type((B, T, d))
        em.emit("%s:%d = seq.recurrence init(%s : %s) ins(%s : %s) {dim = 1 : i64} -> %s, %s {"
                % (r, 1 + len(init), ", ".join(s.name for s in init),
                   ", ".join(s.type for s in init), x.name, x.type, y_type,
                   ", ".join(st for _ in init)))
        em.lines.append("  ^bb0(%s, %s: %s):" % (", ".join("%s: %s" % (n, st) for n in names),
                                                 xt, st))
        for line in inner.lines:
            em.lines.append("  " + line)
        em.emit("  seq.yield %s, %s : %s, %s" % (", ".join(v.name for v in new), new[0].name,
                                                 ", ".join(st for _ in new), st))
        em.emit("}")
        return ([Val("%s#%d" % (r, 0), (B, T, d))] +
                [Val("%s#%d" % (r, 1 + j), (B, d)) for j in range(len(init))])

    def head(self, em, h, w):
        return em.linear(h, w["lm_head.weight"], w["lm_head.bias"])


class LSTM(_RNN):
    name = "lstm"
    gates = 4
    cell_states = ("h", "c")

    def cell(self, em, gx, gh, states, B):
        d = self.d
        g = em.add(gx, gh)
        i, f, gg, o = (em.slice(g, [0, j * d], [B, d]) for j in range(4))
        i = em.map(lambda a, t: em.sigmoid_lines(a[0], t), i, hint="i")
        f = em.map(lambda a, t: em.sigmoid_lines(a[0], t), f, hint="f")
        o = em.map(lambda a, t: em.sigmoid_lines(a[0], t), o, hint="o")

        def cnew(a, t):
            th, fc, c = t(), t(), t()
            return ["%s = math.tanh %s : f32" % (th, a[2]),
                    "%s = arith.mulf %s, %s : f32" % (fc, a[1], a[3]),
                    "%s = math.fma %s, %s, %s : f32" % (c, a[0], th, fc)], c
        c = em.map(cnew, i, f, gg, states[1], hint="c")

        def hnew(a, t):
            th, h = t(), t()
            return ["%s = math.tanh %s : f32" % (th, a[1]),
                    "%s = arith.mulf %s, %s : f32" % (h, a[0], th)], h
        h = em.map(hnew, o, c, hint="h")
        return [h, c]


class GRU(_RNN):
    name = "gru"
    gates = 3
    cell_states = ("h",)

    def cell(self, em, gx, gh, states, B):
        d = self.d
        xr, xz, xn = (em.slice(gx, [0, j * d], [B, d]) for j in range(3))
        hr, hz, hn = (em.slice(gh, [0, j * d], [B, d]) for j in range(3))

        def gate(a, t):
            s = t()
            lines, y = em.sigmoid_lines(s, t)
            return ["%s = arith.addf %s, %s : f32" % (s, a[0], a[1])] + lines, y
        r = em.map(gate, xr, hr, hint="r")
        z = em.map(gate, xz, hz, hint="z")

        def hnew(a, t):
            # a: xn, hn, r, z, h
            rn, n0, n, one, omz, zh, h = (t() for _ in range(7))
            return ["%s = arith.mulf %s, %s : f32" % (rn, a[2], a[1]),
                    "%s = arith.addf %s, %s : f32" % (n0, a[0], rn),
                    "%s = math.tanh %s : f32" % (n, n0),
                    "%s = arith.constant 1.0 : f32" % one,
                    "%s = arith.subf %s, %s : f32" % (omz, one, a[3]),
                    "%s = arith.mulf %s, %s : f32" % (zh, a[3], a[4]),
                    "%s = math.fma %s, %s, %s : f32" % (h, omz, n, zh)], h
        return [em.map(hnew, xn, hn, r, z, states[0], hint="h")]


ARCHITECTURES = {cls.name: cls for cls in (Llama, GPT2, Mamba, Mamba2, GLA, LSTM, GRU)}


def get(name, **config):
    """The architecture `name` with `config` (see each class's
    ``defaults``)."""
    if name not in ARCHITECTURES:
        raise ValueError("unknown architecture %r (seqc.models has %s)"
                         % (name, ", ".join(sorted(ARCHITECTURES))))
    return ARCHITECTURES[name](**config)


from ._runner import Runner  # noqa: E402
