"""Host time per call of seqc.attention (and of its compiled function
called directly) against torch SDPA on small GPU shapes, where the host's
work (checks, argument marshalling, tensor maps, launches) is a large part
of the wall time; with a cProfile breakdown of seqc's call. (Session 7's
benchmarks/host_profile.py, folded in here.)

Usage (on the GPU machine, with SEQC_LIBRARY set as scripts/gpu.sh does):
    python3 benchmarks/host_overhead.py [--calls 500] [--profile]
"""
import argparse
import contextlib
import cProfile
import ctypes
import io
import os
import pstats
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpu_bench import event_seconds, queued_seconds  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--calls", type=int, default=500)
    p.add_argument("--profile", action="store_true",
                   help="print cProfile's top functions of seqc's calls")
    p.add_argument("--breakdown", action="store_true",
                   help="instead: the parts of a compiled call's host time "
                   "(selective scan, decode attention, linear recurrence)")
    p.add_argument("--driver", action="store_true",
                   help="instead: the CUDA driver calls a compiled call makes, "
                   "each alone (by ctypes), against seqc_invoke's total")
    p.add_argument("--parts", action="store_true",
                   help="instead: each step of seqc.attention's repeat "
                   "(decode B1 KV8192) alone, and the torch calls it makes")
    p.add_argument("--prelaunch", action="store_true",
                   help="instead: a single call's wall split into the host "
                   "time before its first kernel and the GPU's time, seqc "
                   "against SDPA cuDNN, on the table's small rows")
    p.add_argument("--timeline", action="store_true",
                   help="instead: one call's host and GPU events in order "
                   "(torch.profiler, with CUPTI's own overhead), seqc "
                   "against SDPA cuDNN on the decode and D64 rows")
    p.add_argument("--idle", action="store_true",
                   help="instead: a single call's GPU time behind sleep "
                   "kernels of several lengths (how much of a lone call's "
                   "extra time goes when the GPU was busy just before), seqc "
                   "against SDPA cuDNN on large attention rows")
    args = p.parse_args(argv)
    import torch
    import seqc
    if args.breakdown:
        return breakdown(torch, seqc, args.calls)
    if args.driver:
        return driver_costs(torch, args.calls)
    if args.parts:
        return parts(torch, seqc, args.calls)
    if args.prelaunch:
        return prelaunch(torch, seqc, args.calls)
    if args.timeline:
        return timeline(torch, seqc)
    if args.idle:
        return idle(torch, seqc, args.calls)
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
        q, k, v = _qkv(torch, B, Hq, Hkv, Sq, Skv, D)
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
        # The Python side alone: a runner made while the library's
        # seqc_invoke is a no-op (a runner binds the C functions when it is
        # made), then this thread's runners dropped again.
        real = backend.invoke_buffers
        lib = _capi.lib()
        c_invoke = lib.seqc_invoke
        lib.seqc_invoke = lambda *a: 0
        f._fast_local.runners = {}
        try:
            times.append(queued_seconds(torch, lambda: f(*operands), calls)[0])
        finally:
            lib.seqc_invoke = c_invoke
            f._fast_local.runners = {}
        times.append(queued_seconds(torch, lambda: torch.empty(
            first.shape, dtype=first.dtype, device="cuda"), calls)[0])
        times.append(queued_seconds(torch, lambda: real(
            f.name, f._cname, structs, count), calls)[0])
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


# Empty kernels with one and with 42 64-bit parameters (PTX, loaded by the
# driver).
_EMPTY_PTX = (b"""
.version 7.8
.target sm_90
.address_size 64
.visible .entry empty(.param .u64 p) { ret; }
.visible .entry empty42(""" + b", ".join(b".param .u64 p%d" % i
                                      for i in range(42)) + b") { ret; }\n")


