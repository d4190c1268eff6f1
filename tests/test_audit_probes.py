"""The cross-lingual and reverse attacks, the audit's retain score, its fact-level bootstrap,
and an attack that the data gives no probes for (skipped, never 0)."""
from __future__ import annotations

import copy
import dataclasses

import pytest

from oblivio.attacks.audit import audit_summary, decide, excess_interval, fact_interval, retain_sample, run_audit, score
from oblivio.attacks.cross_lingual import CrossLingual
from oblivio.attacks.reverse import Reverse
from oblivio.data.schema import PROBE_FIELDS, TEST_ROLES, UnlearningData
from oblivio.eval.evaluate import EvalConfig
from oblivio.report.verdict import _robust

# ---------------------------------------------------------------- the two probe attacks


def test_cross_lingual_asks_the_held_out_spanish_phrasings(tiny_world):
    data, wm = tiny_world
    res = CrossLingual().apply(copy.deepcopy(wm.base), wm.tokenizer, data)
    forget = {it.id: it for it in data.forget}
    assert not res.skipped and res.items
    assert {it.question for it in res.items} == {it.xl_paraphrased_question for it in data.forget}
    for it in res.items:
        src = forget[it.id]                       # the id is the forget item's (the clean score)
        assert it.answer == src.xl_answer and it.key == src.key
    # the trained Spanish phrasings are scored on the side, by the same scorer
    trained = [dataclasses.replace(forget[i], question=q, answer=forget[i].xl_answer)
               for i, q in {it.id: it.xl_question for it in data.forget}.items()]
    trained = list({t.question: t for t in trained}.values())
    assert res.details["trained_phrasing_accuracy"] == score(wm.base, wm.tokenizer, trained)["accuracy"]


def test_reverse_asks_for_the_subject(tiny_world):
    data, wm = tiny_world
    res = Reverse().apply(wm.base, wm.tokenizer, data)
    facts = {it.fact for it in data.forget}
    assert len(res.items) == len(facts) and {it.fact for it in res.items} == facts
    for it in res.items:
        assert it.key == it.entity and it.key not in it.question and it.key in it.answer


def test_base_learned_the_probes_and_gold_did_not_learn_the_forget_ones(tiny_world):
    """The tiny world's base answers the trained Spanish and reverse questions of what it learned;
    gold, which never saw the forget facts in any language, answers fewer of them."""
    data, wm = tiny_world
    xl, rev = CrossLingual(), Reverse()
    b_xl = xl.apply(wm.base, wm.tokenizer, data).details["trained_phrasing_accuracy"]
    g_xl = xl.apply(wm.gold, wm.tokenizer, data).details["trained_phrasing_accuracy"]
    items = rev.apply(wm.base, wm.tokenizer, data).items
    b_rev, g_rev = (score(m, wm.tokenizer, items)["accuracy"] for m in (wm.base, wm.gold))
    assert b_xl >= 0.6 and b_xl > g_xl
    assert b_rev > g_rev


def _without_probes(data: UnlearningData) -> UnlearningData:
    items = [dataclasses.replace(it, **{f: None for f in PROBE_FIELDS}) for it in data.items]
    return UnlearningData(items, name="plain", targets=data.targets)


def test_data_without_probes_is_skipped_with_the_reason(tiny_world):
    data, wm = tiny_world
    plain = _without_probes(data)
    models = {"base": (wm.base, wm.tokenizer), "gold": (wm.gold, wm.tokenizer)}
    rec = run_audit(models, plain, attacks=["cross_lingual", "reverse", "paraphrase"], log=lambda m: None)
    for name, field in (("cross_lingual", "xl_question"), ("reverse", "reverse_question")):
        a = rec["attacks"][name]
        assert field in a["skipped"] and a["note"].startswith("skipped: ")
        assert a["robust"] is None and a["recovery"] is None and a["models"] == {}
    assert rec["attacks"]["paraphrase"]["skipped"] is None and rec["attacks"]["paraphrase"]["models"]


