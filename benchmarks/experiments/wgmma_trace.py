"""Timeline of the sm_90a attention kernel's work items (session 18).

Not part of any test or benchmark: a diagnostic for the wgmma attention
kernel at D = 64, with `wgmma-trace.patch` (beside this file) applied:

    git apply benchmarks/experiments/wgmma-trace.patch && ninja -C build
    scripts/gpu.sh pack
    # on the GPU machine, .dist carried:
    SEQC_GPU_ONLY=exec bash scripts/gpu.sh run python3 benchmarks/experiments/wgmma_trace.py

With SEQC_EXP_TRACE set when a kernel is compiled, lane 0 of each consumer
warpgroup's first warp writes 18 u64 over the first 72 columns of its first
output row (so D = 64 and whole row blocks only; the output is not the
attention's then): %globaltimer at entry and end, %clock64 at entry, Q
landed, tile 0 done, key loop done, last P·V done, stores done, %smid, the
item, keys a tile, rows a block, and the cycles the key loop spent per
phase (turn wait, K wait + S issue, V wait + P·V issue, S wait, softmax,
P·V wait). The patch also carries the session's other switches, read when a
kernel is compiled: SEQC_EXP_P24 (persistent kernels keep 24/112
registers), SEQC_EXP_NOSTAGE (the output stored from the fragments, not
through shared memory, which the patch adds), SEQC_EXP_TICKS (the
mbarrier try_wait suspend hint). Findings: benchmarks/NOTES-gpu.md,
attention, session 18.
"""
import os, sys, statistics as st
sys.path.insert(0, "benchmarks")
os.environ["SEQC_EXP_TRACE"] = "1"
import torch, seqc
import gpu_bench as gb
def med(x): return st.median(x) if x else float("nan")
ticks = os.environ.get("SEQC_EXP_TICKS", "default")
for B, H, S, D, opt in [(4, 16, 1024, 64, ""), (4, 16, 4096, 64, ""), (4, 16, 1024, 64, "attention-tile-q=192"), (4, 16, 4096, 64, "attention-tile-q=256")]:
    print("ticks", ticks)
    q, k, v = (torch.randn(B, H, S, D, device="cuda", dtype=torch.bfloat16) for _ in range(3))
    f = gb.compiled_op(seqc, "attention", (q, k, v), opt)
    for _ in range(5): o = f()
    torch.cuda.synchronize()
    kt = gb.kernel_seconds(torch, f)[0]
    o = f(); torch.cuda.synchronize()
    probe = o[0, 0, 0:2].flatten()[:72].contiguous().view(torch.int64).cpu().tolist()
    kpt, rows = probe[10], probe[11]
    nwg = rows // 64
    recs = []
    for b in range(B):
        for h in range(H):
            for r0 in range(0, S, rows):
                for w in range(nwg):
                    if r0 + 64 * w >= S: continue
                    raw = o[b, h, r0 + 64 * w:r0 + 64 * w + 2].flatten()[:72].contiguous().view(torch.int64).cpu().tolist()
                    recs.append((b, h, r0, w, raw))
    gt0 = min(r[4][0] for r in recs); gtE = max(r[4][1] for r in recs)
    rate = med([(r[4][7] - r[4][2]) / max(1, r[4][1] - r[4][0]) for r in recs])  # cycles per ns
    print("== B%d H%d S%d D%d %s: kernel %.1f us (queued), traced span %.1f us, clock %.3f GHz, %d items" % (
        B, H, S, D, opt, kt * 1e6, (gtE - gt0) / 1e3, rate, len(recs) // nwg), flush=True)
    us = lambda c: c / rate / 1e3
    recs = [r for r in recs if r[2] + rows <= S]
    # per WG phase medians
    print("  rows %d keys/tile %d" % (rows, kpt))
    for w in range(nwg):
        R = [r[4] for r in recs if r[3] == w]
        print("  wg%d: qwait %.2f init %.2f loop %.2f last %.2f store %.2f total %.2f us (clock)" % (
            w, us(med([x[3] - x[2] for x in R])), us(med([x[4] - x[3] for x in R])), us(med([x[5] - x[4] for x in R])),
            us(med([x[6] - x[5] for x in R])), us(med([x[7] - x[6] for x in R])), us(med([x[7] - x[2] for x in R]))))
    ntile = (S + kpt - 1) // kpt - 1
    for w in range(nwg):
        R = [r[4] for r in recs if r[3] == w]
        names = ["turn", "Kwait+issue", "Vwait+issue", "Swait", "softmax", "PVwait"]
        print("  wg%d per loop tile (us): " % w + " ".join("%s %.3f" % (n, us(med([x[12 + i] for x in R])) / ntile) for i, n in enumerate(names)))
    # per SM sequence (wg0 records)
    bysm = {}
    for r in recs:
        if r[3] == 0: bysm.setdefault(r[4][8], []).append(r[4])
    starts = sorted((x[0] - gt0) / 1e3 for x in (r[4] for r in recs if r[3] == 0))
    gaps, firsts, seconds, ends1 = [], [], [], []
    for sm, L in bysm.items():
        L.sort(key=lambda x: x[0])
        firsts.append((L[0][0] - gt0) / 1e3)
        ends1.append((L[0][1] - gt0) / 1e3)
        for a, c in zip(L, L[1:]):
            gaps.append((c[0] - a[1]) / 1e3)
            seconds.append((c[0] - gt0) / 1e3)
    print("  SMs %d, items per SM %s" % (len(bysm), sorted(set(len(L) for L in bysm.values()))))
    print("  first item start: min %.2f med %.2f max %.2f us; first item end med %.2f max %.2f" % (min(firsts), med(firsts), max(firsts), med(ends1), max(ends1)))
    if gaps: print("  gap end->next start on an SM: min %.2f med %.2f max %.2f us; 2nd starts med %.2f max %.2f" % (min(gaps), med(gaps), max(gaps), med(seconds), max(seconds)))
    ends = sorted((x[1] - gt0) / 1e3 for x in (r[4] for r in recs))
    print("  last end %.2f us; 90%% of ends by %.2f" % (ends[-1], ends[int(0.9 * len(ends))]))
    dur = [(x[1] - x[0]) / 1e3 for x in (r[4] for r in recs if r[3] == 0)]
    print("  item wall (globaltimer) med %.2f min %.2f max %.2f" % (med(dur), min(dur), max(dur)), flush=True)
    del q, k, v, o