def driver_costs(torch, calls):
    """Host time of each CUDA driver call seqc's compiled host code and
    seqc_invoke make, called alone through ctypes on the current stream
    (an empty ctypes call is the floor): a launch of an empty kernel with 1
    and with 42 parameters (the decode attention's main kernel passes 42),
    a stream-ordered allocation and free, the pointer query, and a tensor
    map encoding."""
    cuda = ctypes.CDLL("libcuda.so.1")
    torch.cuda.init()
    torch.empty(1, device="cuda")
    stream = ctypes.c_void_p(torch.cuda.current_stream().cuda_stream)
    module, function = ctypes.c_void_p(), ctypes.c_void_p()
    function42 = ctypes.c_void_p()
    assert cuda.cuModuleLoadData(ctypes.byref(module), _EMPTY_PTX) == 0
    assert cuda.cuModuleGetFunction(ctypes.byref(function), module,
                                    b"empty") == 0
    assert cuda.cuModuleGetFunction(ctypes.byref(function42), module,
                                    b"empty42") == 0
    x = torch.empty(1 << 20, device="cuda")
    value = ctypes.c_uint64(x.data_ptr())
    params1 = (ctypes.c_void_p * 1)(ctypes.addressof(value))
    values = [ctypes.c_uint64(x.data_ptr()) for _ in range(42)]
    params42 = (ctypes.c_void_p * 42)(*[ctypes.addressof(v) for v in values])
    launch = cuda.cuLaunchKernel
    launch.argtypes = [ctypes.c_void_p] + [ctypes.c_uint] * 6 + [
        ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    pointer = ctypes.c_uint64()
    alloc, free = cuda.cuMemAllocAsync, cuda.cuMemFreeAsync
    alloc.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
    free.argtypes = [ctypes.c_uint64, ctypes.c_void_p]
    kind = ctypes.c_uint()
    query = cuda.cuPointerGetAttribute
    query.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint64]
    # A [1, 8, 8192, 128] bf16 tensor map with [1, 1, 128, 64] boxes.
    tmap = (ctypes.c_ubyte * 128)()
    dims = (ctypes.c_uint64 * 4)(128, 8192, 8, 1)
    strides = (ctypes.c_uint64 * 3)(256, 256 * 8192, 256 * 8192 * 8)
    box = (ctypes.c_uint * 4)(64, 128, 1, 1)
    ones = (ctypes.c_uint * 4)(1, 1, 1, 1)
    big = torch.empty(8 * 8192 * 128, device="cuda", dtype=torch.bfloat16)
    encode = cuda.cuTensorMapEncodeTiled
    encode.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint,
                       ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                       ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int,
                       ctypes.c_int, ctypes.c_int, ctypes.c_int]

    def alloc_free():
        alloc(ctypes.byref(pointer), 1 << 16, stream)
        free(pointer.value, stream)

    cases = [
        ("an empty ctypes call (cuDriverGetVersion)",
         lambda: cuda.cuDriverGetVersion(ctypes.byref(kind))),
        ("cuLaunchKernel, empty kernel, 1 parameter",
         lambda: launch(function, 1, 1, 1, 32, 1, 1, 0, stream, params1,
                        None)),
        ("cuLaunchKernel, empty kernel, 42 parameters",
         lambda: launch(function42, 1, 1, 1, 32, 1, 1, 0, stream, params42,
                        None)),
        ("cuMemAllocAsync + cuMemFreeAsync (64 KB)", alloc_free),
        ("cuPointerGetAttribute (memory type)",
         lambda: query(ctypes.byref(kind), 2, value.value)),
        ("cuTensorMapEncodeTiled (bf16, 4-d, 128-byte swizzle)",
         lambda: encode(tmap, 9, 4, big.data_ptr(), dims, strides, box, ones,
                        0, 3, 2, 0)),
        ("torch.empty([1, 32, 1, 128], bf16)",
         lambda: torch.empty((1, 32, 1, 128), dtype=torch.bfloat16,
                             device="cuda")),
    ]
    print("| driver call (through ctypes) | host time per call |")
    print("|---|---|")
    for label, fn in cases:
        print("| %s | %.2f us |" % (label, queued_seconds(torch, fn, calls)[0]
                                    * 1e6))
    return 0


def _qkv(torch, B, Hq, Hkv, Sq, Skv, D):
    """Random bf16 attention inputs on the GPU: q [B, Hq, Sq, D], k and v
    [B, Hkv, Skv, D]."""
    q = torch.randn(B, Hq, Sq, D, device="cuda", dtype=torch.bfloat16)
    k = torch.randn(B, Hkv, Skv, D, device="cuda", dtype=torch.bfloat16)
    return q, k, torch.randn_like(k)


