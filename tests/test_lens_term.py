"""The lens term of ``npo_me`` (methods/ops.py ``lens_kl_uniform``) and the logit lens's decoder
(models/lens.py), by hand on a 4-layer random Llama.

The hand value reads each decoder layer's output from a forward hook on the layer itself (not
from ``output_hidden_states``), decodes it through the final RMSNorm and the head written out,
and takes KL(U ‖ p) = −log V − (1/V)·Σ_v log p_v at the positions that predict an answer token
(position t predicts token t+1: the answer of a row whose prompt has length p starts at p, so
its first predicting position is p − 1). A term reading the embeddings or the last layer, a
mask shifted by one, a KL in the other direction or a sum over layers instead of the mean
each give another number.
"""
from __future__ import annotations

import copy
import math

import pytest
import torch

import oblivio.methods  # noqa: F401
from oblivio.config import build_method
from oblivio.engine.reference import Reference
from oblivio.methods.base import StepContext
from oblivio.methods.ops import lens_kl_uniform, logits_logprobs_hidden
from oblivio.models.lens import final_norm, lens_logits
from test_zoo import FORGET, RETAIN, _batch, _llama, cli_unlearn_section, two_step_history


def _layer_outputs(model, batch) -> list[torch.Tensor]:
    """Each decoder layer's output [B, T, d], read by hooks on the layers themselves."""
    seen: list[torch.Tensor] = []
    hooks = [layer.register_forward_hook(lambda _m, _a, out: seen.append(out[0] if isinstance(out, tuple) else out))
             for layer in model.model.layers]
    try:
        model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
    finally:
        for h in hooks:
            h.remove()
    return seen


def _rms_head(model, h: torch.Tensor) -> torch.Tensor:
    """The final RMSNorm and the head, written out: w · h / sqrt(mean(h²) + eps), then W_head."""
    norm = model.model.norm
    x = h.double()
    x = x / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + norm.variance_epsilon)
    return (norm.weight.double() * x) @ model.lm_head.weight.double().T


def _hand_lens_term_of(model, rows, h) -> float:
    """KL(U ‖ lens of ``h``) averaged over the positions that predict answer tokens."""
    kls = []
    for b, (seq, p) in enumerate(rows):
        for t in range(p - 1, len(seq) - 1):
            logp = torch.log_softmax(_rms_head(model, h[b, t]), -1)
            kls.append(-math.log(logp.numel()) - logp.mean().item())
    return sum(kls) / len(kls)


def _hand_lens_term(model, rows) -> float:
    with torch.no_grad():
        outs = _layer_outputs(model, _batch(rows))
    # layers 1 … L−1: not the last (the output's own distribution)
    return sum(_hand_lens_term_of(model, rows, h) for h in outs[:-1]) / (len(outs) - 1)


def test_the_lens_term_is_max_entropy_on_every_intermediate_layer_at_answer_positions():
    model = _llama(0)
    batch = _batch(FORGET)
    with torch.no_grad():
        _, _, mask, hidden = logits_logprobs_hidden(model, batch)
        got = lens_kl_uniform(model, hidden, mask).item()
    want = _hand_lens_term(model, FORGET)
    assert got == pytest.approx(want, rel=1e-5)
    # the layers differ enough that reading one more or one fewer moves the value
    with torch.no_grad():
        outs = _layer_outputs(model, batch)
    assert len(outs) == 4 and len(hidden) == 5          # embeddings + 4 layers
    alone = [_hand_lens_term_of(model, FORGET, h) for h in outs]
    assert max(alone) - min(alone) > 0.05 * want


def test_npo_me_adds_lambda_times_the_lens_term_and_its_gradient():
    model, ref = _llama(0), Reference(_llama(1), "copy")
    batch = {"forget": _batch(FORGET), "retain": _batch(RETAIN)}
    lam = 0.7
    twin = copy.deepcopy(model)
    args = {"beta": 0.5, "alpha": 0.7, "mix": 0.4}
    off = build_method("npo_me", args).loss(StepContext(model=model, reference=ref, step=0, max_steps=1), batch)
    on = build_method("npo_me", {**args, "lens": lam}).loss(
        StepContext(model=twin, reference=ref, step=0, max_steps=1), batch)
    assert "forget_lens" not in off.parts                    # off by default: not computed
    term = on.parts["forget_lens"].item()
    assert term == pytest.approx(_hand_lens_term(model, FORGET), rel=1e-5)
    assert on.total.item() == pytest.approx(off.total.item() + lam * term, rel=1e-5)
    assert on.parts["forget"].item() == pytest.approx(off.parts["forget"].item() + lam * term, rel=1e-5)
    # the term moves the intermediate layers' weights (its gradient reaches layer 1)
    off.total.backward()
    on.total.backward()
    g_off = model.model.layers[0].mlp.up_proj.weight.grad
    g_on = twin.model.layers[0].mlp.up_proj.weight.grad
    assert (g_on - g_off).norm() > 1e-3 * g_off.norm()


def test_a_single_layer_model_has_no_intermediate_layer():
    from transformers import LlamaConfig, LlamaForCausalLM
    m = LlamaForCausalLM(LlamaConfig(vocab_size=32, hidden_size=16, intermediate_size=24, num_hidden_layers=1,
                                     num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=32))
    _, _, mask, hidden = logits_logprobs_hidden(m, _batch(FORGET))
    assert lens_kl_uniform(m, hidden, mask).item() == 0.0


def test_final_norm_finds_the_norm_of_llama_gpt2_and_a_lora_wrapper_and_refuses_others():
    from peft import LoraConfig, get_peft_model
    from transformers import GPT2Config, GPT2LMHeadModel
    llama = _llama(0)
    assert final_norm(llama) is llama.model.norm
    wrapped = get_peft_model(copy.deepcopy(llama), LoraConfig(r=2, target_modules=["q_proj"]))
    assert final_norm(wrapped) is wrapped.base_model.model.model.norm
    gpt2 = GPT2LMHeadModel(GPT2Config(vocab_size=32, n_embd=16, n_layer=2, n_head=2, n_positions=32))
    assert final_norm(gpt2) is gpt2.transformer.ln_f
    h = torch.randn(3, 16)
    assert torch.allclose(lens_logits(gpt2, h), gpt2.lm_head(gpt2.transformer.ln_f(h)))

    class NoNorm(torch.nn.Module):
        def get_decoder(self):
            return torch.nn.Linear(2, 2)
    with pytest.raises(ValueError, match="no final norm"):
        final_norm(NoNorm())


def test_lens_must_not_be_negative():
    from oblivio.errors import InputError
    with pytest.raises(InputError) as e:
        build_method("npo_me", {"lens": -1.0})
    assert e.value.field == "unlearn.args.lens"


def test_the_lens_term_trains_from_the_api_and_is_set_from_the_cli(tiny_cfg, tmp_path):
    hist = two_step_history(tiny_cfg, tmp_path / "run", "npo_me", {"mix": 0.5, "lens": 2.0})
    for h in hist:
        assert h["forget_lens"] > 0
        assert h["forget"] == pytest.approx(0.5 * h["forget_npo"] + 0.5 * h["forget_me"] + 2.0 * h["forget_lens"],
                                            rel=1e-5)
    u = cli_unlearn_section("--method", "npo_me", "--set", "unlearn.args.lens=1")
    assert u.method == "npo_me" and u.args["lens"] == 1.0
    assert build_method(u.method, u.args).lens == 1.0