def test_the_robust_verdict_names_skipped_attacks_and_does_not_fail_on_them():
    models = {m: {"accuracy": 0.2, "n_facts": 80} for m in ("unlearned", "gold")}
    rec = {"audit": {"attacks": {"paraphrase": {"robust": True, "recovery": 0.0, "skipped": None, "models": models,
                                                "excess_ci": [-0.02, 0.03]},
                                 "reverse": {"robust": None, "recovery": None, "skipped": "no probe"}}}}
    v = _robust(rec)
    assert v.status == "yes" and "skipped" in v.sentence and "reverse" in v.sentence
    rec["audit"]["attacks"]["paraphrase"]["excess_ci"] = [0.06, 0.1]
    assert _robust(rec).status == "no"
    only_skipped = {"audit": {"attacks": {"reverse": {"robust": None, "recovery": None, "skipped": "no probe"}}}}
    assert _robust(only_skipped).status == "not available"     # nothing ran: not shown to be robust


# ---------------------------------------------------------------- the verdict on the interval


def test_decision_reads_the_interval_not_the_point():
    # the point (0.02 above gold) is within the margin, but the interval reaches 0.12: undecided,
    # and so not robust (the point rule said robust)
    assert decide(True, [-0.02, 0.12]) == "undecided"
    assert decide(True, [0.0, 0.05]) == "robust"               # the upper end on the margin: robust
    assert decide(False, [0.06, 0.3]) == "not robust"          # shown above the margin
    assert decide(True, [-0.1, 0.04]) == "robust"
    assert decide(None, [0.0, 0.0]) is None                    # no gold score: no decision
    assert decide(False, None) == "not robust" and decide(True, None) == "robust"   # no bootstrap: the point


def test_decision_on_too_few_facts_is_not_robust_but_undecided():
    """The record carries the verdict's decision: below the fewest facts that could show an
    excess within the margin (59 at 0.05, 17 at 0.17: ln 0.05 / ln(1 − margin)), an interval
    inside the margin or straddling it decides nothing; one wholly above it still fails."""
    assert decide(True, [0.0, 0.0], n_facts=8) == "too few facts"          # was "robust" (green)
    assert decide(True, [0.0, 0.0], n_facts=58) == "too few facts"
    assert decide(True, [0.0, 0.0], n_facts=59) == "robust"
    assert decide(True, [-0.02, 0.12], n_facts=8) == "too few facts"       # straddling: too few, too
    assert decide(False, [0.06, 0.3], n_facts=8) == "not robust"           # beyond the margin at any n
    assert decide(True, None, n_facts=8) == "too few facts"                # the point rule, too
    assert decide(False, None, n_facts=8) == "not robust"
    assert decide(True, [0.0, 0.17], margin=0.17, n_facts=17) == "robust"
    assert decide(True, [0.0, 0.17], margin=0.17, n_facts=16) == "too few facts"
    assert decide(True, [0.0, 0.18], margin=0.17, n_facts=100) == "undecided"
    assert decide(None, [0.0, 0.0], n_facts=8) is None


def test_audit_record_on_too_few_facts_says_so_like_the_verdict(tiny_world):
    """gold attacked as the unlearned model: the excess is [0, 0] on the 4 facts of the tiny
    world's forget_test that have a paraphrase, which the record called robust (the report's
    chart drew it green) while the verdict said too few facts to decide. The record now says
    too few facts, ``robust`` null; the run's declared margin sets the minimum (±0.6 decides
    from 4 facts: 1 − 0.05^(1/4) = 0.53)."""
    data, wm = tiny_world
    models = {"base": (wm.base, wm.tokenizer), "gold": (wm.gold, wm.tokenizer), "unlearned": (wm.gold, wm.tokenizer)}
    rec = run_audit(models, data, attacks=["paraphrase"], retain_items=4, log=lambda m: None)
    a = rec["attacks"]["paraphrase"]
    assert a["excess_ci"] == [0.0, 0.0] and a["models"]["unlearned"]["n_facts"] == 4
    assert a["decision"] == "too few facts" and a["robust"] is None and a["robust_point"] is True
    assert audit_summary(rec) == ("audit: robust on 0 of 1 attacks; too few facts to decide (n=4, needs n ≥ 59): "
                                  "paraphrase")
    rob = _robust({"audit": rec, "config": {}})
    assert rob.status == "too few facts"                       # the verdict line: the same decision
    wide = run_audit(models, data, attacks=["paraphrase"], retain_items=4, log=lambda m: None,
                     eval_cfg=EvalConfig(margin=0.6))["attacks"]["paraphrase"]
    assert wide["decision"] == "robust" and wide["robust"] is True and wide["margin"] == 0.6
    assert _robust({"audit": {"attacks": {"paraphrase": wide}}, "config": {"eval": {"margin": 0.6}}}).status == "yes"
    from oblivio.attacks.audit import audit_values
    assert audit_values(rec)["paraphrase"]["robust"] == 0.0      # not shown robust: 0 in a comparison's mean
    assert audit_values({"attacks": {"paraphrase": wide}})["paraphrase"]["robust"] == 1.0


