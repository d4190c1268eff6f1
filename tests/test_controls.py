"""Controls of excessive unlearning (SPEC §1 S1): mixing, calibration, capping, checkpoints.

Fast: a 2-layer nano Llama with random weights, hand numbers, and stub evaluations whose
"utility" is read off a one-parameter model.
"""
from __future__ import annotations

import copy
import math

import pytest
import torch

from oblivio.engine.mixing import mix_lora, mix_state, mixed_model
from oblivio.eval.evaluate import EvalReport
from oblivio.methods.capping import combine_capped, ga_forget_term
from oblivio.metrics.base import MetricResult


def nano(seed: int):
    from oblivio.models.tiny import tiny_llama
    return tiny_llama(64, "nano", seed=seed, max_position_embeddings=32)


# --- mixing ---------------------------------------------------------------------------------

def test_mixing_endpoints_exact_and_midpoint() -> None:
    ref, unl = nano(0), nano(1)
    for alpha, want in ((0.0, unl), (1.0, ref)):
        m = mixed_model(ref, unl, alpha)
        for k, v in m.state_dict().items():
            assert torch.equal(v, want.state_dict()[k]), (alpha, k)
    half = mix_state(ref.state_dict(), unl.state_dict(), 0.25)
    k = "model.layers.0.mlp.up_proj.weight"
    assert torch.allclose(half[k], 0.25 * ref.state_dict()[k] + 0.75 * unl.state_dict()[k])
    # the inputs are untouched, and outputs agree with the models themselves at the ends
    x = torch.randint(0, 64, (2, 7))
    with torch.no_grad():
        assert torch.equal(mixed_model(ref, unl, 1.0)(x).logits, ref(x).logits)
        assert torch.equal(mixed_model(ref, unl, 0.0)(x).logits, unl(x).logits)
    with pytest.raises(ValueError):
        mix_state(ref.state_dict(), unl.state_dict(), 1.5)


def test_lora_mixing_is_scaled_adapter_delta() -> None:
    """Scaling the LoRA delta by (1−α) = full-state mixing of the merged model with the base."""
    from oblivio.engine.unlearning import LoraSpec, wrap_lora
    base = nano(0)
    peft = wrap_lora(copy.deepcopy(base), LoraSpec(r=4, alpha=8, targets=("q_proj", "v_proj")))
    torch.manual_seed(3)
    with torch.no_grad():
        for n, p in peft.named_parameters():
            if "lora_B" in n:
                p.normal_(0, 0.1)
    merged = copy.deepcopy(peft).merge_and_unload()
    for alpha in (0.0, 0.3, 1.0):
        a = mix_lora(peft, alpha).merge_and_unload().state_dict()
        b = mixed_model(base, merged, alpha).state_dict()
        for k in b:
            assert torch.allclose(a[k], b[k], atol=1e-6), (alpha, k)
    via = mixed_model(None, peft, 1.0).merge_and_unload().state_dict()   # α = 1: adapter off = base
    for k, v in base.state_dict().items():
        assert torch.allclose(via[k], v, atol=1e-7)


# --- calibration ----------------------------------------------------------------------------

class Knob(torch.nn.Module):
    """A one-parameter 'model': reference w = 1, unlearned w = 0, mixed w = α."""

    def __init__(self, w: float) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor(float(w)))


def fake_report(utility: float, forget_acc: float, name: str = "m") -> EvalReport:
    return EvalReport(name=name, sets={"forget": {"accuracy": MetricResult(forget_acc)},
                                       "retain": {"accuracy": MetricResult(utility)}},
                      model={"model_utility": MetricResult(utility)}, item_ids={}, generations={}, seconds=0.0)


@pytest.fixture()
def knob_eval(monkeypatch):
    """evaluate_model replaced by utility u(α) = 0.2 + 0.8·α², forget accuracy = α; ``calls``
    holds each evaluated α, ``calls.portions`` the portion each evaluation read."""
    import oblivio.eval.evaluate as E

    class Calls(list):
        portions: list[str | None] = []
    calls = Calls()
    calls.portions = []

    def ev(model, tokenizer, data, *, cfg=None, gold=None, name="m", portion=None, **kw):
        a = model.w.item()
        calls.append(a)
        calls.portions.append(portion)
        rep = fake_report(0.2 + 0.8 * a * a, a, name)
        rep.portion = portion
        return rep
    monkeypatch.setattr(E, "evaluate_model", ev)
    return calls


