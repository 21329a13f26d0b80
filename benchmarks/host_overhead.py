"""Host time per call of seqc.attention (and of its compiled function
called directly) against torch SDPA on small GPU shapes, where the host's
work (checks, argument marshalling, tensor maps, launches) is a large part
of the wall time; with a cProfile breakdown of seqc's call. (Session 7's
benchmarks/host_profile.py, folded in here.)

Usage (on the GPU machine, with SEQC_LIBRARY set as scripts/gpu.sh does):
    python3 benchmarks/host_overhead.py [--calls 500] [--profile]
"""
import argparse
import cProfile
import ctypes
import io
import os
import pstats
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpu_bench import queued_seconds  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--calls", type=int, default=500)
    p.add_argument("--profile", action="store_true",
                   help="print cProfile's top functions of seqc's calls")
    p.add_argument("--breakdown", action="store_true",
                   help="instead: the parts of a compiled call's host time "
                   "(selective scan, decode attention, linear recurrence)")
    args = p.parse_args(argv)
    import torch
    import seqc
    if args.breakdown:
        return breakdown(torch, seqc, args.calls)
    from torch.nn.attention import SDPBackend, sdpa_kernel
    F = torch.nn.functional
    shapes = [  # B, Hq, Hkv, Sq, Skv, D
        (4, 16, 16, 1024, 1024, 64),
        (1, 32, 8, 1, 8192, 128),
        (2, 32, 8, 8, 32768, 128),
    ]
    print("| shape | seqc host / call | seqc queue / call | compiled "
          "function host | its seqc_invoke alone | SDPA cuDNN host | "
          "SDPA queue | SDPA flash host |")
    print("|---|---|---|---|---|---|---|---|")
    for B, Hq, Hkv, Sq, Skv, D in shapes:
        q = torch.randn(B, Hq, Sq, D, device="cuda", dtype=torch.bfloat16)
        k = torch.randn(B, Hkv, Skv, D, device="cuda", dtype=torch.bfloat16)
        v = torch.randn(B, Hkv, Skv, D, device="cuda", dtype=torch.bfloat16)
        fn = lambda: seqc.attention(q, k, v)  # noqa: E731
        h_s, w_s = queued_seconds(torch, fn, args.calls)
        module = seqc.compile(seqc.ops.mlir_text("attention", q, k, v),
                              target="cuda")
        compiled = module[list(module)[0]]
        h_c, _ = queued_seconds(torch, lambda: compiled(q, k, v), args.calls)
        # The C side alone (checks, the compiled host code, its runtime
        # calls and launches): seqc_invoke on the buffers the last call
        # filled in (its output kept alive).
        kept = compiled(q, k, v)  # noqa: F841
        _, _, structs = compiled._fast_buffers()
        count = len(compiled.inputs) + len(compiled.results)
        backend = module._backend
        h_i, _ = queued_seconds(torch, lambda: backend.invoke_buffers(
            compiled.name, compiled._cname, structs, count), args.calls)
        base = {}
        for name, backend in (("cudnn", SDPBackend.CUDNN_ATTENTION),
                              ("flash", SDPBackend.FLASH_ATTENTION)):
            try:
                with sdpa_kernel(backend):
                    sdpa = lambda: F.scaled_dot_product_attention(  # noqa: E731
                        q, k, v, enable_gqa=Hq != Hkv)
                    base[name] = queued_seconds(torch, sdpa, args.calls)
            except RuntimeError:
                base[name] = (float("nan"), float("nan"))
        print("| B%d H%d/%d Sq%d Skv%d D%d | %.1f us | %.1f us | %.1f us | "
              "%.1f us | %.1f us | %.1f us | %.1f us |"
              % (B, Hq, Hkv, Sq, Skv, D, h_s * 1e6, w_s * 1e6, h_c * 1e6,
                 h_i * 1e6,
                 base["cudnn"][0] * 1e6, base["cudnn"][1] * 1e6,
                 base["flash"][0] * 1e6))
        if args.profile:
            prof = cProfile.Profile()
            prof.enable()
            for _ in range(args.calls):
                fn()
            prof.disable()
            torch.cuda.synchronize()
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(12)
            print("\n".join(line for line in out.getvalue().splitlines()
                            if line.strip())[:3000])
    return 0


def breakdown(torch, seqc, calls):
    """Host time per call (queued back to back) of a compiled function's
    parts: the whole call through the functional op and the compiled
    function, the Python side alone (seqc_invoke replaced by a no-op), the
    result's torch.empty, seqc_invoke alone, a ctypes call that does
    nothing (seqc_cuda_set_stream of the current stream), and the driver's
    pointer query that seqc_invoke makes per device argument."""
    from seqc import _capi
    cuda = ctypes.CDLL("libcuda.so.1")
    cases = []
    u = torch.randn(8, 1536, 2048, device="cuda")
    dt = torch.rand_like(u) * 0.1
    A = -torch.rand(1536, 16, device="cuda")
    Bm = torch.randn(8, 1, 16, 2048, device="cuda")
    cases.append(("selective scan B8 D1536 L2048", "selective_scan",
                  (u, dt, A, Bm, Bm.clone())))
    q = torch.randn(1, 32, 1, 128, device="cuda", dtype=torch.bfloat16)
    k = torch.randn(1, 8, 8192, 128, device="cuda", dtype=torch.bfloat16)
    cases.append(("decode attention B1 KV8192", "attention", (q, k, k.clone())))
    a = torch.rand(16, 2048, 4096, device="cuda")
    cases.append(("linear recurrence B16 D2048 L4096", "linear_recurrence",
                  (a, torch.randn_like(a))))
    print("| call | functional op | compiled function | its Python side "
          "(no seqc_invoke) | torch.empty of the result | seqc_invoke alone "
          "| an empty ctypes call | cuPointerGetAttribute by ctypes |")
    print("|---|---|---|---|---|---|---|---|")
    for label, op, operands in cases:
        functional = getattr(seqc, op)
        module = seqc.compile(seqc.ops.mlir_text(op, *operands), target="cuda")
        f = module[list(module)[0]]
        kept = f(*operands)
        first = kept[0] if isinstance(kept, tuple) else kept
        _, _, structs = f._fast_buffers()
        backend = module._backend
        count = len(f.inputs) + len(f.results)
        stream = torch.cuda.current_stream().cuda_stream
        times = [queued_seconds(torch, lambda: functional(*operands), calls)[0],
                 queued_seconds(torch, lambda: f(*operands), calls)[0]]
        real = backend.invoke_buffers
        backend.invoke_buffers = lambda *a: None
        try:
            times.append(queued_seconds(torch, lambda: f(*operands), calls)[0])
        finally:
            backend.invoke_buffers = real
        times.append(queued_seconds(torch, lambda: torch.empty(
            first.shape, dtype=first.dtype, device="cuda"), calls)[0])
        times.append(queued_seconds(torch, lambda: real(
            f.name, f._cname, structs, count), calls)[0])
        lib = _capi.lib()
        times.append(queued_seconds(
            torch, lambda: lib.seqc_cuda_set_stream(stream), calls)[0])
        # The driver's pointer query that seqc_invoke makes per device
        # argument (memory type of the first input), through ctypes.
        pointer = ctypes.c_uint64(operands[0].data_ptr())
        kind = ctypes.c_uint(0)
        query = cuda.cuPointerGetAttribute
        times.append(queued_seconds(torch, lambda: query(
            ctypes.byref(kind), 2, pointer), calls)[0])
        print("| %s | %s |" % (label, " | ".join("%.1f us" % (t * 1e6)
                                                  for t in times)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