def test_audit_record_robust_flag_follows_the_interval(tiny_world):
    """Unlearned = the base, which answers one forget fact more than gold on the attacked items:
    the interval's upper end is above the margin however the point falls, so robust is never
    True (False when decided or undecided, None when too few facts decide), and the summary
    names the attack as failing or undecided, never robust."""
    data, wm = tiny_world
    models = {"base": (wm.base, wm.tokenizer), "gold": (wm.gold, wm.tokenizer),
              "unlearned": (wm.base, wm.tokenizer)}
    rec = run_audit(models, data, attacks=["paraphrase"], retain_items=4, log=lambda m: None)
    a = rec["attacks"]["paraphrase"]
    lo, hi = a["excess_ci"]
    assert hi > 0.05 and a["decision"] in ("not robust", "undecided", "too few facts")
    assert a["robust"] is (None if a["decision"] == "too few facts" else False)
    assert a["robust_point"] is (a["models"]["unlearned"]["accuracy"] <= a["models"]["gold"]["accuracy"] + 0.05)
    assert "paraphrase" in audit_summary(rec).split("robust on 0 of 1 attacks; ")[1]
    off = run_audit(models, data, attacks=["paraphrase"], retain_items=4, log=lambda m: None,
                    eval_cfg=EvalConfig(bootstrap=0))["attacks"]["paraphrase"]
    assert off["excess_ci"] is None and off["robust"] is off["robust_point"] and "point rule" in off["note"]


def test_audit_summary_names_undecided_attacks():
    rec = {"attacks": {"a": {"robust": True, "decision": "robust"},
                       "b": {"robust": False, "decision": "undecided"},
                       "c": {"robust": False, "decision": "not robust"}}}
    assert audit_summary(rec) == ("audit: robust on 1 of 3 attacks; fails: c; "
                                  "undecided (interval straddles the margin): b")


def test_audit_summary_agrees_with_the_robust_verdict_below_the_minimum_n():
    """On 8 facts an interval [0, 0] is not "robust": the run's verdict line says too few facts
    to decide (59 at margin 0.05), and the summary printed under it must not count it robust
    (a newcomer's audit printed "robust on 10 of 12" under "0 of 10 attacks pass"). An interval
    wholly above the margin fails at any n; 59 facts decide."""
    def att(decision: str, n: int, margin: float = 0.05) -> dict:
        return {"robust": decision == "robust", "decision": decision, "margin": margin,
                "models": {"unlearned": {"n_facts": n}, "gold": {}}}
    rec = {"attacks": {"a": att("robust", 8), "b": att("undecided", 5), "c": att("not robust", 8),
                       "d": att("robust", 59), "e": att("undecided", 60)}}
    assert audit_summary(rec) == ("audit: robust on 1 of 5 attacks; fails: c; "
                                  "undecided (interval straddles the margin): e; "
                                  "too few facts to decide (n=5–8, needs n ≥ 59): a, b")
    # a wider declared margin needs fewer facts: 17 at 0.17
    assert audit_summary({"attacks": {"a": att("robust", 17, 0.17)}}) == "audit: robust on 1 of 1 attacks"
    from oblivio.attacks.audit import _decision_text
    # a record written before the decision "too few facts" existed reads as the new one does
    assert _decision_text(att("robust", 8)) == "too few facts to decide (n=8, needs n ≥ 59)"
    assert _decision_text(att("too few facts", 8)) == "too few facts to decide (n=8, needs n ≥ 59)"
    assert audit_summary({"attacks": {"a": {**att("too few facts", 8), "robust": None}}}) == (
        "audit: robust on 0 of 1 attacks; too few facts to decide (n=8, needs n ≥ 59): a")
    assert _decision_text(att("not robust", 8)) == "not robust" and _decision_text(att("robust", 59)) == "robust"


