"""Whole models from seqc.models against independent float64 NumPy models.

For every architecture (Llama, GPT-2, Mamba, Mamba-2, GLA, LSTM, GRU) with
random weights in the checkpoint layouts (Hugging Face / PyTorch names,
Linear weights [out, in]), exchanged through a .safetensors file:

- prefill logits match model_references.py (written without seqc) to a
  relative error < 1e-4 (f32 against float64);
- 32 greedy decode steps through @decode (KV cache / recurrent state
  updated in place) pick exactly the tokens the reference picks when it
  recomputes the whole sequence at every step;
- decoding token by token gives the logits of a longer prefill;
- bad weights, tokens and lengths are clear errors.

The same checks run on the GPU (marked cuda) where one answers.
"""

import os
import subprocess

import numpy as np
import pytest

import seqc
import seqc.models as models
from seqc import safetensors

import model_references as ref

pytestmark = pytest.mark.needs_library

NAMES = sorted(ref.MODELS)
BATCH, PROMPT, STEPS, MAX_LEN = 2, 7, 32, 48


def model_config(name):
    return ref.seqc_config(name)


def rel_err(out, want):
    out = np.asarray(out, np.float64)
    return float(np.linalg.norm(out - want) / np.linalg.norm(want))


class Case:
    """A model, its random checkpoint written as .safetensors, a prompt,
    and the reference's logits and greedy tokens."""

    def __init__(self, name, folder):
        self.name = name
        forward, init, _ = ref.MODELS[name]
        self.cfg = ref.CONFIGS[name]
        seed = 1000 + NAMES.index(name)
        self.weights = init(self.cfg, np.random.default_rng(seed))
        self.path = folder / ("%s.safetensors" % name)
        safetensors.save(str(self.path), self.weights, metadata={"arch": name})
        self.model = models.get(name, **model_config(name))
        rng = np.random.default_rng(seed + 1)
        self.prompt = rng.integers(0, self.cfg["V"], (BATCH, PROMPT)).astype(np.int32)
        self.logits = forward(self.weights, self.cfg, self.prompt)
        self.greedy = ref.greedy(forward, self.weights, self.cfg, self.prompt, STEPS)
        self._runners = {}

    def runner(self, target):
        if target not in self._runners:
            self._runners[target] = self.model.runner(
                str(self.path), batch=BATCH, max_len=MAX_LEN, target=target)
        return self._runners[target]


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    built = {}

    def get(name):
        if name not in built:
            built[name] = Case(name, folder)
        return built[name]
    return get


def as_numpy(x):
    return x.cpu().numpy() if hasattr(x, "cpu") else np.asarray(x)


def check_model(case, target):
    runner = case.runner(target)
    logits = as_numpy(runner.prefill(case.prompt))
    assert logits.shape == (BATCH, PROMPT, case.cfg["V"])
    assert np.isfinite(logits).all()
    err = rel_err(logits, case.logits)
    assert err < 1e-4, "%s prefill logits: rel err %.3g" % (case.name, err)
    tokens = runner.generate(case.prompt, STEPS)
    np.testing.assert_array_equal(
        tokens, case.greedy,
        err_msg="%s: greedy tokens differ from the reference's" % case.name)
    assert runner.pos == PROMPT + STEPS - 1


@pytest.mark.parametrize("name", NAMES)
def test_model_matches_reference(cases, name):
    check_model(cases(name), "cpu")


@pytest.mark.parametrize("name", NAMES)
def test_decode_equals_longer_prefill(cases, name):
    """Logits of prompt[:T-2] prefilled then two decode steps equal the
    logits of the whole prompt prefilled: the state carries everything."""
    case = cases(name)
    runner = case.runner("cpu")
    whole = as_numpy(runner.prefill(case.prompt))
    runner.prefill(case.prompt[:, :PROMPT - 2])
    steps = [as_numpy(runner.decode(case.prompt[:, t:t + 1]))
             for t in (PROMPT - 2, PROMPT - 1)]
    np.testing.assert_allclose(np.concatenate(steps, 1), whole[:, PROMPT - 2:],
                               rtol=1e-4, atol=1e-4)


def test_state_is_updated_in_place(cases):
    runner = cases("llama").runner("cpu")
    runner.prefill(cases("llama").prompt)
    buffers = [id(s) for s in runner.states]
    before = runner.states[0].copy()
    runner.decode(np.zeros((BATCH, 1), np.int32))
    assert [id(s) for s in runner.states] == buffers
    # Exactly the row at the decode position changed in layer 0's keys.
    changed = np.nonzero(np.any(runner.states[0] != before, axis=(0, 1, 3)))[0]
    assert changed.tolist() == [PROMPT]


