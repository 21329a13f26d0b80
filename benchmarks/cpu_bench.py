#!/usr/bin/env python3
"""CPU benchmark of seqc against PyTorch (CPU) and the machine's ceilings,
side by side in one run.

Measures, on this machine, in this process:

  ceilings     OpenBLAS f32 matmul 2048^3 (GFLOP/s) and memory-copy
               bandwidth (GB/s, read + write bytes) of a 256 MiB f32 array
  attention    seqc.attention vs PyTorch matmul-softmax-matmul,
               B1 H8 S2048 D64 f32, causal and full
  recurrence   seqc.linear_recurrence (h_t = a_t h_{t-1} + b_t) vs PyTorch
               (log-space cumsum, chunked and global; loop over time) over
               64M f32 elements, time along the last dim and along dim 0
  selective_scan  seqc.selective_scan (Mamba-1 S6) vs the PyTorch loop
               reference (mamba_ssm's selective_scan_ref), B1 D1536 L2048 N16

Conventions (see benchmarks/README.md):
  attention FLOPs = 4*B*H*Sq*Skv*D, halved for causal (useful FLOPs only,
  credited the same to every implementation);
  recurrence bytes = 12 per element (read a, b; write h, f32);
  selective-scan bytes = read u, delta [B,D,L], A [D,N], B, C [B,G,N,L];
  write y [B,D,L] (f32);
  copy bytes = 2 * array bytes (read + write); 1 GB = 1e9 bytes.
Timing: one warm-up call (for seqc: compiles, then runs), then the median
of --reps calls (time.perf_counter), fewer when --max-seconds would be
exceeded (always at least one timed call).

    PYTHONPATH=python python3 benchmarks/cpu_bench.py [--quick] \
        [--only attention,recurrence,selective_scan] [--json out.json]
"""

import argparse
import atexit
import ctypes
import datetime
import gc
import hashlib
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_refs  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

WORKLOADS = ("attention", "recurrence", "selective_scan")
ALIASES = {
    "attention": "attention", "attn": "attention",
    "recurrence": "recurrence", "linear_recurrence": "recurrence",
    "linrec": "recurrence",
    "selective_scan": "selective_scan", "selective": "selective_scan",
    "ss": "selective_scan", "mamba": "selective_scan",
    "ceilings": "ceilings", "ceiling": "ceilings",
}

# Acceptance figures of the issue (checked, never assumed).
ACCEPT_ATTN_SPEEDUP = 3.0       # x PyTorch matmul-softmax-matmul
ACCEPT_ATTN_MATMUL_PCT = 50.0   # % of the OpenBLAS matmul rate
ACCEPT_LINREC_COPY_PCT = 70.0   # % of memory-copy bandwidth


# ---------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------

