"""``npo_me_tar`` (methods/npo_me_tar.py): the tamper term by hand on a 4-layer random Llama.

The hand value copies the model, runs the adversary on the copy with its weights changed in
place (K steps of p ← p − η·sign(∂NLL_A/∂p), the NLL written out over the positions that predict
A's answer tokens), then takes KL(U ‖ p) = −log V − (1/V)·Σ_v log p_v over the positions that
predict B's answer tokens on the moved copy. An adversary that steps up the NLL instead of down,
trains on B and scores A, takes one step more or fewer, or is skipped altogether gives another
number; so does a gradient taken at θ instead of θ + δ.
"""
from __future__ import annotations

import copy
import math

import pytest
import torch

import oblivio.methods  # noqa: F401
from oblivio.config import build_method
from oblivio.engine.reference import Reference
from oblivio.methods.base import RunInputs, StepContext
from oblivio.methods.npo_me_tar import split_by_fact
from test_zoo import FORGET, RETAIN, _batch, _llama, cli_unlearn_section, two_step_history

# four forget rows: facts x, y, x, z → A = rows of x and z, B = the row of y
ROWS = FORGET + [([7, 3, 9, 12, 5, 8], 2)]
FACTS = ["x", "y", "x", "z"]
A, B = [0, 2, 3], [1]


def _nll(model, rows) -> torch.Tensor:
    """Mean answer NLL over the positions that predict the answer tokens of ``rows``."""
    terms = []
    for seq, p in rows:
        logp = torch.log_softmax(model(input_ids=torch.tensor([seq])).logits[0].float(), -1)
        terms += [-logp[t, seq[t + 1]] for t in range(p - 1, len(seq) - 1)]
    return torch.stack(terms).mean()


def _me(model, rows) -> torch.Tensor:
    """KL(U ‖ p) averaged over the positions that predict the answer tokens of ``rows``."""
    kls = []
    for seq, p in rows:
        logp = torch.log_softmax(model(input_ids=torch.tensor([seq])).logits[0].float(), -1)
        kls += [-math.log(logp.size(-1)) - logp[t].mean() for t in range(p - 1, len(seq) - 1)]
    return torch.stack(kls).mean()


def _attacked(model, rows, steps: int, lr: float):
    """A copy of ``model`` after ``steps`` sign-gradient steps of size ``lr`` on the NLL of ``rows``."""
    m = copy.deepcopy(model)
    for _ in range(steps):
        m.zero_grad()
        _nll(m, rows).backward()
        with torch.no_grad():
            for p in m.parameters():
                if p.grad is not None:
                    p.sub_(lr * p.grad.sign())
    m.zero_grad()
    return m


def test_split_by_fact_alternates_facts_and_keeps_each_facts_rows_together():
    assert split_by_fact(FACTS) == (A, B)
    assert split_by_fact(["p", "q", "r", "q", "s", "p"]) == ([0, 2, 5], [1, 3, 4])
    assert split_by_fact(["only", "only"]) == ([0, 1], [])


def test_the_tamper_term_is_max_entropy_on_b_after_k_sign_steps_on_a_and_its_gradient_is_taken_there():
    model = _llama(0)
    method = build_method("npo_me_tar", {"tamper": 1.0, "tamper_steps": 2, "tamper_lr": 0.02})
    term = method.tamper_term(model, _batch(ROWS), A, B)
    moved = _attacked(model, [ROWS[i] for i in A], 2, 0.02)
    want = _me(moved, [ROWS[i] for i in B])
    assert term.item() == pytest.approx(want.item(), rel=1e-5)
    # each plausible slip gives another number
    rows_a, rows_b = [ROWS[i] for i in A], [ROWS[i] for i in B]
    slips = {"no adversary": _me(model, rows_b), "one step": _me(_attacked(model, rows_a, 1, 0.02), rows_b),
             "ascent": _me(_attacked(model, rows_a, 2, -0.02), rows_b),
             "A and B swapped": _me(_attacked(model, rows_b, 2, 0.02), rows_a)}
    for name, v in slips.items():
        assert abs(v.item() - want.item()) > 1e-3 * abs(want.item()), name
    # the gradient with respect to θ is the gradient at θ + δ (first order: δ a constant)
    term.backward()
    want.backward()
    for name in ("lm_head.weight", "model.layers.0.mlp.up_proj.weight", "model.embed_tokens.weight"):
        got = dict(model.named_parameters())[name].grad
        at_moved = dict(moved.named_parameters())[name].grad
        # float32 sums in another order (another CPU's kernels) differ by ~1e-6 of the largest entry
        assert torch.allclose(got, at_moved, rtol=1e-4, atol=1e-6 * float(at_moved.abs().max())), name
    model.zero_grad()
    _me(model, rows_b).backward()
    at_theta = model.lm_head.weight.grad
    assert (at_theta - dict(moved.named_parameters())["lm_head.weight"].grad).norm() > 1e-3 * at_theta.norm()


