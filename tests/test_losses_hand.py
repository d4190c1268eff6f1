"""Every loss against an independent hand computation on a non-degenerate model (SPEC §1–§2).

The model is a tiny random-weight Llama whose logits are far from uniform; the reference is
a second Llama with *different* weights; the batches are right-padded, of unequal prompt and
answer lengths, with the prompt masked (-100). The hand computations below use only plain
torch ops on each sequence run *alone and unpadded* (log_softmax, index the next token,
sum over answer positions), written from the SPEC formulas — never oblivio's helpers — so a
shifted label, a reversed KL, a flipped NPO sign, a token-mean instead of a sum, or prompt
tokens counted in the KL each change a number here (docs/mutation.md lists which test
catches which deliberate bug).
"""
from __future__ import annotations

import pytest
import torch

import oblivio.methods  # noqa: F401  (registration)
from handcalc import (
    FORGET_SHAPES,
    RETAIN_SHAPES,
    V,
    hand_capped,
    hand_kl,
    hand_logsoftmax,
    hand_mean_nll,
    hand_npo,
    hand_sum_logprob,
    make_seqs,
    pad_batch,
    tiny_llama,
)
from oblivio.config import build_method
from oblivio.engine.reference import Reference
from oblivio.methods.base import StepContext

# --- fixtures ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def setup():
    model, ref_model = tiny_llama(0), tiny_llama(1)
    fs, rs = make_seqs(FORGET_SHAPES, 10), make_seqs(RETAIN_SHAPES, 11)
    return model, ref_model, fs, rs


def run(name: str, args: dict, setup, ref: bool = True):
    model, ref_model, fs, rs = setup
    batch = {"forget": pad_batch(fs), "retain": pad_batch(rs, 100)}
    ctx = StepContext(model=model, reference=Reference(ref_model) if ref else None, step=0, max_steps=1)
    return build_method(name, args).loss(ctx, batch)


TOL = {"rel": 2e-5, "abs": 2e-5}


def test_the_fixture_is_not_degenerate(setup):
    # the bugs this file must catch are invisible when model = reference or logits are flat
    model, ref_model, fs, _ = setup
    lt, lr = hand_sum_logprob(model, fs), hand_sum_logprob(ref_model, fs)
    assert min(abs(a - b) for a, b in zip(lt, lr)) > 0.3
    assert len({len(s) for s, _ in fs}) >= 3 and len({p for _, p in fs}) >= 3
    ls = hand_logsoftmax(model, fs[0][0])
    assert float(ls.exp().max(-1).values.mean()) > 2.0 / V


def test_finetune_is_mean_answer_nll(setup):
    _, _, _, rs = setup
    out = run("finetune", {}, setup, ref=False)
    assert out.total.item() == pytest.approx(hand_mean_nll(setup[0], rs), **TOL)
    assert set(out.parts) == {"nll"} and out.parts["nll"].item() == out.total.item()   # logged parts


def test_ga_is_minus_token_mean_nll(setup):
    model, _, fs, _ = setup
    out = run("ga", {}, setup, ref=False)
    assert out.total.item() == pytest.approx(-hand_mean_nll(model, fs), **TOL)
    assert set(out.parts) == {"forget"} and out.parts["forget"].item() == pytest.approx(out.total.item())


@pytest.mark.parametrize("args,alpha", [({}, 1.0), ({"alpha": 0.3}, 0.3)])
def test_graddiff(setup, args, alpha):
    model, _, fs, rs = setup
    out = run("graddiff", args, setup, ref=False)
    f, r = -hand_mean_nll(model, fs), hand_mean_nll(model, rs)
    assert out.total.item() == pytest.approx(f + alpha * r, **TOL)
    assert out.parts["forget"].item() == pytest.approx(f, **TOL)
    assert out.parts["retain"].item() == pytest.approx(r, **TOL)
    assert set(out.parts) == {"forget", "retain"}


@pytest.mark.parametrize("args,alpha", [({}, 1.0), ({"alpha": 2.5}, 2.5)])
def test_kl_is_forward_kl_from_reference_on_answer_positions(setup, args, alpha):
    model, ref_model, fs, rs = setup
    out = run("kl", args, setup)
    kl = hand_kl(model, ref_model, rs)
    assert out.parts["kl"].item() == pytest.approx(kl, **TOL)
    assert out.total.item() == pytest.approx(-hand_mean_nll(model, fs) + alpha * kl, **TOL)
    assert set(out.parts) == {"forget", "kl"}
    assert out.parts["forget"].item() == pytest.approx(-hand_mean_nll(model, fs), **TOL)
    # the reversed direction KL(p_θ ‖ p_ref) is a different number on this fixture
    assert abs(hand_kl(ref_model, model, rs) - kl) > 1e-3


@pytest.mark.parametrize("args,beta,alpha", [({}, 0.1, 1.0), ({"beta": 0.5, "alpha": 0.0}, 0.5, 0.0),
                                             ({"beta": 2.0, "alpha": 0.7}, 2.0, 0.7)])
