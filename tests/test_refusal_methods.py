"""The refusal family (IDK, DPO, IdkPO; SPEC §2) against hand computations, and their refusals.

Same fixture as test_losses_hand.py: a random Llama, a reference with other weights, padded
batches of unequal lengths. The refusal of forget item i shares its prompt and has an answer
of its own length; the forget sub-batch is a *permuted subset* of the items, so a refusal
looked up by position instead of by item index gives another number.
"""
from __future__ import annotations

import math

import pytest
import torch

import oblivio.methods  # noqa: F401  (registration)
from handcalc import (
    FORGET_SHAPES,
    PAD,
    RETAIN_SHAPES,
    V,
    hand_mean_nll,
    hand_sum_logprob,
    logsigmoid,
    make_seqs,
    pad_batch,
    tiny_llama,
)
from oblivio.config import build_method
from oblivio.data.refusals import assign, refusals_for, world_refusals
from oblivio.engine.reference import Reference
from oblivio.methods.alternate import AltAnswers
from oblivio.methods.base import StepContext

TOL = {"rel": 2e-5, "abs": 2e-5}
SUBSET = [2, 0, 3]                     # the forget items of the batch, in this order


@pytest.fixture(scope="module")
def setup():
    model, ref_model = tiny_llama(0), tiny_llama(1)
    fs, rs = make_seqs(FORGET_SHAPES, 10), make_seqs(RETAIN_SHAPES, 11)
    g = torch.Generator().manual_seed(12)
    # refusal i: forget item i's prompt + an answer of length 2 + i (unequal, ≠ the forget answer)
    alts = [(s[:p] + torch.randint(3, V, (2 + i,), generator=g).tolist(), p) for i, (s, p) in enumerate(fs)]
    return model, ref_model, fs, rs, alts


def batch_of(fs, rs):
    f = pad_batch([fs[i] for i in SUBSET])
    f["index"] = torch.tensor(SUBSET)
    return {"forget": f, "retain": pad_batch(rs, 100)}


def run(name, args, setup, ref=True):
    model, ref_model, fs, rs, alts = setup
    meth = build_method(name, args)
    meth.alt = AltAnswers.from_ids(alts, PAD)
    ctx = StepContext(model=model, reference=Reference(ref_model) if ref else None, step=0, max_steps=1)
    return meth.loss(ctx, batch_of(fs, rs))


def hand_delta(model, ref, fs, alts):
    w = [alts[i] for i in SUBSET]
    lo = [fs[i] for i in SUBSET]
    win = [a - b for a, b in zip(hand_sum_logprob(model, w), hand_sum_logprob(ref, w))]
    lose = [a - b for a, b in zip(hand_sum_logprob(model, lo), hand_sum_logprob(ref, lo))]
    return [a - b for a, b in zip(win, lose)]


@pytest.mark.parametrize("alpha", [0.0, 0.6])
def test_idk_is_refusal_nll_plus_retain(setup, alpha):
    model, _, fs, rs, alts = setup
    out = run("idk", {"alpha": alpha}, setup, ref=False)
    idk = hand_mean_nll(model, [alts[i] for i in SUBSET])
    assert out.parts["forget"].item() == pytest.approx(idk, **TOL)
    assert out.total.item() == pytest.approx(idk + alpha * hand_mean_nll(model, rs), **TOL)
    # the forget answers' NLL is another number: the loss reads the refusals, not the forget rows
    assert abs(hand_mean_nll(model, [fs[i] for i in SUBSET]) - idk) > 0.05


@pytest.mark.parametrize("beta,alpha", [(0.1, 0.0), (0.7, 0.4)])
def test_dpo_by_hand(setup, beta, alpha):
    model, ref_model, fs, rs, alts = setup
    out = run("dpo", {"beta": beta, "alpha": alpha}, setup)
    d = hand_delta(model, ref_model, fs, alts)
    assert min(abs(x) for x in d) > 0.1                     # not at the reference: σ'(βΔ) ≠ 1/4
    f = -sum(logsigmoid(beta * x) for x in d) / len(d)
    assert out.parts["forget"].item() == pytest.approx(f, **TOL)
    assert out.total.item() == pytest.approx(f + alpha * hand_mean_nll(model, rs), **TOL)


@pytest.mark.parametrize("args,beta,alpha", [({}, 0.1, 1.0), ({"beta": 0.5, "alpha": 0.2}, 0.5, 0.2)])
def test_idkpo_by_hand(setup, args, beta, alpha):
    model, ref_model, fs, rs, alts = setup
    out = run("idkpo", args, setup)
    d = hand_delta(model, ref_model, fs, alts)
    f = -(2.0 / beta) * sum(logsigmoid(beta * x) for x in d) / len(d)
    assert out.parts["forget"].item() == pytest.approx(f, **TOL)
    assert out.total.item() == pytest.approx(f + alpha * hand_mean_nll(model, rs), **TOL)


