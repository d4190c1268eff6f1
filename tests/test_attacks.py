"""Attacks (SPEC §4): hand-checked cases for each attack, the audit record, the CLI and API."""
from __future__ import annotations

import copy
import json
import math
import shutil
from types import SimpleNamespace

import pytest
import torch

from clirun import run_cli
from oblivio.attacks import ATTACKS
from oblivio.attacks.audit import audit_summary, run_audit, score, verdict
from oblivio.attacks.few_shot import FewShot
from oblivio.attacks.logit_lens import (
    LogitLens,
    _scored,
    answer_pools,
    candidate_logprobs,
    candidates,
    credit,
    folds,
    value_context,
)
from oblivio.attacks.quantize import fake_quantize, quantize_model
from oblivio.attacks.relearn import Relearn, split_by_fact
from oblivio.data.schema import QAItem
from oblivio.models.format import PromptFormat, prompt_text

# ---------------------------------------------------------------- quantisation


@pytest.mark.parametrize("bits", [8, 4])
def test_fake_quantize_grid_values_survive_and_error_is_half_a_step(bits):
    qmax = 2 ** (bits - 1) - 1
    s = 2.0 ** -8    # a power of two: k·s and the scale are exact in float32, so the grid survives bit for bit
    # row 0: one group exactly on its grid (k·s from −qmax to qmax), then a group of small values
    grid = torch.tensor([(-qmax + 2 * qmax * i // 31) * s for i in range(32)])
    small = torch.linspace(-1e-3, 1e-3, 32)
    w = torch.stack([torch.cat([grid, small]), torch.randn(64)])
    q = fake_quantize(w, bits)
    assert torch.equal(q[0, :32], grid)
    for row in range(2):
        for g in range(2):
            block, qb = w[row, 32 * g: 32 * (g + 1)], q[row, 32 * g: 32 * (g + 1)]
            scale = block.abs().max() / qmax        # per group: the small group keeps its precision
            assert (qb - block).abs().max() <= scale / 2 + 1e-7
    # by hand: int4, group [1.0, 0.3, 0, ...] → scale 1/7, 0.3·7 = 2.1 → 2 → 2/7
    h = torch.zeros(1, 32)
    h[0, 0], h[0, 1] = 1.0, 0.3
    if bits == 4:
        assert fake_quantize(h, 4)[0, 1].item() == pytest.approx(2 / 7, abs=1e-7)
    assert torch.equal(fake_quantize(torch.zeros(2, 32), bits), torch.zeros(2, 32))   # zero group stays zero
    odd = torch.randn(3, 40)                                                          # a partial last group
    qo = fake_quantize(odd, bits)
    assert qo.shape == odd.shape
    assert (qo[:, 32:] - odd[:, 32:]).abs().max() <= odd[:, 32:].abs().max() / qmax / 2 + 1e-7
    assert torch.equal(fake_quantize(q, bits), q)                                     # idempotent


def test_quantize_model_rounds_linear_weights_not_the_head(fresh_base):
    model, _ = fresh_base
    head = model.lm_head.weight.detach().clone()
    q_proj = model.model.layers[0].self_attn.q_proj.weight.detach().clone()
    n = quantize_model(model, 4)
    assert n == sum(isinstance(m, torch.nn.Linear) for m in model.modules()) - 1
    w = model.model.layers[0].self_attn.q_proj.weight.detach()
    assert not torch.equal(w, q_proj) and torch.equal(w, fake_quantize(q_proj, 4))
    assert torch.equal(model.lm_head.weight, head)

# ---------------------------------------------------------------- logit lens


class LensModel(torch.nn.Module):
    """Readouts fixed by hand: norm and head are the identity, so each layer's readout is its
    hidden state itself, the same at every position of every sequence."""

    def __init__(self, states: list[torch.Tensor], final: torch.Tensor) -> None:
        super().__init__()
        self.states, self.final = states, final
        self.base_model_ = SimpleNamespace(norm=torch.nn.Identity())
        self.head = torch.nn.Identity()

    @property
    def base_model(self):
        return self.base_model_

    @property
    def device(self):
        return torch.device("cpu")

    def get_output_embeddings(self):
        return self.head

    def forward(self, ids, attention_mask=None, output_hidden_states=True):
        b, t = ids.shape
        hs = tuple(s.expand(b, t, -1) for s in [*self.states, torch.zeros_like(self.final)])
        return SimpleNamespace(hidden_states=hs, logits=self.final.expand(b, t, -1))


def test_logit_lens_credit_by_hand():
    # the true answer (index 0) below one candidate: no credit, reciprocal rank 1/2
    c, rr, p = credit(torch.tensor([-1.0, -0.5, -2.0]))
    e = [math.exp(x) for x in (-1.0, -0.5, -2.0)]
    assert (c, rr) == (0.0, 0.5) and p == pytest.approx(e[0] / sum(e))
    # tied with one other at the top: half a hit, reciprocal rank (1 + 1/2) / 2
    assert credit(torch.tensor([-1.0, -1.0, -3.0]))[:2] == (0.5, 0.75)
    assert credit(torch.tensor([0.0, -1.0, -3.0]))[:2] == (1.0, 1.0)
    assert credit(torch.zeros(4))[0] == 0.25               # cannot tell them apart: chance


def test_logit_lens_readout_is_the_mean_token_logprob_per_layer(tiny_world):
    data, wm = tiny_world
    tok = wm.tokenizer
    it = next(x for x in data.forget if x.relation == "employer")     # a two-token answer
    ctx, val = value_context(tok, PromptFormat(), it, it.key)
    assert tok.decode(val).strip() == it.key and len(val) == 2
    assert tok.decode(ctx).rstrip().endswith(it.answer[: it.answer.find(it.key)].rstrip())
    n = len(tok)
    layer, mid, final = (torch.randn(n, generator=torch.Generator().manual_seed(k)) for k in range(3))
    lp = candidate_logprobs(LensModel([layer, mid], final), [(ctx, val), (ctx, val[:1])])
    assert lp.shape == (3, 2)
    for row, vec in ((0, layer), (1, mid), (2, final)):        # embeddings, block 1, output
        ls = vec.double().log_softmax(-1)
        assert lp[row, 0].item() == pytest.approx(ls[val].mean().item(), abs=1e-6)
        assert lp[row, 1].item() == pytest.approx(ls[val[0]].item(), abs=1e-6)


def test_logit_lens_candidates_are_the_answers_of_the_same_relation(tiny_world):
    data, _ = tiny_world
    pools = answer_pools(data.items)
    it = next(x for x in data.forget if x.relation == "spouse")
    cands = candidates(it, pools, 32, seed=0)
    spouses = {x.key for x in data.items if x.relation == "spouse"}
    assert cands[0] == it.key and set(cands) == spouses - {it.entity}
    assert len(candidates(it, pools, 2, seed=0)) == 2 and candidates(it, pools, 2, seed=0)[0] == it.key


def test_logit_lens_scores_the_fact_not_its_type(tiny_world):
    """A readout that ranks every candidate alike scores chance, not 'recovered' (top-k
    containment of a small type would count it); a layer that singles out the true answers is
    found from the other fold and scores 1; the output layer is the clean readout."""
    data, wm = tiny_world
    tok = wm.tokenizer
    n = len(tok)
    flat = torch.zeros(n)
    blind = LogitLens().apply(LensModel([flat, flat], flat), tok, data)
    chance = blind.details["chance"]
    assert 0.2 < chance < 0.4 and blind.scores["accuracy"] == pytest.approx(chance)
    assert blind.clean_scores["accuracy"] == pytest.approx(chance)
    true = torch.full((n,), -5.0)
    for it in data.forget:
        true[value_context(tok, PromptFormat(), it, it.key)[1]] = 5.0
    seen = LogitLens().apply(LensModel([flat, true], flat), tok, data)
    assert seen.scores["accuracy"] == 1.0 and seen.details["fold_layers"] == [1, 1]
    assert seen.clean_scores["accuracy"] == pytest.approx(chance)
    assert seen.details["layer_accuracy"] == pytest.approx([chance, 1.0, chance])


def test_logit_lens_layer_is_chosen_on_the_other_fold():
    """Fold-0 facts show at layer 1 only, fold-1 facts at layer 2 only: choosing each fold's
    layer on its own facts would score 1; chosen on the other fold, every item misses."""
    items = [QAItem(id=f"i{k}", question="q", answer="a", role="forget", fact=f"f{k}") for k in range(6)]
    fold = folds(items, 0)
    assert sorted(fold.values()) == [0, 0, 0, 1, 1, 1]
    hit, miss = (1.0, 1.0, 0.9), (0.0, 0.25, 0.1)
    per = {i: [miss, hit, miss] if f == 0 else [miss, miss, hit] for i, f in fold.items()}
    res = _scored(SimpleNamespace(forget=items), per, {i: 4 for i in per}, 0)
    assert res.details["fold_layers"] == [2, 1] and res.scores["accuracy"] == 0.0
    assert res.details["layer_accuracy"] == [0.0, 0.5, 0.5] and res.details["chance"] == 0.25
    assert res.clean_scores["accuracy"] == 0.5            # the output layer: fold 1's facts


def test_logit_lens_gold_is_near_chance_and_base_recovers(tiny_world):
    """On the tiny world's models: the base ranks the true answers first; gold, which never saw
    the forget facts, is not above chance (the old top-5 probe gave gold ~0.5)."""
    data, wm = tiny_world
    base = LogitLens().apply(wm.base, wm.tokenizer, data)
    gold = LogitLens().apply(wm.gold, wm.tokenizer, data)
    assert base.scores["accuracy"] >= 0.9
    assert gold.scores["accuracy"] <= gold.details["chance"] + 0.15, (gold.scores, gold.details)

def test_logit_lens_does_not_depend_on_the_data_files_name(tiny_world, tmp_path, repo_root):
    """The same rows under two file names (a row without an id is named by its file and line):
    the same candidates and the same score. A newcomer's ferry.jsonl and my.jsonl, same content
    and the same models, gave 0.556 and 0.667: the candidate sample was seeded by the id."""
    from oblivio import api
    _, wm = tiny_world
    datas = []
    for name in ("ferry.jsonl", "my.jsonl"):
        shutil.copy(repo_root / "examples" / "stranger" / "ferry.jsonl", tmp_path / name)
        datas.append(api.load_data(str(tmp_path / name)))
    a, b = datas
    assert a.forget[0].id == "ferry.jsonl:1" and b.forget[0].id == "my.jsonl:1"
    pools_a, pools_b = answer_pools(a.items), answer_pools(b.items)
    assert max(len(v) for v in pools_a.values()) > 32         # no relations: one pool of 76 keys, sampled
    assert [candidates(it, pools_a, 32, 0) for it in a.forget] == [candidates(it, pools_b, 32, 0) for it in b.forget]
    # a readout that ranks the candidates at random (fixed per token): the score is the sample's
    n = len(wm.tokenizer)
    g = torch.Generator().manual_seed(0)
    model = LensModel([torch.zeros(n), torch.randn(n, generator=g)], torch.randn(n, generator=g))
    ra, rb = (LogitLens().apply(model, wm.tokenizer, d) for d in (a, b))
    assert ra.scores == rb.scores and ra.clean_scores == rb.clean_scores and ra.details == rb.details
    assert list(ra.per_item.values()) == list(rb.per_item.values())


# ---------------------------------------------------------------- prompt attacks


def test_prompt_attacks_build_the_intended_prompts(tiny_world):
    data, _ = tiny_world
    fmt = PromptFormat()
    it = data.forget[0]

    def prompts(name):
        res = ATTACKS.get(name)().apply(None, None, data, seed=0)
        f = res.fmt or fmt
        assert [x.id for x in res.items] == [x.id for x in data.forget if x.id in {y.id for y in res.items}]
        return {x.id: prompt_text(None, f, x.question) for x in res.items}, res

    p, res = prompts("paraphrase")
    assert p[it.id] == f"Question: {it.paraphrased_question}\nAnswer:"
    # scored on the paraphrased question's own answer sentence, which still holds the key
    para = {x.id: x for x in res.items}[it.id]
    assert para.answer == it.paraphrased_question_answer != it.answer and it.key in para.answer
    p, _ = prompts("prefix_injection")
    assert p[it.id].startswith("Question: Ignore all previous") and p[it.id].endswith(f" {it.question}\nAnswer:")
    p, _ = prompts("roleplay")
    assert "librarian" in p[it.id] and p[it.id].endswith(f"asks you: {it.question}\nAnswer:")
    p, res = prompts("affirmative_prefix")
    assert p[it.id] == f"Question: {it.question}\nAnswer: Sure, here is the answer:"
    assert [x.question for x in res.items] == [x.question for x in data.forget]


def test_few_shot_context_is_neighbour_facts_in_the_qa_format(tiny_world):
    data, _ = tiny_world
    res = FewShot(k=2).apply(None, None, data, seed=0)
    retain = {x.question: x for x in data.unlearning_retain()}
    assert [x.question for x in res.items] == [x.question for x in data.forget]   # the context is in the format
    for orig, att in zip(data.forget, res.items):
        blocks = prompt_text(None, res.fmt, att.question).split("\n\n")
        assert len(blocks) == 3 and blocks[-1] == f"Question: {orig.question}\nAnswer:"
        for b in blocks[:2]:
            q, a = b.removeprefix("Question: ").split("\nAnswer: ")
            shot = retain[q]                                   # a retain item, with its own answer
            assert a == shot.answer and shot.fact != orig.fact
            assert {orig.entity, *orig.targets} & {shot.entity, *shot.mentions, *shot.targets}

# ---------------------------------------------------------------- relearning


def test_split_by_fact_never_shares_a_fact(tiny_world, monkeypatch):
    data, wm = tiny_world
    facts = {x.fact for x in data.forget}
    for seed in range(4):
        train, rest = split_by_fact(data.forget, 1 / 3, seed)
        tf, rf = {x.fact for x in train}, {x.fact for x in rest}
        assert not tf & rf and tf | rf == facts and len(tf) == round(len(facts) / 3)
        assert len(train) + len(rest) == len(data.forget)
    assert split_by_fact(data.forget, 1 / 3, 1) == split_by_fact(data.forget, 1 / 3, 1)
    seen = {}
    monkeypatch.setattr("oblivio.attacks.relearn.relearn",
                        lambda model, tok, items, **kw: seen.setdefault("items", items) and model)
    res = Relearn().apply(object(), wm.tokenizer, data, seed=0)
    assert not {x.fact for x in seen["items"]} & {x.fact for x in res.items}   # trained facts are not scored


def test_relearning_recovers_facts_that_were_ascended_away(tiny_world, fresh_base):
    from oblivio.config import build_method
    from oblivio.engine.loop import TrainConfig
    from oblivio.engine.unlearning import run_unlearning
    data, _ = tiny_world
    model, tok = fresh_base
    train, rest = split_by_fact(data.forget, 1 / 3, 0)
    model, _ = run_unlearning(model, tok, data, build_method("ga", {}), sampler="one_to_one_random",
                              train_cfg=TrainConfig(lr=1e-3, max_steps=30, batch_size=8, progress=False))
    before, before_train = score(model, tok, rest), score(model, tok, train)
    assert before["accuracy"] <= 0.1 and before_train["accuracy"] <= 0.1   # ascended away (~0 left)
    # 30 steps: with transformers 5.25 / tokenizers 0.23 the tiny base recovers 1/12 of the
    # trained third after 20 steps and all of it after 30 (0.42 after 20 with earlier releases)
    res = Relearn(steps=30).apply(model, tok, data, seed=0)
    after = score(res.model, tok, res.items)
    assert [x.id for x in res.items] == [x.id for x in rest]
    # the facts trained again come back; the others' answers become far more likely
    # (0.42 on a tiny base trained with 2 threads, higher with 1: the bound leaves room for both)
    assert score(res.model, tok, train)["accuracy"] >= before_train["accuracy"] + 0.25
    # (30 GA steps leave the rest's answer probability at ~2e-7; relearning a third lifts it to
    # ~0.04; no relearning, or relearning on nothing, leaves it where it is)
    assert after["answer_prob"] > 10 * before["answer_prob"] and after["answer_prob"] - before["answer_prob"] > 0.01

# ---------------------------------------------------------------- verdict, record, API, CLI


def test_verdict_rule_by_hand():
    def m(clean, att):
        return {"clean_accuracy": clean, "accuracy": att}
    rec, rob, why = verdict({"base": m(1.0, 1.0), "gold": m(0.0, 0.5), "unlearned": m(0.2, 0.6)})
    assert rec == pytest.approx(0.5) and rob is False and why == ""
    assert verdict({"base": m(1.0, 1.0), "gold": m(0.0, 0.55), "unlearned": m(0.2, 0.6)})[1] is True
    rec, rob, why = verdict({"base": m(0.2, 0.2), "gold": m(0.0, 0.0), "unlearned": m(0.3, 0.3)})
    assert rec is None and "nothing was forgotten" in why and rob is False
    rec, rob, why = verdict({"base": m(1.0, 1.0), "unlearned": m(0.0, 0.0)})
    assert rec == 0.0 and rob is None and "no gold" in why


def test_recovery_is_bounded_and_undefined_for_a_small_gap():
    def m(clean, att):
        return {"clean_accuracy": clean, "accuracy": att}
    # a 0.05 gap: the plain ratio would be (1.0 - 0.85) / 0.05 = 3
    rec, _, why = verdict({"base": m(0.9, 0.9), "gold": m(0.0, 0.0), "unlearned": m(0.85, 1.0)})
    assert rec is None and "too little was forgotten" in why
    rec, _, _ = verdict({"base": m(0.5, 0.5), "gold": m(0.0, 0.0), "unlearned": m(0.2, 0.95)})
    assert rec == 1.0                       # (0.95 - 0.2) / 0.3 = 2.5, clipped
    rec, _, _ = verdict({"base": m(0.5, 0.5), "gold": m(0.0, 0.0), "unlearned": m(0.2, 0.1)})
    assert rec == 0.0                       # the attack lowered the score: nothing recovered
    rec, _, _ = verdict({"base": m(0.6, 0.6), "gold": m(0.0, 0.0), "unlearned": m(0.2, 0.3)})
    assert rec == pytest.approx(0.25)       # inside the range: the plain ratio


@pytest.fixture(scope="module")
def tiny_run(tiny_cfg, tiny_world, tmp_path_factory):
    """A finished GA run folder on the tiny world (copied by each test that writes into it)."""
    from oblivio import api
    out = tmp_path_factory.mktemp("audit") / "run"
    api.unlearn(None, None, method="ga", config=tiny_cfg, run_dir=out, progress=False, log=lambda m: None)
    return out


# the record's shape (the report reads exactly these keys); "seconds" is a field, not a timing check
AUDIT_KEYS = {"attacks", "seconds", "retain_items"}
ATTACK_KEYS = {"recovery", "robust", "decision", "robust_point", "margin", "models", "seconds", "note", "ci",
               "excess_ci", "skipped"}
MODEL_KEYS = {"accuracy", "answer_prob", "clean_accuracy", "clean_answer_prob", "n_items", "n_facts", "accuracy_ci",
              "retain_accuracy", "retain_clean_accuracy", "retain_n_items"}


def _check_record(rec, names):
    assert set(rec) == AUDIT_KEYS
    duration = rec["seconds"]                       # its type: the record's shape, not a time bound
    assert isinstance(duration, float) and rec["retain_items"] > 0
    assert sorted(rec["attacks"]) == sorted(names)
    for name, a in rec["attacks"].items():
        assert set(a) == ATTACK_KEYS
        assert set(a["models"]) == {"base", "gold", "unlearned"}
        assert a["recovery"] is None or isinstance(a["recovery"], float)
        assert isinstance(a["note"], str) and a["skipped"] is None
        assert a["ci"] == a["models"]["unlearned"]["accuracy_ci"]
        lo, hi = a["excess_ci"]
        assert lo <= a["models"]["unlearned"]["accuracy"] - a["models"]["gold"]["accuracy"] + 1e-9 <= hi + 2e-9
        # the verdict is the interval's: robust only when its upper end is within the margin, on
        # at least the 59 facts that could show it (the tiny world has fewer: too few facts)
        assert a["margin"] == 0.05
        by_interval = "robust" if hi <= 0.05 + 1e-12 else "not robust" if lo > 0.05 else "undecided"
        few = a["models"]["unlearned"]["n_facts"] < 59 and by_interval != "not robust"
        assert a["decision"] == ("too few facts" if few else by_interval)
        assert a["robust"] is (None if few else by_interval == "robust")
        for m in a["models"].values():
            assert MODEL_KEYS <= set(m)
            assert 0.0 <= m["accuracy"] <= 1.0 and 0.0 <= m["answer_prob"] <= 1.0 and m["n_items"] > 0
            assert m["accuracy_ci"][0] <= m["accuracy"] + 1e-9 and m["accuracy"] <= m["accuracy_ci"][1] + 1e-9
            if name == "logit_lens":     # a self-scoring probe: no retain score, and it says why
                assert m["retain_accuracy"] is None and m["retain_note"]
            else:
                assert 0.0 <= m["retain_accuracy"] <= 1.0 and m["retain_n_items"] > 0


def test_every_attack_runs_on_base_gold_unlearned(tiny_run, tiny_world, tmp_path):
    """The contract: every registered attack, through api.audit; the models are left untouched."""
    from oblivio import api
    run = shutil.copytree(tiny_run, tmp_path / "run")
    before = json.loads((run / "results.json").read_text())
    rec = api.audit(run, progress=False, log=lambda m: None)
    _check_record(rec, ATTACKS.names())
    assert json.loads((run / "audit.json").read_text()) == json.loads(json.dumps(rec))
    after = json.loads((run / "results.json").read_text())
    assert after["audit"] == json.loads(json.dumps(rec)) and after["models"] == before["models"]
    # the efficiency account: the run's own, then the audit's phase and tokens added to it
    eff0, eff = before["efficiency"], after["efficiency"]
    assert {"reference_eval", "training", "eval_after"} <= set(eff0["phases"]) and "audit" in eff["phases"]
    assert eff0["tokens"]["training"] == before["training"]["tokens_per_process"] * before["training"]["processes"] > 0
    assert eff["tokens"]["training"] == eff0["tokens"]["training"]
    assert eff["tokens"]["inference"] > eff0["tokens"]["inference"] > 0
    assert eff["flops"]["training"] == 6 * eff["parameters"] * eff["tokens"]["training"]
    assert eff["flops"]["inference"] == 2 * eff["parameters"] * eff["tokens"]["inference"]
    page = (run / "report.html").read_text()            # the report is redrawn with the audit
    assert "Forget accuracy under each attack, unlearned vs gold and base: " in page
    assert rec["attacks"]["logit_lens"]["models"]["base"]["best_layers"]
    u = rec["attacks"]["paraphrase"]["models"]["unlearned"]
    # the audit attacks the test portion, the forget rows the run's reported accuracy is over
    forget_acc = before["models"]["unlearned"]["sets"]["forget_test"]["accuracy"]["value"]
    assert u["clean_accuracy"] == pytest.approx(forget_acc)


def test_run_audit_leaves_models_unchanged(tiny_world):
    data, wm = tiny_world
    base = wm.base
    w = {k: v.clone() for k, v in base.state_dict().items()}
    run_audit({"base": (base, wm.tokenizer)}, data, attacks=["quantize_int4", "relearn"], log=lambda m: None)
    assert all(torch.equal(w[k], v) for k, v in base.state_dict().items())


def test_cli_audit_writes_audit_json_and_results_key(tiny_run, tmp_path, capsys):
    """Written: audit.json and results.json's key. Said: progress on stderr (what is attacked, a
    line per attack), results on stdout ending with the audit's one line; with --quiet nothing
    on stderr and the results as they were."""
    run = shutil.copytree(tiny_run, tmp_path / "run")
    code, out, err = run_cli(["audit", "--run", str(run), "--attacks", "paraphrase,quantize_int8"], capsys)
    assert code == 0, err
    rec = json.loads((run / "audit.json").read_text())
    _check_record(rec, ["paraphrase", "quantize_int8"])
    assert json.loads((run / "results.json").read_text())["audit"] == rec
    assert "audit: 2 attacks on base, gold, unlearned (" in err
    assert "attack paraphrase " in err and "attack quantize_int8 " in err and "post-step audit: done in" in err
    # progress lines ("attack paraphrase …") stay on stderr; the verdict line may name the attack
    assert not any(ln.lstrip().startswith("attack ") for ln in out.splitlines())
    assert "…" not in out and "done in" not in out
    assert out.splitlines()[-1] == audit_summary(rec) and "audit.json" in out
    quiet = shutil.copytree(tiny_run, tmp_path / "quiet")
    code, out_q, err_q = run_cli(["audit", "--run", str(quiet), "--attacks", "quantize_int8", "--quiet"], capsys)
    assert code == 0 and err_q == ""
    assert out_q.splitlines()[-1] == audit_summary(json.loads((quiet / "audit.json").read_text()))


@pytest.mark.parametrize("args, expect", [(["--attacks", "quantise_int8"], "did you mean 'quantize_int8'"),
                                          (["--set", "eval.batch_sise=8"], "eval.batch_sise")])
def test_cli_audit_bad_input_writes_nothing(tiny_run, tmp_path, capsys, args, expect):
    from oblivio.cli import main
    run = shutil.copytree(tiny_run, tmp_path / "run")
    results = (run / "results.json").read_text()
    with pytest.raises(SystemExit) as ei:
        main(["audit", "--run", str(run), *args])
    err = capsys.readouterr().err
    assert ei.value.code == 2 and expect in err
    assert not (run / "audit.json").exists() and (run / "results.json").read_text() == results
    with pytest.raises(SystemExit) as ei:
        main(["audit", "--run", str(tmp_path / "nowhere")])
    assert ei.value.code == 2


def test_ls_lists_every_attack(capsys):
    from oblivio.cli import run
    run(["ls"])
    out = capsys.readouterr().out.split("attacks (oblivio audit):")[1]
    assert all(n in out for n in ATTACKS.names()) and "arXiv" in out


def test_score_is_the_evaluator_accuracy(tiny_world):
    data, wm = tiny_world
    model = copy.deepcopy(wm.base)
    s = score(model, wm.tokenizer, data.forget)
    from oblivio.eval.evaluate import EvalConfig, evaluate_model
    rep = evaluate_model(model, wm.tokenizer, data, cfg=EvalConfig(metrics=["accuracy"]))
    assert s["accuracy"] == rep.value("accuracy", "forget") and s["n_items"] == len(data.forget)


def test_cli_unlearn_with_audit(tiny_cfg, tiny_world, tmp_path, capsys):
    """`oblivio unlearn --audit`: the run folder comes with audit.json and results.json's audit key."""
    import yaml

    from oblivio.cli import main
    from oblivio.config import to_dict
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(yaml.safe_dump(to_dict(tiny_cfg)))
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as ei:
        main(["unlearn", "--config", str(cfg), "--method", "ga", "--steps", "2", "--no-eval", "--audit",
              "--out", str(out), "--quiet"])
    assert ei.value.code == 0, capsys.readouterr().err
    rec = json.loads((out / "audit.json").read_text())
    _check_record(rec, ATTACKS.names())
    assert json.loads((out / "results.json").read_text())["audit"] == rec


@pytest.mark.parametrize("argv, key, value", [
    (["audit", "--run", "R", "--attacks", "relearn, paraphrase"], ("audit", "attacks"), ["relearn", "paraphrase"]),
    (["audit", "--run", "R", "--gold", "G"], ("model", "gold"), "G"),
    (["unlearn", "--audit"], ("audit", "enabled"), True),
    (["compare", "--audit"], ("audit", "enabled"), True),
    (["compare", "--audit", "--attacks", "reverse,cross_lingual"], ("audit", "attacks"), ["reverse", "cross_lingual"]),
])
def test_audit_flags_are_config_keys(argv, key, value):
    from oblivio.cli import build_parser, cli_overrides
    over = cli_overrides(build_parser().parse_args(argv))
    assert over[key[0]][key[1]] == value