def _seqc_and_cudnn(torch, seqc, q, k, v, causal=False):
    """("seqc", call) and ("SDPA cuDNN", call) of attention on q, k, v
    (GQA where k has fewer heads), each yielded inside its backend's
    context (cuDNN's selected for SDPA) after five warm-up calls."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    F = torch.nn.functional
    gqa = q.shape[1] != k.shape[1]
    calls = [("seqc", contextlib.nullcontext,
              lambda: seqc.attention(q, k, v, causal=causal)),
             ("SDPA cuDNN",
              lambda: sdpa_kernel(SDPBackend.CUDNN_ATTENTION),
              lambda: F.scaled_dot_product_attention(
                  q, k, v, is_causal=causal, enable_gqa=gqa))]
    for name, context, f in calls:
        with context():
            for _ in range(5):
                f()
            torch.cuda.synchronize()
            yield name, f


def _event_wall(torch, fn, calls, sleep_cycles=0):
    """Median of gpu_bench.event_seconds over `calls` calls."""
    import statistics
    return statistics.median(event_seconds(torch, fn, sleep_cycles)
                             for _ in range(calls))


def prelaunch(torch, seqc, calls):
    """gpu_bench's wall (CUDA events around one synchronized call) against
    the same call queued behind a sleep kernel that outlasts the host's
    work (its GPU time alone, launch latency included: the wall less the
    sleep's own), and against calls queued back to back (gpu_bench's kernel
    column): the wall less the first is the host time before the first
    kernel starts; the first less the second is what a lone call costs the
    GPU beyond back-to-back calls."""
    from gpu_bench import kernel_seconds
    rows = [  # label, B, Hq, Hkv, Sq, Skv, D, causal
        ("D64 S1k full", 4, 16, 16, 1024, 1024, 64, False),
        ("D128 S4k causal", 8, 16, 16, 4096, 4096, 128, True),
        ("decode B1 KV8k", 1, 32, 8, 1, 8192, 128, False),
        ("decode B1 KV128k", 1, 32, 8, 1, 131072, 128, False),
    ]
    sleep = int(400e3)  # cycles: ~0.2 ms, more than any call's host time
    nothing = lambda: None  # noqa: E731
    alone = _event_wall(torch, nothing, calls, sleep)
    print("sleep kernel alone: %.1f us" % (alone * 1e6))
    print("| row | call | wall | GPU of a lone call | host before its "
          "kernel | GPU of queued calls |")
    print("|---|---|---|---|---|---|")
    for label, B, Hq, Hkv, Sq, Skv, D, causal in rows:
        q, k, v = _qkv(torch, B, Hq, Hkv, Sq, Skv, D)
        for name, f in _seqc_and_cudnn(torch, seqc, q, k, v, causal):
            wall = _event_wall(torch, f, calls)
            lone = _event_wall(torch, f, calls, sleep) - alone
            queued = kernel_seconds(torch, f, 5)[0]
            print("| %s | %s | %.1f us | %.1f us | %.1f us | %.1f us |"
                  % (label, name, wall * 1e6, lone * 1e6, (wall - lone) * 1e6,
                     queued * 1e6))
        if Sq == 1 and Skv == 8192:
            # The decode call's parts, each measured the same way: the
            # runner the key holds, the compiled function's fast path (its
            # checks, then the same runner), seqc_invoke alone
            # on the buffers that call filled, and an empty kernel's launch
            # through ctypes.
            from seqc import ops
            run, fn = ops._tensor_calls[ops._tensor_key(
                (q, k, v), ("attention", False, (-1, -1), None, None, False))]
            device = q.device
            kept = run((q, k, v))  # noqa: F841
            _, _, structs = fn._fast_buffers()
            backend = fn._module._backend
            count = len(fn.inputs) + len(fn.results)
            empty_launch = _empty_launcher(torch)
            for name, f in (
                    ("its keyed runner", lambda: run((q, k, v))),
                    ("fn._call_fast", lambda: fn._call_fast((q, k, v))),
                    ("seqc_invoke alone", lambda: backend.invoke_buffers(
                        fn.name, fn._cname, structs, count)),
                    ("an empty kernel by ctypes", empty_launch),
                    ("torch.empty, then that kernel",
                     lambda: (torch.empty((1, 32, 1, 128), device=device,
                                          dtype=torch.bfloat16),
                              empty_launch())),
                    ("torch.cuda._sleep(0) (torch's launch)",
                     lambda: torch.cuda._sleep(0))):
                wall = _event_wall(torch, f, calls)
                lone = _event_wall(torch, f, calls, sleep) - alone
                print("| %s | %s | %.1f us | %.1f us | %.1f us | |"
                      % (label, name, wall * 1e6, lone * 1e6,
                         (wall - lone) * 1e6))
    # The selective scan of gpu_bench's row (no baseline here).
    u = torch.randn(8, 1536, 2048, device="cuda")
    delta = torch.rand_like(u) * 0.099 + 0.001
    A = -torch.arange(1, 17, device="cuda", dtype=torch.float32).repeat(1536, 1)
    Bm, Cm = (torch.randn(8, 1, 16, 2048, device="cuda") for _ in range(2))
    f = lambda: seqc.selective_scan(u, delta, A, Bm, Cm)  # noqa: E731
    for _ in range(5):
        f()
    torch.cuda.synchronize()
    wall = _event_wall(torch, f, calls)
    lone = _event_wall(torch, f, calls, sleep) - alone
    queued = kernel_seconds(torch, f, 5)[0]
    print("| selective scan B8 D1536 L2048 N16 | seqc | %.1f us | %.1f us | "
          "%.1f us | %.1f us |" % (wall * 1e6, lone * 1e6, (wall - lone) * 1e6,
                                   queued * 1e6))
    return 0


def idle(torch, seqc, calls):
    """Per row and call: the wall of one synchronized call (CUDA events),
    then the same call queued behind a sleep kernel of 1, 10, 50 and 200
    us (the sleep's own time, measured alone, subtracted): the GPU time a
    call takes after the GPU was busy that long. Host work hides behind
    sleeps longer than it; what remains above the queued kernel time at
    200 us is the kernel's own."""
    from gpu_bench import kernel_seconds
    sleeps = [2000, 20000, 100000, 400000]  # cycles (~1, 10, 50, 200 us)
    alone = {c: _event_wall(torch, lambda: None, calls, c) for c in sleeps}
    print("sleep kernels alone: " + ", ".join(
        "%d cycles %.1f us" % (c, alone[c] * 1e6) for c in sleeps))
    print("| row | call | wall | after ~1 us busy | ~10 us | ~50 us | "
          "~200 us | queued |")
    print("|---|---|---|---|---|---|---|---|")
    rows = [("D128 S4k full", 8, 16, 4096, 128, False),
            ("D128 S4k causal", 8, 16, 4096, 128, True),
            ("D64 S4k full", 4, 16, 4096, 64, False)]
    for label, B, H, S, D, causal in rows:
        q, k, v = (torch.randn(B, H, S, D, device="cuda",
                               dtype=torch.bfloat16) for _ in range(3))
        for name, f in _seqc_and_cudnn(torch, seqc, q, k, v, causal):
            wall = _event_wall(torch, f, calls)
            after = [_event_wall(torch, f, calls, c) - alone[c]
                     for c in sleeps]
            queued = kernel_seconds(torch, f, 5)[0]
            print("| %s | %s | %.1f us | %s | %.1f us |" % (
                label, name, wall * 1e6,
                " | ".join("%.1f us" % (a * 1e6) for a in after),
                queued * 1e6))
    return 0


def timeline(torch, seqc, calls=20):
    """Per call (synchronized, under torch.profiler): the offsets from the
    call's start of each CPU event inside it and of each GPU kernel it
    ran (gpu_bench.call_events), medians over the calls; printed in
    order."""
    import statistics
    from gpu_bench import call_events
    rows = [("decode B1 KV8k", 1, 32, 8, 1, 8192, 128, False),
            ("D64 S1k full", 4, 16, 16, 1024, 1024, 64, False),
            # A large row: whether a lone call's kernel runs longer than
            # when queued (GPU start .. end), or starts later.
            ("D128 S4k causal", 8, 16, 16, 4096, 4096, 128, True)]
    for label, B, Hq, Hkv, Sq, Skv, D, causal in rows:
        q, k, v = _qkv(torch, B, Hq, Hkv, Sq, Skv, D)
        for name, f in _seqc_and_cudnn(torch, seqc, q, k, v, causal):
            spans = call_events(torch, f, calls)
            print("%s, %s: event (start .. end, us from the call's start, "
                  "median of %d calls)" % (label, name, calls))
            order = sorted(
                spans.items(),
                key=lambda kv: statistics.median(s for s, _ in kv[1]))
            for (where, event), times in order:
                if len(times) < calls // 2:
                    continue
                print("  %7.1f .. %7.1f  %s %s" % (
                    statistics.median(s for s, _ in times),
                    statistics.median(e for _, e in times), where,
                    event[:60]))
    return 0


def _empty_launcher(torch):
    """A function that launches an empty kernel on the current stream
    through the driver's cuLaunchKernel, by ctypes."""
    cuda = ctypes.CDLL("libcuda.so.1")
    module, function = ctypes.c_void_p(), ctypes.c_void_p()
    assert cuda.cuModuleLoadData(ctypes.byref(module), _EMPTY_PTX) == 0
    assert cuda.cuModuleGetFunction(ctypes.byref(function), module,
                                    b"empty") == 0
    x = torch.empty(16, device="cuda")
    value = ctypes.c_uint64(x.data_ptr())
    params = (ctypes.c_void_p * 1)(ctypes.addressof(value))
    launch = cuda.cuLaunchKernel
    launch.argtypes = [ctypes.c_void_p] + [ctypes.c_uint] * 6 + [
        ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    stream = ctypes.c_void_p(torch.cuda.current_stream().cuda_stream)
    keep = (module, x, value, params)

    def run():
        keep  # noqa: B018 (held for the launches)
        launch(function, 1, 1, 1, 32, 1, 1, 0, stream, params, None)
    return run


def parts(torch, seqc, calls):
    """Host time of each step seqc.attention's repeat takes on a decode
    call (B1 H32/8 Sq1 KV8192 D128 bf16), each alone, queued back to back:
    the key, the table lookup, the checks, the result's allocation, the
    stream query, the two ctypes calls; and each torch attribute read the
    checks make, against SDPA cuDNN's whole call."""
    import os as _os
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from seqc import ops
    F = torch.nn.functional
    q = torch.randn(1, 32, 1, 128, device="cuda", dtype=torch.bfloat16)
    k = torch.randn(1, 8, 8192, 128, device="cuda", dtype=torch.bfloat16)
    v = torch.randn_like(k)
    out = seqc.attention(q, k, v)
    seqc.attention(q, k, v)
    rest = ("attention", False, (-1, -1), None, None, False)
    key = ops._tensor_key((q, k, v), rest)
    run, fn = ops._tensor_calls[key]
    index, device = q.get_device(), q.device
    _, _, results, stream_of, empty = fn._fast
    raw, _, structs = fn._fast_buffers()
    backend = fn._module._backend
    count = len(fn.inputs) + len(fn.results)
    shape, dtype = results[0][1], results[0][0]
    stream = stream_of(index)
    x = k
    cases = [
        ("seqc.attention (the whole repeat)", lambda: seqc.attention(q, k, v)),
        ("ops._tensor_key", lambda: ops._tensor_key((q, k, v), rest)),
        ("_tensor_calls.get", lambda: ops._tensor_calls.get(key)),
        ("its keyed runner", lambda: run((q, k, v))),
        ("fn._call_fast (its checks, then the runner)",
         lambda: fn._call_fast((q, k, v))),
        ("torch.empty(shape, dtype=, device=)",
         lambda: empty(shape, dtype=dtype, device=device)),
        ("q.new_empty(shape)", lambda: q.new_empty(shape)),
        ("q.new_empty(shape, dtype=)", lambda: q.new_empty(shape, dtype=dtype)),
        ("os.environ.get", lambda: _os.environ.get("SEQC_POISON_OUTPUTS", "")),
        ("stream_of(index)", lambda: stream_of(index)),
        ("backend.set_stream", lambda: backend.set_stream(stream)),
        ("backend.invoke_buffers", lambda: backend.invoke_buffers(
            fn.name, fn._cname, structs, count)),
        ("type(x)", lambda: type(x)),
        ("x.dtype", lambda: x.dtype),
        ("x.shape", lambda: x.shape),
        ("x.is_cuda", lambda: x.is_cuda),
        ("x.get_device()", lambda: x.get_device()),
        ("x.data_ptr()", lambda: x.data_ptr()),
        ("x.requires_grad", lambda: x.requires_grad),
        ("x.is_contiguous()", lambda: x.is_contiguous()),
        ("a lambda returning None", lambda: None),
    ]
    with sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
        F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
        cases.append(("SDPA cuDNN (the whole call)",
                      lambda: F.scaled_dot_product_attention(
                          q, k, v, enable_gqa=True)))
        print("| step | host time per call |")
        print("|---|---|")
        for label, f in cases:
            print("| %s | %.2f us |" % (label, queued_seconds(torch, f, calls)[0]
                                        * 1e6))
    del out
    return 0


if __name__ == "__main__":
    sys.exit(main())
