"""Where the host time of a seqc call on CUDA tensors goes: cProfile over
back-to-back calls of a compiled decode attention (bf16, GQA 32:8, D128,
KV 8192), the top functions by their own time. Run on a GPU machine:

    PYTHONPATH=python python3 benchmarks/host_profile.py [--calls N]
"""

import argparse
import cProfile
import pstats
import time

import seqc


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--calls", type=int, default=500)
    args = p.parse_args()
    import torch
    q = torch.randn(1, 32, 1, 128, device="cuda", dtype=torch.bfloat16)
    k, v = (torch.randn(1, 8, 8192, 128, device="cuda", dtype=torch.bfloat16)
            for _ in range(2))
    m = seqc.compile(seqc.ops.mlir_text("attention", q, k, v), target="cuda")
    f = m[list(m)[0]]
    for fn, what in ((lambda: f(q, k, v), "compiled function"),
                     (lambda: seqc.attention(q, k, v), "seqc.attention")):
        fn()
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(args.calls):
            fn()
        host = (time.perf_counter() - t0) / args.calls
        torch.cuda.synchronize()
        print("%s: %.1f us of host time a call" % (what, host * 1e6))
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(args.calls):
            fn()
        prof.disable()
        torch.cuda.synchronize()
        pstats.Stats(prof).sort_stats("tottime").print_stats(14)


if __name__ == "__main__":
    main()