@pytest.mark.parametrize("tau,tol", [(0.9, 0.01), (0.5, 0.001), (0.99, 0.05)])
def test_bisection_meets_tau_within_tol(knob_eval, tau: float, tol: float) -> None:
    from oblivio.engine.calibrate import calibrate
    res = calibrate(Knob(1.0), Knob(0.0), None, None, tau=tau, tol=tol, max_iter=30)
    boundary = math.sqrt((tau - 0.2) / 0.8)            # u(α*) = τ · u(1) = τ
    assert res.original_utility == pytest.approx(1.0)
    assert res.target == pytest.approx(tau)
    assert res.utility >= res.target                   # always meets the target
    assert boundary <= res.alpha <= boundary + tol      # and is within tol of the smallest such α
    assert res.model.w.item() == pytest.approx(res.alpha)
    alphas = [r["alpha"] for r in res.sweep]
    assert alphas == sorted(alphas) and alphas[0] == 0.0 and alphas[-1] == 1.0
    assert all(r["meets"] == (r["utility"] >= res.target) for r in res.sweep)
    assert res.sweep[0]["accuracy"] == 0.0              # forget metrics ride along for plots


def test_calibration_alpha_zero_when_already_met(knob_eval) -> None:
    from oblivio.engine.calibrate import calibrate
    res = calibrate(Knob(1.0), Knob(0.0), None, None, tau=0.1)   # u(0) = 0.2 ≥ 0.1
    assert res.alpha == 0.0 and res.evaluations == 2
    # the search: the reference once, then α = 0 only, on validation; then α = 0 on test, reported
    assert knob_eval == [1.0, 0.0, 0.0]
    assert knob_eval.portions == ["val", "val", "test"]
    assert res.report.portion == "test"


def test_calibration_role_metric_and_bad_tau(knob_eval) -> None:
    from oblivio.engine.calibrate import calibrate
    from oblivio.errors import InputError
    res = calibrate(Knob(1.0), Knob(0.0), None, None, tau=0.6, utility_metric="retain/accuracy", tol=0.02)
    assert res.utility >= 0.6 and res.alpha <= math.sqrt(0.4 / 0.8) + 0.02
    with pytest.raises(InputError):
        calibrate(Knob(1.0), Knob(0.0), None, None, tau=1.5)


# --- capping ----------------------------------------------------------------------------------

def test_capping_hand_numbers_and_zero_gradient() -> None:
    # summed NLLs ℓ = 1, 3, 5 (one token each); δ = 4 → S = {0, 1}: ((4−1) + (4−3)) / 2 = 2
    lp = torch.tensor([[-1.0], [-3.0], [-5.0]], requires_grad=True)
    mask = torch.ones_like(lp, dtype=torch.bool)
    term = ga_forget_term(lp, mask, cap_delta=4.0)
    assert float(term.detach()) == pytest.approx(2.0)
    term.backward()
    # ∂/∂lp_i of (δ − ℓ_i)/|S| = +1/2 for i ∈ S; zero for the sequence already below e^−δ
    assert lp.grad.flatten().tolist() == pytest.approx([0.5, 0.5, 0.0])
    # retain-weighted variant: (1 − r)·NLL_r + r·capped, r = 0.1, NLL_r = 1 → 0.9 + 0.2
    assert float(combine_capped(term.detach(), torch.tensor(1.0), 1.0, 0.1)) == pytest.approx(1.1)
    assert float(combine_capped(term.detach(), torch.tensor(1.0), 0.5, None)) == pytest.approx(2.5)
    # uncapped GA: −NLL (token mean) = (−1 − 3 − 5) / 3
    assert float(ga_forget_term(lp, mask, None).detach()) == pytest.approx(-3.0)


