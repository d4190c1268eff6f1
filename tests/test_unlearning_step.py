"""What one optimiser step does: every unlearning method lowers the forget likelihood, fine-tuning
raises the likelihood of what it learns, and the retain terms keep the model near the
reference (SPEC §1 S1, §2). Tiny random Llama (tests/handcalc.py), reference = the model
before the step (as in a run), plain SGD so the direction of the step is the gradient's."""
from __future__ import annotations

import copy

import pytest
import torch

import oblivio.methods  # noqa: F401  (registration)
from handcalc import (
    FORGET_SHAPES,
    RETAIN_SHAPES,
    hand_kl,
    hand_mean_nll,
    hand_sum_logprob,
    make_seqs,
    pad_batch,
    tiny_llama,
)
from oblivio.config import build_method
from oblivio.engine.reference import Reference
from oblivio.methods.base import StepContext

FS, RS = make_seqs(FORGET_SHAPES, 20), make_seqs(RETAIN_SHAPES, 21)


def sgd_steps(name: str, args: dict, steps: int = 1, lr: float = 0.05, seed: int = 3):
    model = tiny_llama(seed)
    ref_model = copy.deepcopy(model)
    ref = Reference(model)
    method = build_method(name, args)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    batch = {"forget": pad_batch(FS), "retain": pad_batch(RS, 100)}
    for step in range(steps):
        opt.zero_grad()
        method.loss(StepContext(model=model, reference=ref, step=step, max_steps=steps), batch).total.backward()
        opt.step()
    return model, ref_model


# δ = 1000: every sequence is in S, so the capped term is active
UNLEARN = [("ga", {}), ("graddiff", {}), ("kl", {}), ("npo", {}), ("npo", {"alpha": 0.0}),
           ("ga", {"cap_delta": 1000.0}), ("graddiff", {"cap_delta": 1000.0, "cap_retain_r": 0.5}),
           ("kl", {"cap_delta": 1000.0})]


@pytest.mark.parametrize("name,args", UNLEARN, ids=[f"{n}-{a}" for n, a in UNLEARN])
def test_one_step_lowers_forget_likelihood(name, args):
    model, ref = sgd_steps(name, args)
    before, after = hand_sum_logprob(ref, FS), hand_sum_logprob(model, FS)
    assert sum(after) < sum(before) - 1e-3


def test_finetune_step_raises_likelihood():
    model, ref = sgd_steps("finetune", {})
    assert hand_mean_nll(model, RS) < hand_mean_nll(ref, RS) - 1e-3


def test_retain_terms_keep_the_retain_distribution_near_the_reference():
    # after a few steps, KL(p_ref ‖ p_θ) on the retain inputs is smaller with KL's retain
    # term than with GA alone; GradDiff keeps the retain NLL lower than GA alone
    ga, ref = sgd_steps("ga", {}, steps=6)
    kl, _ = sgd_steps("kl", {"alpha": 5.0}, steps=6)
    gd, _ = sgd_steps("graddiff", {}, steps=6)
    assert hand_kl(kl, ref, RS) < 0.8 * hand_kl(ga, ref, RS)
    assert hand_mean_nll(gd, RS) < hand_mean_nll(ga, RS)
    # and both still unlearn
    assert sum(hand_sum_logprob(kl, FS)) < sum(hand_sum_logprob(ref, FS))
