"""The example blocks (examples/*.mlir) compiled for the CPU and checked
against their float64 NumPy references (examples/reference_models.py),
through the same code path and at the same shapes as the main job
(examples/run_examples.py), without the timing. Each example compiles once.

Also checks the block references' own op implementations against the
op-level references of reference.py, so the two independent float64
implementations agree with each other.
"""

import os
import sys

import numpy as np
import pytest

import reference as ref

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(HERE)), "examples")
if EXAMPLES not in sys.path:
    sys.path.insert(0, EXAMPLES)

import reference_models as models  # noqa: E402
import run_examples  # noqa: E402

NAMES = [os.path.splitext(os.path.basename(p))[0]
         for p in run_examples.example_paths()]

_compiled = {}


def compiled(ex):
    """The seqc module of an example, compiled once per test session."""
    if ex.path not in _compiled:
        _compiled[ex.path] = run_examples.compile_example(ex)
    return _compiled[ex.path]


def test_every_example_has_a_reference():
    assert NAMES, "no examples/*.mlir found"
    for name in NAMES:
        ex = run_examples.prepare(name)
        assert ex.reference is not None, \
            "%s: no reference in reference_models.py" % name
        assert not ex.constant_mismatches(), ex.constant_mismatches()
        run_examples.make_inputs(ex)  # every argument has an initializer


@pytest.mark.needs_library
@pytest.mark.parametrize("name", NAMES)
def test_example_matches_reference(name):
    ex = run_examples.prepare(name)
    row = run_examples.run_example(ex, module=compiled(ex), timing=False)
    assert row["ok"], "%s: %s" % (name, "; ".join(row["why"]))
    assert np.isfinite(row["out"]).all()
    assert row["rel_err"] < 1e-4
    # The residual x must not hide the block: its update is a sizeable part
    # of the output, so the 1e-4 bound also bounds the update's error.
    x = row["inputs"]["x"].astype(np.float64)
    update = np.linalg.norm(row["ref"] - x) / np.linalg.norm(row["ref"])
    assert update > 0.1, "%s: the block's update is only %.3g of the output" \
        % (name, update)
    # a second call on the same module gives the same result
    again = compiled(ex)[ex.func](*row["inputs"].values())
    np.testing.assert_array_equal(again, row["out"])


@pytest.mark.needs_library
def test_unfused_attention_matches_fused_block():
    """The unfused Llama block (raised by seq-raise-attention) and the fused
    one give the same outputs on the same inputs."""
    fused = run_examples.prepare("llama_block")
    unfused = run_examples.prepare("llama_block_unfused")
    inputs = run_examples.make_inputs(fused)
    a = compiled(fused)[fused.func](*inputs.values())
    b = compiled(unfused)[unfused.func](*inputs.values())
    np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-6)


@pytest.mark.needs_library
def test_scan_block_matches_fused_block():
    """The gated linear RNN written with seq.scan (raised by
    seq-raise-scans) and the one written with seq.linear_recurrence give
    the same outputs on the same inputs."""
    fused = run_examples.prepare("lru_block")
    scan = run_examples.prepare("lru_block_scan")
    inputs = run_examples.make_inputs(fused)
    a = compiled(fused)[fused.func](*inputs.values())
    b = compiled(scan)[scan.func](*inputs.values())
    np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------------------
# The block references' ops against reference.py's
# ---------------------------------------------------------------------------

def _rng(seed):
    return np.random.default_rng(seed)


def test_ops_agree_with_op_references():
    r = _rng(0)
    x = r.standard_normal((2, 5, 16))
    w = 1 + 0.1 * r.standard_normal(16)
    np.testing.assert_allclose(models.rms_norm(x, w, 1e-5),
                               ref.rms_norm(x, w, 1e-5), rtol=1e-12)
    np.testing.assert_allclose(models.silu(x), ref.silu(x), rtol=1e-12)
    np.testing.assert_allclose(models.softplus(x), ref.softplus(x), rtol=1e-12)
    np.testing.assert_allclose(models.log_sigmoid(x),
                               -ref.softplus(-x), rtol=1e-12)

    q = r.standard_normal((1, 8, 7, 16))
    pos = np.arange(7, dtype=np.int32)
    np.testing.assert_allclose(models.rope_rotate_half(q, pos, 500000.0),
                               ref.rope(q, pos, theta=500000.0), rtol=1e-12)

    k = r.standard_normal((1, 2, 7, 16))
    v = r.standard_normal((1, 2, 7, 16))
    np.testing.assert_allclose(models.gqa_causal_attention(q, k, v),
                               ref.attention(q, k, v, causal=True)[0],
                               rtol=1e-10, atol=1e-12)

    xc = r.standard_normal((1, 6, 9))
    wc = r.standard_normal((6, 4))
    bc = r.standard_normal(6)
    np.testing.assert_allclose(models.causal_conv1d(xc, wc, bc),
                               ref.causal_conv1d(xc, wc, bc), rtol=1e-12)

    Dc, N, L = 6, 4, 9
    u = r.standard_normal((1, Dc, L))
    dt = r.standard_normal((1, Dc, L))
    A = -np.exp(r.uniform(0, np.log(16), (Dc, N)))
    Bm = r.standard_normal((1, N, L))
    Cm = r.standard_normal((1, N, L))
    D = r.standard_normal(Dc)
    z = r.standard_normal((1, Dc, L))
    dtb = r.standard_normal(Dc)
    np.testing.assert_allclose(
        models.selective_scan(u, dt, A, Bm, Cm, D, z, dtb),
        ref.selective_scan(u, dt, A, Bm, Cm, D=D, z=z, delta_bias=dtb,
                           delta_softplus=True)[0], rtol=1e-10, atol=1e-12)

    qg = r.standard_normal((1, 3, 8, 5))
    kg = r.standard_normal((1, 3, 8, 5))
    vg = r.standard_normal((1, 3, 8, 6))
    g = models.log_sigmoid(r.standard_normal((1, 3, 8, 5)))
    np.testing.assert_allclose(models.gated_linear_attention(qg, kg, vg, g),
                               ref.gated_linear_attention(qg, kg, vg, g)[0],
                               rtol=1e-10, atol=1e-12)


def test_signature_parser():
    text = """
    func.func @f(%a: tensor<2x3xf32>, %pos: tensor<4xi32>,
                 %b: tensor<5xf32>) -> (tensor<2x3xf32>, tensor<7xf32>) {
      return
    }"""
    name, args, results = run_examples.parse_signature(text)
    assert name == "f"
    assert [(a.name, a.shape, a.dtype) for a in args] == [
        ("a", (2, 3), np.float32), ("pos", (4,), np.int32),
        ("b", (5,), np.float32)]
    assert results == [((2, 3), np.float32), ((7,), np.float32)]
