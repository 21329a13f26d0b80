#!/usr/bin/env python3
"""The model library end to end: every seqc.models architecture (Llama,
GPT-2, Mamba, Mamba-2, GLA, LSTM, GRU; small configs, random weights in the
checkpoint layouts, exchanged as .safetensors) is compiled for the CPU,
prefilled and decoded greedily for 32 tokens, and checked against the
float64 NumPy models of test/python/model_references.py (written without
seqc): prefill logits rel err < 1e-4 and identical greedy tokens. One table
row per model; the run fails if any model fails.

    PYTHONPATH=python SEQC_LIBRARY=build/lib/libseqc_c.so \\
        python3 examples/run_models.py [llama ...]
"""

import os
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "test", "python"))

import model_references as ref  # noqa: E402
import seqc.models as models  # noqa: E402
from seqc import safetensors  # noqa: E402

BATCH, PROMPT, STEPS = 2, 8, 32


def run(name, folder):
    forward, init, _ = ref.MODELS[name]
    cfg = ref.CONFIGS[name]
    weights = init(cfg, np.random.default_rng(7))
    path = os.path.join(folder, name + ".safetensors")
    safetensors.save(path, weights)
    prompt = np.random.default_rng(8).integers(0, cfg["V"], (BATCH, PROMPT)).astype(np.int32)
    model = models.get(name, **ref.seqc_config(name))
    t0 = time.perf_counter()
    runner = model.runner(path, batch=BATCH, max_len=PROMPT + STEPS, target="cpu")
    runner.prefill_function(PROMPT)
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    logits = runner.prefill(prompt)
    prefill_ms = (time.perf_counter() - t0) * 1e3
    want = forward(weights, cfg, prompt)
    err = float(np.linalg.norm(logits - want) / np.linalg.norm(want))
    t0 = time.perf_counter()
    tokens = runner.generate(prompt, STEPS)
    decode_ms = ((time.perf_counter() - t0) * 1e3 - prefill_ms) / (STEPS - 1)
    ref_tokens = ref.greedy(forward, weights, cfg, prompt, STEPS)
    same = bool(np.array_equal(tokens, ref_tokens))
    ok = err < 1e-4 and same and np.isfinite(logits).all()
    return [name, "L%d d%d V%d" % (cfg["L"], cfg["d"], cfg["V"]), "%.1f" % compile_s,
            "%.2f" % prefill_ms, "%.2f" % decode_ms, "%.2e" % err,
            "%d/%d" % ((tokens == ref_tokens).all(0).sum(), STEPS), "ok" if ok else "FAIL"]


def main():
    names = sys.argv[1:] or sorted(ref.MODELS)
    head = ["model", "config", "compile s", "prefill ms", "decode ms/tok",
            "logits rel err", "greedy = ref", "status"]
    rows, failed = [], False
    with tempfile.TemporaryDirectory() as folder:
        for name in names:
            try:
                row = run(name, folder)
            except Exception as e:  # report, keep going, fail at the end
                row = [name, "-", "-", "-", "-", "-", "-", "ERROR: %s" % e]
            failed |= row[-1] != "ok"
            rows.append(row)
            print(" | ".join(rows[-1]), flush=True)
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    print()
    print(" | ".join(h.ljust(w) for h, w in zip(head, widths)))
    print("-+-".join("-" * w for w in widths))
    for r in rows:
        print(" | ".join(str(c).ljust(w) for c, w in zip(r, widths)))
    print("\n(B%d, prompt %d, %d greedy steps, batch rows decoded together; "
          "f32 against float64)" % (BATCH, PROMPT, STEPS))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