def test_capping_empty_set_zero_gradient_on_model() -> None:
    """Every sequence below e^−δ (δ tiny): the term is 0 and every weight's gradient is 0."""
    from oblivio.data.collate import Encoded, collate
    from oblivio.methods.base import StepContext
    from oblivio.methods.ga import GradientAscent
    from oblivio.methods.grad_diff import GradDiff

    model = nano(0)
    b = collate([Encoded([1, 5, 6], [7, 8, 2]), Encoded([1, 9], [10, 2])], 0)
    b["index"] = torch.tensor([0, 1])
    ctx = StepContext(model=model, reference=None, step=0, max_steps=1)
    parts = GradientAscent(cap_delta=1e-3).loss(ctx, {"forget": b})   # random model: ℓ ≫ 0.001
    assert float(parts.total.detach()) == 0.0
    parts.total.backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is None or float(g.abs().max()) == 0.0 for g in grads)
    # with a retain term, only the retain part moves the weights: same gradient as NLL_r alone
    model.zero_grad()
    GradDiff(cap_delta=1e-3).loss(ctx, {"forget": b, "retain": b}).total.backward()
    g1 = torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])
    model.zero_grad()
    from oblivio.methods.ops import mean_nll
    mean_nll(model, b).backward()
    g2 = torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])
    assert torch.allclose(g1, g2, atol=1e-6)


# --- checkpoint evaluation ----------------------------------------------------------------------

@pytest.fixture()
def knob_ckpt(monkeypatch):
    """evaluate_model replaced: utility = w, forget accuracy = w − 0.5."""
    import oblivio.eval.evaluate as E

    def ev(model, tokenizer, data, *, cfg=None, gold=None, name="m", **kw):
        w = model.w.item()
        return fake_report(w, w - 0.5, name)
    monkeypatch.setattr(E, "evaluate_model", ev)


def run_cb(cb, model, trajectory):
    """Simulate training: set w per step, call the callback, stop when it says so."""
    cb.baseline(model)
    stop, step = None, 0
    for step, w in enumerate(trajectory, start=1):
        with torch.no_grad():
            model.w.fill_(w)
        stop = cb(step, model)
        if stop:
            break
    cb.finish(model, step)
    return stop, step


def test_checkpoint_stops_on_utility_and_selects_last_above(knob_ckpt) -> None:
    from oblivio.config import ControlConfig
    from oblivio.engine.checkpoint_eval import CheckpointEval
    model = Knob(1.0)
    cb = CheckpointEval(None, None, ControlConfig(eval_every=2, stop_utility_tau=0.9))
    stop, step = run_cb(cb, model, [0.99, 0.95, 0.94, 0.92, 0.9, 0.85, 0.8, 0.7])
    assert step == 6 and "utility" in stop                  # 0.85 < 0.9 × 1.0 at the step-6 checkpoint
    assert [r["step"] for r in cb.curves] == [0, 2, 4, 6]
    assert cb.selected_step == 4                             # last checkpoint with utility ≥ 0.9
    assert cb.restore(model) and model.w.item() == pytest.approx(0.92)
    s = cb.summary(run_seconds=10.0)
    assert s["selected_step"] == 4 and 0 <= s["eval_share"] < 1 and len(s["curves"]) == 4


def test_checkpoint_stop_at_gold_and_final_evaluated(knob_ckpt) -> None:
    from oblivio.config import ControlConfig
    from oblivio.engine.checkpoint_eval import CheckpointEval
    model = Knob(1.0)
    cb = CheckpointEval(None, None, ControlConfig(eval_every=3, stop_at_gold=True, gold_margin=0.05))
    cb.baseline(model, gold_model=Knob(0.6))                 # gold forget accuracy 0.1
    for step, w in enumerate([0.97, 0.95, 0.93, 0.7, 0.66, 0.62], start=1):
        with torch.no_grad():
            model.w.fill_(w)
        if cb(step, model):
            break
    assert step == 6 and "gold" in cb.stop_reason             # 0.12 ≤ 0.1 + 0.05 at step 6, not at step 3
    assert cb.selected_step == 3                              # τ = 0.9 by default: step 6 (0.62) is below
    # a run ending between checkpoints: the final weights are evaluated too
    cb2 = CheckpointEval(None, None, ControlConfig(eval_every=4, select="final"))
    stop, step = run_cb(cb2, Knob(1.0), [0.9, 0.8, 0.7, 0.6, 0.5])
    assert stop is None and [r["step"] for r in cb2.curves] == [0, 4, 5] and cb2.selected_step == 5
    assert not cb2.restore(Knob(0.5))


def test_checkpoint_nothing_above_tau_selects_original(knob_ckpt) -> None:
    from oblivio.config import ControlConfig
    from oblivio.engine.checkpoint_eval import CheckpointEval
    model = Knob(1.0)
    cb = CheckpointEval(None, None, ControlConfig(eval_every=1, select_tau=0.9))
    run_cb(cb, model, [0.5, 0.4])
    assert cb.selected_step == 0 and cb.restore(model) and model.w.item() == 1.0
