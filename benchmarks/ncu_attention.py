"""One seqc attention call and one SDPA cuDNN call on the same inputs (after
a warm-up of each), for Nsight Compute to profile side by side:

    ncu --section SpeedOfLight --section WarpStateStats \\
        -k regex:'attention|sdpa|fmha' --launch-skip 2 --launch-count 2 \\
        python3 benchmarks/ncu_attention.py --shape 8,16,16,4096,128 [--causal]

The warm-up is two calls each (the skip count above), then one each.
"""
import argparse
import sys


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--shape", default="8,16,16,4096,128",
                   help="B,Hq,Hkv,S,D (default 8,16,16,4096,128)")
    p.add_argument("--causal", action="store_true")
    p.add_argument("--sq", type=int, default=0,
                   help="query rows (default S; 1 for decoding against S keys)")
    p.add_argument("--options", default="",
                   help="seqc compile options (default: the compiler's choice)")
    args = p.parse_args(argv)
    import torch
    import seqc
    from torch.nn.attention import SDPBackend, sdpa_kernel
    F = torch.nn.functional
    B, Hq, Hkv, S, D = (int(x) for x in args.shape.split(","))
    q = torch.randn(B, Hq, args.sq or S, D, device="cuda",
                    dtype=torch.bfloat16)
    k = torch.randn(B, Hkv, S, D, device="cuda", dtype=torch.bfloat16)
    v = torch.randn(B, Hkv, S, D, device="cuda", dtype=torch.bfloat16)
    if args.options:
        plan = seqc.ops._attention_plan(q, k, v, args.causal, (-1, -1), None,
                                        None, None, None, None, False)
        fn = seqc.compile(plan.text(), target="cuda",
                          options=args.options)["main"]
        run = lambda: fn(*plan.call.arrays)  # noqa: E731
    else:
        run = lambda: seqc.attention(q, k, v, causal=args.causal)  # noqa: E731
    for _ in range(3):
        out = run()
    with sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
        for _ in range(3):
            ref = F.scaled_dot_product_attention(q, k, v, is_causal=args.causal,
                                                 enable_gqa=Hq != Hkv)
    torch.cuda.synchronize()
    err = ((out.double() - ref.double()).norm() / ref.double().norm()).item()
    print("rel err seqc vs cuDNN: %.1e" % err)
    return 0 if err < 1e-2 else 1


if __name__ == "__main__":
    sys.exit(main())
