"""GPU execution: every seq op and option on CUDA, against float64 NumPy
references and against torch (SDPA for attention), through the functional
ops (torch CUDA tensors in, out: zero copy, current stream), through compiled
modules (NumPy arrays staged to the device and back), and as an ahead-of-time
CUDA library. Odd sizes, GQA, windows, softcap, kv_lengths (0 too), segment
ids, fully masked rows, reverse and exclusive scans, f16 and bf16 storage.

Marked ``cuda``: skipped unless an NVIDIA GPU answers. The no-GPU behaviour
(clear errors) is tested at the end without the mark.
"""

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import reference as ref
import seqc
from testutil import assert_close, f64, randn, rng, uniform

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

cuda = pytest.mark.cuda


@pytest.fixture(scope="module")
def torch():
    t = pytest.importorskip("torch")
    if not t.cuda.is_available():
        pytest.skip("torch sees no GPU")
    return t


def dev(torch, x):
    """A numpy array as a CUDA tensor (bf16 bit patterns stay uint16 views
    only when asked through bf16())."""
    return torch.from_numpy(np.ascontiguousarray(x)).cuda()


def bf16_tensor(torch, x):
    return torch.from_numpy(np.ascontiguousarray(x, np.float32)).cuda().bfloat16()


# ---------------------------------------------------------------------------
# attention
# ---------------------------------------------------------------------------

ATTENTION_CASES = [
    # B, Hq, Hkv, Sq, Skv, D, Dv, options
    (1, 4, 4, 37, 37, 16, 16, dict(causal=True)),
    (2, 8, 2, 65, 65, 32, 32, dict(causal=True)),                 # GQA 4:1
    (1, 6, 1, 1, 129, 64, 64, dict()),                            # MQA, 1 query
    (2, 4, 2, 50, 73, 24, 40, dict(causal=True)),                 # Sq < Skv
    (1, 2, 2, 97, 97, 32, 32, dict(window=(16, 0))),
    (1, 2, 2, 64, 64, 16, 16, dict(window=(5, 7), softcap=20.0)),
    (2, 2, 1, 33, 41, 16, 16, dict(kv_lengths=[0, 29], causal=True)),
    (1, 4, 2, 130, 200, 128, 64, dict(causal=True)),             # D 128, Dv 64
    (1, 2, 2, 300, 300, 96, 96, dict()),                         # D 96
    (1, 2, 1, 37, 50, 32, 40, dict(causal=True)),                # Dv 40: odd n-tiles
]


@cuda
@pytest.mark.parametrize("case", range(len(ATTENTION_CASES)))
def test_attention_matches_float64_and_torch(torch, case):
    B, Hq, Hkv, Sq, Skv, D, Dv, opts = ATTENTION_CASES[case]
    r = rng(900 + case)
    q, k = randn(r, (B, Hq, Sq, D)), randn(r, (B, Hkv, Skv, D))
    v = randn(r, (B, Hkv, Skv, Dv))
    kv_lengths = opts.pop("kv_lengths", None)
    kl = np.array(kv_lengths, np.int32) if kv_lengths is not None else None
    out, lse = seqc.attention(dev(torch, q), dev(torch, k), dev(torch, v),
                              kv_lengths=None if kl is None else dev(torch, kl),
                              return_lse=True, **opts)
    assert out.is_cuda and out.dtype == torch.float32
    out_ref, lse_ref = ref.attention(q, k, v, kv_lengths=kl, **opts)
    assert_close(out.cpu().numpy(), out_ref, np.float32)
    assert_close(lse.cpu().numpy(), lse_ref, np.float32)
    # torch's SDPA as a second oracle where it expresses the masks.
    if kl is None and opts.get("window") is None and "softcap" not in opts:
        G = Hq // Hkv
        kt = dev(torch, k).repeat_interleave(G, dim=1)
        vt = dev(torch, v).repeat_interleave(G, dim=1)
        mask = None
        if opts.get("causal"):
            i = torch.arange(Sq, device="cuda")[:, None] + (Skv - Sq)
            j = torch.arange(Skv, device="cuda")[None, :]
            mask = j <= i
        sdpa = torch.nn.functional.scaled_dot_product_attention(
            dev(torch, q).double(), kt.double(), vt.double(), attn_mask=mask)
        assert_close(out.cpu().numpy(), sdpa.cpu().numpy(), np.float32)


@cuda
@pytest.mark.parametrize("case", range(len(ATTENTION_CASES)))
@pytest.mark.parametrize("dtype", ["bf16", "f16"])
def test_attention_tensor_cores(torch, case, dtype):
    """bf16/f16 with head dims that are multiples of 16: the mma.sync
    kernel, every mask and option, odd sizes; against float64 on the
    rounded inputs."""
    B, Hq, Hkv, Sq, Skv, D, Dv, opts = ATTENTION_CASES[case]
    opts = dict(opts)
    r = rng(1900 + case)
    conv = (lambda x: bf16_tensor(torch, x)) if dtype == "bf16" else \
        (lambda x: dev(torch, x.astype(np.float16)))
    q, k = conv(randn(r, (B, Hq, Sq, D))), conv(randn(r, (B, Hkv, Skv, D)))
    v = conv(randn(r, (B, Hkv, Skv, Dv)))
    kv_lengths = opts.pop("kv_lengths", None)
    kl = np.array(kv_lengths, np.int32) if kv_lengths is not None else None
    out, lse = seqc.attention(q, k, v, return_lse=True,
                              kv_lengths=None if kl is None else dev(torch, kl),
                              **opts)
    assert out.dtype == q.dtype
    out_ref, lse_ref = ref.attention(*(x.double().cpu().numpy() for x in (q, k, v)),
                                     kv_lengths=kl, **opts)
    assert_close(out.double().cpu().numpy(), out_ref, np.float16)
    assert_close(lse.cpu().numpy(), lse_ref, np.float16)


TILINGS = ["64x16", "64x32", "64x64", "64x128", "128x16", "128x32", "128x64",
           "wgmma-16", "wgmma-32", "wgmma-64", "wgmma-128"]


def bf16_attention_plan(torch, r, dims, opts):
    """Random bf16 q, k, v of dims (B, Hq, Hkv, Sq, Skv, D, Dv) on the GPU,
    kv_lengths (NumPy, or None) taken out of opts, the remaining options,
    and the functional op's plan (its MLIR text and call arrays)."""
    B, Hq, Hkv, Sq, Skv, D, Dv = dims
    opts = dict(opts)
    q, k = bf16_tensor(torch, randn(r, (B, Hq, Sq, D))), \
        bf16_tensor(torch, randn(r, (B, Hkv, Skv, D)))
    v = bf16_tensor(torch, randn(r, (B, Hkv, Skv, Dv)))
    kv_lengths = opts.pop("kv_lengths", None)
    kl = np.array(kv_lengths, np.int32) if kv_lengths is not None else None
    plan = seqc.ops._attention_plan(
        q, k, v, opts.get("causal", False), opts.get("window", (-1, -1)),
        None, opts.get("softcap"), None if kl is None else dev(torch, kl),
        None, None, False)
    return q, k, v, kl, opts, plan


@cuda
@pytest.mark.parametrize("tiling", TILINGS)
@pytest.mark.parametrize("case", [1, 3, 6, 7, 9])
def test_attention_tensor_core_tilings(torch, tiling, case):
    """Every tile shape the mma.sync kernel takes (attention-tile-q rows
    per block, attention-tile-kv keys per tile) and the keys per tile of
    the wgmma kernel (sm_90a; shapes it does not take fall back), with odd
    sizes, GQA, kv_lengths and odd value n-tiles; bf16 against float64."""
    B, Hq, Hkv, Sq, Skv, D, Dv, opts = ATTENTION_CASES[case]
    q, k, v, kl, opts, plan = bf16_attention_plan(
        torch, rng(2300 + case), (B, Hq, Hkv, Sq, Skv, D, Dv), opts)
    if tiling.startswith("wgmma"):
        options = "attention-tile-kv=%s" % tiling.split("-")[1]
    else:
        options = ("attention-wgmma=0 attention-tile-q=%s attention-tile-kv=%s"
                   % tuple(tiling.split("x")))
    module = seqc.compile(plan.text(), target="cuda", options=options)
    out = module["main"](*plan.call.arrays)
    out_ref, _ = ref.attention(*(x.double().cpu().numpy() for x in (q, k, v)),
                               kv_lengths=kl, **opts)
    assert_close(out.double().cpu().numpy(), out_ref, np.float16)


@cuda
@pytest.mark.parametrize("case", ["decode_gqa", "multi_query_lengths",
                                  "decode_gqa_scalar", "multi_query_lengths_scalar",
                                  "row_chunks"])
def test_attention_decode_simt_bf16(torch, case):
    """attention-decode-simt=1: bf16 decoding
    (at most 8 query rows per KV head over a long cache; row_chunks: GQA 4
    x 2 queries with attention-decode-rows=2, 4 neighbouring warps of 2
    rows per split) on the split-key
    SIMT kernel instead of the tensor cores; against float64, and against
    the split-key tensor-core kernel (the default); by default with the
    K/V rows read as vectors (vector<4xbf16> at D 128, vector<2xbf16> at D
    64) and transposed warp sums, and without either (_scalar)."""
    options = "attention-decode-simt=1 " + (
        "attention-decode-vector=0 attention-decode-transpose=0"
        if case.endswith("_scalar") else
        "attention-decode-rows=2" if case == "row_chunks" else "")
    if case.startswith("decode_gqa"):
        dims, opts = (2, 32, 8, 1, 3001, 128, 128), dict()
    elif case == "row_chunks":
        dims, opts = (2, 32, 8, 2, 2001, 128, 128), dict(causal=True,
                                                       kv_lengths=[2001, 9])
    else:
        dims, opts = (2, 8, 2, 2, 1100, 64, 64), dict(causal=True,
                                                    kv_lengths=[1100, 517])
    q, k, v, kl, opts, plan = bf16_attention_plan(torch, rng(2400), dims, opts)
    simt = seqc.compile(plan.text(), target="cuda", options=options)["main"]
    mma = seqc.compile(plan.text(), target="cuda")["main"]
    out = simt(*plan.call.arrays)
    out_ref, _ = ref.attention(*(x.double().cpu().numpy() for x in (q, k, v)),
                               kv_lengths=kl, **opts)
    assert_close(out.double().cpu().numpy(), out_ref, np.float16)
    assert_close(out.double().cpu().numpy(),
                 mma(*plan.call.arrays).double().cpu().numpy(), np.float16)


def bf16_in_layout(torch, r, shape, layout):
    """A random bf16 CUDA tensor of `shape` ([B, H, S, D]) stored
    "contiguous", as [B, S, H, D] storage seen through a transpose
    ("bshd"), or starting 2 bytes into its allocation ("offset": off the
    16-byte boundary the kernels read at, so the call copies it first)."""
    x = bf16_tensor(torch, randn(r, shape))
    if layout == "bshd":
        x = x.transpose(1, 2).contiguous().transpose(1, 2)
    elif layout == "offset":
        base = torch.empty(x.numel() + 1, device="cuda", dtype=x.dtype)
        x = base[1:].view(x.shape).copy_(x)
        assert x.data_ptr() % 16 != 0
    return x


