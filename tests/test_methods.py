"""Losses on hand-made tensors (hand-derived numbers in comments) and on the tiny model."""
from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch

import oblivio.methods  # noqa: F401
from oblivio.config import build_method
from oblivio.methods.base import METHODS, StepContext


class Uniform(torch.nn.Module):
    """Logits = a learnable table indexed by token id; zeros → uniform over V tokens."""

    def __init__(self, vocab: int = 4) -> None:
        super().__init__()
        self.table = torch.nn.Parameter(torch.zeros(vocab, vocab))

    def forward(self, input_ids, attention_mask=None):
        return SimpleNamespace(logits=self.table[input_ids])


class FixedRef:
    def __init__(self, model):
        self.model = model

    def logits(self, sub):
        with torch.no_grad():
            return self.model(sub["input_ids"]).logits

    def seq_logprob(self, sub):
        from oblivio.methods.ops import seq_logprob
        with torch.no_grad():
            return seq_logprob(self.model, sub)


def batch(n_answer: int = 2):
    # prompt = 1 token, answer = n_answer tokens; labels mask the prompt
    ids = torch.tensor([[0] + [1] * n_answer])
    labels = ids.clone()
    labels[:, 0] = -100
    sub = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": labels, "index": torch.tensor([0])}
    return {"forget": sub, "retain": {k: v.clone() for k, v in sub.items()}}


LOG4 = math.log(4)


def ctx(model, ref=None):
    return StepContext(model=model, reference=ref, step=0, max_steps=1)


def test_ga_is_minus_nll():
    # uniform over 4 tokens: NLL = log 4 per token → GA loss = −log 4
    m = Uniform()
    out = build_method("ga", {}).loss(ctx(m), batch())
    assert out.total.item() == pytest.approx(-LOG4, rel=1e-6)


def test_graddiff_cancels_on_identical_sets():
    # −NLL_f + α·NLL_r with f = r: −log4 + 0.5·log4 = −0.5·log4
    m = Uniform()
    out = build_method("graddiff", {"alpha": 0.5}).loss(ctx(m), batch())
    assert out.total.item() == pytest.approx(-0.5 * LOG4, rel=1e-6)


def test_npo_at_reference_is_2_over_beta_log2():
    # log π_θ − log π_ref = 0 → −(2/β) log σ(0) = (2/β) log 2 = 20·0.6931 for β = 0.1; α = 0
    m = Uniform()
    out = build_method("npo", {"beta": 0.1, "alpha": 0.0}).loss(ctx(m, FixedRef(Uniform())), batch())
    assert out.total.item() == pytest.approx(20 * math.log(2), rel=1e-6)


def test_kl_zero_when_model_equals_reference():
    # KL(p_ref ‖ p_θ) = 0 for identical models → total = −NLL_f = −log 4
    m = Uniform()
    out = build_method("kl", {}).loss(ctx(m, FixedRef(Uniform())), batch())
    assert out.parts["kl"].item() == pytest.approx(0.0, abs=1e-7)
    assert out.total.item() == pytest.approx(-LOG4, rel=1e-6)


def test_capping_value_and_empty_set():
    # ℓ = 2 answer tokens · log 4 = 2.7726. δ = 6 → S = {0}: term = 6 − 2.7726
    m = Uniform()
    out = build_method("ga", {"cap_delta": 6.0}).loss(ctx(m), batch())
    assert out.total.item() == pytest.approx(6 - 2 * LOG4, rel=1e-6)
    # δ = 2 < ℓ → S empty → zero loss and zero gradient
    m2 = Uniform()
    out2 = build_method("ga", {"cap_delta": 2.0}).loss(ctx(m2), batch())
    out2.total.backward()
    assert out2.total.item() == 0.0
    assert m2.table.grad is None or torch.count_nonzero(m2.table.grad) == 0


def test_capping_retain_weighted_variant():
    # (1−r)·NLL_r + r·(δ − ℓ) = 0.9·log4 + 0.1·(6 − 2·log4)
    m = Uniform()
    out = build_method("graddiff", {"cap_delta": 6.0, "cap_retain_r": 0.1}).loss(ctx(m), batch())
    assert out.total.item() == pytest.approx(0.9 * LOG4 + 0.1 * (6 - 2 * LOG4), rel=1e-6)


def test_unknown_method_argument_is_named():
    from oblivio.errors import InputError
    with pytest.raises(InputError, match="unlearn.args.betta"):
        build_method("npo", {"betta": 0.1})


def _cases() -> list[tuple[str, str]]:
    # every method (1:1 random pairing), and every sampler with a method that uses the retain
    # row (GradDiff) and one that uses a reference too (NPO); the tiny world has every role
    from oblivio.data.samplers import SAMPLERS
    methods = [n for n in METHODS.names() if n != "finetune"]
    return ([(m, "one_to_one_random") for m in methods]
            + [(m, s) for s in SAMPLERS.names() if s != "one_to_one_random" for m in ("graddiff", "npo")])


@pytest.mark.parametrize("name,sampler", _cases())
def test_every_method_changes_the_model(name, sampler, tiny_world, fresh_base):
    from oblivio.engine.loop import TrainConfig
    from oblivio.engine.unlearning import run_unlearning
    data, _ = tiny_world
    model, tok = fresh_base
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model, res = run_unlearning(model, tok, data, build_method(name, {}), sampler=sampler,
                                train_cfg=TrainConfig(lr=1e-3, max_steps=2, batch_size=4, progress=False))
    assert res.steps == 2 and all(math.isfinite(h["loss"]) for h in res.history)
    after = model.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)
