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
    p.add_argument("--driver", action="store_true",
                   help="instead: the CUDA driver calls a compiled call makes, "
                   "each alone (by ctypes), against seqc_invoke's total")
    args = p.parse_args(argv)
    import torch
    import seqc
    if args.breakdown:
        return breakdown(torch, seqc, args.calls)
    if args.driver:
        return driver_costs(torch, args.calls)
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


if __name__ == "__main__":
    sys.exit(main())
