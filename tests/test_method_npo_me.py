"""NPO + maximum entropy (methods/npo_me.py) against the two methods it mixes.

The ends of the mix are the methods themselves (loss and gradient); in between, the loss and
its gradient are the weighted sum of ``npo``'s and ``me_gd``'s forget terms, each computed by
its own method (α = 0), plus α times test_zoo's hand retain NLL. The model is test_zoo's small
random Llama (far from uniform, so the two forget terms differ widely) with a padded batch of
unequal lengths; the reference has other weights.
"""
from __future__ import annotations

import copy
import math

import pytest
import torch

import oblivio.methods  # noqa: F401
from oblivio.config import build_method
from oblivio.engine.reference import Reference
from oblivio.errors import InputError
from oblivio.methods.base import StepContext, uses_of
from test_zoo import FORGET, RETAIN, _batch, _llama, _nll_r

BETA, ALPHA = 0.5, 0.7


def _ctx(model, reference):
    return StepContext(model=model, reference=reference, step=0, max_steps=1)


def _setup():
    return _llama(0), Reference(_llama(1), "copy"), {"forget": _batch(FORGET), "retain": _batch(RETAIN)}


def _flat_grad(model) -> torch.Tensor:
    return torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).flatten() for p in model.parameters()])


def _loss_and_grad(name: str, args: dict, model, ref, batch) -> tuple[dict[str, float], torch.Tensor]:
    """The method's total and parts (as floats) on ``model`` and the gradient of its total."""
    model.zero_grad(set_to_none=True)
    out = build_method(name, args).loss(_ctx(model, ref), batch)
    out.total.backward()
    return {"total": out.total.item(), **{k: v.item() for k, v in out.parts.items()}}, _flat_grad(model)


@pytest.mark.parametrize(("mix", "other", "other_args", "part"), [
    (1.0, "npo", {"beta": BETA, "alpha": ALPHA}, "forget_npo"),
    (0.0, "me_gd", {"alpha": ALPHA}, "forget_me"),
], ids=["mix1_is_npo", "mix0_is_me_gd"])
def test_the_ends_of_the_mix_are_the_two_methods(mix, other, other_args, part):
    model, ref, batch = _setup()
    twin = copy.deepcopy(model)
    # at mix = 0 there is no NPO term and so no reference: None would fail if it were read
    got, g = _loss_and_grad("npo_me", {"beta": BETA, "alpha": ALPHA, "mix": mix}, model,
                            ref if mix > 0 else None, batch)
    want, w = _loss_and_grad(other, other_args, twin, ref, batch)
    assert got["total"] == pytest.approx(want["total"], rel=1e-6)
    assert got["forget"] == pytest.approx(want["forget"], rel=1e-6)
    assert got[part] == pytest.approx(want["forget"], rel=1e-6)
    assert got["retain"] == pytest.approx(want["retain"], rel=1e-6)
    # the term with weight 0 is not computed
    assert set(got) == {"total", "forget", part, "retain"}
    assert w.norm() > 1.0                                   # a real gradient, not zeros on both sides
    assert torch.allclose(g, w, rtol=1e-5, atol=1e-7)