MMA_SPLIT_CASES = [
    # B, Hq, Hkv, Sq, Skv, D, Dv, options, compile options
    # 8 queries x GQA 4 = 32 packed rows; keys the 64-key tiles and the
    # splits do not divide.
    (2, 32, 8, 8, 3001, 128, 128, dict(), None),
    # Causal speculative decoding (5 queries), GQA 6:1 (30 rows), a batch
    # of no keys (fully masked rows), D 64.
    (2, 12, 2, 5, 2001, 64, 64, dict(causal=True, kv_lengths=[2001, 0]), None),
    # A window and softcap, 16 heads x 3 queries, Dv 64 < D.
    (1, 32, 2, 3, 2051, 128, 64, dict(window=(300, 0), softcap=20.0), None),
    # 96 packed rows: two tiles of rows per split; D 96.
    (1, 24, 2, 8, 1500, 96, 96, dict(causal=True), None),
    # One query, GQA 4; 64-key tiles.
    (1, 32, 8, 1, 8192, 128, 128, dict(), "attention-tile-kv=64"),
    # 32- and 128-key tiles.
    (2, 32, 8, 8, 3001, 128, 128, dict(causal=True), "attention-tile-kv=32"),
    (2, 8, 8, 2, 5000, 64, 64, dict(kv_lengths=[4999, 130]),
     "attention-tile-kv=128"),
    # Splits aimed at other block counts: one wave of two blocks an SM
    # (33 splits of 2 tiles for 8 KV heads), and 37 blocks (5 splits of an
    # odd share, the last one short).
    (1, 32, 8, 1, 8192, 128, 128, dict(), "attention-decode-blocks=264"),
    (1, 32, 8, 1, 4999, 128, 128, dict(kv_lengths=[4001]),
     "attention-decode-blocks=37"),
    # Long enough for one block an SM with the TMA ring (16 splits of 40
    # tiles); keys the tiles do not divide, the kv length inside a split.
    (1, 32, 8, 1, 40001, 128, 128, dict(kv_lengths=[39000]), None),
]


@cuda
@pytest.mark.parametrize("case", range(len(MMA_SPLIT_CASES)))
@pytest.mark.parametrize("layout", ["contiguous", "bshd"])
def test_attention_mma_split_keys(torch, case, layout):
    """The split-key tensor-core kernel (flash-decoding on mma.sync; the
    default for bf16 with up to 64 queries over keys that need splitting):
    a block per (batch, KV head, split of the keys, tile of the GQA group's
    packed query rows), partial softmaxes combined. Against float64 on the
    rounded inputs with the LSE, fully masked rows giving 0 and -inf, and
    against the one-pass kernel (attention-split-keys=0); inputs
    contiguous or as [B, S, H, D] storage seen through a transpose."""
    check_mma_split_keys(torch, case, layout, "attention-decode-tma=0")


@cuda
@pytest.mark.parametrize("case", range(len(MMA_SPLIT_CASES)))
@pytest.mark.parametrize("layout,stages", [("contiguous", 3), ("bshd", None),
                                           ("contiguous", 4), ("offset", None)])
def test_attention_mma_split_keys_tma(torch, case, layout, stages):
    """The split-key kernel with its K/V tiles by TMA into a ring of
    `stages` (the default, 2, where None; sm_90a: elsewhere the option is
    ignored and the cp.async kernel runs): a copy warp beside the warps of
    rows, 128-byte swizzled boxes read by ldmatrix, rows past the keys
    zero-filled by the copy engine. The same checks as the cp.async
    kernel's; inputs off the 16-byte boundary the tensor maps need are
    copied first ("offset")."""
    check_mma_split_keys(torch, case, layout,
                         stages and "attention-decode-tma=%d" % stages)


def check_mma_split_keys(torch, case, layout, extra):
    B, Hq, Hkv, Sq, Skv, D, Dv, opts, options = MMA_SPLIT_CASES[case]
    options = " ".join(o for o in (options, extra) if o)
    opts = dict(opts)
    r = rng(3500 + case)
    q, k, v = (bf16_in_layout(torch, r, shape, layout) for shape in
               ((B, Hq, Sq, D), (B, Hkv, Skv, D), (B, Hkv, Skv, Dv)))
    kv_lengths = opts.pop("kv_lengths", None)
    kl = np.array(kv_lengths, np.int32) if kv_lengths is not None else None
    klt = None if kl is None else dev(torch, kl)
    plan = seqc.ops._attention_plan(
        q, k, v, opts.get("causal", False), opts.get("window", (-1, -1)),
        None, opts.get("softcap"), klt, None, None, True)
    text = plan.text()
    split = seqc.compile(text, target="cuda", options=options)["main"]
    one_pass = seqc.compile(text, target="cuda",
                            options="attention-split-keys=0")["main"]
    # The split path ran: its combine kernel is among the launches. (Under
    # compute-sanitizer the profiler records no kernel at all; the results
    # are still checked below.)
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        out, lse = split(*plan.call.arrays)
        torch.cuda.synchronize()
    names = {e.name for e in prof.events()}
    if names:
        # On sm_90a the TMA kernel's combine is a dependent launch (started
        # while the split-key kernel runs, waiting for it on the GPU).
        tma = (torch.cuda.get_device_capability() == (9, 0)
               and "attention-decode-tma=0" not in options)
        combine = ("attention_combine_dependent" if tma
                   else "attention_combine")
        assert any(n.endswith(combine) for n in names), names
    out_ref, lse_ref = ref.attention(*(x.double().cpu().numpy() for x in (q, k, v)),
                                     kv_lengths=kl, **opts)
    assert_close(out.double().cpu().numpy(), out_ref, np.float16)
    assert_close(lse.cpu().numpy(), lse_ref, np.float16)
    if kl is not None and kl.min() == 0:
        assert torch.all(out[1] == 0) and torch.all(torch.isinf(lse[1]))
    out0, _ = one_pass(*plan.call.arrays)
    assert_close(out.double().cpu().numpy(), out0.double().cpu().numpy(),
                 np.float16)


WGMMA_CASES = [
    # B, Hq, Hkv, Sq, Skv, D, Dv, options
    (1, 2, 2, 300, 300, 128, 128, dict()),                       # odd length
    (2, 8, 2, 129, 777, 128, 128, dict(causal=True)),            # GQA 4:1
    (1, 4, 1, 200, 200, 64, 64, dict(causal=True)),              # MQA, D 64
    (1, 2, 2, 257, 300, 96, 96, dict(window=(100, 0))),          # D 96
    (2, 2, 2, 130, 140, 64, 64, dict(window=(9, 5), softcap=20.0)),
    (2, 2, 1, 150, 401, 128, 64, dict(kv_lengths=[0, 233],       # Dv 64,
                                      causal=True)),             # empty rows
    (1, 2, 2, 65, 65, 32, 48, dict()),                           # 1 row over
    (1, 2, 2, 100, 1, 16, 16, dict()),                           # one key
    # 144 row blocks: more than one wave of blocks on an H100 (132).
    (2, 8, 2, 1100, 1100, 64, 64, dict(causal=True)),
    # K/V of 8.4 MB a head: causal blocks go in groups of 2 KV heads (4 q
    # heads), the last group smaller (q heads 4-5).
    (1, 6, 3, 200, 16411, 128, 128, dict(causal=True)),
    # Unmasked D 64 over more than a wave (by default the short-loop
    # tiling; the 256-row and two-block ones where the tests ask), GQA 2:1.
    (1, 8, 4, 1000, 1000, 64, 64, dict()),
    # Unmasked D 64 over at most 1024 keys: 128-row blocks, one resident a
    # multiprocessor, taking 256 items (two or more a block on an H100),
    # GQA 4:1, fewer keys than queries.
    (4, 8, 2, 1000, 700, 64, 64, dict()),
    # The same shape with kv lengths: an empty batch (rows of 0), a full
    # one, a length inside a key tile.
    (3, 8, 8, 300, 1024, 64, 64, dict(kv_lengths=[0, 1024, 517])),
]


@cuda
@pytest.mark.parametrize("case", range(len(WGMMA_CASES)))
@pytest.mark.parametrize("layout", ["contiguous", "bshd", "offset"])
def test_attention_wgmma(torch, case, layout):
    """The sm_90a warpgroup-MMA kernel (the default for bf16 prefill on
    chip=sm_90a: TMA boxes with zero fill past each (batch, head)'s rows,
    the K/V ring, masks, GQA, kv_lengths with fully masked rows, softcap,
    the LSE); inputs contiguous, as [B, S, H, D] storage seen through a
    transpose (strided tensor maps), or starting 2 bytes into their
    allocation (off the 16-byte boundary a tensor map needs: the call
    copies them first). Against float64 on the rounded
    inputs, the mma.sync kernel (attention-wgmma=0) and torch's SDPA."""
    if torch.cuda.get_device_capability()[0] != 9:
        pytest.skip("wgmma needs sm_90a")
    B, Hq, Hkv, Sq, Skv, D, Dv, opts = WGMMA_CASES[case]
    opts = dict(opts)
    r = rng(3100 + case)
    q, k, v = (bf16_in_layout(torch, r, shape, layout) for shape in
               ((B, Hq, Sq, D), (B, Hkv, Skv, D), (B, Hkv, Skv, Dv)))
    kv_lengths = opts.pop("kv_lengths", None)
    kl = np.array(kv_lengths, np.int32) if kv_lengths is not None else None
    klt = None if kl is None else dev(torch, kl)
    out, lse = seqc.attention(q, k, v, return_lse=True, kv_lengths=klt, **opts)
    out_ref, lse_ref = ref.attention(*(x.double().cpu().numpy() for x in (q, k, v)),
                                     kv_lengths=kl, **opts)
    assert_close(out.double().cpu().numpy(), out_ref, np.float16)
    assert_close(lse.cpu().numpy(), lse_ref, np.float16)
    if kl is not None:
        assert torch.all(out[0] == 0) and torch.all(torch.isinf(lse[0]))
    plan = seqc.ops._attention_plan(
        q, k, v, opts.get("causal", False), opts.get("window", (-1, -1)),
        None, opts.get("softcap"), klt, None, None, False)
    mma = seqc.compile(plan.text(), target="cuda",
                       options="attention-wgmma=0")["main"](*plan.call.arrays)
    assert_close(out.double().cpu().numpy(), mma.double().cpu().numpy(),
                 np.float16)
    if kl is None and opts.get("window") is None and "softcap" not in opts:
        G = Hq // Hkv
        sdpa = torch.nn.functional.scaled_dot_product_attention(
            q.double(), k.double().repeat_interleave(G, dim=1),
            v.double().repeat_interleave(G, dim=1),
            is_causal=False, attn_mask=None if not opts.get("causal") else
            (torch.arange(Skv, device="cuda")[None, :] <=
             torch.arange(Sq, device="cuda")[:, None] + (Skv - Sq)))
        assert_close(out.double().cpu().numpy(), sdpa.cpu().numpy(), np.float16)