def test_npo(setup, args, beta, alpha):
    model, ref_model, fs, rs = setup
    out = run("npo", args, setup)
    f = hand_npo(model, ref_model, fs, beta)
    assert out.parts["forget"].item() == pytest.approx(f, **TOL)
    total = f + alpha * hand_mean_nll(model, rs)
    assert out.total.item() == pytest.approx(total, **TOL)
    assert set(out.parts) == ({"forget", "retain"} if alpha else {"forget"})
    if alpha:
        assert out.parts["retain"].item() == pytest.approx(hand_mean_nll(model, rs), **TOL)


def test_npo_without_retain_batch(setup):
    model, ref_model, fs, _ = setup
    ctx = StepContext(model=model, reference=Reference(ref_model), step=0, max_steps=1)
    out = build_method("npo", {"beta": 0.3}).loss(ctx, {"forget": pad_batch(fs)})
    assert out.total.item() == pytest.approx(hand_npo(model, ref_model, fs, 0.3), **TOL)


def test_reference_cache_follows_item_index(setup):
    # cached per item index: a reordered subset of the same items gets the same values
    _, ref_model, fs, _ = setup
    ref = Reference(ref_model)
    want = hand_sum_logprob(ref_model, fs)
    got = ref.seq_logprob(pad_batch(fs)).tolist()
    assert got == pytest.approx(want, **TOL)
    sub = [fs[2], fs[0]]
    b = pad_batch(sub)
    b["index"] = torch.tensor([2, 0])
    calls: list[int] = []
    forward = ref.logits
    ref.logits = lambda sub: (calls.append(1), forward(sub))[1]      # type: ignore[method-assign]
    assert ref.seq_logprob(b).tolist() == pytest.approx([want[2], want[0]], **TOL)
    assert not calls                     # served from the cache, no forward pass
    # new index 7 (content of item 1) is computed; index 1 comes from the cache whatever
    # the row holds: the cache key is the item index, not the tokens
    b = pad_batch([fs[1], fs[3]])
    b["index"] = torch.tensor([7, 1])
    got = ref.seq_logprob(b).tolist()
    assert got == pytest.approx([want[1], want[1]], **TOL)


def _ells(setup) -> list[float]:
    return [-v for v in hand_sum_logprob(setup[0], setup[2])]


def _delta_splitting(ells: list[float]) -> float:
    """A δ that puts some but not all sequences in S (between the 2nd and 3rd smallest ℓ)."""
    s = sorted(ells)
    return (s[1] + s[2]) / 2


@pytest.mark.parametrize("name", ["ga", "graddiff", "kl"])
def test_capped_forget_term(setup, name):
    ells = _ells(setup)
    delta = _delta_splitting(ells)
    assert 0 < sum(e < delta for e in ells) < len(ells)
    out = run(name, {"cap_delta": delta}, setup, ref=(name == "kl"))
    assert out.parts["forget"].item() == pytest.approx(hand_capped(ells, delta), **TOL)


def test_capped_empty_set_is_zero_with_zero_gradient(setup):
    model = setup[0]
    out = run("ga", {"cap_delta": min(_ells(setup)) - 1.0}, setup, ref=False)
    model.zero_grad()
    out.total.backward()
    assert out.total.item() == 0.0
    assert all(p.grad is None or not p.grad.any() for p in model.parameters())


@pytest.mark.parametrize("name", ["graddiff", "kl"])
def test_capped_retain_weighted_variant(setup, name):
    # (1−r)·retain + r·capped, r = 0.25 (not the 0.1 default, so r is not hard-wired)
    model, ref_model, _, rs = setup
    ells = _ells(setup)
    delta = _delta_splitting(ells)
    out = run(name, {"cap_delta": delta, "cap_retain_r": 0.25, "alpha": 9.0}, setup, ref=(name == "kl"))
    retain = hand_mean_nll(model, rs) if name == "graddiff" else hand_kl(model, ref_model, rs)
    assert out.total.item() == pytest.approx(0.75 * retain + 0.25 * hand_capped(ells, delta), **TOL)


def test_all_masked_batch_gives_zero_not_nan(setup):
    # a batch whose labels are all -100 (e.g. an answer truncated away) contributes 0
    model, _, fs, _ = setup
    b = pad_batch(fs)
    b["labels"][:] = -100
    ctx = StepContext(model=model, reference=None, step=0, max_steps=1)
    out = build_method("finetune", {}).loss(ctx, {"retain": b})
    assert out.total.item() == 0.0


def test_soft_cross_entropy_one_hot_and_zero_mass_on_minus_infinity():
    """A one-hot target gives the plain cross-entropy; a target with no mass where the
    logits are −inf contributes 0 there (not nan)."""
    from oblivio.methods.ops import soft_cross_entropy
    torch.manual_seed(0)
    logits = torch.randn(1, 2, 5)
    target = torch.zeros(1, 2, 5)
    target[0, 0, 2] = 1.0
    target[0, 1, 4] = 1.0
    mask = torch.ones(1, 2)
    want = -(torch.log_softmax(logits, -1)[0, 0, 2] + torch.log_softmax(logits, -1)[0, 1, 4]) / 2
    assert torch.allclose(soft_cross_entropy(logits, target, mask), want)
    logits[0, :, 0] = float("-inf")
    got = soft_cross_entropy(logits, target, mask)
    assert torch.isfinite(got)