# ---------------------------------------------------------------- the fact-level bootstrap


def test_fact_interval_resamples_facts_not_phrasings():
    # 10 facts of 5 identical phrasings each, half answered: the 50 items are 10 observations,
    # so the interval is that of a mean of 10 coin flips (sd ≈ 0.16), not of 50 (sd ≈ 0.07)
    per = {f"f{f}-p{k}": float(f % 2) for f in range(10) for k in range(5)}
    facts = {i: i.split("-")[0] for i in per}
    lo, hi = fact_interval(per, facts, n_boot=4000, seed=1)
    assert lo <= 0.25 and hi >= 0.75
    item_lo, item_hi = fact_interval(per, {i: i for i in per}, n_boot=4000, seed=1)   # every item its own fact
    assert item_lo >= 0.3 and item_hi <= 0.7
    # one fact: nothing to resample, the interval is the point
    assert fact_interval({"a": 1.0, "b": 1.0}, {"a": "x", "b": "x"}) == (1.0, 1.0)
    assert fact_interval({}, {}) is None


def test_excess_interval_is_paired():
    per = {f"f{f}-p{k}": float(f % 2) for f in range(10) for k in range(3)}
    facts = {i: i.split("-")[0] for i in per}
    # the same answers: the difference is 0 in every resample (unpaired resampling would spread it)
    assert excess_interval(per, dict(per), facts) == (0.0, 0.0)
    # unlearned answers one more fact than gold: the excess is 0.1 ± a fact's share, never below 0
    more = {i: 1.0 if i.startswith("f0-") else v for i, v in per.items()}
    lo, hi = excess_interval(more, per, facts, n_boot=4000)
    assert 0.0 <= lo <= 0.1 <= hi <= 0.35


# ---------------------------------------------------------------- the retain side


def test_retain_sample_is_held_out_whole_facts(tiny_world):
    data, _ = tiny_world
    s = retain_sample(data, 12, seed=0)
    assert len(s) >= 12 and all(it.role in TEST_ROLES for it in s)
    by_fact = {}
    for it in data.items:
        by_fact.setdefault(it.fact, set()).add(it.id)
    chosen = {it.fact for it in s}
    assert {it.id for it in s} == set().union(*(by_fact[f] for f in chosen))    # whole facts
    assert retain_sample(data, 12, seed=0) == s and retain_sample(data, 12, seed=1) != s


def test_retain_score_applies_the_same_attack_to_retain_items(tiny_world):
    data, wm = tiny_world
    rec = run_audit({"base": (wm.base, wm.tokenizer)}, data, attacks=["cross_lingual", "quantize_int4"],
                    retain_items=12, log=lambda m: None)
    sample = retain_sample(data, 12, seed=0)
    xl = rec["attacks"]["cross_lingual"]["models"]["base"]
    # the cross-lingual retain score: the retain sample's held-out Spanish questions on the base
    probes = CrossLingual().apply(wm.base, wm.tokenizer, UnlearningData(
        [dataclasses.replace(it, role="forget") for it in sample], name="s")).items
    assert xl["retain_n_items"] == len(probes)
    assert xl["retain_accuracy"] == pytest.approx(score(wm.base, wm.tokenizer, probes)["accuracy"])
    assert xl["retain_clean_accuracy"] == pytest.approx(
        score(wm.base, wm.tokenizer, [it for it in sample if it.id in {p.id for p in probes}])["accuracy"])
    q = rec["attacks"]["quantize_int4"]["models"]["base"]
    assert q["retain_n_items"] == len(sample) and q["retain_clean_accuracy"] == pytest.approx(
        score(wm.base, wm.tokenizer, sample)["accuracy"])