def test_signatures_mark_states_in_place():
    model = models.get("mamba", **model_config("mamba"))
    fn = seqc.compile(model.mlir("decode", 1, 1, 8), target="cpu").decode
    n_states = len(model.states(1, 8))
    assert fn.in_place == [-1] + [2 + i for i in range(n_states)]
    assert fn.arg_names[:3] == ["tokens", "pos", "state_conv0"]


def test_weight_errors(cases, tmp_path):
    case = cases("gpt2")
    bad = dict(case.weights)
    del bad["transformer.h.0.ln_1.bias"]
    bad["transformer.h.1.mlp.c_fc.weight"] = bad["transformer.h.1.mlp.c_fc.weight"].T
    path = tmp_path / "bad.safetensors"
    safetensors.save(str(path), bad)
    with pytest.raises(safetensors.SafetensorsError) as info:
        case.model.arguments(str(path))
    text = str(info.value)
    assert "gpt2 weights: 1 missing, 1 with the wrong shape" in text
    assert "missing: 'transformer.h.0.ln_1.bias'" in text
    assert "wrong shape: 'transformer.h.1.mlp.c_fc.weight'" in text


def test_token_and_length_errors(cases):
    case = cases("llama")
    runner = case.runner("cpu")
    with pytest.raises(ValueError, match=r"token ids must lie in \[0, 96\)"):
        runner.prefill(np.full((BATCH, 3), 96, np.int32))
    with pytest.raises(ValueError, match=r"expected tokens of shape \[2, T\]"):
        runner.prefill(np.zeros((3, 3), np.int32))
    runner.prefill(np.zeros((BATCH, MAX_LEN), np.int32))
    with pytest.raises(ValueError, match="overflow the KV cache of 48 positions"):
        runner.decode(np.zeros((BATCH, 1), np.int32))
    with pytest.raises(ValueError, match="unknown architecture 'rwkv'"):
        models.get("rwkv")
    with pytest.raises(TypeError, match="unknown config key"):
        models.get("llama", hidden=3)


@pytest.mark.cuda
@pytest.mark.parametrize("name", NAMES)
def test_model_matches_reference_cuda(cases, name):
    check_model(cases(name), "cuda")
    runner = cases(name).runner("cuda")
    # The state lives on the device.
    assert all(s.is_cuda for s in runner.states)


SEQC_BIN = os.path.dirname(os.path.abspath(
    os.environ.get("SEQC_LIBRARY", os.path.join(os.path.dirname(__file__), "..", "..",
                                                "build", "lib", "libseqc_c.so"))))
SEQC_BIN = os.path.join(os.path.dirname(SEQC_BIN), "bin")