def check_wgmma_case(torch, case, seed, options):
    """WGMMA_CASES[case] compiled with `options` (the LSE returned), on
    sm_90a, against float64 on the rounded inputs."""
    if torch.cuda.get_device_capability()[0] != 9:
        pytest.skip("wgmma needs sm_90a")
    B, Hq, Hkv, Sq, Skv, D, Dv, opts = WGMMA_CASES[case]
    opts = dict(opts)
    r = rng(seed)
    q = bf16_tensor(torch, randn(r, (B, Hq, Sq, D)))
    k = bf16_tensor(torch, randn(r, (B, Hkv, Skv, D)))
    v = bf16_tensor(torch, randn(r, (B, Hkv, Skv, Dv)))
    kv_lengths = opts.pop("kv_lengths", None)
    kl = np.array(kv_lengths, np.int32) if kv_lengths is not None else None
    klt = None if kl is None else dev(torch, kl)
    plan = seqc.ops._attention_plan(
        q, k, v, opts.get("causal", False), opts.get("window", (-1, -1)),
        None, opts.get("softcap"), klt, None, None, True)
    fn = seqc.compile(plan.text(), target="cuda", options=options)["main"]
    out, lse = fn(*plan.call.arrays)
    out_ref, lse_ref = ref.attention(*(x.double().cpu().numpy() for x in (q, k, v)),
                                     kv_lengths=kl, **opts)
    assert_close(out.double().cpu().numpy(), out_ref, np.float16)
    assert_close(lse.cpu().numpy(), lse_ref, np.float16)


@cuda
@pytest.mark.parametrize("case", range(len(WGMMA_CASES)))
@pytest.mark.parametrize("options", [
    "attention-tile-q=192", "attention-tile-q=256",
    "attention-tile-q=256 attention-wgmma-persistent=5"])
def test_attention_wgmma_wide_rows(torch, case, options):
    """attention-tile-q=192 and 256: blocks of 192 or 256 query rows on
    three or four consumer warpgroups (head dims up to 64; wider ones, and
    bands four cannot hold, stay on two), also persistent, against float64
    on the rounded inputs, with the LSE."""
    check_wgmma_case(torch, case, 3300 + case, options)


@cuda
@pytest.mark.parametrize("case", range(len(WGMMA_CASES)))
@pytest.mark.parametrize("options", [
    "attention-wgmma-blocks-per-sm=2",
    "attention-wgmma-blocks-per-sm=2 attention-tile-kv=32",
    "attention-wgmma-blocks-per-sm=2 attention-wgmma-stages=2"])
def test_attention_wgmma_two_blocks(torch, case, options):
    """attention-wgmma-blocks-per-sm=2: two blocks of two consumer
    warpgroups on a multiprocessor (80 registers at entry, 104 after
    setmaxnreg; 48-key tiles by default) where the head dims are at most 64
    and nothing is masked, one block a multiprocessor otherwise; against
    float64 on the rounded inputs, with the LSE."""
    check_wgmma_case(torch, case, 3500 + case, options)


@cuda
@pytest.mark.parametrize("case", range(len(WGMMA_CASES)))
@pytest.mark.parametrize("options", [
    "attention-wgmma-persistent=3", "attention-wgmma-persistent=132",
    "attention-wgmma-persistent=5 attention-tile-q=192",
    "attention-wgmma-persistent=7 attention-wgmma-stages=2"])
def test_attention_wgmma_persistent(torch, case, options):
    """attention-wgmma-persistent=N: N resident blocks take the (batch,
    head, row block) items in turn, the K/V ring's uses counting on across
    a block's items and Q reloaded once the consumers released it: 3, 5
    and 7 blocks (many items each, the ring wrapping mid-item), 132 (one
    wave of an H100; few cases have more items), with 192-row blocks and 2
    stages; against float64 on the rounded inputs, with the LSE."""
    check_wgmma_case(torch, case, 3400 + case, options)


@cuda
@pytest.mark.parametrize("options", ["attention-tile-kv=64",
                                     "attention-tile-kv=144",
                                     "attention-tile-kv=176",
                                     "attention-tile-kv=96 attention-tile-q=192",
                                     "attention-wgmma-stages=3",
                                     "attention-wgmma-stages=4 attention-tile-kv=64"])
def test_attention_wgmma_window_tiles(torch, options):
    """A window with key tiles other than the default 128: 64 keys on the
    wgmma kernel; 144, 176 and 96 (tiles that do not divide the 128-row
    blocks: on the wgmma kernel they never finished on an H100) on
    mma.sync instead; 192-row blocks asked for with a window take two
    consumers. Against float64 on the rounded inputs."""
    if torch.cuda.get_device_capability()[0] != 9:
        pytest.skip("wgmma needs sm_90a")
    r = rng(3400)
    B, H, S, D, W = 1, 2, 700, 128, 300
    q, k, v = (bf16_tensor(torch, randn(r, (B, H, S, D))) for _ in range(3))
    plan = seqc.ops._attention_plan(q, k, v, False, (W - 1, 0), None, None,
                                    None, None, None, False)
    fn = seqc.compile(plan.text(), target="cuda", options=options)["main"]
    out = fn(*plan.call.arrays)
    out_ref, _ = ref.attention(*(x.double().cpu().numpy() for x in (q, k, v)),
                               window=(W - 1, 0))
    assert_close(out.double().cpu().numpy(), out_ref, np.float16)


TMA_COPY = """
!tile = memref<32x16xf32, #gpu.address_space<workgroup>>
!map = !nvgpu.tensormap.descriptor<tensor = !tile, swizzle = none, l2promo = none, oob = zero, interleave = none>
!bar = !nvgpu.mbarrier.group<memorySpace = #gpu.address_space<workgroup>>
func.func @main(%x: tensor<ROWSxCOLSxf32>) -> tensor<64x48xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %c128 = arith.constant 128 : index
  %m = bufferization.to_buffer %x read_only : tensor<ROWSxCOLSxf32> to memref<ROWSxCOLSxf32, strided<[?, ?], offset: ?>>
  %u = memref.cast %m : memref<ROWSxCOLSxf32, strided<[?, ?], offset: ?>> to memref<*xf32>
  %desc = nvgpu.tma.create.descriptor %u box[%c32, %c16] : memref<*xf32> -> !map
  %out = memref.alloc() : memref<64x48xf32>
  %shbytes = arith.constant 2176 : i32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c2, %gy = %c3, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c128, %sy = %c1, %sz = %c1) dynamic_shared_memory_size %shbytes {
    %dyn = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
    %base = memref.extract_aligned_pointer_as_index %dyn : memref<?xi8, #gpu.address_space<workgroup>> -> index
    %c127 = arith.constant 127 : index
    %neg = arith.subi %c0, %base : index
    %pad = arith.andi %neg, %c127 : index
    %smem = memref.view %dyn[%pad][] : memref<?xi8, #gpu.address_space<workgroup>> to !tile
    %bar = nvgpu.mbarrier.create -> !bar
    %first = arith.cmpi eq, %tx, %c0 : index
    %row0 = arith.muli %bx, %c32 : index
    %col0 = arith.muli %by, %c16 : index
    scf.if %first {
      nvgpu.mbarrier.init %bar[%c0], %c1 : !bar
    }
    gpu.barrier
    scf.if %first {
      %bytes = arith.constant 2048 : index
      nvgpu.tma.async.load %desc[%col0, %row0], %bar[%c0] to %smem : !map, !bar -> !tile
      nvgpu.mbarrier.arrive.expect_tx %bar[%c0], %bytes : !bar
    }
    %ticks = arith.constant 10000000 : index
    %phase = arith.constant false
    nvgpu.mbarrier.try_wait.parity %bar[%c0], %phase, %ticks : !bar
    %c512 = arith.constant 512 : index
    scf.for %e = %tx to %c512 step %c128 {
      %r = arith.divui %e, %c16 : index
      %c = arith.remui %e, %c16 : index
      %v = memref.load %smem[%r, %c] : !tile
      %gr = arith.addi %row0, %r : index
      %gc = arith.addi %col0, %c : index
      memref.store %v, %out[%gr, %gc] : memref<64x48xf32>
    }
    gpu.terminator
  }
  %t = bufferization.to_tensor %out restrict writable : memref<64x48xf32> to tensor<64x48xf32>
  return %t : tensor<64x48xf32>
}
"""


def tma_copy_module(rows, cols):
    return seqc.compile(TMA_COPY.replace("ROWS", str(rows))
                        .replace("COLS", str(cols)), target="cuda",
                        options="chip=sm_90a")


@cuda
def test_tensor_map_encoding_and_tma_load(torch):
    """The runtime's tensor-map encoding (mgpuTensorMapEncodeTiledMemref,
    what nvgpu.tma.create.descriptor lowers to) drives TMA loads: 32x16
    boxes of a [64, 48] f32 tensor through shared memory, whole, from an
    offset view of a larger tensor (the map starts at the view), and with
    the box past the end of a smaller tensor (zero fill); a row stride the
    hardware cannot take is the driver's error, raised."""
    if torch.cuda.get_device_capability()[0] < 9:
        pytest.skip("TMA needs sm_90")
    r = rng(77)
    x = dev(torch, randn(r, (64, 48)))
    out = tma_copy_module(64, 48)["main"](x)
    assert torch.equal(out, x)
    # An offset, 16-byte-aligned view: rows 8..72 of a [80, 48] tensor.
    big = dev(torch, randn(r, (80, 48)))
    out = tma_copy_module(64, 48)["main"](big[8:72])
    assert torch.equal(out, big[8:72])
    # A [50, 40] tensor: the boxes past its end are zero-filled.
    small = dev(torch, randn(r, (50, 40)))
    out = tma_copy_module(50, 40)["main"](small)
    expect = torch.zeros(64, 48, device="cuda")
    expect[:50, :40] = small
    assert torch.equal(out, expect)
    # Rows of 47 floats (188 bytes): not a multiple of 16, refused.
    with pytest.raises(seqc.SeqcError, match="cuTensorMapEncodeTiled"):
        tma_copy_module(64, 47)["main"](dev(torch, randn(r, (64, 47))))