def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="small shapes for a smoke run (ceilings keep their "
                        "full size)")
    p.add_argument("--only", default="",
                   help="comma-separated workloads: attention, recurrence, "
                        "selective_scan (ceilings are always measured)")
    p.add_argument("--json", metavar="PATH",
                   help="also write the rows (and run metadata) to PATH")
    p.add_argument("--reps", type=int, default=None,
                   help="timed calls per measurement (default 5; 3 with "
                        "--quick)")
    p.add_argument("--max-seconds", type=float, default=60.0,
                   help="time budget of one measurement's timed calls; "
                        "fewer reps when exceeded, at least one "
                        "(default 60)")
    p.add_argument("--min-seconds", type=float, default=MIN_SECONDS,
                   help="keep calling (beyond --reps, up to %d calls) until "
                        "the timed calls span this long (default %.1f)"
                        % (MAX_CALLS, MIN_SECONDS))
    p.add_argument("--threads", type=int, default=2,
                   help="torch.set_num_threads (default 2)")
    p.add_argument("--cumsum-chunk", type=int, default=64,
                   help="chunk length of the chunked log-space cumsum "
                        "baseline (default 64)")
    p.add_argument("--no-snapshot", action="store_true",
                   help="load the seqc library in place instead of from a "
                        "private copy (the copy keeps a rebuild during the "
                        "run from affecting it)")
    p.add_argument("--lib-retries", type=int, default=5,
                   help="retries (one a minute) while the seqc library is "
                        "missing or fails to load (default 5)")
    p.add_argument("--wait-idle", type=float, default=0.0, metavar="S",
                   help="first wait, up to S seconds, until other processes "
                        "leave the machine idle for 10 s (default 0: don't)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.reps is None:
        args.reps = 3 if args.quick else 5
    if args.reps < 1:
        p.error("--reps must be at least 1")
    only = set()
    for name in filter(None, (s.strip().lower() for s in args.only.split(","))):
        if name not in ALIASES:
            p.error("--only: unknown workload %r (choose from %s)"
                    % (name, ", ".join(WORKLOADS + ("ceilings",))))
        only.add(ALIASES[name])
    args.workloads = [w for w in WORKLOADS if not only or w in only]
    return args


# ---------------------------------------------------------------------------
# Environment: seqc library, BLAS, versions
# ---------------------------------------------------------------------------

def import_seqc(args):
    """Imports seqc and loads its C library (from a private copy unless
    --no-snapshot), retrying while it is missing or being rebuilt."""
    try:
        import seqc  # noqa: F401
    except ImportError:
        sys.path.insert(0, os.path.join(REPO, "python"))
    import seqc
    from seqc import _capi

    source = os.environ.get("SEQC_LIBRARY") or os.path.join(
        REPO, "build", "lib", "libseqc_c.so")
    tmp = None
    if not args.no_snapshot:
        tmp = tempfile.mkdtemp(prefix="seqc-bench-")
        atexit.register(shutil.rmtree, tmp, True)
    last = None
    for attempt in range(args.lib_retries + 1):
        if attempt:
            print("seqc library not loadable (%s); retrying in 60 s (%d/%d)"
                  % (last, attempt, args.lib_retries), file=sys.stderr)
            time.sleep(60)
        if not os.path.exists(source):
            last = "%s does not exist" % source
            continue
        path = source
        if tmp is not None:
            path = os.path.join(tmp, "libseqc_c.%d.so" % attempt)
            try:
                shutil.copy2(source, path)
            except OSError as e:
                last = "copy failed: %s" % e
                continue
        os.environ["SEQC_LIBRARY"] = path
        try:
            _capi.lib()
            return seqc, source, path
        except (OSError, seqc.SeqcError) as e:
            last = str(e)
    raise SystemExit("cpu_bench: cannot load the seqc library: %s" % last)


def loaded_libraries():
    try:
        with open("/proc/self/maps") as f:
            maps = f.read()
    except OSError:
        return []
    return sorted(set(re.findall(r"(/\S+\.so[\w.]*)", maps)))


def blas_info():
    """Which BLAS numpy (and torch) actually loaded, from /proc/self/maps."""
    libs = loaded_libraries()
    info = {"loaded": [l for l in libs if re.search(
        r"blas|lapack|blis|mkl|atlas|dnnl|gomp|iomp", os.path.basename(l))]}
    openblas = [l for l in libs if "libopenblas" in os.path.basename(l)]
    info["openblas_path"] = openblas[0] if openblas else None
    info["name"] = "unknown BLAS"
    if openblas:
        info["name"] = "OpenBLAS"
        try:
            h = ctypes.CDLL(openblas[0])
            h.openblas_get_config.restype = ctypes.c_char_p
            info["config"] = h.openblas_get_config().decode()
            info["threads"] = int(h.openblas_get_num_threads())
            h.openblas_get_corename.restype = ctypes.c_char_p
            info["corename"] = h.openblas_get_corename().decode()
            m = re.search(r"OpenBLAS\s+([\d.]+)", info["config"])
            info["version"] = m.group(1) if m else None
        except (OSError, AttributeError) as e:
            info["error"] = str(e)
    elif any(re.search(r"mkl", l) for l in libs):
        info["name"] = "MKL"
    elif any(re.search(r"blis", l) for l in libs):
        info["name"] = "BLIS"
    elif any(re.search(r"/blas/libblas\.so", l) for l in libs):
        info["name"] = "reference BLAS (netlib)"
    return info


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
        m = re.search(r"model name\s*:\s*(.*)", text)
        flags = re.search(r"flags\s*:\s*(.*)", text)
        fl = set(flags.group(1).split()) if flags else set()
        isa = [x for x in ("avx2", "avx512f", "avx512_bf16", "amx_tile")
               if x in fl]
        return "%s (%d logical CPUs; %s)" % (
            m.group(1).strip() if m else platform.processor(),
            os.cpu_count() or 0, ", ".join(isa) or "no AVX2")
    except OSError:
        return platform.processor()


def deb_version(pkg):
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg],
                             capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def file_id(path):
    """'sha256 prefix, mtime' of a file, to tell library builds apart."""
    try:
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()[:12]
        mtime = datetime.datetime.fromtimestamp(os.path.getmtime(path))
        return "sha256 %s, built %s" % (digest, mtime.isoformat(
            timespec="seconds"))
    except OSError:
        return None


def git_head():
    try:
        out = subprocess.run(["git", "-C", REPO, "rev-parse", "--short",
                              "HEAD"], capture_output=True, text=True,
                             timeout=10)
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain",
                                "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10)
        head = out.stdout.strip()
        return head + ("+dirty" if dirty.stdout.strip() else "") if head else None
    except (OSError, subprocess.SubprocessError):
        return None


# ---------------------------------------------------------------------------
# Timing and checks
# ---------------------------------------------------------------------------

