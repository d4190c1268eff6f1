"""The method zoo against independent hand computations on a non-degenerate model.

A tiny random Llama (not a constant-logit toy), a reference with different weights, and a
right-padded batch of unequal lengths with the prompt masked. The hand versions run the
model on every *unpadded* sequence alone and read the log-probabilities position by
position, so they share no code with the methods (and catch padding, shift and mask bugs).
"""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

import oblivio.methods  # noqa: F401
from oblivio.config import build_method
from oblivio.engine.reference import Reference
from oblivio.methods.base import METHODS, StepContext

V = 24


def _llama(seed: int):
    from transformers import LlamaConfig, LlamaForCausalLM
    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=V, hidden_size=32, intermediate_size=48, num_hidden_layers=4,
                      num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=32,
                      tie_word_embeddings=False, attention_dropout=0.0)
    m = LlamaForCausalLM(cfg)
    with torch.no_grad():          # larger logits than the default init: far from uniform
        m.lm_head.weight.mul_(8)
    return m.float()


# (token ids, prompt length) per sequence: unequal lengths, prompts of different lengths
FORGET = [([3, 5, 7, 9, 11], 2), ([4, 6, 8, 10, 12, 14, 16], 3), ([13, 15, 17, 19], 1)]
RETAIN = [([20, 2, 5, 8], 2), ([21, 1, 4, 9, 16, 23], 2), ([22, 18, 11], 1)]


def _batch(rows):
    width = max(len(s) for s, _ in rows)
    ids, att, lab = [], [], []
    for s, p in rows:
        fill = width - len(s)
        ids.append(s + [0] * fill)
        att.append([1] * len(s) + [0] * fill)
        lab.append([-100] * p + s[p:] + [-100] * fill)
    return {"input_ids": torch.tensor(ids), "attention_mask": torch.tensor(att),
            "labels": torch.tensor(lab), "index": torch.arange(len(rows))}


def two_step_history(tiny_cfg, run_dir, method: str, method_args: dict) -> list[dict]:
    """``method`` trained for two steps on the tiny world from the Python API (no evaluation):
    the run's logged loss parts per step."""
    from oblivio import api
    res = api.unlearn(None, None, config=tiny_cfg, method=method, evaluate_models=False, run_dir=run_dir,
                      progress=False, log=lambda m: None, steps=2, method_args=method_args)
    hist = res.training["history"]
    assert [h["step"] for h in hist] == [1, 2]
    return hist


def cli_unlearn_section(*argv: str):
    """The ``unlearn`` config section the CLI builds from ``oblivio unlearn ARGV``."""
    from oblivio.cli import _config, build_parser
    return _config(build_parser().parse_args(["unlearn", *argv])).unlearn


def _positions(model, rows):
    """Per sequence: list of (logits row predicting token t, token t) for every answer token."""
    out = []
    for s, p in rows:
        logits = model(input_ids=torch.tensor([s])).logits[0].float()
        out.append([(logits[t - 1], s[t]) for t in range(p, len(s))])
    return out


@pytest.fixture()
def setup():
    model, ref = _llama(0), _llama(1)
    batch = {"forget": _batch(FORGET), "retain": _batch(RETAIN)}
    return model, Reference(ref, "copy"), batch


def _ctx(model, reference):
    return StepContext(model=model, reference=reference, step=0, max_steps=1)


def _nll_r(model):
    toks = [x for seq in _positions(model, RETAIN) for x in seq]
    return sum(-F.log_softmax(z, -1)[y] for z, y in toks) / len(toks)


def _mean(vals):
    return sum(vals) / len(vals)


def test_simnpo_by_hand(setup):
    model, _ref, batch = setup
    beta, gamma, alpha = 2.5, 0.3, 0.7
    got = build_method("simnpo", {"beta": beta, "gamma": gamma, "alpha": alpha}).loss(_ctx(model, None), batch)
    terms = []
    for seq in _positions(model, FORGET):
        avg = sum(F.log_softmax(z, -1)[y] for z, y in seq) / len(seq)
        terms.append(-(2 / beta) * F.logsigmoid(-beta * avg - gamma))
    want = _mean(terms) + alpha * _nll_r(model)
    assert got.total.item() == pytest.approx(want.item(), rel=1e-5)


def test_me_gd_by_hand(setup):
    model, _ref, batch = setup
    got = build_method("me_gd", {"alpha": 0.5}).loss(_ctx(model, None), batch)
    toks = [x for seq in _positions(model, FORGET) for x in seq]
    # KL(U ‖ p) = Σ_v (1/V)·(log(1/V) − log p_v)
    kls = [sum((1 / V) * (math.log(1 / V) - F.log_softmax(z, -1)[v]) for v in range(V)) for z, _ in toks]
    want = _mean(kls) + 0.5 * _nll_r(model)
    assert got.total.item() == pytest.approx(want.item(), rel=1e-5)
    assert got.parts["forget"].item() > 0.05          # far from uniform: the test is not vacuous