@cuda
def test_misaligned_and_strided_device_views(torch):
    """Views off a 16-byte boundary, or with a non-unit innermost stride, are
    copied to aligned contiguous buffers before the kernels read them 16
    bytes at a time: same result as the contiguous tensors."""
    r = rng(1990)
    shape = (1, 4, 45, 64)
    n = int(np.prod(shape))
    q, k, v = (randn(r, shape) for _ in range(3))
    def odd(x):   # starts 2 bytes into its allocation
        base = torch.empty(n + 1, device="cuda", dtype=torch.bfloat16)
        t = base[1:].view(shape)
        t.copy_(bf16_tensor(torch, x))
        return t
    qo, ko, vo = odd(q), odd(k), odd(v)
    assert qo.data_ptr() % 16 != 0
    got = seqc.attention(qo, ko, vo, causal=True)
    want = seqc.attention(qo.contiguous().clone(), ko.clone(), vo.clone(),
                          causal=True)
    assert torch.equal(got, want)
    kt = bf16_tensor(torch, k).transpose(-1, -2).contiguous().transpose(-1, -2)
    got_t = seqc.attention(bf16_tensor(torch, q), kt, bf16_tensor(torch, v))
    want_t = seqc.attention(bf16_tensor(torch, q), bf16_tensor(torch, k),
                            bf16_tensor(torch, v))
    assert torch.equal(got_t, want_t)
    # Rows of wider rows (a slice of the head dim, row stride 129 or 65
    # elements): the kernels' 16-byte reads (cp.async on the tensor cores,
    # vector K/V rows in decoding) would be misaligned; the view is copied.
    for Sq, Skv, D in ((45, 45, 64), (1, 3001, 128)):
        qn, kn, vn = (randn(r, (1, 8 if s == Sq else 2, s, D))
                      for s in (Sq, Skv, Skv))
        wide = [torch.zeros(x.shape[:-1] + (D + 1,), device="cuda",
                            dtype=torch.bfloat16) for x in (qn, kn, vn)]
        views = []
        for w, x in zip(wide, (qn, kn, vn)):
            w[..., :D] = bf16_tensor(torch, x)
            views.append(w[..., :D])
        assert not views[1].is_contiguous() and views[1].stride(-2) == D + 1
        got = seqc.attention(*views)
        want = seqc.attention(*[v.contiguous() for v in views])
        assert torch.equal(got, want)
    # Through the C API (no copy on the way): a clear error.
    text = seqc.ops.mlir_text("attention", qn, kn, vn)
    m = seqc.compile(text, target="cuda")
    name = list(m)[0]
    out = torch.empty(qn.shape, device="cuda", dtype=torch.float32)
    from seqc._core import DeviceArray
    f32 = [w.float()[..., :D] for w in wide]
    with pytest.raises(seqc.SeqcError, match="not a multiple of 16 bytes"):
        m._backend.invoke(name, [DeviceArray(x) for x in f32] +
                          [DeviceArray(out)])


@cuda
def test_attention_segments_and_fully_masked_rows(torch):
    r = rng(950)
    B, H, S, D = 2, 2, 40, 16
    q, k, v = (randn(r, (B, H, S, D)) for _ in range(3))
    qs = np.repeat(np.arange(4), 10)[None].repeat(B, 0).astype(np.int64)
    ks = qs.copy()
    ks[1, :] = 7          # batch 1: no key shares a segment: fully masked
    out, lse = seqc.attention(dev(torch, q), dev(torch, k), dev(torch, v),
                              q_segment_ids=dev(torch, qs),
                              kv_segment_ids=dev(torch, ks), causal=True,
                              return_lse=True)
    out_ref, lse_ref = ref.attention(q, k, v, causal=True, q_segment_ids=qs,
                                     kv_segment_ids=ks)
    assert_close(out.cpu().numpy(), out_ref, np.float32)
    assert_close(lse.cpu().numpy(), lse_ref, np.float32)
    assert torch.all(out[1] == 0) and torch.all(torch.isinf(lse[1]))


class ForeignGpuArray:
    """A DLPack producer on the GPU that is not a torch tensor (as a CuPy
    or JAX array is): only __dlpack__ and __dlpack_device__."""

    def __init__(self, tensor):
        self._tensor = tensor

    def __dlpack__(self, stream=None, **kwargs):
        return self._tensor.__dlpack__(stream=stream)

    def __dlpack_device__(self):
        return self._tensor.__dlpack_device__()


@cuda
def test_any_dlpack_gpu_producer(torch):
    """Non-torch DLPack arrays on the GPU go in zero-copy (the same device
    pointer) to functional ops and compiled functions; results are torch
    CUDA tensors."""
    r = rng(991)
    x, w = dev(torch, randn(r, (6, 40))), dev(torch, uniform(r, 0.5, 1.5, (40,)))
    fx, fw = ForeignGpuArray(x), ForeignGpuArray(w)
    assert seqc._core.DeviceArray(fx).ptr == x.data_ptr()
    got = seqc.rms_norm(fx, fw)
    assert isinstance(got, torch.Tensor) and got.is_cuda
    assert torch.equal(got, seqc.rms_norm(x, w))
    module = seqc.compile(
        "func.func @main(%x: tensor<6x40xf32>, %w: tensor<40xf32>) -> "
        "tensor<6x40xf32> {\n  %y = seq.rms_norm %x, %w : tensor<6x40xf32>, "
        "tensor<40xf32> -> tensor<6x40xf32>\n  return %y : tensor<6x40xf32>\n}",
        target="cuda")
    assert torch.equal(module["main"](fx, fw), got)


@cuda
@pytest.mark.parametrize("dtype", ["bf16", "f16"])
def test_attention_low_precision(torch, dtype):
    r = rng(960)
    q, k, v = randn(r, (2, 8, 77, 64)), randn(r, (2, 2, 77, 64)), randn(r, (2, 2, 77, 64))
    conv = (lambda x: bf16_tensor(torch, x)) if dtype == "bf16" else \
        (lambda x: dev(torch, x.astype(np.float16)))
    qt, kt, vt = conv(q), conv(k), conv(v)
    out = seqc.attention(qt, kt, vt, causal=True)
    assert out.dtype == qt.dtype
    out_ref, _ = ref.attention(qt.double().cpu().numpy(), kt.double().cpu().numpy(),
                               vt.double().cpu().numpy(), causal=True)
    assert_close(out.double().cpu().numpy(), out_ref, np.float16)


# ---------------------------------------------------------------------------
# scans and recurrences
# ---------------------------------------------------------------------------

@cuda
@pytest.mark.parametrize("shape,dim,reverse,with_h0", [
    ((3, 1000), -1, False, True), ((513, 7), 0, True, False),
    ((2, 33, 5), 1, False, True), ((4, 1), -1, True, False),
    # The block scan along the last dim: several tiles of 2048 steps, a
    # partial last tile, reversed, rows of rank 3, a row shorter than a warp.
    ((2, 5000), -1, True, True), ((2, 3, 4097), -1, False, False),
    ((7, 19), -1, False, True)])
def test_linear_recurrence(torch, shape, dim, reverse, with_h0):
    r = rng(970 + len(shape))
    a = uniform(r, 0.9, 1.0, shape)
    b = randn(r, shape)
    state = list(shape)
    del state[dim]
    h0 = randn(r, tuple(state)) if with_h0 else None
    h, last = seqc.linear_recurrence(dev(torch, a), dev(torch, b),
                                     h0=None if h0 is None else dev(torch, h0),
                                     dim=dim, reverse=reverse)
    h_ref, last_ref = ref.linear_recurrence(a, b, h0=h0, dim=dim, reverse=reverse)
    assert_close(h.cpu().numpy(), h_ref, np.float32)
    assert_close(last.cpu().numpy(), last_ref, np.float32)


@cuda
@pytest.mark.parametrize("steps", [2, 4, 8])
@pytest.mark.parametrize("layout", ["contiguous", "row_slice", "offset"])
@pytest.mark.parametrize("reverse", [False, True])
def test_linear_recurrence_vector_steps(torch, steps, layout, reverse):
    """The block scan's C steps a thread (gpu-scan-steps) read as one vector
    of a and of b where C·4 bytes are 8 or 16 and C divides the row (C = 2,
    4; 8 reads scalars), with the next tile's loads in flight during the
    scan: a partial last tile (4104 = 4·1024 + 8 steps at C = 4), reversed;
    inputs contiguous, slices of wider rows (row strides of 16-byte
    multiples, read in place) or off a 16-byte boundary (copied first);
    against float64."""
    r = rng(990 + steps)
    B, L = 3, 4104
    a_np = uniform(r, 0.9, 1.0, (B, L))
    b_np = randn(r, (B, L))
    h0 = randn(r, (B,))

    def place(x):
        t = dev(torch, x)
        if layout == "row_slice":
            wide = torch.zeros(B, L + 12, device="cuda", dtype=t.dtype)
            wide[:, 4:L + 4] = t
            t = wide[:, 4:L + 4]
            assert not t.is_contiguous()
        elif layout == "offset":
            base = torch.empty(t.numel() + 1, device="cuda", dtype=t.dtype)
            t = base[1:].view(t.shape).copy_(t)
            assert t.data_ptr() % 16 != 0
        return t

    text = seqc.ops.mlir_text("linear_recurrence", a_np, b_np, h0=h0, dim=-1,
                              reverse=reverse)
    m = seqc.compile(text, target="cuda", options="gpu-scan-steps=%d" % steps)
    h, last = m[list(m)[0]](place(a_np), place(b_np), dev(torch, h0))
    h_ref, last_ref = ref.linear_recurrence(a_np, b_np, h0=h0, dim=-1,
                                            reverse=reverse)
    assert_close(h.cpu().numpy(), h_ref, np.float32)
    assert_close(last.cpu().numpy(), last_ref, np.float32)


@cuda
@pytest.mark.parametrize("combiner,exclusive,reverse", [
    ("add", False, False), ("max", True, True), ("mul", False, True)])
def test_scan(torch, combiner, exclusive, reverse):
    r = rng(980)
    x = uniform(r, 0.9, 1.1, (5, 77)) if combiner == "mul" else randn(r, (5, 77))
    init = [np.full((5,), 0.5 if combiner != "max" else -1.0, np.float32)]
    outs = seqc.scan(combiner, dev(torch, x), dim=1, reverse=reverse,
                     exclusive=exclusive,
                     initial=[dev(torch, i) for i in init] if exclusive else None)
    fn = {"add": np.add, "max": np.maximum, "mul": np.multiply}[combiner]
    ys, carries = ref.scan(lambda l, rr: (fn(l[0], rr[0]),), [f64(x)], dim=1,
                           reverse=reverse, exclusive=exclusive,
                           initial=[f64(i) for i in init] if exclusive else None)
    assert_close(outs[0].cpu().numpy(), ys[0], np.float32)
    assert_close(outs[1].cpu().numpy(), carries[0], np.float32)


@cuda
@pytest.mark.parametrize("extras", [False, True])
def test_selective_scan(torch, extras):
    r = rng(990 + extras)
    Bt, D, L, N, G = 2, 48, 37, 16, 2
    u, delta = randn(r, (Bt, D, L)), uniform(r, 0.01, 0.2, (Bt, D, L))
    A = -uniform(r, 0.5, 2.0, (D, N))
    Bm, Cm = randn(r, (Bt, G, N, L)), randn(r, (Bt, G, N, L))
    kw = {}
    if extras:
        kw = dict(D=randn(r, (D,)), z=randn(r, (Bt, D, L)),
                  delta_bias=uniform(r, -0.5, 0.5, (D,)), delta_softplus=True)
    y, last = seqc.selective_scan(
        dev(torch, u), dev(torch, delta), dev(torch, A), dev(torch, Bm),
        dev(torch, Cm), return_last_state=True,
        **{k_: (dev(torch, v_) if isinstance(v_, np.ndarray) else v_)
           for k_, v_ in kw.items()})
    y_ref, last_ref = ref.selective_scan(u, delta, A, Bm, Cm, **kw)
    assert_close(y.cpu().numpy(), y_ref, np.float32)
    assert_close(last.cpu().numpy(), last_ref, np.float32)