def test_a_mix_in_between_weighs_npo_by_w_and_me_by_one_minus_w():
    mix = 0.3
    model, ref, batch = _setup()
    npo, g_npo = _loss_and_grad("npo", {"beta": BETA, "alpha": 0.0}, model, ref, batch)
    me, g_me = _loss_and_grad("me_gd", {"alpha": 0.0}, model, ref, batch)
    model.zero_grad(set_to_none=True)
    _nll_r(model).backward()
    g_ret = _flat_grad(model)
    retain = _nll_r(model).item()
    # far apart, so that swapped weights (0.7·NPO + 0.3·ME) are far off the expected value
    assert abs(npo["forget"] - me["forget"]) > 1.0

    got, g = _loss_and_grad("npo_me", {"beta": BETA, "alpha": ALPHA, "mix": mix}, model, ref, batch)
    assert got["forget_npo"] == pytest.approx(npo["forget"], rel=1e-6)
    assert got["forget_me"] == pytest.approx(me["forget"], rel=1e-6)
    assert got["forget"] == pytest.approx(mix * npo["forget"] + (1 - mix) * me["forget"], rel=1e-6)
    assert got["retain"] == pytest.approx(retain, rel=1e-5)
    assert got["total"] == pytest.approx(mix * npo["forget"] + (1 - mix) * me["forget"] + ALPHA * retain, rel=1e-5)
    want = mix * g_npo + (1 - mix) * g_me + ALPHA * g_ret
    tol = 1e-4 * want.norm()
    assert (g - want).norm() < tol
    swapped = (1 - mix) * g_npo + mix * g_me + ALPHA * g_ret
    assert (swapped - want).norm() > 10 * tol


def test_one_forward_pass_of_the_forget_batch_and_cached_reference():
    model, ref, batch = _setup()
    calls: dict[str, list[torch.Tensor]] = {"model": [], "reference": []}

    def hook(name):
        def record(_module, args, kwargs, _out):
            calls[name].append(kwargs["input_ids"] if "input_ids" in kwargs else args[0])
        return record
    model.register_forward_hook(hook("model"), with_kwargs=True)
    ref._model.register_forward_hook(hook("reference"), with_kwargs=True)
    meth = build_method("npo_me", {"beta": BETA, "alpha": ALPHA, "mix": 0.5})
    for _ in range(2):
        meth.loss(_ctx(model, ref), batch).total.backward()
    forget_ids = batch["forget"]["input_ids"]
    on_forget = [ids for ids in calls["model"] if ids.shape == forget_ids.shape and torch.equal(ids, forget_ids)]
    assert len(on_forget) == 2                  # one per loss call, both terms from its logits
    assert len(calls["model"]) == 4             # and one retain forward per call
    assert len(calls["reference"]) == 1         # the reference's log-likelihoods are cached per item


def test_mix_outside_zero_one_and_bad_beta_alpha_are_refused():
    for bad in (-0.1, 1.5):
        with pytest.raises(InputError) as e:
            build_method("npo_me", {"mix": bad}, file="cfg.yaml")
        assert e.value.field == "unlearn.args.mix" and e.value.file == "cfg.yaml"
        assert "[0, 1]" in e.value.message
    for args, key in (({"beta": 0.0}, "beta"), ({"alpha": -1.0}, "alpha")):
        with pytest.raises(InputError) as e:
            build_method("npo_me", args)
        assert e.value.field == f"unlearn.args.{key}"
    for ok in (0.0, 1.0):
        assert build_method("npo_me", {"mix": ok}).mix == ok


def test_the_reference_is_used_only_with_an_npo_term():
    assert "reference" in uses_of(build_method("npo_me", {}))
    assert "reference" in uses_of(build_method("npo_me", {"mix": 1e-3}))
    assert uses_of(build_method("npo_me", {"mix": 0.0})) == frozenset({"forget", "retain"})


def test_trains_two_steps_in_the_one_loop(tiny_cfg, tiny_world, tmp_path):
    from oblivio import api
    res = api.unlearn(None, None, config=tiny_cfg, method="npo_me", evaluate_models=False,
                      run_dir=tmp_path / "run", progress=False, log=lambda m: None, steps=2,
                      method_args={"mix": 0.3})
    hist = res.training["history"]
    assert [h["step"] for h in hist] == [1, 2]
    for h in hist:
        assert all(math.isfinite(h[k]) for k in ("loss", "forget", "forget_npo", "forget_me", "retain"))
        assert h["forget"] == pytest.approx(0.3 * h["forget_npo"] + 0.7 * h["forget_me"], rel=1e-5)
        assert h["loss"] == pytest.approx(h["forget"] + h["retain"], rel=1e-5)
    # the step moved the model: both forget terms changed between the two steps
    assert hist[0]["forget_npo"] != hist[1]["forget_npo"]
    assert hist[0]["forget_me"] != hist[1]["forget_me"]


