"""seqc.models against Hugging Face transformers, same random weights.

On the GPU machine (marked cuda; skipped where transformers is missing):
for Llama, GPT-2, Mamba and Mamba-2, a small config with the random
weights of model_references.py is loaded into transformers' model (state
dict, strict) and into seqc.models' runner (through a .safetensors file),
on the CPU and on the GPU target:

- prefill logits: relative error < 1e-4 against transformers' (f32 both);
- 32 greedy steps: the token ids transformers' generate() picks with its
  own cache (do_sample=False).
"""

import numpy as np
import pytest

import seqc.models as models
from seqc import safetensors

import model_references as ref
from test_models import BATCH, MAX_LEN, PROMPT, STEPS, model_config, rel_err

pytestmark = [pytest.mark.cuda, pytest.mark.needs_library]

transformers = pytest.importorskip("transformers")


def hf_model(name, cfg):
    import torch
    T = transformers
    if name == "llama":
        config = T.LlamaConfig(vocab_size=cfg["V"], hidden_size=cfg["d"],
                               intermediate_size=cfg["F"], num_hidden_layers=cfg["L"],
                               num_attention_heads=cfg["H"], num_key_value_heads=cfg["Hkv"],
                               rms_norm_eps=cfg["eps"], rope_theta=cfg["theta"],
                               max_position_embeddings=MAX_LEN, tie_word_embeddings=False,
                               attention_bias=False, mlp_bias=False)
        model = T.LlamaForCausalLM(config)
    elif name == "gpt2":
        config = T.GPT2Config(vocab_size=cfg["V"], n_embd=cfg["d"], n_layer=cfg["L"],
                              n_head=cfg["H"], n_positions=cfg["P"],
                              layer_norm_epsilon=cfg["eps"], activation_function="gelu_new",
                              resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
        model = T.GPT2LMHeadModel(config)
    elif name == "mamba":
        config = T.MambaConfig(vocab_size=cfg["V"], hidden_size=cfg["d"],
                               state_size=cfg["N"], num_hidden_layers=cfg["L"],
                               expand=cfg["Di"] // cfg["d"], conv_kernel=cfg["W"],
                               time_step_rank=cfg["R"], use_bias=False, use_conv_bias=True,
                               layer_norm_epsilon=cfg["eps"], tie_word_embeddings=False)
        model = T.MambaForCausalLM(config)
    elif name == "mamba2":
        config = T.Mamba2Config(vocab_size=cfg["V"], hidden_size=cfg["d"],
                                state_size=cfg["N"], num_hidden_layers=cfg["L"],
                                expand=cfg["Di"] // cfg["d"], num_heads=cfg["Hm"],
                                head_dim=cfg["Di"] // cfg["Hm"], n_groups=1,
                                conv_kernel=cfg["W"], use_bias=False, use_conv_bias=True,
                                layer_norm_epsilon=cfg["eps"], tie_word_embeddings=False,
                                rms_norm=True)
        model = T.Mamba2ForCausalLM(config)
    else:
        raise AssertionError(name)
    # Greedy decoding for exactly STEPS tokens: no end-of-sequence id (the
    # configs' defaults lie inside the small vocabularies).
    model.generation_config.eos_token_id = None
    model.generation_config.pad_token_id = 0
    return model.float().eval(), torch


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hf")
    out = {}
    for name in ("llama", "gpt2", "mamba", "mamba2"):
        forward, init, _ = ref.MODELS[name]
        cfg = ref.CONFIGS[name]
        weights = init(cfg, np.random.default_rng(2000 + len(out)))
        path = folder / ("%s.safetensors" % name)
        safetensors.save(str(path), weights)
        prompt = np.random.default_rng(3000 + len(out)).integers(
            0, cfg["V"], (BATCH, PROMPT)).astype(np.int32)
        out[name] = (cfg, weights, path, prompt)
    return out


@pytest.mark.parametrize("target", ["cpu", "cuda"])
@pytest.mark.parametrize("name", ["llama", "gpt2", "mamba", "mamba2"])
def test_matches_transformers(checkpoints, name, target):
    cfg, weights, path, prompt = checkpoints[name]
    model, torch = hf_model(name, cfg)
    state = {k: torch.from_numpy(v) for k, v in weights.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    tied = {"lm_head.weight"} if name == "gpt2" else set()
    assert not unexpected and set(missing) <= tied, (missing, unexpected)
    model = model.cuda()
    ids = torch.from_numpy(prompt.astype(np.int64)).cuda()
    with torch.no_grad():
        want = model(input_ids=ids).logits.double().cpu().numpy()
        hf_tokens = model.generate(ids, max_new_tokens=STEPS, do_sample=False,
                                   attention_mask=torch.ones_like(ids))[:, PROMPT:]
    assert hf_tokens.shape == (BATCH, STEPS)
    # transformers against the independent float64 model first: the two
    # references agree, so a seqc mismatch is seqc's.
    assert rel_err(want, ref.MODELS[name][0](weights, cfg, prompt)) < 1e-4

    runner = models.get(name, **model_config(name)).runner(
        str(path), batch=BATCH, max_len=MAX_LEN, target=target)
    logits = runner.prefill(prompt)
    logits = logits.cpu().numpy() if hasattr(logits, "cpu") else logits
    err = rel_err(logits, want)
    assert err < 1e-4, "%s on %s: prefill logits rel err %.3g vs transformers" % (
        name, target, err)
    tokens = runner.generate(prompt, STEPS)
    np.testing.assert_array_equal(tokens, hf_tokens.cpu().numpy(),
                                  err_msg="%s on %s: greedy tokens differ from "
                                          "transformers' generate()" % (name, target))