def _inputs(facts: list[str]) -> RunInputs:
    from oblivio.data.schema import QAItem
    items = [QAItem(id=f"r{i}", question="q", answer="a", role="forget", fact=f) for i, f in enumerate(facts)]
    return RunInputs(tokenizer=None, fmt=None, data=None, forget=items, retain=[])


def test_the_loss_is_npo_me_plus_tau_times_the_term_split_by_the_items_facts():
    model, ref = _llama(0), Reference(_llama(1), "copy")
    batch = {"forget": _batch(ROWS), "retain": _batch(RETAIN)}
    args = {"beta": 0.5, "alpha": 0.7, "mix": 0.4}
    base = build_method("npo_me", args).loss(StepContext(model=model, reference=ref, step=0, max_steps=1), batch)
    tar = build_method("npo_me_tar", {**args, "tamper": 0.3, "tamper_steps": 2, "tamper_lr": 0.02})
    tar.prepare_data(_inputs(FACTS))
    got = tar.loss(StepContext(model=model, reference=ref, step=0, max_steps=1), batch)
    want_term = _me(_attacked(model, [ROWS[i] for i in A], 2, 0.02), [ROWS[i] for i in B]).item()
    assert got.parts["forget_tamper"].item() == pytest.approx(want_term, rel=1e-5)
    assert got.total.item() == pytest.approx(base.total.item() + 0.3 * want_term, rel=1e-5)
    assert got.parts["forget"].item() == pytest.approx(base.parts["forget"].item(), rel=1e-6)
    # τ = 0 is npo_me exactly, and a batch of one fact has nothing to score: no term
    off = build_method("npo_me_tar", {**args, "tamper": 0.0})
    off.prepare_data(_inputs(FACTS))
    zero = off.loss(StepContext(model=model, reference=ref, step=0, max_steps=1), batch)
    assert "forget_tamper" not in zero.parts and zero.total.item() == pytest.approx(base.total.item(), rel=1e-6)
    one = build_method("npo_me_tar", args)
    one.prepare_data(_inputs(["same"] * 4))
    single = one.loss(StepContext(model=model, reference=ref, step=0, max_steps=1), batch)
    # logged as 0 (every process must log the same parts: the loop averages them across processes)
    assert single.parts["forget_tamper"].item() == 0.0
    assert single.total.item() == pytest.approx(base.total.item(), rel=1e-6)


@pytest.mark.parametrize("args", [{"tamper": -0.1}, {"tamper_steps": 0}, {"tamper_lr": 0.0}])
def test_arguments_out_of_range_are_refused(args):
    from oblivio.errors import InputError
    with pytest.raises(InputError) as e:
        build_method("npo_me_tar", args)
    assert e.value.field == f"unlearn.args.{next(iter(args))}"


def test_npo_me_tar_trains_from_the_api_and_is_set_from_the_cli(tiny_cfg, tmp_path):
    hist = two_step_history(tiny_cfg, tmp_path / "run", "npo_me_tar", {"mix": 0.5, "tamper": 0.5})
    for h in hist:
        assert h["forget_tamper"] > 0
        # ``forget`` is npo_me's mixture at θ; the tamper term is added to the total only
        assert h["forget"] == pytest.approx(0.5 * h["forget_npo"] + 0.5 * h["forget_me"], rel=1e-5)
    u = cli_unlearn_section("--method", "npo_me_tar", "--set", "unlearn.args.tamper=0.3")
    assert u.method == "npo_me_tar" and build_method(u.method, u.args).tamper == 0.3


def test_under_lora_the_adversary_moves_the_adapter_and_the_gradient_reaches_it_only():
    """A LoRA run trains the adapter only: the simulated attack moves those weights (the term
    differs from the unattacked one) and the base weights get no gradient."""
    from peft import LoraConfig, get_peft_model
    model = get_peft_model(_llama(0), LoraConfig(r=2, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    method = build_method("npo_me_tar", {"tamper_steps": 2, "tamper_lr": 0.05})
    term = method.tamper_term(model, _batch(ROWS), A, B)
    with torch.no_grad():
        plain = _me(model, [ROWS[i] for i in B]).item()
    assert abs(term.item() - plain) > 1e-4 * plain
    term.backward()
    trained = [p for n, p in model.named_parameters() if p.requires_grad]
    assert trained and all("lora_" in n for n, p in model.named_parameters() if p.requires_grad)
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in trained)
    assert all(p.grad is None for p in model.parameters() if not p.requires_grad)