def test_dpo_reference_cache_keeps_refusals_and_answers_apart(setup):
    # the reference caches log-likelihoods by item index: a refusal must not reuse the
    # forget answer's cached value (same index) — a second call must give the same loss
    model, ref_model, fs, rs, alts = setup
    meth = build_method("dpo", {"beta": 0.3})
    meth.alt = AltAnswers.from_ids(alts, PAD)
    ctx = StepContext(model=model, reference=Reference(ref_model), step=0, max_steps=1)
    a = meth.loss(ctx, batch_of(fs, rs)).total.item()
    b = meth.loss(ctx, batch_of(fs, rs)).total.item()
    d = hand_delta(model, ref_model, fs, alts)
    assert a == pytest.approx(b, **TOL)
    assert b == pytest.approx(-sum(logsigmoid(0.3 * x) for x in d) / len(d), **TOL)


def test_without_prepare_data_the_error_says_what_to_do(setup):
    model, _, fs, rs, _ = setup
    with pytest.raises(RuntimeError, match="prepare_data"):
        build_method("idk", {}).loss(StepContext(model, None, 0, 1), batch_of(fs, rs))


@pytest.mark.parametrize("name", ["idk", "dpo", "idkpo"])
def test_one_step_lowers_forget_likelihood(setup, name):
    _, _, fs, rs, alts = setup
    model = tiny_llama(3)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    full = {"forget": pad_batch(fs), "retain": pad_batch(rs, 100)}
    from oblivio.methods.ops import mean_nll
    for _ in range(40):                   # learn the forget answers first, as a base model has
        opt.zero_grad()
        (mean_nll(model, full["forget"]) + mean_nll(model, full["retain"])).backward()
        opt.step()
    model.train()
    meth = build_method(name, {"alpha": 0.0})
    meth.alt = AltAnswers.from_ids(alts, PAD)
    ref = Reference(model, "copy")
    before = sum(hand_sum_logprob(model, fs))
    assert before > -len(fs) * math.log(V)        # learned: above the uniform model
    sgd = torch.optim.SGD(model.parameters(), lr=0.05)
    meth.loss(StepContext(model, ref, 0, 1), full).total.backward()
    sgd.step()
    assert sum(hand_sum_logprob(model, fs)) < before


# --- the refusals --------------------------------------------------------------------------

def test_world_refusals_are_varied_and_assignment_is_stable():
    rs = world_refusals()
    assert len(set(rs)) == len(rs) >= 10
    ids = [f"item{i}" for i in range(40)]
    a = assign(ids, rs, seed=0)
    assert dict(zip(ids, a)) == dict(zip(ids[::-1], assign(ids[::-1], rs, seed=0)))   # by id, not position
    assert len(set(a)) > 5 and assign(ids, rs, seed=1) != a


def test_refusal_sources(tmp_path):
    from oblivio.data.tofu import default_tofu_dir
    from oblivio.errors import InputError
    assert refusals_for("world") == world_refusals()
    if default_tofu_dir() is not None and (default_tofu_dir() / "idk.jsonl").is_file():
        tofu = refusals_for("tofu:forget01")
        assert len(tofu) == 100 and tofu != world_refusals()
    p = tmp_path / "r.jsonl"
    p.write_text('{"answer": "No idea."}\n\n{"answer": "Ask someone else."}\n')
    assert refusals_for("world", str(p)) == ["No idea.", "Ask someone else."]
    p.write_text('{"answer": "ok"}\n{"text": 1}\n')
    with pytest.raises(InputError, match=r"r.jsonl:2"):
        refusals_for("world", str(p))


def test_prepare_data_gives_each_forget_item_its_prompt_and_refusal(tiny_world):
    from oblivio.methods.base import RunInputs
    from oblivio.models.format import PromptFormat
    from oblivio.models.io import load_model
    data, wm = tiny_world
    _, tok = load_model(wm.base_dir)
    meth = build_method("idk", {})
    fmt = PromptFormat()
    meth.prepare_data(RunInputs(tokenizer=tok, fmt=fmt, data=data, forget=data.forget,
                                retain=data.unlearning_retain()))
    sub = {"index": torch.tensor([1, 0]), "input_ids": torch.zeros(2, 1, dtype=torch.long)}
    b = meth.alt.batch(sub)
    want = assign([it.id for it in data.forget], world_refusals())
    for row, i in enumerate([1, 0]):
        ids = b["input_ids"][row][b["attention_mask"][row].bool()].tolist()
        ans = [t for t, lab in zip(ids, b["labels"][row].tolist()) if lab != -100]
        assert tok.decode(ids[:len(ids) - len(ans)]).endswith(fmt.prompt(data.forget[i].question))
        assert tok.decode(ans, skip_special_tokens=True).strip() == want[i]