def selective_scan_inputs(r, D, G, N, L):
    """Random selective-scan inputs (batch 2, D channels, G groups, N
    states, L steps) with every extra (D, z, delta bias and softplus) and a
    channel with A = 0 (decay exactly 1): (u, delta, A, B, C), the extras."""
    Bt = 2
    u, delta = randn(r, (Bt, D, L)), uniform(r, 0.01, 0.2, (Bt, D, L))
    A = -uniform(r, 0.5, 2.0, (D, N))
    A[3] = 0.0
    Bm, Cm = randn(r, (Bt, G, N, L)), randn(r, (Bt, G, N, L))
    kw = dict(D=randn(r, (D,)), z=randn(r, (Bt, D, L)),
              delta_bias=uniform(r, -0.5, 0.5, (D,)), delta_softplus=True)
    return (u, delta, A, Bm, Cm), kw


def selective_scan_with_extras(torch, r, N, L):
    """selective_scan_inputs for 40 channels in 2 groups, the op's plan
    returning the last state, and its arrays on the GPU."""
    (u, delta, A, Bm, Cm), kw = selective_scan_inputs(r, 40, 2, N, L)
    plan = seqc.ops._PLANS["selective_scan"](u, delta, A, Bm, Cm,
                                             return_last_state=True, **kw)
    args = [dev(torch, a) for a in plan.call.arrays]
    return (u, delta, A, Bm, Cm), kw, plan, args


@cuda
@pytest.mark.parametrize("split,L,bc", [(0, 237, 2), (16, 237, 2), (40, 237, 2),
                                        (1000, 237, 2), (0, 240, 2), (16, 240, 2),
                                        (40, 240, 4), (1000, 240, 4),
                                        (40, 240, 1)])
def test_selective_scan_time_split(torch, split, L, bc):
    """selective-scan-time-split=S: time in splits of S steps (rounded up to
    16) scanned in parallel, carries composed, splits rescanned. 237 steps
    (no multiple of the split), groups, every extra, a channel with A = 0
    (decay exactly 1) and the last state; against float64 and against the
    unsplit kernel. 0: the lowering's choice (3 splits of 80 here); 1000 >=
    L: no split at all. 240 steps (a multiple of 4): B and C read as
    vectors of bc steps (selective-scan-bc-steps; 1: a load per step)."""
    (u, delta, A, Bm, Cm), kw, plan, args = selective_scan_with_extras(
        torch, rng(995), 16, L)
    name = None
    outs = {}
    unsplit = "selective-scan-time-split=100000 selective-scan-bc-steps=1"
    for options in ("selective-scan-time-split=%d selective-scan-bc-steps=%d"
                    % (split, bc), unsplit):
        m = seqc.compile(plan.text(), target="cuda", options=options)
        name = name or list(m)[0]
        outs[options] = [t.cpu().numpy() for t in m[name](*args)]
    y, last = outs["selective-scan-time-split=%d selective-scan-bc-steps=%d"
                   % (split, bc)]
    y_ref, last_ref = ref.selective_scan(u, delta, A, Bm, Cm, **kw)
    assert_close(y, y_ref, np.float32)
    assert_close(last, last_ref, np.float32)
    np.testing.assert_allclose(y, outs[unsplit][0], rtol=1e-4, atol=1e-4)


@cuda
@pytest.mark.parametrize("lanes,N,split,L,bc", [
    (2, 16, 0, 237, 2), (4, 16, 16, 240, 4), (4, 16, 1000, 240, 2),
    (8, 16, 40, 237, 1), (16, 16, 0, 240, 2),
    # 8 lanes do not divide N = 12: 4 of 3 states; 16 lanes over N = 6: 2.
    (8, 12, 0, 240, 2), (16, 6, 1000, 237, 1)])