def test_undial_by_hand(setup):
    model, ref, batch = setup
    beta = 3.0
    got = build_method("undial", {"beta": beta, "alpha": 0.0}).loss(_ctx(model, ref), batch)
    mine, theirs = _positions(model, FORGET), _positions(ref._model, FORGET)
    ces = []
    for seq_m, seq_r in zip(mine, theirs):
        for (z, y), (zr, _) in zip(seq_m, seq_r):
            adj = zr.clone()
            adj[y] -= beta
            q = F.softmax(adj, -1)
            ces.append(-(q * F.log_softmax(z, -1)).sum())
    assert got.total.item() == pytest.approx(_mean(ces).item(), rel=1e-5)


@pytest.mark.parametrize("name,args,weight", [
    ("wga", {"beta": 2.0, "alpha": 0.3}, lambda p: p ** 2.0),
    ("satimp", {"beta1": 3.0, "beta2": 2.0, "alpha": 0.3}, lambda p: p ** 3.0 * (1 - p) ** 2.0),
])
def test_weighted_ga_by_hand(setup, name, args, weight):
    model, _ref, batch = setup
    got = build_method(name, args).loss(_ctx(model, None), batch)
    toks = [x for seq in _positions(model, FORGET) for x in seq]
    vals = []
    for z, y in toks:
        lp = F.log_softmax(z, -1)[y]
        vals.append(weight(lp.exp()) * lp)
    want = _mean(vals) + 0.3 * _nll_r(model)
    assert got.total.item() == pytest.approx(want.item(), rel=1e-5)


def test_ceu_by_hand(setup):
    model, _ref, batch = setup
    got = build_method("ceu", {"ignore_first": 1}).loss(_ctx(model, None), batch)
    ces = []
    for seq in _positions(model, FORGET):
        for z, y in seq[1:]:                        # the first answer token is not trained
            others = [v for v in range(V) if v != y]
            q = torch.zeros(V)
            q[others] = F.softmax(z[others], -1)
            ces.append(-(q * F.log_softmax(z, -1)).sum())
    assert got.total.item() == pytest.approx(_mean(ces).item(), rel=1e-5)


def test_pdu_by_hand_and_dual_ascent(setup):
    model, _ref, batch = setup
    meth = build_method("pdu", {"eps": 0.5, "lam": 2.0, "dual_lr": 0.25})
    got = meth.loss(_ctx(model, None), batch)
    toks = [x for seq in _positions(model, FORGET) for x in seq]
    flat = _mean([(z.max() - z.mean()) ** 2 for z, _ in toks])
    nll_r = _nll_r(model)
    assert got.total.item() == pytest.approx((flat + 2.0 * (nll_r - 0.5)).item(), rel=1e-5)
    # dual ascent: λ ← max(0, λ + η·(NLL_r − ε))
    assert meth.lam == pytest.approx(max(0.0, 2.0 + 0.25 * (nll_r.item() - 0.5)), rel=1e-5)
    meth.eps, meth.dual_lr = 1e6, 1.0
    meth.loss(_ctx(model, None), batch)
    assert meth.lam == 0.0                             # a slack constraint drives λ to zero


def test_rmu_by_hand(setup):
    model, ref, batch = setup
    meth = build_method("rmu", {"steering": 4.0, "alpha": 10.0, "layer": 2, "seed": 3})
    got = meth.loss(_ctx(model, ref), batch)
    g = torch.Generator().manual_seed(3)
    u = torch.rand(32, generator=g)
    target = 4.0 * u / u.norm()

    def layer_out(m, s):
        return m(input_ids=torch.tensor([s]), output_hidden_states=True).hidden_states[3][0]

    f = _mean([((layer_out(model, s)[t] - target) ** 2).mean() for s, p in FORGET for t in range(p, len(s))])
    r = _mean([((layer_out(model, s)[t] - layer_out(ref._model, s)[t]) ** 2).mean()
               for s, p in RETAIN for t in range(p, len(s))])
    assert got.total.item() == pytest.approx((f + 10.0 * r).item(), rel=1e-5)


def test_rmu_trains_only_three_mlp_projections(setup):
    model, _, _ = setup
    build_method("rmu", {"layer": 2}).prepare(model)
    trained = sorted(n for n, p in model.named_parameters() if p.requires_grad)
    assert trained == [f"model.layers.{i}.mlp.down_proj.weight" for i in (0, 1, 2)]


