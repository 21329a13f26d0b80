"""Where a scan's wall time goes: the selective scan (gpu_bench's shape) or
the linear recurrence, per compile-option set, as the functional op and as
the compiled function called directly: wall time of one synchronous call
(CUDA events), the host time of that call, the time until the queue drains
when calls are queued back to back, the kernels' GPU time, and one call's
timeline (each kernel's start and end after the call began, from
torch.profiler), so that gaps between kernels show.

    python3 benchmarks/profile_scan.py [--op selective_scan|recurrence]
        [--options "opts;opts2"] [--ncu]

With --ncu, only warm-up calls and one profiled call of each option set
(for Nsight Compute: `ncu --clock-control none -k regex:selective
--launch-skip K ...`).
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpu_bench import (call_events, compiled_op, kernel_seconds,  # noqa: E402
                       queued_seconds, timed)


def inputs(torch, op, length=None):
    if op == "recurrence":
        B, D, L = 16, 2048, 4096
        a = torch.rand(B, D, L, device="cuda") * 0.1 + 0.9
        b = torch.randn(B, D, L, device="cuda")
        return "linear_recurrence", (a, b), 12.0 * a.numel()
    Bt, D, L, N = 8, 1536, length or 2048, 16
    u = torch.randn(Bt, D, L, device="cuda")
    delta = torch.rand(Bt, D, L, device="cuda") * 0.099 + 0.001
    A = -torch.arange(1, N + 1, device="cuda", dtype=torch.float32).repeat(D, 1)
    Bm = torch.randn(Bt, 1, N, L, device="cuda")
    Cm = torch.randn(Bt, 1, N, L, device="cuda")
    return ("selective_scan", (u, delta, A, Bm, Cm),
            4.0 * (3 * u.numel() + A.numel() + 2 * Bm.numel()))


def timeline(torch, fn):
    """(name, start, end) in microseconds after the call began, of one
    synchronous call's GPU kernels and copies."""
    return sorted((name, start, end) for (where, name), spans
                  in call_events(torch, fn).items() if where == "GPU"
                  for start, end in spans)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--op", default="selective_scan",
                   choices=["selective_scan", "recurrence"])
    p.add_argument("--options", default="",
                   help="';'-separated compile-option sets ('' = defaults)")
    p.add_argument("--ncu", action="store_true")
    p.add_argument("--length", type=int, default=None,
                   help="the selective scan's L (default 2048)")
    p.add_argument("--budget", type=float, default=0.5)
    args = p.parse_args(argv)
    import torch
    import seqc
    name, operands, nbytes = inputs(torch, args.op, args.length)
    for options in args.options.split(";"):
        options = options.strip()
        compiled = compiled_op(seqc, name, operands, options)
        if args.ncu:
            for _ in range(3):
                compiled()
            torch.cuda.synchronize()
            continue
        functional = lambda: getattr(seqc, name)(*operands)  # noqa: E731
        print("## %s %s" % (name, options or "(defaults)"))
        for label, fn in (("functional op", functional),
                          ("compiled function", compiled)):
            wall = timed(torch, fn, args.budget)
            host = []
            for _ in range(20):
                torch.cuda.synchronize()
                t0 = time.perf_counter()
                fn()
                host.append(time.perf_counter() - t0)
            torch.cuda.synchronize()
            host.sort()
            q_host, q_drain = queued_seconds(torch, fn, 20)
            k_s, per = kernel_seconds(torch, fn, breakdown=True)
            print("%s: wall %.3f ms (%.0f GB/s) | host of a call %.1f us | "
                  "queued: host %.1f us, drained %.3f ms a call | kernels %.3f ms"
                  % (label, wall * 1e3, nbytes / wall / 1e9, host[10] * 1e6,
                     q_host * 1e6, q_drain * 1e3, k_s * 1e3))
            for kname, start, end in timeline(torch, fn):
                print("    %-40s %8.1f .. %8.1f us" % (kname[:40], start, end))
        # The compiled call's host parts: the result's torch.empty, and
        # seqc_invoke alone on the buffers of the last call (kept alive).
        f = compiled.function
        kept = compiled()
        kept = kept[0] if isinstance(kept, tuple) else kept
        _, _, structs = f._fast_buffers()
        backend = f._module._backend
        count = len(f.inputs) + len(f.results)
        parts = {
            "torch.empty of the result": lambda: torch.empty(
                kept.shape, dtype=kept.dtype, device="cuda"),
            "seqc_invoke alone": lambda: backend.invoke_buffers(
                f.name, f._cname, structs, count),
            "set_stream": lambda: backend.set_stream(
                torch.cuda.current_stream().cuda_stream),
        }
        for label, fn in parts.items():
            q_host, _ = queued_seconds(torch, fn, 50)
            print("host part, %s: %.1f us a call" % (label, q_host * 1e6))


if __name__ == "__main__":
    main()