@pytest.mark.parametrize("name", ["llama", "mamba", "gru"])
def test_c_generate(cases, tmp_path, name):
    """The greedy loop in C (examples/c/generate.c): an ahead-of-time
    library of @prefill/@decode, weights from .safetensors through the C
    API, the state updated in place; the same tokens as the reference."""
    case = cases(name)
    tool, generate = os.path.join(SEQC_BIN, "seqc"), os.path.join(SEQC_BIN, "seqc-generate")
    for exe in (tool, generate):
        if not os.path.exists(exe):
            pytest.fail("%s is missing (build it first)" % exe)
    src = tmp_path / "model.mlir"
    src.write_text(case.model.module(1, PROMPT, MAX_LEN))
    lib = tmp_path / "model.so"
    subprocess.run([tool, str(src), "-o", str(lib)], check=True)
    weights = tmp_path / "weights.safetensors"
    case.model.save_arguments(str(weights), str(case.path))
    prompt = case.prompt[:1]
    run = subprocess.run([generate, str(lib), str(weights), str(STEPS)] +
                         [str(t) for t in prompt[0]], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    tokens = [int(t) for t in run.stdout.split()]
    want = ref.greedy(ref.MODELS[name][0], case.weights, case.cfg, prompt, STEPS)[0]
    assert tokens == want.tolist()


def test_c_generate_errors(cases, tmp_path):
    case = cases("gru")
    generate = os.path.join(SEQC_BIN, "seqc-generate")
    src = tmp_path / "model.mlir"
    src.write_text(case.model.module(1, 3, MAX_LEN))
    lib = tmp_path / "model.so"
    subprocess.run([os.path.join(SEQC_BIN, "seqc"), str(src), "-o", str(lib)], check=True)
    # A checkpoint in the original layout has no argument list.
    run = subprocess.run([generate, str(lib), str(case.path), "4", "1", "2", "3"],
                         capture_output=True, text=True)
    assert run.returncode == 1 and "no 'seqc.weights' metadata" in run.stderr
    # A tensor of the wrong shape is named, with what was expected.
    names = [p.name for p in case.model.params()]
    arrays = case.model.arguments(str(case.path))
    arrays[1] = arrays[1].T.copy()
    bad = tmp_path / "bad.safetensors"
    safetensors.save(str(bad), dict(zip(names, arrays)),
                     metadata={"seqc.weights": ",".join(names)})
    run = subprocess.run([generate, str(lib), str(bad), "4", "1", "2", "3"],
                         capture_output=True, text=True)
    assert run.returncode == 1
    assert "tensor 'rnn.weight_ih_l0' is F32[192, 64], expected f32[64,192]" in run.stderr
    # A prompt of another length than the compiled @prefill's.
    good = tmp_path / "good.safetensors"
    case.model.save_arguments(str(good), str(case.path))
    run = subprocess.run([generate, str(lib), str(good), "4", "1", "2"],
                         capture_output=True, text=True)
    assert run.returncode == 1 and "takes [1, 3] tokens, got a prompt of 2" in run.stderr
    # A truncated file.
    data = good.read_bytes()
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(data[: len(data) // 2])
    run = subprocess.run([generate, str(lib), str(cut), "4", "1", "2", "3"],
                         capture_output=True, text=True)
    assert run.returncode == 1 and "cut.safetensors: tensor '" in run.stderr
    assert "run past the end of the data" in run.stderr


@pytest.mark.parametrize("name", ["llama", "mamba"])
def test_split_k_matmuls_same_tokens(cases, name):
    """matmul-split-k=1 (decoding's GEMVs as split-K partials and a sum;
    meant for the GPU) computes the same model: checked here on the CPU,
    where it runs through the same linalg rewrite, against the reference."""
    case = cases(name)
    runner = case.model.runner(str(case.path), batch=BATCH, max_len=MAX_LEN,
                               target="cpu", options="matmul-split-k=1")
    logits = runner.prefill(case.prompt)
    assert rel_err(logits, case.logits) < 1e-4
    np.testing.assert_array_equal(runner.generate(case.prompt, STEPS), case.greedy)


@pytest.mark.cuda
@pytest.mark.parametrize("name", ["llama", "gpt2"])
def test_decode_options_cuda(cases, name):
    """Without the decoding kernels that are on by default on the GPU
    (attention-split-keys=0 matmul-split-k=0), the logits and tokens are the
    reference's too (the default runs in test_model_matches_reference_cuda)."""
    case = cases(name)
    runner = case.model.runner(str(case.path), batch=BATCH, max_len=MAX_LEN,
                               target="cuda",
                               options="attention-split-keys=0 matmul-split-k=0")
    logits = runner.prefill(case.prompt).cpu().numpy()
    assert rel_err(logits, case.logits) < 1e-4
    np.testing.assert_array_equal(runner.generate(case.prompt, STEPS), case.greedy)


def test_split_k_gemv_numerics():
    """A decode-sized projection [2, 2048] x [2048, 384] split 32 ways
    (chunks of 64) against float64, and the init is kept."""
    text = """
func.func @f(%x: tensor<2x2048xf32>, %w: tensor<2048x384xf32>, %c: tensor<2x384xf32>) -> tensor<2x384xf32> {
  %r = linalg.matmul ins(%x, %w : tensor<2x2048xf32>, tensor<2048x384xf32>) outs(%c : tensor<2x384xf32>) -> tensor<2x384xf32>
  return %r : tensor<2x384xf32>
}"""
    r = np.random.default_rng(5)
    x = r.standard_normal((2, 2048)).astype(np.float32)
    w = (r.standard_normal((2048, 384)) / 45).astype(np.float32)
    c = r.standard_normal((2, 384)).astype(np.float32)
    got = seqc.compile(text, target="cpu", options="matmul-split-k=1").f(x, w, c)
    want = c.astype(np.float64) + x.astype(np.float64) @ w.astype(np.float64)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)