_HZ = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def machine_jiffies():
    """(busy, steal) CPU jiffies of the whole machine from /proc/stat, or
    None: busy counts every process, ours and any other."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    # user nice system idle iowait irq softirq steal ...
    busy = v[0] + v[1] + v[2] + v[5] + v[6]
    steal = v[7] if len(v) > 7 else 0
    return busy, steal


MIN_SECONDS = 0.5   # --min-seconds
MAX_CALLS = 100


def wait_idle(max_seconds, window=10.0, threshold=0.1):
    """Waits until the machine's busy cores stay under `threshold` for
    `window` seconds, at most max_seconds. Returns the seconds waited, or
    None when it gave up."""
    t0 = time.perf_counter()
    while True:
        j0 = machine_jiffies()
        if j0 is None:
            return None
        time.sleep(window)
        j1 = machine_jiffies()
        if (j1[0] - j0[0]) / _HZ / window < threshold:
            return time.perf_counter() - t0
        if time.perf_counter() - t0 + window > max_seconds:
            return None


def measure(fn, reps, max_seconds, warmup=1):
    """Calls fn `warmup` times (the first call's time is kept: for seqc it
    includes compiling), then `reps` timed calls, fewer when the next call
    would overrun max_seconds (at least one), more (up to MAX_CALLS) while
    the timed calls span less than MIN_SECONDS (short calls: a steadier
    median, and a span long enough to see other processes' load).
    Returns (stats dict, output of the first call)."""
    gc.collect()
    t0 = time.perf_counter()
    out = fn()
    first = time.perf_counter() - t0
    for _ in range(warmup - 1):
        fn()
    samples = []
    j0 = machine_jiffies()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    while True:
        done = sum(samples)
        if len(samples) >= reps and (done >= MIN_SECONDS
                                     or len(samples) >= MAX_CALLS):
            break
        if samples and done + statistics.median(samples) > max_seconds:
            break
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    cpu = time.process_time() - cpu0
    wall = time.perf_counter() - wall0
    j1 = machine_jiffies()
    other = steal = float("nan")
    if j0 and j1 and wall >= 0.5:   # ticks are 10 ms: skip short spans
        other = max(0.0, (j1[0] - j0[0]) / _HZ / wall - cpu / wall)
        steal = (j1[1] - j0[1]) / _HZ / wall
    return {
        "median_s": statistics.median(samples),
        "min_s": min(samples),
        "n": len(samples),
        "reps_requested": reps,
        "capped": len(samples) < reps,
        "timed_span_s": sum(samples),
        "first_call_s": first,
        # CPU time / wall time over the timed calls: ~ cores kept busy
        # (OpenBLAS/OpenMP threads that spin count as busy).
        "cores_busy": cpu / wall if wall > 0 else float("nan"),
        # Cores kept busy by other processes meanwhile (/proc/stat, 10 ms
        # ticks: coarse for short measurements), and hypervisor steal.
        "other_load": other,
        "steal": steal,
    }, out


def measure_seqc(fn, reps, max_seconds):
    """measure(), but a seqc failure (a compile error of a work-in-progress
    build, say) becomes a row marked FAILED instead of ending the run."""
    try:
        return measure(fn, reps, max_seconds)
    except Exception as e:  # noqa: BLE001 - reported, never hidden
        text = "%s: %s" % (type(e).__name__, str(e).strip())
        nan = float("nan")
        print("seqc failed: %s" % text.splitlines()[0], file=sys.stderr)
        return {"median_s": nan, "min_s": nan, "n": 0,
                "reps_requested": reps, "capped": False,
                "timed_span_s": 0.0, "first_call_s": nan,
                "cores_busy": nan, "other_load": nan, "steal": nan,
                "error": text[:4000]}, None


def rel_error(x, ref):
    """(||x - ref||_F / ||ref||_F, max |x - ref|), in float64, chunked."""
    if x is None:
        return float("nan"), float("nan")
    x = np.asarray(x).reshape(-1)
    ref = np.asarray(ref).reshape(-1)
    num = den = 0.0
    mx = 0.0
    step = 1 << 22
    for i in range(0, ref.size, step):
        r = ref[i:i + step].astype(np.float64)
        d = x[i:i + step].astype(np.float64) - r
        num += float(np.dot(d, d))
        den += float(np.dot(r, r))
        mx = max(mx, float(np.max(np.abs(d))) if d.size else 0.0)
    if not (math.isfinite(num) and math.isfinite(den)):
        return float("nan"), float("nan")
    return (math.sqrt(num / den) if den > 0 else math.sqrt(num)), mx


def as_numpy(t):
    return t.numpy() if hasattr(t, "numpy") else np.asarray(t)


# ---------------------------------------------------------------------------
# Ceilings
# ---------------------------------------------------------------------------

def merge_ceilings(first, second):
    """The higher of two ceiling measurements (start and end of the run):
    a ceiling understated by a busy machine would flatter seqc."""
    out = dict(second)
    for key, rate in (("matmul", "gflops"), ("copy", "gbps")):
        a, b = first[key], second[key]
        merged = dict(a)
        merged["by"] = {k: max(a["by"][k], b["by"][k], key=lambda v: v[rate])
                        for k in a["by"]}
        for k in merged["by"]:
            merged["by"][k] = dict(merged["by"][k], start=a["by"][k][rate],
                                   end=b["by"][k][rate])
        cands = [(v[rate], k) for k, v in merged["by"].items()
                 if not v.get("fresh") and
                 (key == "copy" or v["library"] == "OpenBLAS")]
        if not cands:   # no OpenBLAS: what there is (flagged is_openblas)
            cands = [(v[rate], k) for k, v in merged["by"].items()
                     if not v.get("fresh")]
        ck = "ceiling_gflops" if rate == "gflops" else "ceiling_gbps"
        merged[ck], merged["ceiling_from"] = max(cands)
        if key == "copy":
            merged["fresh_ceiling_gbps"], merged["fresh_ceiling_from"] = max(
                (v[rate], k) for k, v in merged["by"].items() if v.get("fresh"))
        out[key] = merged
    return out


def bench_ceilings(args, torch, results):
    reps = max(args.reps, 5)
    n = 2048
    rng = np.random.default_rng(args.seed)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    c = np.empty((n, n), dtype=np.float32)
    flops = 2.0 * n ** 3
    st_np, _ = measure(lambda: np.matmul(a, b, out=c), reps,
                       args.max_seconds, warmup=2)
    blas = blas_info()
    results["blas"] = blas
    ta, tb, tc = (torch.from_numpy(x) for x in (a, b, c))
    st_t, _ = measure(lambda: torch.matmul(ta, tb, out=tc), reps,
                      args.max_seconds, warmup=2)
    blas_after = blas_info()
    mm = {
        "numpy": dict(st_np, gflops=flops / st_np["median_s"] / 1e9,
                      library=blas["name"]),
        "torch": dict(st_t, gflops=flops / st_t["median_s"] / 1e9,
                      library=blas_after["name"]),
    }
    is_openblas = blas["name"] == "OpenBLAS"
    cands = [(v["gflops"], k) for k, v in mm.items()
             if v["library"] == "OpenBLAS"]
    if cands:
        best, src = max(cands)
    else:  # no OpenBLAS: measure what there is, and say so loudly
        best, src = max((v["gflops"], k) for k, v in mm.items())
    results["matmul"] = {
        "shape": "%d^3 f32" % n, "flops": flops, "by": mm,
        "ceiling_gflops": best, "ceiling_from": src,
        "is_openblas": bool(cands),
    }
    if not is_openblas:
        print("WARNING: numpy is not using OpenBLAS (%s): the matmul ceiling "
              "is not the OpenBLAS rate" % blas["name"], file=sys.stderr)
    del a, b, c, ta, tb, tc

    # Memory copy: 256 MiB f32, read + write bytes.
    elems = (256 << 20) // 4
    src_a = np.ones(elems, dtype=np.float32)
    dst_a = np.empty_like(src_a)
    nbytes = 2.0 * src_a.nbytes
    st_c, _ = measure(lambda: np.copyto(dst_a, src_a), reps,
                      args.max_seconds, warmup=2)
    ts, td = torch.from_numpy(src_a), torch.from_numpy(dst_a)
    st_tc, _ = measure(lambda: td.copy_(ts), reps, args.max_seconds,
                       warmup=2)
    # For information (not a ceiling): the same copy into a new array each
    # call, as an op that allocates its output pays: the kernel faults in
    # and zeroes fresh pages (glibc mmaps allocations this large).
    st_n, _ = measure(lambda: src_a.copy(), reps, args.max_seconds,
                      warmup=2)
    st_tn, _ = measure(lambda: ts.clone(), reps, args.max_seconds, warmup=2)
    cp = {
        "numpy.copyto": dict(st_c, gbps=nbytes / st_c["median_s"] / 1e9,
                             threads=1),
        "torch.copy_": dict(st_tc, gbps=nbytes / st_tc["median_s"] / 1e9,
                            threads=torch.get_num_threads()),
        "numpy copy to a new array": dict(
            st_n, gbps=nbytes / st_n["median_s"] / 1e9, threads=1,
            fresh=True),
        "torch.clone (new tensor)": dict(
            st_tn, gbps=nbytes / st_tn["median_s"] / 1e9,
            threads=torch.get_num_threads(), fresh=True),
    }
    best, src = max((v["gbps"], k) for k, v in cp.items()
                    if not v.get("fresh"))
    # The ceiling of an op that returns new arrays: the same copy paying the
    # same page faults. Compared with the rows that allocate their outputs.
    fresh, fresh_src = max((v["gbps"], k) for k, v in cp.items()
                           if v.get("fresh"))
    results["copy"] = {"bytes_per_call": nbytes, "array_mib": 256, "by": cp,
                       "ceiling_gbps": best, "ceiling_from": src,
                       "fresh_ceiling_gbps": fresh,
                       "fresh_ceiling_from": fresh_src}
    del src_a, dst_a, ts, td
    gc.collect()


# ---------------------------------------------------------------------------
# Attention
# ---------------------------------------------------------------------------

def torch_attention(torch, q, k, v, causal, mask):
    """matmul-softmax-matmul (the eager formulation SDPA replaces)."""
    scale = 1.0 / math.sqrt(q.shape[-1])
    s = torch.matmul(q, k.transpose(-2, -1))
    s.mul_(scale)
    if causal:
        s.masked_fill_(mask, float("-inf"))
    p = torch.softmax(s, dim=-1)
    return torch.matmul(p, v)


def bench_attention(args, seqc, torch, ceil, rows):
    B, H, S, D = (1, 8, 512, 64) if args.quick else (1, 8, 2048, 64)
    rng = np.random.default_rng(args.seed + 1)
    q, k, v = (rng.standard_normal((B, H, S, D), dtype=np.float32)
               for _ in range(3))
    tq, tk, tv = (torch.from_numpy(x) for x in (q, k, v))
    mask = torch.ones(S, S, dtype=torch.bool).triu_(1)   # True: masked
    shape = "B%d H%d S%d D%d f32" % (B, H, S, D)
    for causal in (True, False):
        flops = 4.0 * B * H * S * S * D * (0.5 if causal else 1.0)
        st_s, out_s = measure_seqc(
            lambda: seqc.attention(q, k, v, causal=causal), args.reps,
            args.max_seconds)
        st_t, out_t = measure(lambda: torch_attention(torch, tq, tk, tv,
                                                      causal, mask),
                              args.reps, args.max_seconds)
        err, maxerr = rel_error(out_s, as_numpy(out_t))
        rate_s = flops / st_s["median_s"] / 1e9
        rate_t = flops / st_t["median_s"] / 1e9
        rows.append({
            "workload": "attention " + ("causal" if causal else "full"),
            "shape": shape, "unit": "GFLOP/s", "work": flops,
            "seqc": dict(st_s, rate=rate_s),
            "baseline": dict(st_t, name="torch matmul-softmax-matmul",
                             rate=rate_t),
            "ratio": st_t["median_s"] / st_s["median_s"],
            "achieved": rate_s, "ceiling": ceil["matmul"]["ceiling_gflops"],
            "ceiling_name": "OpenBLAS matmul",
            "pct_of_ceiling": 100.0 * rate_s / ceil["matmul"]["ceiling_gflops"],
            "baseline_pct_of_ceiling":
                100.0 * rate_t / ceil["matmul"]["ceiling_gflops"],
            "check": {"what": "seqc vs torch", "rel_err": err,
                      "max_abs_err": maxerr},
            "issue_shape": (B, H, S, D) == (1, 8, 2048, 64),
            "causal": causal,
        })
        del out_s, out_t
        gc.collect()


# ---------------------------------------------------------------------------
# Linear recurrence
# ---------------------------------------------------------------------------

def torch_recurrence_loop(torch, a, b, dim):
    """h_t = a_t h_{t-1} + b_t, one eager step per time index."""
    am, bm = a.movedim(dim, 0), b.movedim(dim, 0)
    out = torch.empty_like(a)
    om = out.movedim(dim, 0)
    h = bm[0].clone()
    om[0].copy_(h)
    for t in range(1, am.shape[0]):
        h = torch.addcmul(bm[t], am[t], h)
        om[t].copy_(h)
    return out


def torch_recurrence_cumsum(torch, a, b, dim, chunk=None):
    """Log-space cumsum form: within a chunk, P_t = exp(cumsum(log a)),
    h_t = P_t * cumsum(b / P_t); chunk carries by a loop over chunks.
    chunk=None is the global form (one chunk): exact in exact arithmetic but
    P_t underflows (1/P_t overflows) in f32 once sum(log a) < ~ -88."""
    dim = dim % a.dim()
    L = a.shape[dim]
    c = L if not chunk or chunk >= L else chunk
    if L % c:
        raise ValueError("chunk %d does not divide L=%d" % (c, L))
    n = L // c
    la = torch.log(a).unflatten(dim, (n, c))
    bb = b.unflatten(dim, (n, c))
    lp = torch.cumsum(la, dim + 1)              # log P within the chunk
    del la
    P = torch.exp(lp)
    w = torch.exp(lp.neg_()).mul_(bb)           # b / P
    del lp
    h = torch.cumsum(w, dim + 1).mul_(P)        # zero carry-in
    del w
    if n > 1:
        p_end = P.select(dim + 1, c - 1).movedim(dim, 0)
        h_end = h.select(dim + 1, c - 1).movedim(dim, 0)
        carry = torch.empty_like(p_end)          # h entering chunk k
        carry[0].zero_()
        for j in range(1, n):
            torch.addcmul(h_end[j - 1], p_end[j - 1], carry[j - 1],
                          out=carry[j])
        h.addcmul_(P, carry.movedim(0, dim).unsqueeze(dim + 1))
    return h.flatten(dim, dim + 1)


def bench_recurrence(args, seqc, torch, ceil, rows):
    if args.quick:
        layouts = [((8, 512, 1024), -1), ((1024, 8 * 512), 0)]
    else:
        layouts = [((16, 2048, 2048), -1), ((2048, 16 * 2048), 0)]
    copy_bw = ceil["copy"]["ceiling_gbps"]
    fresh_bw = ceil["copy"]["fresh_ceiling_gbps"]
    for shape, dim in layouts:
        rng = np.random.default_rng(args.seed + 2)
        a = rng.random(shape, dtype=np.float32)
        a *= np.float32(0.1)
        a += np.float32(0.9)                      # a in [0.9, 1)
        b = rng.standard_normal(shape, dtype=np.float32)
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        nelem = a.size
        nbytes = 12.0 * nelem
        L = shape[dim]
        label = "%s dim=%d (L=%d, %dM elem) f32" % (
            "x".join(map(str, shape)), dim, L, nelem >> 20)

        st_s, out_s = measure_seqc(
            lambda: seqc.linear_recurrence(a, b, dim=dim), args.reps,
            args.max_seconds)
        h_s = out_s[0] if out_s is not None else None
        del out_s
        gc.collect()
        # The same compiled function writing into caller-provided outputs:
        # the kernel alone, without the page faults of fresh result arrays
        # (the copy ceiling, too, copies into an existing array).
        kernel = seqc.compile(seqc.ops.mlir_text(
            "linear_recurrence", a, b, dim=dim)).main
        h_buf = np.empty(shape, np.float32)
        last_buf = np.empty(kernel.results[1][1], np.float32)
        st_k, _ = measure_seqc(lambda: kernel(a, b, out=(h_buf, last_buf)),
                               args.reps, args.max_seconds)
        st_l, h_l = measure(lambda: torch_recurrence_loop(torch, ta, tb, dim),
                            args.reps, args.max_seconds)
        h_l = as_numpy(h_l)
        err_s, max_s = rel_error(h_s, h_l)
        del h_s
        gc.collect()
        baselines = [("torch loop over time", st_l, (0.0, 0.0))]
        chunk = args.cumsum_chunk if args.cumsum_chunk < L else None
        variants = []
        if chunk:
            variants.append(("torch log-space cumsum, chunk %d" % chunk,
                             chunk))
        variants.append(("torch log-space cumsum, global", None))
        for name, ch in variants:
            st_c, h_c = measure(
                lambda: torch_recurrence_cumsum(torch, ta, tb, dim, ch),
                args.reps, args.max_seconds)
            baselines.append((name, st_c, rel_error(as_numpy(h_c), h_l)))
            del h_c
            gc.collect()
        rate_s = nbytes / st_s["median_s"] / 1e9
        rate_k = nbytes / st_k["median_s"] / 1e9
        rows.append({
            "workload": "linear recurrence (kernel)",
            "shape": label, "unit": "GB/s", "work": nbytes,
            "seqc": dict(st_k, rate=rate_k),
            "baseline": dict(st_s, name="seqc.linear_recurrence (new outputs)",
                             rate=rate_s),
            "ratio": st_s["median_s"] / st_k["median_s"],
            "achieved": rate_k, "ceiling": copy_bw,
            "ceiling_name": "memory copy",
            "pct_of_ceiling": 100.0 * rate_k / copy_bw,
            "baseline_pct_of_ceiling": 100.0 * rate_s / copy_bw,
            "check": {"what": "outputs preallocated (out=)",
                      "rel_err": rel_error(h_buf, h_l)[0],
                      "max_abs_err": rel_error(h_buf, h_l)[1],
                      "baseline_rel_err": err_s, "baseline_max_abs_err": max_s},
            "issue_shape": nelem == 64 << 20, "dim": dim,
        })
        del h_buf, last_buf
        for name, st_b, (err_b, max_b) in baselines:
            rate_b = nbytes / st_b["median_s"] / 1e9
            rows.append({
                "workload": "linear recurrence",
                "shape": label, "unit": "GB/s", "work": nbytes,
                "seqc": dict(st_s, rate=rate_s),
                "baseline": dict(st_b, name=name, rate=rate_b),
                "ratio": st_b["median_s"] / st_s["median_s"],
                "achieved": rate_s, "ceiling": fresh_bw,
                "ceiling_name": "memory copy into a new array",
                "pct_of_ceiling": 100.0 * rate_s / fresh_bw,
                "baseline_pct_of_ceiling": 100.0 * rate_b / fresh_bw,
                "pct_of_existing_copy": 100.0 * rate_s / copy_bw,
                "check": {"what": "vs torch loop (sequential f32)",
                          "rel_err": err_s, "max_abs_err": max_s,
                          "baseline_rel_err": err_b,
                          "baseline_max_abs_err": max_b},
                "issue_shape": nelem == 64 << 20, "dim": dim,
            })
        del a, b, ta, tb, h_l
        gc.collect()


# ---------------------------------------------------------------------------
# Selective scan
# ---------------------------------------------------------------------------

def bench_selective_scan(args, seqc, torch, ceil, rows):
    Bt, D, L, N = (1, 256, 512, 16) if args.quick else (1, 1536, 2048, 16)
    rng = np.random.default_rng(args.seed + 3)
    u = rng.standard_normal((Bt, D, L), dtype=np.float32)
    delta = (rng.random((Bt, D, L), dtype=np.float32) * np.float32(0.099)
             + np.float32(0.001))
    A = -np.tile(np.arange(1, N + 1, dtype=np.float32), (D, 1))  # S4D-real
    Bm = rng.standard_normal((Bt, N, L), dtype=np.float32)
    Cm = rng.standard_normal((Bt, N, L), dtype=np.float32)
    nbytes = 4.0 * (3 * Bt * D * L + D * N + 2 * Bt * N * L)
    t_in = [torch.from_numpy(x) for x in (u, delta, A, Bm, Cm)]
    st_s, y_s = measure_seqc(
        lambda: seqc.selective_scan(u, delta, A, Bm, Cm), args.reps,
        args.max_seconds)
    st_t, y_t = measure(lambda: torch_refs.selective_scan(torch, *t_in),
                        args.reps, args.max_seconds)
    err, maxerr = rel_error(y_s, as_numpy(y_t))
    copy_bw = ceil["copy"]["ceiling_gbps"]
    rate_s = nbytes / st_s["median_s"] / 1e9
    rate_t = nbytes / st_t["median_s"] / 1e9
    rows.append({
        "workload": "selective scan",
        "shape": "B%d D%d L%d N%d f32" % (Bt, D, L, N), "unit": "GB/s",
        "work": nbytes,
        "seqc": dict(st_s, rate=rate_s),
        "baseline": dict(st_t, name="torch loop (selective_scan_ref)",
                         rate=rate_t),
        "ratio": st_t["median_s"] / st_s["median_s"],
        "achieved": rate_s, "ceiling": copy_bw, "ceiling_name": "memory copy",
        "pct_of_ceiling": 100.0 * rate_s / copy_bw,
        "baseline_pct_of_ceiling": 100.0 * rate_t / copy_bw,
        "check": {"what": "seqc vs torch loop", "rel_err": err,
                  "max_abs_err": maxerr},
        "issue_shape": (Bt, D, L, N) == (1, 1536, 2048, 16),
    })


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------

def fmt_time(s):
    if s >= 1.0:
        return "%.2f s" % s
    if s >= 1e-3:
        return "%.1f ms" % (s * 1e3)
    return "%.0f us" % (s * 1e6)


def fmt_rate(x):
    if not math.isfinite(x):
        return "nan"
    return "%.0f" % x if x >= 100 else ("%.1f" % x if x >= 10 else "%.2f" % x)


def fmt_err(x):
    return "nan" if not math.isfinite(x) else "%.1e" % x


def fmt_pct(x):
    return "-" if not math.isfinite(x) else "%.1f%%" % x


def fmt_meas(st, unit):
    if st.get("error"):
        first = st["error"].splitlines()[0]
        return "FAILED (%s)" % (first if len(first) <= 60
                                else first[:57] + "...")
    cell = "%s (%s %s" % (fmt_time(st["median_s"]), fmt_rate(st["rate"]),
                          unit)
    cell += ", n=%d%s" % (st["n"], "*" if st["capped"] else "")
    cell += ", %.1f cores%s)" % (st["cores_busy"], fmt_other(st))
    return cell


def fmt_other(st):
    o = st.get("other_load", float("nan"))
    return ", other load %.1f" % o if math.isfinite(o) and o >= 0.15 else ""


def table(results):
    header = ["workload", "shape", "seqc", "baseline(s)", "ratio",
              "achieved", "ceiling", "% of ceiling", "check"]
    lines = []
    mm, cp = results["matmul"], results["copy"]
    for k, v in mm["by"].items():
        lines.append([
            "ceiling: matmul", mm["shape"], "-",
            "%s.matmul [%s]: %s" % (k, v["library"], fmt_time(v["median_s"])),
            "-", "%s GFLOP/s" % fmt_rate(v["gflops"]),
            "%s GFLOP/s" % fmt_rate(mm["ceiling_gflops"]),
            "%.0f%%" % (100 * v["gflops"] / mm["ceiling_gflops"]),
            "%.1f cores%s; start/end %s/%s" % (
                v["cores_busy"], fmt_other(v), fmt_rate(v["start"]),
                fmt_rate(v["end"]))])
    for k, v in cp["by"].items():
        lines.append([
            "ceiling of new-array rows: memory copy" if v.get("fresh")
            else "ceiling: memory copy",
            "256 MiB f32", "-",
            "%s (%d thr): %s" % (k, v["threads"], fmt_time(v["median_s"])),
            "-", "%s GB/s" % fmt_rate(v["gbps"]),
            "%s GB/s" % fmt_rate(cp["ceiling_gbps"]),
            "%.0f%%" % (100 * v["gbps"] / cp["ceiling_gbps"]),
            "%.1f cores%s; start/end %s/%s" % (
                v["cores_busy"], fmt_other(v), fmt_rate(v["start"]),
                fmt_rate(v["end"]))])
    for r in results["rows"]:
        u = r["unit"]
        base = dict(r["baseline"])
        chk = r["check"]
        check = ("seqc err %s" % fmt_err(chk["rel_err"])
                 if not r["seqc"].get("error") else "seqc failed")
        if "baseline_rel_err" in chk and chk["baseline_rel_err"] != 0.0:
            check += "; baseline err %s" % fmt_err(chk["baseline_rel_err"])
        lines.append([
            r["workload"], r["shape"], fmt_meas(r["seqc"], u),
            "%s: %s" % (base["name"], fmt_meas(base, u)),
            "%.2fx" % r["ratio"] if math.isfinite(r["ratio"]) else "-",
            "%s %s" % (fmt_rate(r["achieved"]), u)
            if math.isfinite(r["achieved"]) else "-",
            "%s %s" % (fmt_rate(r["ceiling"]), u),
            "%s (baseline %s)" % (fmt_pct(r["pct_of_ceiling"]),
                                  fmt_pct(r["baseline_pct_of_ceiling"])),
            check])
    widths = [max(len(h), *(len(l[i]) for l in lines))
              for i, h in enumerate(header)]
    out = ["| " + " | ".join(h.ljust(w) for h, w in zip(header, widths))
           + " |",
           "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    for l in lines:
        out.append("| " + " | ".join(c.ljust(w) for c, w in zip(l, widths))
                   + " |")
    return "\n".join(out)


def acceptance(results):
    lines = []
    for r in results["rows"]:
        if r["workload"] == "attention causal" and r["seqc"].get("error"):
            lines.append("attention causal %s: seqc FAILED: FAIL"
                         % r["shape"])
        elif r["workload"] == "attention causal":
            tag = "" if r["issue_shape"] else " (not the issue's shape)"
            lines.append("attention causal %s%s: %.2fx torch (target >= %.0fx: "
                         "%s), %.1f%% of OpenBLAS matmul (target >= %.0f%%: %s)"
                         % (r["shape"], tag, r["ratio"], ACCEPT_ATTN_SPEEDUP,
                            "PASS" if r["ratio"] >= ACCEPT_ATTN_SPEEDUP
                            else "FAIL", r["pct_of_ceiling"],
                            ACCEPT_ATTN_MATMUL_PCT,
                            "PASS" if r["pct_of_ceiling"] >=
                            ACCEPT_ATTN_MATMUL_PCT else "FAIL"))
    seen = set()
    for r in results["rows"]:
        if (r["workload"] in ("linear recurrence", "linear recurrence (kernel)")
                and (r["workload"], r["shape"]) not in seen):
            seen.add((r["workload"], r["shape"]))
            if r["seqc"].get("error"):
                lines.append("linear recurrence %s: seqc FAILED: FAIL"
                             % r["shape"])
                continue
            tag = "" if r["issue_shape"] else " (not the issue's 64M elements)"
            lines.append("%s %s%s: %.1f%% of %s bandwidth "
                         "(target >= %.0f%%: %s)"
                         % (r["workload"], r["shape"], tag, r["pct_of_ceiling"],
                            r["ceiling_name"],
                            ACCEPT_LINREC_COPY_PCT,
                            "PASS" if r["pct_of_ceiling"] >=
                            ACCEPT_LINREC_COPY_PCT else "FAIL"))
    return lines


def main(argv=None):
    global MIN_SECONDS
    args = parse_args(argv)
    MIN_SECONDS = args.min_seconds
    seqc, lib_source, lib_loaded = import_seqc(args)
    import torch
    torch.set_num_threads(args.threads)

    results = {"rows": []}
    if args.wait_idle > 0:
        print("waiting for an idle machine (up to %.0f s) ..." % args.wait_idle,
              file=sys.stderr, flush=True)
        waited = wait_idle(args.wait_idle)
        print("  %s" % ("idle after %.0f s" % waited if waited is not None
                        else "still busy; measuring anyway"),
              file=sys.stderr, flush=True)
    t_start = time.perf_counter()
    print("measuring ceilings ...", file=sys.stderr, flush=True)
    start = {}
    bench_ceilings(args, torch, start)
    for w in args.workloads:
        print("running %s ..." % w, file=sys.stderr, flush=True)
        {"attention": bench_attention, "recurrence": bench_recurrence,
         "selective_scan": bench_selective_scan}[w](
            args, seqc, torch, start, results["rows"])
    # Ceilings again at the end; the higher of the two is the ceiling, and
    # the percentages are recomputed against it.
    print("measuring ceilings again ...", file=sys.stderr, flush=True)
    end = {}
    bench_ceilings(args, torch, end)
    merged = merge_ceilings(start, end)
    results.update(blas=merged["blas"], matmul=merged["matmul"],
                   copy=merged["copy"])
    for r in results["rows"]:
        c = (results["matmul"]["ceiling_gflops"] if r["unit"] == "GFLOP/s"
             else results["copy"]["fresh_ceiling_gbps"]
             if r["ceiling_name"] == "memory copy into a new array"
             else results["copy"]["ceiling_gbps"])
        if "pct_of_existing_copy" in r:
            r["pct_of_existing_copy"] = (100.0 * r["achieved"]
                                         / results["copy"]["ceiling_gbps"])
        r["ceiling"] = c
        r["pct_of_ceiling"] = 100.0 * r["achieved"] / c
        r["baseline_pct_of_ceiling"] = 100.0 * r["baseline"]["rate"] / c

    blas = results["blas"]
    meta = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "host": platform.node(), "cpu": cpu_model(),
        "python": platform.python_version(), "numpy": np.__version__,
        "torch": torch.__version__,
        "torch_deb": deb_version("python3-torch"),
        "openblas_deb": deb_version("libopenblas0-pthread"),
        "blas": {k: blas.get(k) for k in ("name", "version", "config",
                                          "threads", "corename",
                                          "openblas_path")},
        "threads": {
            "torch_intra_op": torch.get_num_threads(),
            "openblas": blas.get("threads"),
            "numpy_copyto": 1,
            "seqc": "as compiled (the timed cores_busy says)",
        },
        "seqc_library": lib_source, "seqc_library_loaded_from": lib_loaded,
        "seqc_git": git_head(), "seqc_library_id": file_id(lib_loaded), "quick": args.quick, "reps": args.reps,
        "max_seconds": args.max_seconds,
        "cumsum_chunk": args.cumsum_chunk,
        "total_seconds": time.perf_counter() - t_start,
        "conventions": {
            "attention_flops": "4*B*H*Sq*Skv*D, x0.5 when causal",
            "recurrence_bytes": "12 per element: read a, b; write h (f32)",
            "selective_scan_bytes": "4*(3*B*D*L + D*N + 2*B*G*N*L)",
            "copy_bytes": "2 x array bytes (read + write)",
            "GB": "1e9 bytes", "ratio": "baseline time / seqc time",
        },
    }
    results["meta"] = meta

    print("seqc CPU benchmark, %s" % meta["date"])
    print("cpu: %s" % meta["cpu"])
    print("python %s, numpy %s, torch %s (deb %s), BLAS: %s %s (%s, "
          "core %s, %s threads)"
          % (meta["python"], meta["numpy"], meta["torch"], meta["torch_deb"],
             blas["name"], blas.get("version") or "",
             blas.get("openblas_path") or ", ".join(blas["loaded"]),
             blas.get("corename"), blas.get("threads")))
    print("threads: torch %d (set_num_threads), OpenBLAS %s, numpy.copyto 1, "
          "seqc as compiled" % (torch.get_num_threads(), blas.get("threads")))
    print("seqc: %s (%s; git %s)%s" % (
        lib_source, meta["seqc_library_id"], meta["seqc_git"],
        ", run from a private copy" if lib_loaded != lib_source else ""))
    print()
    print(table(results))
    print()
    print("ratio = baseline time / seqc time (>1: seqc faster). Cells: median "
          "time (rate, n timed calls, cores busy = CPU time / wall time); "
          "n=k* means capped by --max-seconds %.0f; short calls repeat until "
          "%.1f s (--min-seconds)." % (args.max_seconds, args.min_seconds))
    print("FLOPs: 4*B*H*S^2*D, halved for causal (same credit for every "
          "implementation). Bytes: recurrence 12/elem (read a, b; write h); "
          "selective scan read u, delta, A, B, C + write y; copy 2x bytes "
          "(read + write). GB = 1e9 B.")
    print("check: rel err = ||x - ref||_F / ||ref||_F; attention ref = torch, "
          "recurrence ref = torch loop (sequential f32), selective scan ref = "
          "torch loop.")
    busy = [(r["seqc"].get("other_load", 0.0), "%s %s (seqc)" % (
                r["workload"], r["shape"])) for r in results["rows"]]
    busy += [(r["baseline"].get("other_load", 0.0), "%s %s (%s)" % (
                r["workload"], r["shape"], r["baseline"]["name"]))
             for r in results["rows"]]
    for key in ("matmul", "copy"):
        busy += [(v.get("other_load", 0.0), "%s ceiling (%s)" % (key, k))
                 for k, v in results[key]["by"].items()]
    busy = [b for b in busy if math.isfinite(b[0]) and b[0] >= 0.25]
    if busy:
        worst = max(busy)
        print()
        print("WARNING: other processes kept up to %.1f cores busy during %d "
              "measurement(s) (worst: %s); those figures are understated."
              % (worst[0], len(busy), worst[1]))
    failed, seen = [], set()
    for r in results["rows"]:
        e = r["seqc"].get("error")
        if e and (r["workload"], r["shape"]) not in seen:
            seen.add((r["workload"], r["shape"]))
            failed.append("%s %s:\n    %s" % (
                r["workload"], r["shape"],
                "\n    ".join(e.splitlines()[:6])))
    if failed:
        print()
        print("seqc FAILED on %d workload(s) (first lines of the error; the "
              "JSON has more):" % len(failed))
        for f in failed:
            print("  " + f)
    acc = acceptance(results)
    if acc:
        print()
        print("acceptance figures of the issue (measured in this run):")
        for l in acc:
            print("  " + l)
    print()
    print("total %.0f s" % meta["total_seconds"])

    if args.json:
        def clean(o):
            if isinstance(o, float) and not math.isfinite(o):
                return None
            if isinstance(o, dict):
                return {k: clean(v) for k, v in o.items()}
            if isinstance(o, (list, tuple)):
                return [clean(v) for v in o]
            return o
        with open(args.json, "w") as f:
            json.dump(clean(results), f, indent=1)
            f.write("\n")
        print("wrote %s" % args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
