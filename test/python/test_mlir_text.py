"""The MLIR text the functional ops generate parses and verifies.

Runs every op's text generator (seqc.ops.mlir_text: the same code path as the
ops, without compiling) on argument combinations that cover every optional
operand, attribute and result, and pipes the text through seqc-opt
(build/bin/seqc-opt, or $SEQC_OPT). Needs no seqc library.

As a script, prints all the texts, separated by `// -----`:

    python3 test/python/test_mlir_text.py | build/bin/seqc-opt --split-input-file
"""

import os
import subprocess
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
if __name__ == "__main__":
    sys.path.insert(0, os.path.join(REPO, "python"))

from seqc.ops import mlir_text  # noqa: E402

F32, F16, I32, I64 = np.float32, np.float16, np.int32, np.int64


def z(*shape, dtype=F32):
    return np.zeros(shape, dtype)


def cases():
    """(id, op, args, kwargs)."""
    q, k, v = z(2, 8, 3, 16), z(2, 2, 33, 16), z(2, 2, 33, 8)
    yield "attention_plain", "attention", (z(1, 1, 1, 8),) * 3, {}
    yield "attention_f16_causal_lse", "attention", \
        (z(2, 4, 17, 16, dtype=F16),) * 3, dict(causal=True, return_lse=True)
    yield "attention_all", "attention", (q, k, v), dict(
        causal=True, window=(16, 0), scale=0.125, softcap=1e-3,
        kv_lengths=z(2, dtype=I32), q_segment_ids=z(2, 3, dtype=I64),
        kv_segment_ids=z(2, 33, dtype=I64), return_lse=True)
    yield "attention_window_mixed_ids", "attention", (q, k, v), dict(
        window=(-1, 3), scale=1e-30, q_segment_ids=z(2, 3, dtype=I32),
        kv_segment_ids=z(2, 33, dtype=I64), kv_lengths=[33, 0])
    yield "linear_recurrence", "linear_recurrence", (z(2, 3, 7), z(2, 3, 7)), {}
    yield "linear_recurrence_h0_reverse_f16", "linear_recurrence", \
        (z(2, 3, 7, dtype=F16), z(2, 3, 7, dtype=F16)), \
        dict(h0=z(2, 7, dtype=F16), dim=-2, reverse=True)
    yield "linear_recurrence_1d", "linear_recurrence", (z(1), z(1)), dict(h0=z())
    u, A, B = z(2, 64, 33), z(64, 16), z(2, 4, 16, 33)
    yield "selective_scan", "selective_scan", (u, u, A, B, B), {}
    yield "selective_scan_all", "selective_scan", (u, u, A, B, B), dict(
        D=z(64), z=u, delta_bias=z(64), delta_softplus=True,
        return_last_state=True)
    yield "selective_scan_f16_rank3_bc", "selective_scan", \
        (z(2, 8, 5, dtype=F16), z(2, 8, 5, dtype=F16), A[:8],
         z(2, 16, 5), z(2, 16, 5)), dict(return_last_state=True)
    gq, gv = z(2, 4, 9, 32), z(2, 4, 9, 16)
    yield "gla", "gated_linear_attention", (gq, gq, gv), {}
    yield "gla_vector_gate_init_final", "gated_linear_attention", (gq, gq, gv), \
        dict(g=z(2, 4, 9, 32), initial_state=z(2, 4, 32, 16), scale=1.0,
             output_final_state=True)
    yield "gla_scalar_gate_f16", "gated_linear_attention", \
        (gq.astype(F16), gq.astype(F16), gv.astype(F16)), \
        dict(g=z(2, 4, 9), output_final_state=True)
    x, w = z(2, 64, 33), z(64, 4)
    yield "causal_conv1d", "causal_conv1d", (x, w), {}
    yield "causal_conv1d_bias_silu", "causal_conv1d", (x, w), \
        dict(bias=z(64), activation="silu")
    yield "causal_conv1d_f16", "causal_conv1d", \
        (x.astype(F16), w.astype(F16)), dict(bias=z(64), activation="swish")
    yield "rms_norm", "rms_norm", (z(2, 3, 33), z(33)), {}
    yield "rms_norm_f16_eps", "rms_norm", (z(5, dtype=F16), z(5)), dict(eps=1e-5)
    yield "rms_norm_eps0", "rms_norm", (z(2, 3), z(3)), dict(eps=0)
    yield "rope", "rope", (z(1, 8, 5, 64), z(5, dtype=I32)), {}
    yield "rope_interleaved_bt", "rope", (z(2, 8, 5, 64, dtype=F16),
                                          z(2, 5, dtype=I64)), \
        dict(theta=500000.0, interleaved=True)
    s = z(4, 17)
    for comb in ("add", "mul", "max", "min"):
        yield "scan_" + comb, "scan", (comb, s), {}
        yield "scan_%s_ints_exclusive" % comb, "scan", \
            (comb, z(3, 5, dtype=I32), z(3, 5, dtype=I64)), \
            dict(dim=0, exclusive=True, reverse=True)
    yield "scan_max_f16_exclusive", "scan", ("max", s.astype(F16)), \
        dict(exclusive=True)
    yield "scan_mixed_initial", "scan", ("add", s, s.astype(F16), s.astype(I32)), \
        dict(initial=[z(4), z(4, dtype=F16), 3])
    yield "scan_linear", "scan", ("linear", s, s), {}
    yield "scan_linear_exclusive", "scan", ("linear", s, s), \
        dict(exclusive=True, dim=0)
    yield "scan_linear_int", "scan", ("linear", s.astype(I64), s.astype(I64)), \
        dict(initial=[1, 0], reverse=True)
    yield "scan_zero_length", "scan", ("min", z(3, 0)), {}
    yield "scan_f64_i8", "scan", ("add", z(3, 4, dtype=np.float64),
                                  z(3, 4, dtype=np.int8)), {}


CASES = list(cases())


def seqc_opt():
    path = os.environ.get("SEQC_OPT") or os.path.join(REPO, "build", "bin",
                                                      "seqc-opt")
    return path if os.path.isfile(path) and os.access(path, os.X_OK) else None


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_generated_mlir_verifies(case):
    name, op, args, kwargs = case
    text = mlir_text(op, *args, **kwargs)
    assert "func.func @main(" in text and ("seq." + op) in text
    tool = seqc_opt()
    if tool is None:
        pytest.skip("seqc-opt not built (build/bin/seqc-opt or $SEQC_OPT)")
    res = subprocess.run([tool, "-", "--verify-roundtrip"], input=text.encode(),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         timeout=60)
    assert res.returncode == 0, "seqc-opt rejected:\n%s\n%s" % (
        text, res.stderr.decode())


if __name__ == "__main__":
    print("\n// -----\n\n".join("// %s\n%s" % (c[0], mlir_text(c[1], *c[2], **c[3]))
                                for c in CASES))