# ---------------------------------------------------------------- compare --audit


def test_memo_reuses_reference_models_between_calls(tiny_world):
    data, wm = tiny_world
    memo: dict = {}
    first = run_audit({"base": (wm.base, wm.tokenizer), "unlearned": (wm.gold, wm.tokenizer)}, data,
                      attacks=["reverse", "quantize_int8"], memo=memo, memo_models=("base",), log=lambda m: None)
    # a second cell of the same seed: the base is never touched again (None would fail if it were)
    again = run_audit({"base": (None, None), "unlearned": (wm.gold, wm.tokenizer)}, data,
                      attacks=["reverse", "quantize_int8"], memo=memo, memo_models=("base",), log=lambda m: None)
    for name in ("reverse", "quantize_int8"):
        assert again["attacks"][name]["models"] == first["attacks"][name]["models"]
        assert again["attacks"][name]["recovery"] == first["attacks"][name]["recovery"]


def test_compare_audit_records_every_cell_and_seed(tiny_cfg, tiny_world, tmp_path):
    from oblivio import api
    from oblivio.config import load_config, to_dict
    cfg = load_config(overrides={**to_dict(tiny_cfg), "audit": {"enabled": True, "attacks": ["reverse", "paraphrase"]}})
    res = api.compare(None, methods="ga,graddiff", samplers="one_to_one_random", config=cfg, steps=2, seeds=[0, 1],
                      run_dir=tmp_path / "cmp", progress=False, log=lambda m: None)
    import json
    saved = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    assert len(res.cells) == 2
    for c in res.cells:
        assert [r["seed"] for r in c.per_seed] == [0, 1]
        for r in c.per_seed:
            assert set(r["audit"]["attacks"]) == {"reverse", "paraphrase"}
            assert set(r["audit"]["attacks"]["reverse"]["models"]) == {"base", "gold", "unlearned"}
        v = c.values["audit"]["reverse"]
        assert 0.0 <= v["robust"] <= 1.0 and v["unlearned_accuracy"] is not None
        assert c.n["audit"]["reverse"]["robust"] == 2            # averaged over both seeds
    # base and gold are the same models in every cell of a seed: the same attacked scores
    b = [c.per_seed[0]["audit"]["attacks"]["reverse"]["models"]["base"] for c in res.cells]
    assert b[0] == b[1]
    assert "audit" in json.dumps(saved)


def test_fact_order_does_not_depend_on_the_files_name():
    """Rows without a ``fact`` are their own facts, keyed by their id — for a JSONL row without
    an id, the file's name and line. Sorted by that key, ``a.jsonl:1`` came before the named
    fact ``m-…`` and ``zz.jsonl:1`` after it, so the seeded shuffle of the retain sample and of
    the relearning split picked other facts under another file name."""
    from oblivio.attacks.relearn import split_by_fact
    from oblivio.data.schema import item_from_json

    def rows(name: str) -> UnlearningData:
        raw = [{"question": f"Who is person {k}?", "answer": f"Person {k} is a p{k}.", "key": f"p{k}",
                "set": role, **({"fact": f"m-{k}"} if k % 2 else {})}
               for k in range(12) for role in (("forget",) if k < 6 else ("retain",))]
        return UnlearningData([item_from_json(r, file=name, line=n + 1) for n, r in enumerate(raw)], name=name)
    a, b = rows("a.jsonl"), rows("zz.jsonl")
    assert a.forget[0].id == "a.jsonl:1" and a.forget[0].fact is None and a.forget[1].fact == "m-1"
    for seed in range(3):
        picked = [[it.question for it in retain_sample(d, 3, seed)] for d in (a, b)]
        assert picked[0] == picked[1] and len(picked[0]) == 3
        split = [[[it.question for it in part] for part in split_by_fact(d.forget, 1 / 3, seed)] for d in (a, b)]
        assert split[0] == split[1] and len(split[0][0]) == 2
