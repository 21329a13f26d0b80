#!/usr/bin/env python3
"""Decode-step latency of a Llama-style model at KV length 4096 on the GPU:
seqc.models' @decode against Hugging Face transformers' LlamaForCausalLM on
the same GPU, same weights, same KV length, side by side in one run.

Model (f32): vocab 32000, d 2048, 4 layers, 16 query heads : 4 KV heads
(head dim 128), SwiGLU 5632, batch 1. The KV cache holds 4096 positions
with random keys and values; each timed step decodes the token at position
4095 (so attention reads 4096 keys per head and layer).

seqc's step is one call of the compiled @decode (weights and the KV cache
on the device, updated in place), through the Python runner (token checks
and the host-to-device copy of the position included). The baseline is
`transformers` (when importable: the model's forward with a DynamicCache
of 4095 past tokens, use_cache=True); without it, a torch eager
implementation of the same decode step with a preallocated cache (HF's
LlamaForCausalLM semantics), labelled as such. Both outputs are compared
(logits rel err) before timing. Times: wall clock around synchronized
calls, median of the timed steps after warm-up. The ceiling is the
weight + KV-cache bytes a step must read divided by the copy bandwidth
measured in the same run.

    PYTHONPATH=python python3 benchmarks/decode_bench.py [--json F] [--layers N]
"""

import argparse
import json
import re
import statistics
import time

import numpy as np


def timed(fn, sync, warmup=3, reps=20):
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def copy_bandwidth(torch):
    a = torch.empty(256 << 20, dtype=torch.float32, device="cuda")
    b = torch.empty_like(a)
    t = timed(lambda: b.copy_(a), torch.cuda.synchronize, 2, 10)
    return 2 * a.numel() * 4 / t / 1e9