def _kl_r_by_hand(model, ref_model) -> torch.Tensor:
    """KL(p_ref ‖ p_θ) at every retain answer token, each sequence run alone (no padding),
    averaged over the tokens: the direction TOFU's retain KL takes (the reference's mass weighs)."""
    import torch.nn.functional as F

    from test_zoo import _positions
    mine = [z for seq in _positions(model, RETAIN) for z, _ in seq]
    with torch.no_grad():
        theirs = [z for seq in _positions(ref_model, RETAIN) for z, _ in seq]
    terms = [(F.softmax(r, -1) * (F.log_softmax(r, -1) - F.log_softmax(m, -1))).sum() for m, r in zip(mine, theirs)]
    return torch.stack(terms).mean()


def test_the_retain_kl_adds_gamma_times_kl_from_the_reference_in_one_retain_pass():
    """γ·KL(p_ref ‖ p_θ) on the retain answers, by hand per token; its gradient is γ times the
    hand term's; the reverse direction KL(p_θ ‖ p_ref) is far off; the retain rows still take
    one forward pass (NLL and KL from the same logits), and γ = 0 is the method without it."""
    import torch.nn.functional as F

    from test_zoo import _positions
    gamma = 2.5
    model, ref, batch = _setup()
    args = {"beta": BETA, "alpha": ALPHA, "mix": 0.4}
    plain, g_plain = _loss_and_grad("npo_me", args, model, ref, batch)
    assert "retain_kl" not in plain
    got, g = _loss_and_grad("npo_me", {**args, "retain_kl": gamma}, model, ref, batch)
    model.zero_grad(set_to_none=True)
    hand = _kl_r_by_hand(model, ref._model)
    hand.backward()
    g_hand = _flat_grad(model)
    assert hand.item() > 0.5                        # two different random models: far from 0
    assert got["retain_kl"] == pytest.approx(hand.item(), rel=1e-5)
    assert got["retain"] == pytest.approx(plain["retain"], rel=1e-6)
    assert got["total"] == pytest.approx(plain["total"] + gamma * hand.item(), rel=1e-5)
    want = g_plain + gamma * g_hand
    assert (g - want).norm() < 1e-4 * want.norm()
    # the other direction, KL(p_θ ‖ p_ref), is another number
    mine = [z for seq in _positions(model, RETAIN) for z, _ in seq]
    with torch.no_grad():
        theirs = [z for seq in _positions(ref._model, RETAIN) for z, _ in seq]
    reverse = torch.stack([(F.softmax(m, -1) * (F.log_softmax(m, -1) - F.log_softmax(r, -1))).sum()
                           for m, r in zip(mine, theirs)]).mean().item()
    assert abs(reverse - hand.item()) > 0.05 * hand.item()
    # one retain forward of the model per loss call, as without the term
    calls: list[torch.Tensor] = []
    model.register_forward_hook(lambda _m, a, kw, _o: calls.append(kw.get("input_ids", a[0] if a else None)),
                                with_kwargs=True)
    build_method("npo_me", {**args, "retain_kl": gamma}).loss(_ctx(model, ref), batch)
    assert len(calls) == 2                           # the forget batch and the retain batch


def test_the_retain_kl_needs_the_reference_and_a_non_negative_weight():
    assert "reference" in uses_of(build_method("npo_me", {"mix": 0.0, "retain_kl": 1.0}))
    assert uses_of(build_method("npo_me", {"mix": 0.0, "retain_kl": 0.0})) == frozenset({"forget", "retain"})
    assert "reference" in uses_of(build_method("npo_swap", {"mix": 0.0, "tokens": 0.0, "retain_kl": 1.0}))
    with pytest.raises(InputError) as e:
        build_method("npo_me", {"retain_kl": -0.5})
    assert e.value.field == "unlearn.args.retain_kl"