def _seq_logprob(model, rows):
    return sum(F.log_softmax(z, -1)[y] for seq in _positions(model, rows) for z, y in seq).item()


ZOO = ["simnpo", "me_gd", "npo_me", "undial", "wga", "satimp", "ceu", "pdu"]


@pytest.fixture()
def learned(setup):
    """The random model after learning forget and retain (answers well above 1/V), as a
    base model is before unlearning; its reference is itself, as in a real run."""
    model, _, batch = setup
    from oblivio.methods.ops import mean_nll
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(60):   # learned, not saturated: gradients at p ≈ 1 vanish for every method
        opt.zero_grad()
        (mean_nll(model, batch["forget"]) + mean_nll(model, batch["retain"])).backward()
        opt.step()
        toks = [x for seq in _positions(model, FORGET) for x in seq]
        probs = [F.softmax(z, -1)[y].item() for z, y in toks]
        if min(probs) > 2 / V and sum(probs) / len(probs) > 0.4:
            break
    assert min(probs) > 2 / V and max(probs) < 0.99
    return model, Reference(model, "copy"), batch


@pytest.mark.parametrize("name", ZOO)
def test_one_step_lowers_forget_likelihood(learned, name):
    model, ref, batch = learned
    meth = build_method(name, {"alpha": 0.0} if name not in ("pdu",) else {"lam": 0.0})
    before = _seq_logprob(model, FORGET)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    meth.loss(_ctx(model, ref), batch).total.backward()
    opt.step()
    assert _seq_logprob(model, FORGET) < before


def test_rmu_steps_move_forget_activations_toward_the_target(setup):
    model, ref, batch = setup
    meth = build_method("rmu", {"steering": 4.0, "alpha": 0.0, "layer": 1})
    meth.prepare(model)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1.0)
    dist = []
    for _ in range(3):
        opt.zero_grad()
        out = meth.loss(_ctx(model, ref), batch)
        dist.append(out.parts["forget"].item())
        out.total.backward()
        opt.step()
    assert dist[2] < dist[1] < dist[0]


def test_task_vector_negates_the_forget_finetuning(setup):
    model, _ref, batch = setup
    start = {n: p.detach().clone() for n, p in model.named_parameters()}
    before = _seq_logprob(model, FORGET)
    meth = build_method("task_vector", {"lam": 0.5})
    meth.prepare(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    meth.loss(_ctx(model, None), batch).total.backward()
    opt.step()
    tuned = {n: p.detach().clone() for n, p in model.named_parameters()}
    assert _seq_logprob(model, FORGET) > before          # fine-tuning reinforces the forget set
    meth.finish(model)
    for n, p in model.named_parameters():                # θ₀ − λ·(θ_ft − θ₀)
        assert torch.allclose(p, start[n] - 0.5 * (tuned[n] - start[n]), atol=1e-6)
    assert _seq_logprob(model, FORGET) < before


def test_task_vector_with_lora_negates_the_adapter_delta(setup):
    from peft import LoraConfig, get_peft_model
    model, _, batch = setup
    model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]))
    meth = build_method("task_vector", {"lam": 2.0})
    meth.prepare(model)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    meth.loss(_ctx(model, None), batch).total.backward()
    opt.step()

    def delta():
        lay = model.base_model.model.model.layers[0].self_attn.q_proj
        return lay.lora_B["default"].weight @ lay.lora_A["default"].weight
    d = delta().clone()
    assert d.abs().max() > 0
    meth.finish(model)
    assert torch.allclose(delta(), -2.0 * d, atol=1e-6)


@pytest.mark.parametrize("name", [n for n in METHODS.names() if n != "finetune"])
def test_every_method_trains_a_lora_adapter(name, tiny_world, fresh_base):
    """LoRA for every method: only adapters change; the reference is the adapter-disabled base."""
    from oblivio.engine.loop import TrainConfig
    from oblivio.engine.unlearning import LoraSpec, run_unlearning
    data, _ = tiny_world
    model, tok = fresh_base
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model, res = run_unlearning(model, tok, data, build_method(name, {}), sampler="one_to_one_random",
                                train_cfg=TrainConfig(lr=1e-2, max_steps=2, batch_size=4, progress=False),
                                lora=LoraSpec(r=4), merge_lora=True)
    assert res.steps == 2 and all(math.isfinite(h["loss"]) for h in res.history)
    after = model.state_dict()
    assert set(after) == set(before)                    # merged back into a plain model
    assert any(not torch.equal(before[k], after[k]) for k in before)