def test_selective_scan_state_lanes(torch, lanes, N, split, L, bc):
    """selective-scan-state-lanes: neighbouring lanes share a channel, each
    with N / lanes of its states, y summed over them by shuffles; the
    chunk's Δ (biased, softplus'ed) and gate (silu'ed) computed once as
    staged. With time splits (the local pass's states and ΣΔ per lane),
    without, vector and scalar B/C loads, groups, every extra, A = 0 on a
    channel, 40 channels (a partial block), the last state; against
    float64 and against one lane a channel."""
    (u, delta, A, Bm, Cm), kw, plan, args = selective_scan_with_extras(
        torch, rng(997), N, L)
    outs = []
    for n_lanes in (lanes, 1):
        m = seqc.compile(plan.text(), target="cuda", options=(
            "selective-scan-state-lanes=%d selective-scan-time-split=%d "
            "selective-scan-bc-steps=%d" % (n_lanes, split, bc)))
        outs.append([t.cpu().numpy() for t in m[list(m)[0]](*args)])
    (y, last), (y1, last1) = outs
    y_ref, last_ref = ref.selective_scan(u, delta, A, Bm, Cm, **kw)
    assert_close(y, y_ref, np.float32)
    assert_close(last, last_ref, np.float32)
    np.testing.assert_allclose(y, y1, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(last, last1, rtol=1e-4, atol=1e-4)


@cuda
@pytest.mark.parametrize("dtype,N,L,split,strided,D,G,poly,lanes", [
    ("f32", 16, 240, 0, False, 40, 1, 0, 0),     # the compiler's time splits
    ("f32", 16, 240, 1000, True, 40, 1, 0, 0),   # no split; u, delta, z slices of wider rows
    ("f32", 6, 52, 16, False, 40, 1, 0, 0),      # N 6: scalar B/C reads; a last chunk of 4
    ("f32", 16, 4, 0, False, 40, 1, 0, 0),       # one group of 4 steps
    ("bf16", 16, 72, 0, False, 40, 1, 0, 0),     # bf16 u, delta, z, y (8 a copy)
    ("f32", 16, 240, 0, False, 64, 2, 0, 0),     # 2 groups of 32 channels (a block each)
    ("f32", 16, 240, 0, False, 40, 2, 0, 0),     # groups of 20: blocks span two (not pipelined)
    ("f32", 16, 240, 0, False, 40, 1, 4, 0),     # 4 states' decay by the polynomial
    ("f32", 6, 52, 1000, False, 40, 1, 16, 0),   # every state's (more than N asked)
    # Lengths that are no multiple of 4: rows element by element, steps past
    # the end masked (delta bias and softplus would move the state there).
    ("f32", 16, 237, 0, False, 40, 1, 0, 0),     # the compiler's time splits
    ("f32", 16, 237, 1000, True, 40, 1, 0, 0),   # no split, strided rows
    ("f32", 6, 51, 16, False, 40, 1, 0, 0),      # splits of 16, a last step alone
    ("f32", 16, 3, 0, False, 40, 1, 0, 0),       # 3 steps
    ("bf16", 16, 71, 0, False, 40, 1, 0, 0),     # bf16 odd rows: not pipelined
    # 4 lanes a channel: a group's y sums reduced transposed (lane l ends
    # with step l's), with the splits, odd lengths, strided and bf16 rows.
    ("f32", 16, 240, 0, False, 40, 1, 0, 4),
    ("f32", 16, 237, 1000, True, 40, 1, 0, 4),
    ("f32", 16, 51, 16, False, 40, 1, 0, 4),
    ("bf16", 16, 72, 1000, False, 40, 1, 0, 4),
])
def test_selective_scan_pipelined(torch, dtype, N, L, split, strided, D, G,
                                  poly, lanes):
    """The pipelined selective-scan kernels (the default where a lane holds
    a channel, B and C are f32, rows are whole 16-byte vectors and a
    32-channel block lies in one group): u, delta and z by cp.async into
    two buffers, B and C transposed into [step][state], y out 4 steps a
    vector; with selective-scan-poly-exp, some states' decay 2^x by a
    polynomial on the FMA pipe; with 4 lanes a channel, y reduced
    transposed. 40 channels (a partial block), every
    extra, A = 0 on a channel (decay exactly 1), the last state; outputs
    poisoned; against float64 and against the chunk-at-a-time kernels
    (selective-scan-pipelined=0)."""
    (u, delta, A, Bm, Cm), kw = selective_scan_inputs(rng(1001), D, G, N, L)

    def on_gpu(x, rowwise):
        t = dev(torch, x) if dtype == "f32" or not rowwise else bf16_tensor(torch, x)
        if strided and rowwise:
            # Rows 16-byte aligned (as the runtime requires of strided
            # inputs), 4 elements in.
            width = (t.shape[-1] + 12 + 7) // 8 * 8
            wide = torch.full(t.shape[:-1] + (width,), float("nan"),
                              dtype=t.dtype, device="cuda")
            wide[..., 4:4 + t.shape[-1]] = t
            t = wide[..., 4:4 + t.shape[-1]]
            assert not t.is_contiguous()
        return t

    args = dict(u=on_gpu(u, True), delta=on_gpu(delta, True), A=dev(torch, A),
                B=dev(torch, Bm), C=dev(torch, Cm), D=dev(torch, kw["D"]),
                z=on_gpu(kw["z"], True),
                delta_bias=dev(torch, kw["delta_bias"]))
    plan = seqc.ops._PLANS["selective_scan"](
        args["u"], args["delta"], args["A"], args["B"], args["C"],
        D=args["D"], z=args["z"], delta_bias=args["delta_bias"],
        delta_softplus=True, return_last_state=True)
    outs = []
    for pipelined in (1, 0):
        m = seqc.compile(plan.text(), target="cuda", options=(
            "selective-scan-pipelined=%d selective-scan-time-split=%d "
            "selective-scan-poly-exp=%d selective-scan-state-lanes=%d"
            % (pipelined, split, poly, lanes)))
        y, last = m[list(m)[0]](*plan.call.arrays)
        outs.append((y.float().cpu().numpy(), last.cpu().numpy()))
    (y, last), (y0, last0) = outs
    if dtype == "bf16":
        # The reference on the inputs as the kernel saw them (bf16).
        u, delta, kw["z"] = (args[k].float().cpu().numpy().astype(np.float64)
                             for k in ("u", "delta", "z"))
    y_ref, last_ref = ref.selective_scan(u, delta, A, Bm, Cm, **kw)
    tol = 1e-2 if dtype == "bf16" else None
    assert_close(y, y_ref, np.float32, tol=tol)
    assert_close(last, last_ref, np.float32)
    np.testing.assert_allclose(y, y0, rtol=1e-4 if tol is None else 1e-2,
                               atol=1e-4 if tol is None else 1e-2)
    np.testing.assert_allclose(last, last0, rtol=1e-4, atol=1e-4)


@cuda
@pytest.mark.parametrize("L", [64, 67])
def test_selective_scan_softplus_and_silu_over_their_range(torch, L):
    """The GPU scan's softplus and silu run on the special-function unit
    (ex2, lg2, rcp; a series where 1 + e^-|x| would lose the small term):
    delta pre-activations over [-20, 20] (softplus's both branches and both
    tails) and z over [-40, 40], against float64 at the f32 bound; vector
    (L 64) and scalar (L 67) loads of B and C."""
    r = rng(996)
    Bt, D, N = 2, 48, 16
    u = randn(r, (Bt, D, L))
    delta = uniform(r, -20.0, 20.0, (Bt, D, L))
    delta[0, :, ::5] = uniform(r, -4.0, -1.5, (D, len(range(0, L, 5))))
    A = -uniform(r, 0.05, 0.5, (D, N))
    Bm, Cm = randn(r, (Bt, 1, N, L)), randn(r, (Bt, 1, N, L))
    z = uniform(r, -40.0, 40.0, (Bt, D, L))
    kw = dict(D=randn(r, (D,)), z=z, delta_softplus=True)
    y, last = seqc.selective_scan(*[dev(torch, a) for a in (u, delta, A, Bm, Cm)],
                                  return_last_state=True,
                                  **{k_: dev(torch, v_) if isinstance(v_, np.ndarray) else v_
                                     for k_, v_ in kw.items()})
    y_ref, last_ref = ref.selective_scan(u, delta, A, Bm, Cm, **kw)
    assert_close(y.cpu().numpy(), y_ref, np.float32)
    assert_close(last.cpu().numpy(), last_ref, np.float32)


@cuda
@pytest.mark.parametrize("gate", [None, "key", "scalar"])
@pytest.mark.parametrize("dims", [(2, 3, 29, 16, 24), (1, 2, 13, 6, 5),
                                  (1, 2, 19, 64, 24), (1, 1, 70, 128, 128),
                                  (1, 2, 11, 8, 600), (1, 1, 9, 128, 520)])
def test_gated_linear_attention(torch, gate, dims):
    """The GPU kernel's cases: K 16 (one group of rows, vector reads of
    the staged tiles), K 6 (scalar reads), K 64 and 128 (2 and 4 groups of
    32 rows whose parts of q.s meet in shared memory; 512 threads a block
    at V 128), V 600 (two blocks of columns per head), K 128 with V 520 (5
    blocks of 128 columns); lengths that end inside a chunk."""
    r = rng(1000)
    Bt, H, T, K, V = dims
    q, k, v = randn(r, (Bt, H, T, K)), randn(r, (Bt, H, T, K)), randn(r, (Bt, H, T, V))
    g = None
    if gate == "key":
        g = -uniform(r, 0.01, 0.5, (Bt, H, T, K))
    elif gate == "scalar":
        g = -uniform(r, 0.01, 0.5, (Bt, H, T))
    s0 = randn(r, (Bt, H, K, V))
    o, s = seqc.gated_linear_attention(
        dev(torch, q), dev(torch, k), dev(torch, v),
        g=None if g is None else dev(torch, g), initial_state=dev(torch, s0),
        output_final_state=True)
    o_ref, s_ref = ref.gated_linear_attention(q, k, v, g=g, initial_state=s0)
    assert_close(o.cpu().numpy(), o_ref, np.float32)
    assert_close(s.cpu().numpy(), s_ref, np.float32)


# ---------------------------------------------------------------------------
# layer helpers
# ---------------------------------------------------------------------------

@cuda
def test_rms_norm_rope_conv(torch):
    r = rng(1010)
    x, w = randn(r, (3, 5, 300)), uniform(r, 0.5, 1.5, (300,))
    assert_close(seqc.rms_norm(dev(torch, x), dev(torch, w)).cpu().numpy(),
                 ref.rms_norm(x, w), np.float32)
    xr = randn(r, (2, 3, 19, 64))
    for interleaved in (False, True):
        for pos in (np.arange(19) * 7, np.arange(38).reshape(2, 19)):
            got = seqc.rope(dev(torch, xr), dev(torch, pos.astype(np.int64)),
                            interleaved=interleaved)
            assert_close(got.cpu().numpy(),
                         ref.rope(xr, pos, interleaved=interleaved), np.float32)
    xc, wc, bc = randn(r, (2, 24, 45)), randn(r, (24, 4)), randn(r, (24,))
    for act in (None, "silu"):
        got = seqc.causal_conv1d(dev(torch, xc), dev(torch, wc), dev(torch, bc),
                                 activation=act)
        assert_close(got.cpu().numpy(),
                     ref.causal_conv1d(xc, wc, bc, activation=act), np.float32)


# ---------------------------------------------------------------------------
# compiled modules: NumPy staging, recurrence bodies, examples, streams
# ---------------------------------------------------------------------------

@cuda
def test_compiled_module_with_numpy_arrays_and_lstm_body():
    sys.path.insert(0, HERE)
    from test_recurrence import lstm_module, sigmoid, run_cell
    B, T, I, H = 3, 17, 12, 20
    m = seqc.compile(lstm_module(B, T, I, H), target="cuda")
    assert m.target == "cuda"
    r = rng(1020)
    h0, c0 = randn(r, (B, H)), randn(r, (B, H))
    x = randn(r, (T, B, I))
    w, u = randn(r, (I, 4 * H)) * 0.3, randn(r, (H, 4 * H)) * 0.3
    ys, h, c = m.lstm(h0, c0, x, w, u)       # NumPy in, NumPy out

    def cell(states, xt):
        hp, cp = states
        gg = xt @ f64(w) + hp @ f64(u)
        i, f, cc, o = (gg[:, j * H:(j + 1) * H] for j in range(4))
        cn = sigmoid(f) * cp + sigmoid(i) * np.tanh(cc)
        hn = sigmoid(o) * np.tanh(cn)
        return [hn, cn], [hn]

    (ys_ref,), (h_ref, c_ref) = run_cell(cell, f64(x), [f64(h0), f64(c0)], 0, False)
    assert isinstance(ys, np.ndarray)
    assert_close(ys, ys_ref, np.float32)
    assert_close(h, h_ref, np.float32)
    assert_close(c, c_ref, np.float32)


def _example(name):
    """(function name, inputs, float64 reference output) of an example
    block, with the example runner's realistic inputs (A < 0, ...)."""
    sys.path.insert(0, os.path.join(REPO, "examples"))
    import run_examples
    ex = run_examples.prepare(name)
    inputs = run_examples.make_inputs(ex)
    return ex.func, list(inputs.values()), run_examples.reference(ex, inputs)


@cuda
@pytest.mark.parametrize("name", ["llama_block", "llama_block_unfused", "mamba_block", "gla_block"])
def test_example_blocks_on_gpu(torch, name):
    """Whole blocks (seq kernels plus the blocks' own linalg ops mapped to
    the GPU) against the independent float64 NumPy models."""
    func, args, want = _example(name)
    gpu = seqc.compile(os.path.join(REPO, "examples", name + ".mlir"),
                       target="cuda")
    got = gpu[func](*[dev(torch, a) for a in args])
    assert_close(got.cpu().numpy(), want, np.float32, tol=1e-4)
    got_host = gpu[func](*args)                      # NumPy staged
    assert_close(got_host, want, np.float32, tol=1e-4)


@cuda
def test_runs_on_the_current_stream(torch):
    r = rng(1040)
    a, b = uniform(r, 0.5, 1.0, (64, 4096)), randn(r, (64, 4096))
    s = torch.cuda.Stream()
    with torch.cuda.stream(s):
        at, bt = dev(torch, a), dev(torch, b)
        h, _ = seqc.linear_recurrence(at, bt)
        h2 = h * 2                       # ordered after seqc's kernels on s
    s.synchronize()
    h_ref, _ = ref.linear_recurrence(a, b)
    assert_close(h2.cpu().numpy(), 2 * h_ref, np.float32)


@cuda
def test_calls_on_device_tensors_are_asynchronous(torch, monkeypatch):
    """A call on CUDA tensors queues its kernels on the current stream and
    returns, as a torch op does: behind a 200 ms sleep kernel the stream is
    still busy when the call returns, and the result is right once it
    drains. SEQC_CUDA_SYNC=1 makes the call wait (the stream is idle when
    it returns), as CUDA_LAUNCH_BLOCKING=1 does. NumPy inputs always wait
    (their results are copied back)."""
    r = rng(1045)
    a, b = uniform(r, 0.5, 1.0, (8, 512)), randn(r, (8, 512))
    at, bt = dev(torch, a), dev(torch, b)
    h_ref, _ = ref.linear_recurrence(a, b)
    seqc.linear_recurrence(at, bt)              # compiled before the timing
    torch.cuda.synchronize()
    cycles = int(torch.cuda.get_device_properties(0).clock_rate * 1e3 * 0.2)
    stream = torch.cuda.current_stream()
    for sync in ("0", "1"):
        monkeypatch.setenv("SEQC_CUDA_SYNC", sync)
        torch.cuda._sleep(cycles)
        h, _ = seqc.linear_recurrence(at, bt)
        assert stream.query() == (sync == "1")
        assert_close(h.cpu().numpy(), h_ref, np.float32)
    monkeypatch.setenv("SEQC_CUDA_SYNC", "0")
    m = seqc.compile(seqc.ops.mlir_text("linear_recurrence", a, b), target="cuda")
    torch.cuda._sleep(cycles)
    h, _ = m[list(m)[0]](a, b)                  # NumPy: copied back
    assert stream.query()
    assert_close(h, h_ref, np.float32)


@cuda
def test_fast_path_for_ready_cuda_tensors(torch):
    """A call on contiguous, aligned CUDA tensors of the signature's dtypes
    and shapes takes the short path (checks by attribute reads, then a
    runner with buffers built once per thread and device); anything else
    takes the general path, with the same results and the same errors."""
    r = rng(1046)
    a, b = uniform(r, 0.5, 1.0, (8, 512)), randn(r, (8, 512))
    m = seqc.compile(seqc.ops.mlir_text("linear_recurrence", a, b), target="cuda")
    f = m[list(m)[0]]
    h_ref, _ = ref.linear_recurrence(a, b)
    at, bt = dev(torch, a), dev(torch, b)
    h, last = f(at, bt)
    assert isinstance(f._fast, tuple)            # the plan was made
    assert_close(h.cpu().numpy(), h_ref, np.float32)
    raw = f._fast_buffers()[0]
    assert raw[0].data == at.data_ptr() and raw[2].data == h.data_ptr()
    # The general path: a transposed copy's view, a host array, a grad
    # tensor; then errors.
    bt_view = dev(torch, np.ascontiguousarray(b.T)).T
    assert not bt_view.is_contiguous()
    for args in ((at, bt_view), (at, b), (at, bt.clone().requires_grad_())):
        h2, _ = f(*args)
        assert_close(np.asarray(h2.detach().cpu() if hasattr(h2, "cpu") else h2),
                     h_ref, np.float32)
    with pytest.raises(TypeError, match="expected dtype"):
        f(at, bt.double())
    with pytest.raises(ValueError, match="expected shape"):
        f(at, bt[:4])
    # A call on another thread makes that thread's runner (buffers of its
    # own), with the same result.
    other = []
    worker = threading.Thread(target=lambda: other.append(f(at, bt)))
    worker.start()
    worker.join()
    assert torch.equal(other[0][0], h)
    # The runner of a closed module steps aside; the call says why.
    m.close()
    with pytest.raises(seqc.SeqcError, match="its module was closed"):
        f(at, bt)


@cuda
def test_functional_op_repeats_take_the_short_route(torch):
    """seqc.attention on torch CUDA tensors remembers, per (dtypes, shapes,
    devices, arguments), the function it ran: a repeat calls it without the
    checks and the plan, with the same result; another key (causal, a
    shape) or an optional tensor (kv_lengths) goes the whole way."""
    r = rng(1047)
    q, k, v = (bf16_tensor(torch, randn(r, (1, 8, s, 64))) for s in (1, 300, 300))
    seqc.ops.clear_cache()
    first = seqc.attention(q, k, v)
    assert len(seqc.ops._tensor_calls) == 1
    (run, fn), = seqc.ops._tensor_calls.values()
    assert run is not None  # the keyed runner, bound to this thread
    again = seqc.attention(q, k, v)
    assert torch.equal(first, again)
    # A repeat on another thread (whose buffers the runner does not hold)
    # takes that thread's own, with the same result.
    other = []
    worker = threading.Thread(target=lambda: other.append(
        seqc.attention(q, k, v)))
    worker.start()
    worker.join()
    assert torch.equal(other[0], first)
    # A repeat of the key whose tensors fail the short route's other
    # checks (a strided view; a view 2 bytes off a 16-byte boundary) goes
    # the general way, with the same result.
    k_strided = k.transpose(1, 2).contiguous().transpose(1, 2)
    assert not k_strided.is_contiguous()
    assert torch.equal(seqc.attention(q, k_strided, v), first)
    store = torch.empty(v.numel() + 1, dtype=v.dtype, device=v.device)
    v_off = store[1:].view(v.shape)
    v_off.copy_(v)
    assert v_off.data_ptr() % 16 != 0
    assert torch.equal(seqc.attention(q, k, v_off), first)
    assert len(seqc.ops._tensor_calls) == 1
    causal, lse = seqc.attention(q, k, v, causal=True, return_lse=True)
    assert len(seqc.ops._tensor_calls) == 2
    causal2, lse2 = seqc.attention(q, k, v, causal=True, return_lse=True)
    assert torch.equal(causal, causal2) and torch.equal(lse, lse2)
    lengths = torch.tensor([300], dtype=torch.int32, device="cuda")
    with_lengths = seqc.attention(q, k, v, kv_lengths=lengths)
    assert len(seqc.ops._tensor_calls) == 2
    assert torch.equal(with_lengths, first)
    want, _ = ref.attention(*(x.float().cpu().numpy() for x in (q, k, v)))
    assert_close(again.float().cpu().numpy(), want, np.float16)
    with pytest.raises(ValueError, match="head dim"):
        seqc.attention(q, k[..., :32], v)


@cuda
def test_attention_tensor_maps_follow_their_tensors(torch):
    """The runtime keeps each tensor map (the wgmma kernel's TMA
    descriptors) by what it was encoded from (address, shape, strides,
    box): a call on the same tensors reuses them and reads the tensors'
    new contents; the same storage seen with other strides, or a copy at
    another address, gets maps of its own. Against float64 on the rounded
    inputs, outputs poisoned."""
    if torch.cuda.get_device_capability()[0] != 9:
        pytest.skip("wgmma needs sm_90a")
    r = rng(1060)
    shape = (1, 2, 200, 64)
    q, v = (bf16_tensor(torch, randn(r, shape)) for _ in range(2))
    base = bf16_tensor(torch, randn(r, (2 * 200 * 64,)))
    k = base.view(shape)                                # contiguous
    k_t = base.view(1, 200, 2, 64).transpose(1, 2)      # same address

    def check(out, k):
        want, _ = ref.attention(*(x.float().cpu().numpy() for x in (q, k, v)))
        assert_close(out.float().cpu().numpy(), want, np.float16)

    first = seqc.attention(q, k, v)
    check(first, k)
    base.mul_(-1.5)  # the same tensors, new contents
    second = seqc.attention(q, k, v)
    check(second, k)
    assert not torch.equal(first, second)
    assert k_t.data_ptr() == k.data_ptr()
    check(seqc.attention(q, k_t, v), k_t)
    k_copy = k.clone()
    base.zero_()
    assert torch.equal(seqc.attention(q, k_copy, v), second)
    check(seqc.attention(q, k, v), k)


@cuda
def test_functional_scans_repeats_take_the_short_route(torch):
    """seqc.selective_scan (B and C 4-D) and seqc.linear_recurrence on
    torch CUDA tensors remember the function they ran: a repeat calls it
    directly with the same result; other extras, flags or shapes go the
    whole way under keys of their own; 3-D B and C (reshaped by the op)
    always go the whole way."""
    r = rng(1048)
    Bt, D, L, N = 2, 32, 24, 4
    u, delta = randn(r, (Bt, D, L)), uniform(r, 0.01, 0.2, (Bt, D, L))
    A = -uniform(r, 0.5, 2.0, (D, N))
    Bm, Cm = randn(r, (Bt, 1, N, L)), randn(r, (Bt, 1, N, L))
    z = randn(r, (Bt, D, L))
    t = [dev(torch, x) for x in (u, delta, A, Bm, Cm)]
    zt = dev(torch, z)
    seqc.ops.clear_cache()
    first = seqc.selective_scan(*t)
    assert len(seqc.ops._tensor_calls) == 1
    assert torch.equal(first, seqc.selective_scan(*t))
    gated, last = seqc.selective_scan(*t, z=zt, return_last_state=True)
    assert len(seqc.ops._tensor_calls) == 2
    gated2, last2 = seqc.selective_scan(*t, z=zt, return_last_state=True)
    assert torch.equal(gated, gated2) and torch.equal(last, last2)
    y_ref, last_ref = ref.selective_scan(u, delta, A, Bm, Cm, z=z)
    assert_close(gated2.cpu().numpy(), y_ref, np.float32)
    assert_close(last2.cpu().numpy(), last_ref, np.float32)
    three = seqc.selective_scan(t[0], t[1], t[2], t[3][:, 0], t[4][:, 0])
    assert len(seqc.ops._tensor_calls) == 2
    assert torch.equal(three, first)
    a, b = uniform(r, 0.5, 1.0, (3, 40)), randn(r, (3, 40))
    h, h_last = seqc.linear_recurrence(dev(torch, a), dev(torch, b))
    assert len(seqc.ops._tensor_calls) == 3
    h2, h_last2 = seqc.linear_recurrence(dev(torch, a), dev(torch, b))
    assert torch.equal(h, h2) and torch.equal(h_last, h_last2)
    h_rev, _ = seqc.linear_recurrence(dev(torch, a), dev(torch, b),
                                      reverse=True)
    assert len(seqc.ops._tensor_calls) == 4
    want, _ = ref.linear_recurrence(a, b, reverse=True)
    assert_close(h_rev.cpu().numpy(), want, np.float32)
    with pytest.raises(ValueError, match="b must have"):
        seqc.linear_recurrence(dev(torch, a), dev(torch, b)[:, :20])


@cuda
def test_errors_on_the_gpu(torch):
    r = rng(1050)
    # Host operands of a GPU call are copied to the device.
    qn = randn(r, (1, 2, 8, 16))
    q = dev(torch, qn)
    out = seqc.attention(q, qn, q)
    assert out.is_cuda
    assert_close(out.cpu().numpy(), ref.attention(qn, qn, qn)[0], np.float32)
    m = seqc.compile("""
    func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
      %h, %l = seq.linear_recurrence %x, %x {dim = 0 : i64} : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>, tensor<f32>
      return %h : tensor<4xf32>
    }""", target="cpu")
    with pytest.raises(ValueError, match="compiled for the cpu target"):
        m.f(dev(torch, np.ones(4, np.float32)))


@cuda
@pytest.mark.parametrize("case", ["decode_gqa", "lengths_segments", "few_keys",
                                  "partial_row_chunk", "gqa_8_window"])
def test_attention_split_keys(torch, case):
    """attention-split-keys (decoding: each query row's keys split across
    warps, a warp taking up to 4 rows of one KV head's group; partial
    softmaxes combined; on by default): against float64 and against the
    unsplit kernel (attention-split-keys=0), with GQA, kv_lengths (0
    included: fully masked rows), segment ids, softcap, windows, head dims
    the lanes do not divide, groups of rows the warps do not divide, key
    counts the 8-key steps do not divide, and the lse."""
    r = rng(1200)
    kwargs = {}
    if case == "decode_gqa":
        B, Hq, Hkv, Sq, Skv, D = 2, 16, 4, 1, 4096, 128
        kwargs = dict(causal=True, kv_lengths=np.array([4096, 1537], np.int32))
    elif case == "lengths_segments":
        B, Hq, Hkv, Sq, Skv, D = 3, 4, 2, 2, 777, 64
        kwargs = dict(causal=True, softcap=5.0,
                      kv_lengths=np.array([777, 0, 129], np.int32),
                      q_segment_ids=r.integers(0, 3, (B, Sq)).astype(np.int32),
                      kv_segment_ids=r.integers(0, 3, (B, Skv)).astype(np.int32))
    elif case == "partial_row_chunk":
        # 3 heads x 2 queries = 6 rows per KV head: a warp of 4, then one
        # of 2; head dim 80 (lanes 16-31 hold no third dim).
        B, Hq, Hkv, Sq, Skv, D = 2, 6, 2, 2, 1003, 80
        kwargs = dict(causal=True, kv_lengths=np.array([1003, 64], np.int32))
    elif case == "gqa_8_window":
        B, Hq, Hkv, Sq, Skv, D = 1, 16, 2, 3, 2051, 64
        kwargs = dict(window=(300, 0), softcap=20.0)
    else:
        B, Hq, Hkv, Sq, Skv, D = 1, 2, 1, 1, 100, 32
    q = randn(r, (B, Hq, Sq, D))
    k = randn(r, (B, Hkv, Skv, D))
    v = randn(r, (B, Hkv, Skv, D))
    text = seqc.ops.mlir_text("attention", q, k, v, return_lse=True, **kwargs)
    split = seqc.compile(text, target="cuda", options="attention-split-keys=1")
    plain = seqc.compile(text, target="cuda", options="attention-split-keys=0")
    name = list(split)[0]
    extra = [kwargs[n] for n in ("kv_lengths", "q_segment_ids", "kv_segment_ids")
             if n in kwargs]
    args = [dev(torch, x) for x in [q, k, v] + extra]
    out, lse = split[name](*args)
    out0, lse0 = plain[name](*args)
    check_attention_and_lse(out, lse, q, k, v, kwargs)
    np.testing.assert_allclose(out.cpu().numpy(), out0.cpu().numpy(), rtol=1e-5, atol=1e-5)


def check_attention_and_lse(out, lse, q, k, v, kwargs):
    """out and lse (CUDA tensors) against float64, -inf lse where no key is
    visible."""
    want, want_lse = ref.attention(f64(q), f64(k), f64(v), **kwargs)
    assert_close(out.cpu().numpy(), want, np.float32)
    got_lse = lse.cpu().numpy()
    assert np.array_equal(np.isinf(got_lse), np.isinf(want_lse))
    finite = np.isfinite(want_lse)
    np.testing.assert_allclose(got_lse[finite], want_lse[finite], rtol=1e-5, atol=1e-4)


@cuda
@pytest.mark.parametrize("options,D", [
    # The scalar rows and xor sums (vector rows and transposed sums are
    # the defaults).
    ("attention-decode-vector=0 attention-decode-transpose=0", 64),
    ("attention-decode-vector=0 attention-decode-transpose=0 "
     "attention-decode-rows=3 attention-decode-keys=4", 128),
    ("attention-decode-rows=3 attention-decode-keys=1", 48),
    ("attention-decode-rows=8 attention-decode-keys=16", 48),
    ("attention-decode-rows=1 attention-decode-keys=2", 48),
    # Vector rows: 2 and 4 dims a lane; 48 falls back to a load per dim.
    ("attention-decode-vector=1", 64),
    ("attention-decode-vector=1 attention-decode-rows=3 attention-decode-keys=4", 128),
    ("attention-decode-vector=1", 48),
    # Transposed warp sums: 6 rows x 8 keys (48 scores, padded to 64), 3 x 4
    # (12, padded to 16), 6 x 16 (96 padded to 128: 4 sums a lane).
    ("attention-decode-transpose=1", 64),
    ("attention-decode-transpose=1 attention-decode-vector=1 "
     "attention-decode-rows=3 attention-decode-keys=4", 128),
    ("attention-decode-transpose=1 attention-decode-rows=8 attention-decode-keys=16", 48)])
def test_attention_split_keys_tilings(torch, options, D):
    """The split-key kernel's tuning knobs (query rows of a KV head per
    warp, keys per step, vector loads of K/V rows, transposed warp sums)
    change the schedule, not the result: 6 rows per KV head (GQA 3:1, 2
    queries), causal, kv_lengths with a fully masked batch, against
    float64."""
    r = rng(1210)
    B, Hq, Hkv, Sq, Skv = 3, 6, 2, 2, 517
    kwargs = dict(causal=True, kv_lengths=np.array([517, 0, 33], np.int32))
    q, k, v = (randn(r, (B, h, s, D)) for h, s in ((Hq, Sq), (Hkv, Skv), (Hkv, Skv)))
    text = seqc.ops.mlir_text("attention", q, k, v, return_lse=True, **kwargs)
    m = seqc.compile(text, target="cuda", options=options)
    out, lse = m[list(m)[0]](*[dev(torch, x) for x in (q, k, v, kwargs["kv_lengths"])])
    check_attention_and_lse(out, lse, q, k, v, kwargs)


@cuda
def test_device_out_of_memory_is_an_error(torch):
    """An intermediate of 4 TiB cannot be allocated on any GPU: the call
    fails with the driver's out-of-memory message, and the module (and the
    GPU) stay usable."""
    from test_errors import HUGE_SUM
    m = seqc.compile("func.func @f" + HUGE_SUM, target="cuda")
    x = torch.ones(4, device="cuda")
    with pytest.raises(seqc.SeqcError, match="(?i)out of memory"):
        m.f(x)
    out = seqc.attention(dev(torch, randn(rng(1), (1, 1, 4, 8))),
                         dev(torch, randn(rng(2), (1, 1, 4, 8))),
                         dev(torch, randn(rng(3), (1, 1, 4, 8))))
    assert out.is_cuda and bool(torch.isfinite(out).all())


@cuda
def test_scalar_reduction_is_one_kernel(torch):
    """A reduction to a scalar (a sequential loop after bufferization) runs
    as one one-thread kernel, not a host loop of a launch per element; the
    sum is exact for small integers."""
    n = 100003
    m = seqc.compile("""
    func.func @f(%%x: tensor<%dxf32>) -> tensor<f32> {
      %%z = arith.constant 0.0 : f32
      %%e = tensor.empty() : tensor<f32>
      %%acc = linalg.fill ins(%%z : f32) outs(%%e : tensor<f32>) -> tensor<f32>
      %%s = linalg.reduce ins(%%x : tensor<%dxf32>) outs(%%acc : tensor<f32>) dimensions = [0]
        (%%a: f32, %%b: f32) {
          %%r = arith.addf %%a, %%b : f32
          linalg.yield %%r : f32
        }
      return %%s : tensor<f32>
    }""" % (n, n), target="cuda")
    x = np.arange(n, dtype=np.float32) % 7
    assert float(m.f(x)) == float(x.astype(np.float64).sum())


@cuda
def test_long_host_loop_of_launches(torch):
    """A host loop of 40000 steps, each a kernel launch (a running sum down
    the rows): each launch's argument array is allocated once, not once per
    step (which overflowed the stack after some 10^4 steps)."""
    steps = 40000
    m = seqc.compile("""
    func.func @f(%%x: tensor<%dx8xf32>) -> tensor<%dx8xf32> {
      %%c1 = arith.constant 1 : index
      %%n = arith.constant %d : index
      %%r = scf.for %%t = %%c1 to %%n step %%c1 iter_args(%%acc = %%x) -> tensor<%dx8xf32> {
        %%p = arith.subi %%t, %%c1 : index
        %%prev = tensor.extract_slice %%acc[%%p, 0] [1, 8] [1, 1] : tensor<%dx8xf32> to tensor<8xf32>
        %%cur = tensor.extract_slice %%acc[%%t, 0] [1, 8] [1, 1] : tensor<%dx8xf32> to tensor<8xf32>
        %%s = linalg.add ins(%%prev, %%cur : tensor<8xf32>, tensor<8xf32>) outs(%%cur : tensor<8xf32>) -> tensor<8xf32>
        %%u = tensor.insert_slice %%s into %%acc[%%t, 0] [1, 8] [1, 1] : tensor<8xf32> into tensor<%dx8xf32>
        scf.yield %%u : tensor<%dx8xf32>
      }
      return %%r : tensor<%dx8xf32>
    }""" % ((steps,) * 9), target="cuda")
    x = (np.arange(steps * 8, dtype=np.float32).reshape(steps, 8) % 3) - 1
    np.testing.assert_array_equal(m.f(x), np.cumsum(x.astype(np.float64), 0))


@cuda
def test_ahead_of_time_cuda_library(torch, tmp_path):
    """An AOT CUDA library (made here if the seqc tool exists, else the one
    the GPU bundle carries) runs through ctypes alone."""
    so = os.environ.get("SEQC_AOT_CUDA_LIBRARY")
    if not so:
        tool = os.path.join(REPO, "build", "bin", "seqc")
        if not os.path.exists(tool):
            pytest.skip("no seqc tool and no SEQC_AOT_CUDA_LIBRARY")
        so = str(tmp_path / "mamba.so")
        subprocess.run([tool, os.path.join(REPO, "examples", "mamba_block.mlir"),
                        "--options=target=cuda", "-o", so], check=True)
    m = seqc.load(so)
    assert m.target == "cuda"
    func, args, want = _example("mamba_block")
    got_numpy = m[func](*args)                       # staged host arrays
    got_torch = m[func](*[dev(torch, a) for a in args])
    assert_close(got_numpy, want, np.float32, tol=1e-4)
    assert_close(got_torch.cpu().numpy(), want, np.float32, tol=1e-4)


# ---------------------------------------------------------------------------
# Without a GPU (runs everywhere): clear errors, never a crash
# ---------------------------------------------------------------------------

def test_cuda_target_without_a_gpu_is_a_clear_error():
    ok, why = seqc.cuda_available()
    if ok:
        pytest.skip("a GPU answers here")
    assert "CUDA" in why or "cuda" in why
    with pytest.raises(seqc.SeqcError, match="no CUDA driver|no GPU|CUDA"):
        seqc.compile(os.path.join(REPO, "examples", "mamba_block.mlir"),
                     target="cuda")
    # "auto" falls back to the CPU.
    m = seqc.compile(os.path.join(REPO, "examples", "mamba_block.mlir"))
    assert m.target == "cpu"


def test_cuda_library_without_a_gpu_is_a_clear_error(tmp_path):
    ok, _ = seqc.cuda_available()
    if ok:
        pytest.skip("a GPU answers here")
    tool = os.path.join(REPO, "build", "bin", "seqc")
    if not os.path.exists(tool):
        pytest.skip("no seqc tool")
    so = str(tmp_path / "norm.so")
    subprocess.run([tool, os.path.join(REPO, "examples", "mamba_block.mlir"),
                    "--options=target=cuda chip=sm_80", "-o", so], check=True)
    with pytest.raises(seqc.SeqcError, match="no CUDA driver|no GPU"):
        seqc.load(so)


def test_cuda_compile_options_are_checked():
    """Option errors come before any GPU is needed."""
    text = open(os.path.join(REPO, "examples", "mamba_block.mlir")).read()
    for bad, what in [("gpu-scan-steps=0", "gpu-scan-steps"),
                      ("chip=volta", "chip"),
                      ("chip=sm_75", "sm_80 or newer"),
                      ("gpu-format=elf", "gpu-format"),
                      ("attention-tile-q=96", "attention-tile-q' must be 64, 128, 192 or 256"),
                      ("attention-tile-kv=40", "attention-tile-kv. must be a multiple of 16"),
                      ("attention-wgmma=2", "attention-wgmma' must be 0 or 1"),
                      ("attention-wgmma-stages=5", "attention-wgmma-stages' needs an integer in \\[2, 4\\]"),
                      ("attention-decode-rows=9", "attention-decode-rows' needs an integer in \\[1, 8\\]"),
                      ("attention-decode-rows=x", "attention-decode-rows"),
                      ("attention-decode-keys=3", "attention-decode-keys' must be 1, 2, 4, 8 or 16"),
                      ("attention-decode-blocks=-1", "attention-decode-blocks' needs an integer in \\[0, 65536\\]"),
                      ("attention-decode-tma=1", "attention-decode-tma' must be -1 \\(the kernel's choice\\), 0 \\(off\\) or 2 to 8 stages"),
                      ("selective-scan-time-split=-4", "selective-scan-time-split' needs a non-negative"),
                      ("attention-decode-vector=2", "attention-decode-vector' must be 0 or 1"),
                      ("selective-scan-bc-steps=3", "selective-scan-bc-steps' must be 1, 2 or 4"),
                      ("selective-scan-state-lanes=3", "selective-scan-state-lanes' must be 0 \\(the compiler's choice\\), 1, 2, 4, 8 or 16"),
                      ("selective-scan-poly-exp=-1", "selective-scan-poly-exp' needs an integer"),
                      ("selective-scan-pipelined=2", "selective-scan-pipelined' must be 0 or 1"),
                      ("attention-wgmma-persistent=-2", "attention-wgmma-persistent' needs an integer in \\[-1, 4096\\]"),
                      ("attention-wgmma-blocks-per-sm=3", "attention-wgmma-blocks-per-sm' needs 0, 1 or 2"),
                      ("attention-decode-transpose=x", "attention-decode-transpose' must be 0 or 1")]:
        with pytest.raises(seqc.SeqcError, match=what):
            seqc.compile(text, target="cuda", options=bad)
    # GPU-only options have no effect on the CPU (one options string serves
    # target=auto) but a bad value is an error there too.
    seqc.compile(text, target="cpu",
                 options="attention-decode-keys=4 selective-scan-time-split=64")
    with pytest.raises(seqc.SeqcError, match="attention-decode-keys' must be"):
        seqc.compile(text, target="cpu", options="attention-decode-keys=3")
