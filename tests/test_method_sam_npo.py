"""NPO+SAM (methods/sam_npo.py) against NPO and against SAM's step done by hand.

The hand version moves a deep copy of the model's trained weights by ρ·g/‖g‖ in place, with g
NPO's forget gradient at θ, and takes NPO's forget gradient there, plus the retain gradient at
θ: it shares no code with the method's functional forward at perturbed weights. The model is
test_zoo's small random Llama (far from uniform) with a padded batch of unequal lengths.
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
from test_zoo import FORGET, RETAIN, _batch, _llama, _nll_r

BETA, ALPHA = 0.5, 0.7


def _ctx(model, reference):
    return StepContext(model=model, reference=reference, step=0, max_steps=1)


def _lora(model):
    """``model`` with a LoRA adapter whose B is not zero (at B = 0 the gradient of A vanishes)."""
    from peft import LoraConfig, get_peft_model
    peft = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]))
    torch.manual_seed(5)
    with torch.no_grad():
        for n, p in peft.named_parameters():
            if "lora_B" in n:
                p.normal_(0, 0.5)
    return peft


def _setup(lora: bool):
    model = _llama(0)
    if lora:
        model = _lora(model)
        ref = Reference(model, "lora")
    else:
        ref = Reference(_llama(1), "copy")
    return model, ref, {"forget": _batch(FORGET), "retain": _batch(RETAIN)}


def _trained(model) -> list[tuple[str, torch.nn.Parameter]]:
    return [(n, p) for n, p in model.named_parameters() if p.requires_grad]


def _grads(model) -> list[torch.Tensor]:
    return [p.grad.detach().clone() if p.grad is not None else torch.zeros_like(p) for _, p in _trained(model)]


def _npo_forget_grad(model, ref, batch) -> tuple[float, list[torch.Tensor]]:
    """NPO's forget loss (α = 0) at ``model``'s weights and its gradient."""
    model.zero_grad(set_to_none=True)
    out = build_method("npo", {"beta": BETA, "alpha": 0.0}).loss(_ctx(model, ref), batch)
    out.total.backward()
    return out.total.item(), _grads(model)


def _retain_grad(model) -> list[torch.Tensor]:
    """∇ NLL_r at ``model``'s weights, from test_zoo's per-position hand NLL."""
    model.zero_grad(set_to_none=True)
    _nll_r(model).backward()
    return _grads(model)


def _moved(model, step: list[torch.Tensor]):
    """A deep copy of ``model`` whose trained weights are moved by ``step`` (in place: the copy's)."""
    m = copy.deepcopy(model)
    with torch.no_grad():
        for (_, p), d in zip(_trained(m), step):
            p.add_(d)
    return m


def _ref_for(model, ref, lora: bool):
    # a LoRA reference is the same model with its adapter disabled: the copy's own
    return Reference(model, "lora") if lora else ref


def _flat(gs: list[torch.Tensor]) -> torch.Tensor:
    return torch.cat([g.flatten() for g in gs])


def test_rho_zero_is_npo_in_value_and_gradient():
    model, ref, batch = _setup(lora=False)
    twin = copy.deepcopy(model)
    got = build_method("sam_npo", {"beta": BETA, "alpha": ALPHA, "rho": 0.0}).loss(_ctx(model, ref), batch)
    got.total.backward()
    want = build_method("npo", {"beta": BETA, "alpha": ALPHA}).loss(_ctx(twin, ref), batch)
    want.total.backward()
    assert got.total.item() == pytest.approx(want.total.item(), rel=1e-6)
    assert got.parts["forget"].item() == pytest.approx(want.parts["forget"].item(), rel=1e-6)
    g, w = _flat(_grads(model)), _flat(_grads(twin))
    assert w.norm() > 1.0                                   # a real gradient, not zeros on both sides
    assert torch.allclose(g, w, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("lora", [False, True], ids=["full", "lora"])
def test_gradient_is_npo_forget_gradient_at_the_sam_point_plus_retain_at_theta(lora):
    rho = 0.5
    model, ref, batch = _setup(lora)
    base_forget, g = _npo_forget_grad(model, ref, batch)
    norm = _flat(g).norm()
    eps = [rho * d / norm for d in g]
    at = _moved(model, eps)
    sam_forget, g_sam = _npo_forget_grad(at, _ref_for(at, ref, lora), batch)
    g_ret = _retain_grad(model)
    want = _flat(g_sam) + ALPHA * _flat(g_ret)

    model.zero_grad(set_to_none=True)
    got = build_method("sam_npo", {"beta": BETA, "alpha": ALPHA, "rho": rho}).loss(_ctx(model, ref), batch)
    got.total.backward()
    have = _flat(_grads(model))
    tol = 1e-4 * want.norm()
    assert (have - want).norm() < tol
    assert got.parts["grad_norm"].item() == pytest.approx(norm.item(), rel=1e-5)
    assert got.parts["forget_at_theta"].item() == pytest.approx(base_forget, rel=1e-5)
    assert got.parts["forget"].item() == pytest.approx(sam_forget, rel=1e-5)
    assert got.total.item() == pytest.approx(sam_forget + ALPHA * _nll_r(model).item(), rel=1e-5)
    if lora:   # only the adapter is trained, so only the adapter is moved
        assert all("lora_" in n for n, _ in _trained(model))

    # the test tells apart the plausible wrong versions: each gives a gradient far outside tol
    def forget_grad_after(step):
        m = _moved(model, step)
        return _flat(_npo_forget_grad(m, _ref_for(m, ref, lora), batch)[1])
    retain_too = _flat(_retain_grad(_moved(model, eps)))
    wrong = {
        "at θ (no perturbation)": _flat(g) + ALPHA * _flat(g_ret),
        "at θ − ε (flipped sign)": forget_grad_after([-e for e in eps]) + ALPHA * _flat(g_ret),
        "ε = ρ·g (not normalised)": forget_grad_after([rho * d for d in g]) + ALPHA * _flat(g_ret),
        "retain taken at θ + ε too": _flat(g_sam) + ALPHA * retain_too,
    }
    assert abs(norm.item() - 1.0) > 0.2                     # normalising changes the step
    for name, w in wrong.items():
        assert (w - want).norm() > 10 * tol, name


def test_a_batch_with_zero_forget_gradient_is_not_perturbed():
    # β·(log π − log π_ref) → −∞ saturates NPO: g = 0 exactly, and δ* must be 0, not 0/0
    model, ref, batch = _setup(lora=False)
    ref.load_cache_state({i: 1e9 for i in range(len(FORGET))})
    got = build_method("sam_npo", {"beta": BETA, "alpha": ALPHA, "rho": 0.5}).loss(_ctx(model, ref), batch)
    got.total.backward()
    assert got.parts["grad_norm"].item() == 0.0
    assert math.isfinite(got.total.item())
    assert all(torch.isfinite(g).all() for g in _grads(model))


@pytest.mark.parametrize("lora_r", [0, 4], ids=["full", "lora"])
def test_trains_two_steps_in_the_one_loop(lora_r, tiny_cfg, tiny_world, tmp_path):
    from oblivio import api
    res = api.unlearn(None, None, config=tiny_cfg, method="sam_npo", evaluate_models=False,
                      run_dir=tmp_path / "run", progress=False, log=lambda m: None, steps=2, lora_r=lora_r)
    hist = res.training["history"]
    assert [h["step"] for h in hist] == [1, 2]
    for h in hist:
        assert all(math.isfinite(h[k]) for k in ("loss", "forget", "forget_at_theta", "grad_norm", "retain"))
        assert h["grad_norm"] > 0
    # the step moved the model: the forget loss at θ changed between the two steps
    assert hist[0]["forget_at_theta"] != hist[1]["forget_at_theta"]