def torch_llama_step(torch, cfg, w, k_cache, v_cache, pos, token):
    """One decode step of HF Llama semantics in torch eager (the fallback
    baseline): caches [L, B, Hkv, S, D] preallocated, written at pos."""
    F = torch.nn.functional
    d, H, Hkv = cfg["d"], cfg["heads"], cfg["kv_heads"]
    hd = d // H
    eps = cfg["eps"]

    def rms(x, g):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * g

    inv = cfg["theta"] ** (-torch.arange(0, hd, 2, device="cuda", dtype=torch.float32) / hd)
    ang = pos * inv
    cos, sin = torch.cat([ang.cos(), ang.cos()]), torch.cat([ang.sin(), ang.sin()])

    def rope(x):
        x1, x2 = x[..., : hd // 2], x[..., hd // 2:]
        return x * cos + torch.cat([-x2, x1], -1) * sin

    x = w["model.embed_tokens.weight"][token]  # [1, d]
    for i in range(cfg["layers"]):
        p = "model.layers.%d." % i
        h = rms(x, w[p + "input_layernorm.weight"])
        q = (h @ w[p + "self_attn.q_proj.weight"].T).view(1, H, 1, hd)
        k = (h @ w[p + "self_attn.k_proj.weight"].T).view(1, Hkv, 1, hd)
        v = (h @ w[p + "self_attn.v_proj.weight"].T).view(1, Hkv, 1, hd)
        q, k = rope(q), rope(k)
        k_cache[i, :, :, pos] = k[:, :, 0]
        v_cache[i, :, :, pos] = v[:, :, 0]
        keys = k_cache[i, :, :, : pos + 1].repeat_interleave(H // Hkv, 1)
        vals = v_cache[i, :, :, : pos + 1].repeat_interleave(H // Hkv, 1)
        o = F.scaled_dot_product_attention(q, keys, vals)
        x = x + o.reshape(1, d) @ w[p + "self_attn.o_proj.weight"].T
        h = rms(x, w[p + "post_attention_layernorm.weight"])
        g = h @ w[p + "mlp.gate_proj.weight"].T
        u = h @ w[p + "mlp.up_proj.weight"].T
        x = x + (F.silu(g) * u) @ w[p + "mlp.down_proj.weight"].T
    return rms(x, w["model.norm.weight"]) @ w["lm_head.weight"].T


# The decoding kernels off (they are on by default for target=cuda).
UNSPLIT = "attention-split-keys=0 matmul-split-k=0"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", help="write the row to this file")
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--kv", type=int, default=4096)
    ap.add_argument("--profile", action="store_true",
                    help="also print seqc's kernels by GPU time (torch.profiler/CUPTI)")
    args = ap.parse_args()

    import torch
    import seqc.models as models

    cfg = dict(vocab=32000, d=2048, layers=args.layers, heads=16, kv_heads=4,
               ffn=5632, eps=1e-5, theta=500000.0)
    S = args.kv
    model = models.get("llama", **cfg)
    rng = np.random.default_rng(0)
    weights = {}
    for p in model.params():
        if isinstance(p.convert, tuple):
            continue
        shape = p.source_shape
        if len(shape) == 1:
            a = 1 + 0.1 * rng.standard_normal(shape, dtype=np.float32)
        else:
            a = rng.standard_normal(shape, dtype=np.float32) / np.float32(np.sqrt(shape[-1]))
        weights[p.name] = a
    t0 = time.perf_counter()
    runner = model.runner(weights, batch=1, max_len=S, target="cuda")
    compile_s = time.perf_counter() - t0
    hd = cfg["d"] // cfg["heads"]
    gen = torch.Generator(device="cuda").manual_seed(0)
    for s in runner.states:
        s.copy_(torch.randn(s.shape, device="cuda", generator=gen))
    token = np.array([[123]], np.int32)

    def seqc_step():
        runner.pos = S - 1
        return runner.decode(token)

    # Baseline with the same weights and cache contents.
    w = {k: torch.from_numpy(v).cuda() for k, v in weights.items()}
    L = cfg["layers"]
    k_cache = torch.stack([runner.states[2 * i].clone() for i in range(L)])
    v_cache = torch.stack([runner.states[2 * i + 1].clone() for i in range(L)])
    baseline = "torch eager (HF Llama semantics; transformers not installed)"
    try:
        import transformers  # noqa: F401
        from transformers import LlamaConfig, LlamaForCausalLM
        from transformers.cache_utils import DynamicCache
        hf_cfg = LlamaConfig(vocab_size=cfg["vocab"], hidden_size=cfg["d"],
                             intermediate_size=cfg["ffn"], num_hidden_layers=L,
                             num_attention_heads=cfg["heads"],
                             num_key_value_heads=cfg["kv_heads"],
                             rms_norm_eps=cfg["eps"], rope_theta=cfg["theta"],
                             max_position_embeddings=S, tie_word_embeddings=False,
                             attn_implementation="sdpa")
        hf = LlamaForCausalLM(hf_cfg).cuda().float().eval()
        hf.load_state_dict({k: v for k, v in w.items()}, strict=True)
        baseline = "transformers %s LlamaForCausalLM (sdpa, DynamicCache)" % transformers.__version__

        def base_step():
            cache = DynamicCache()
            for i in range(L):
                # HF caches hold rotated keys, as seqc's.
                cache.update(k_cache[i, :, :, : S - 1], v_cache[i, :, :, : S - 1], i)
            with torch.no_grad():
                out = hf(input_ids=torch.tensor([[123]], device="cuda"),
                         past_key_values=cache, use_cache=True,
                         position_ids=torch.tensor([[S - 1]], device="cuda"))
            return out.logits[:, -1]
    except ImportError:
        def base_step():
            with torch.no_grad():
                return torch_llama_step(torch, cfg, w, k_cache, v_cache, S - 1,
                                        torch.tensor([123], device="cuda"))

    # The same step without the decoding kernels that are on by default
    # (attention split over keys, GEMVs split along K): what they gain.
    split_runner = model.runner(weights, batch=1, max_len=S, target="cuda",
                                options=UNSPLIT)
    for mine, theirs_state in zip(split_runner.states, runner.states):
        mine.copy_(theirs_state)

    def split_step():
        split_runner.pos = S - 1
        return split_runner.decode(token)

    ours = seqc_step()[:, -1].float()
    theirs = base_step().reshape(ours.shape).float()
    err = float((ours - theirs).norm() / theirs.norm())
    sync = torch.cuda.synchronize
    split_err = float((split_step()[:, -1].float() - ours).norm() / ours.norm())
    # (split_* below: the step with UNSPLIT options.)
    t_seqc = timed(seqc_step, sync)
    t_split = timed(split_step, sync)
    t_base = timed(base_step, sync)
    bw = copy_bandwidth(torch)
    n_weights = sum(int(np.prod(p.shape)) for p in model.params())
    kv_bytes = L * 2 * cfg["kv_heads"] * S * hd * 4
    step_bytes = n_weights * 4 + kv_bytes
    floor_ms = step_bytes / (bw * 1e9) * 1e3
    row = dict(model="llama f32 d2048 L%d H16:4 hd128 ffn5632 V32000" % L,
               kv=S, seqc_ms=t_seqc * 1e3, baseline=baseline,
               baseline_ms=t_base * 1e3, ratio=t_base / t_seqc,
               bytes_per_step=step_bytes, copy_gbps=bw, floor_ms=floor_ms,
               rel_err=err, compile_s=compile_s)
    print("| model | KV | seqc decode step | baseline | baseline step | speed ratio (baseline/seqc) | bytes read / step | floor at copy bandwidth | logits rel err |")
    print("|---|---|---|---|---|---|---|---|---|")
    print("| %s | %d | %.3f ms | %s | %.3f ms | %.2fx | %.2f GB | %.3f ms (%.0f GB/s) | %.1e |"
          % (row["model"], S, row["seqc_ms"], baseline, row["baseline_ms"], row["ratio"],
             step_bytes / 1e9, floor_ms, bw, err))
    print(("| %s, " + UNSPLIT + " | %d | %.3f ms | %s | %.3f ms | %.2fx | %.2f GB | %.3f ms (%.0f GB/s) | %.1e vs default |")
          % (row["model"], S, t_split * 1e3, baseline, row["baseline_ms"],
             t_base / t_split, step_bytes / 1e9, floor_ms, bw, split_err))
    row.update(unsplit_ms=t_split * 1e3, unsplit_rel_err=split_err)
    print("seqc compile (decode module): %.1f s" % compile_s)
    if args.profile:
        # Where a step's time goes: every kernel of 5 steps, by total time.
        from torch.profiler import ProfilerActivity, profile
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            for _ in range(5):
                seqc_step()
            sync()
        for title, p, key in (("", prof, "profile"),):
            totals = {}
            for event in p.events():
                if event.device_type == torch.autograd.DeviceType.CUDA:
                    # Kernels are named <function>_<op or work>[_<n>]:
                    # grouped by kind.
                    name = re.sub(r"_\d+$", "", event.name)[:60]
                    count, us = totals.get(name, (0, 0.0))
                    totals[name] = (count + 1, us + event.device_time)
            print("\nseqc decode step%s, kernels by GPU time (5 steps):" % title)
            print("| kernel | launches | total ms | ms / step |")
            print("|---|---|---|---|")
            for name, (count, us) in sorted(totals.items(), key=lambda kv: -kv[1][1])[:25]:
                print("| %s | %d | %.3f | %.3f |" % (name, count, us / 1e3, us / 5e3))
            row[key] = {k: v[1] / 5e3 for k, v in totals.items()}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(row, f, indent=1)
    if not err < 1e-3:
        raise SystemExit("seqc's decode logits differ from the baseline's (rel err %.3g)" % err)


if __name__ == "__main__":
    main()