# --- one answer token, the capping boundary, a zero retain weight ----------------------------

def test_one_answer_token_is_not_averaged_over_two(setup):
    # a batch whose only answer is a single token: every token mean divides by exactly 1
    from oblivio.methods.ops import kl_ref_to_model, masked_mean, mean_nll
    model, ref_model, _, _ = setup
    one = make_seqs([(4, 1)], 21)
    b = pad_batch(one)
    assert mean_nll(model, b).item() == pytest.approx(hand_mean_nll(model, one), **TOL)
    kl = kl_ref_to_model(model, Reference(ref_model), b).item()
    assert kl == pytest.approx(hand_kl(model, ref_model, one), **TOL)
    x, m = torch.tensor([[5.0, 7.0]]), torch.tensor([[0.0, 1.0]])
    assert masked_mean(x, m).item() == 7.0
    from oblivio.methods.capping import ga_forget_term
    assert ga_forget_term(torch.tensor([[-2.0, 0.0]]), torch.tensor([[1.0, 0.0]])).item() == -2.0


def test_capping_excludes_a_sequence_exactly_at_delta():
    from oblivio.methods.capping import ga_forget_term
    lp = torch.tensor([[-1.0, -1.0], [-3.0, 0.0]])            # summed NLL ℓ = 2 and 3
    # S = {i : ℓ_i < δ}: at δ = 3 the second sequence is out, so the term is (3 − 2) / 1
    assert ga_forget_term(lp, torch.ones(2, 2), cap_delta=3.0).item() == pytest.approx(1.0)
    assert ga_forget_term(lp, torch.ones(2, 2), cap_delta=3.5).item() == pytest.approx((1.5 + 0.5) / 2)


def test_plus_retain_nll_without_weight_or_rows(setup):
    from oblivio.methods.ops import plus_retain_nll
    model, _, fs, rs = setup
    forget = torch.tensor(-1.25)
    # α = 0: the retain term is neither computed nor logged
    out = plus_retain_nll(model, {"forget": pad_batch(fs), "retain": pad_batch(rs, 100)}, forget, 0.0)
    assert set(out.parts) == {"forget"} and out.total.item() == -1.25
    # no retain rows (a forget-only run): the forget term alone, whatever α
    out = plus_retain_nll(model, {"forget": pad_batch(fs)}, forget, 2.0)
    assert set(out.parts) == {"forget"} and out.total.item() == -1.25
    out = plus_retain_nll(model, {"forget": pad_batch(fs), "retain": pad_batch(rs, 100)}, forget, 2.0)
    assert out.total.item() == pytest.approx(-1.25 + 2.0 * hand_mean_nll(model, rs), **TOL)


def _pad_left(seqs) -> dict[str, torch.Tensor]:
    """The same batch padded on the left, as a Llama tokenizer's default padding side gives it."""
    width = max(len(s) for s, _ in seqs)
    ids = torch.full((len(seqs), width), 0)
    att = torch.zeros((len(seqs), width), dtype=torch.long)
    lab = torch.full((len(seqs), width), -100)
    for i, (s, p) in enumerate(seqs):
        o = width - len(s)
        ids[i, o:] = torch.tensor(s)
        att[i, o:] = 1
        lab[i, o + p:] = torch.tensor(s[p:])
    return {"input_ids": ids, "attention_mask": att, "labels": lab, "index": torch.arange(len(seqs))}


def test_losses_do_not_depend_on_the_padding_side(setup):
    # left padding puts pads *before* the answer: only the attention mask keeps them out of it
    # (RoPE is relative, so the shifted positions change nothing)
    from oblivio.methods.ops import answer_logits, kl_ref_to_model, mean_nll, seq_logprob
    model, ref_model, fs, _ = setup
    b = _pad_left(fs)
    assert mean_nll(model, b).item() == pytest.approx(hand_mean_nll(model, fs), rel=1e-4, abs=1e-4)
    for got, want in zip(seq_logprob(model, b).tolist(), hand_sum_logprob(model, fs)):
        assert got == pytest.approx(want, rel=1e-4, abs=1e-4)
    kl = kl_ref_to_model(model, Reference(ref_model), b).item()
    assert kl == pytest.approx(hand_kl(model, ref_model, fs), rel=1e-4, abs=1e-4)
    logits, tgt, mask = answer_logits(model, b)
    lp = torch.log_softmax(logits, -1).gather(-1, tgt.clamp_min(0).unsqueeze(-1)).squeeze(-1)
    assert float((lp * mask).sum().detach()) == pytest.approx(sum(hand_sum_logprob(model, fs)), rel=1e-4, abs=1e-4)
