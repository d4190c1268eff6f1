"""The verdicts decide on intervals, two-sided, with n and a minimum n (report/verdict.py).

Hand-built results.json records: per-item values with their facts (so the paired bootstrap of
report/evidence.py runs as on a real run), a point that looks fine inside an interval that is
not, each direction of failure with its own word, and the lines the commands print."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

from clirun import run_cli
from oblivio.report.evidence import FROM_CI, PAIRED, UNPAIRED
from oblivio.report.verdict import LEVEL, min_facts, verdict_lines, verdicts

LINE = re.compile(r"^(forgotten|kept|private|robust): (yes|no|over-unlearned|not decided \(interval too wide\)|"
                  r"too few facts to decide|not available)  \S")


def _set(role: str, per_fact: list[float], phrasings: int = 2) -> tuple[dict, list[str], list[str]]:
    """A set metric whose facts score ``per_fact`` (each fact's phrasings score the same), its
    item ids and their facts."""
    ids = [f"{role}-f{k}-p{j}" for k in range(len(per_fact)) for j in range(phrasings)]
    facts = [f"{role}-f{k}" for k in range(len(per_fact)) for _ in range(phrasings)]
    per_item = [float(v) for v in per_fact for _ in range(phrasings)]
    return {"value": float(np.mean(per_item)), "per_item": per_item, "n_facts": len(per_fact)}, ids, facts


def _model(sets: dict[str, list[float]], mia: tuple[list[float], list[float]] | None = None) -> dict:
    out: dict = {"sets": {}, "model": {}, "item_ids": {}, "item_facts": {},
                 "statistics": {"bootstrap": 1000, "seed": 0, "facts_per_role": {}}}
    for role, per_fact in sets.items():
        node, ids, facts = _set(role, per_fact)
        out["sets"][role] = {"accuracy": node}
        out["item_ids"][role], out["item_facts"][role] = ids, facts
        out["statistics"]["facts_per_role"][role] = len(per_fact)
    if mia is not None:
        from sklearn.metrics import roc_auc_score
        members, nonmembers = mia      # one score per fact, on the items of the forget and holdout sets
        m = [s for s in members for _ in range(2)]
        n = [s for s in nonmembers for _ in range(2)]
        auc = float(roc_auc_score([1] * len(m) + [0] * len(n), m + n))
        out["model"]["mia_minkpp"] = {"value": auc, "per_item": m, "extra": {"holdout_scores": n},
                                      "n_facts": {"members": len(members), "nonmembers": len(nonmembers)}}
    return out


def _rec(unlearned: dict, gold: dict | None = None, base: dict | None = None, margin: float | None = None) -> dict:
    models = {"unlearned": unlearned, **({"gold": gold} if gold else {}), **({"base": base} if base else {})}
    return {"oblivio_results": 1, "config": {"eval": {"margin": margin}} if margin else {}, "models": models}


def _facts(n: int, right: set[int]) -> list[float]:
    """``n`` facts answered right (1.0) exactly on the facts in ``right``."""
    return [1.0 if k in right else 0.0 for k in range(n)]


def _v(rec: dict) -> dict:
    return {v.question: v for v in verdicts(rec)}


N = 80                    # facts per role: above the minimum at the default margin (59)
GOLD = set(range(0, 24))  # gold answers 24 of 80 forget facts (0.30), as a retrained model guesses some


def test_the_minimum_n_is_the_exact_binomial_bound_of_no_disagreement():
    from scipy.stats import binomtest
    for margin in (0.05, 0.1, 0.17):
        need = min_facts(margin)
        # with `need` facts and no disagreement, the exact one-sided 95% bound on the share of facts
        # two models disagree on is within the margin; with one fact fewer it is not
        assert binomtest(0, need).proportion_ci(confidence_level=1 - 2 * 0.05, method="exact").high <= margin
        assert binomtest(0, need - 1).proportion_ci(confidence_level=0.9, method="exact").high > margin
    assert (min_facts(0.05), min_facts(0.17)) == (59, 17)
    assert LEVEL == pytest.approx(0.9)


def test_an_interval_inside_the_margin_is_forgotten_and_it_is_paired():
    # unlearned answers exactly gold's facts plus one: a difference of 1/80 whose paired 90%
    # interval stays inside ±0.05; resampled as if independent (the 95% intervals of two
    # values near 0.3 on 80 facts) it would be far wider and undecided
    rec = _rec(_model({"forget": _facts(N, GOLD | {50})}), _model({"forget": _facts(N, GOLD)}))
    v = _v(rec)["forgotten"]
    assert v.status == "yes", v.line
    assert v.interval.how == PAIRED and v.interval.value == pytest.approx(1 / N) and v.n == N
    assert -0.05 <= v.interval.lo and v.interval.hi <= 0.05
    assert "n=80" in v.line and "margin ±0.05" in v.line and "90% interval" in v.line


def test_a_point_inside_the_margin_with_an_interval_outside_is_not_yes():
    # unlearned is right on 10 facts gold misses and wrong on 10 gold knows: the difference is
    # exactly 0 (a point rule says "forgotten") but the facts disagree on a quarter of the set
    u = (GOLD - set(range(10))) | set(range(40, 50))
    rec = _rec(_model({"forget": _facts(N, u)}), _model({"forget": _facts(N, GOLD)}))
    v = _v(rec)["forgotten"]
    assert v.interval.value == pytest.approx(0.0)
    assert v.status == "undecided" and v.line.startswith("forgotten: not decided (interval too wide)  ")
    assert v.interval.lo < -0.05 and v.interval.hi > 0.05


@pytest.mark.parametrize("unlearned, gold, want", [
    (set(), GOLD, "over-unlearned"),            # forgets what the retrained model still guesses
    (GOLD | set(range(40, 64)), GOLD, "no"),    # 24 facts more than gold: facts remain
])
def test_each_direction_of_failure_has_its_own_word(unlearned, gold, want):
    v = _v(_rec(_model({"forget": _facts(N, unlearned)}), _model({"forget": _facts(N, gold)})))["forgotten"]
    assert v.status == want, v.line
    assert v.line.startswith(f"forgotten: {want}  forget accuracy ")
    sign = -1 if want == "over-unlearned" else 1
    assert sign * v.interval.value == pytest.approx(0.3) and sign * v.interval.lo > 0.05 * (sign > 0)


def test_too_few_facts_refuses_to_decide_even_when_the_models_agree():
    # 17 facts on which the two models agree: the bootstrap interval is [0, 0], but 17 facts
    # cannot show a difference under ±0.05 (one fact is 0.059)
    rec = _rec(_model({"forget": _facts(17, {1, 5, 9})}), _model({"forget": _facts(17, {1, 5, 9})}))
    v = _v(rec)["forgotten"]
    assert (v.interval.lo, v.interval.hi) == (0.0, 0.0)
    assert v.status == "too few facts" and "n=17 (needs n ≥ 59)" in v.line
    assert v.line.startswith("forgotten: too few facts to decide  ")
    # a declared wider margin decides from 17 facts (±0.17: needs 17)
    rec["config"] = {"eval": {"margin": 0.17}}
    v = _v(rec)["forgotten"]
    assert v.status == "yes" and "margin ±0.17" in v.line and "needs" not in v.line


def test_kept_decides_on_the_lower_bound_of_the_ratio():
    base = _model({"forget": _facts(N, set(range(N))), "direct_test": _facts(N, set(range(N)))})

    def kept(wrong: set[int]) -> object:
        u = _model({"forget": _facts(N, set()), "direct_test": _facts(N, set(range(N)) - wrong)})
        return _v(_rec(u, base=base))["kept"]
    v = kept({3, 70})                          # keeps 78 of 80 facts: 0.975 ≥ 0.95 as a point ...
    assert v.interval.value == pytest.approx(78 / 80) and v.interval.lo < 0.95 <= v.interval.value
    assert v.status == "undecided", v.line     # ... but the interval reaches below 0.95
    assert kept(set()).status == "yes"          # nothing lost on 80 facts
    lost = kept(set(range(20)))                 # a quarter lost: the whole interval below 0.95
    assert lost.status == "no" and lost.interval.hi < 0.95
    assert "retain role direct_test" in lost.line and "n=80" in lost.line
    # kept reads the held-out role, never the trained one
    u = _model({"forget": _facts(N, set()), "direct": _facts(N, set()), "direct_test": _facts(N, set(range(N)))})
    b = _model({"forget": _facts(N, set(range(N))), "direct": _facts(N, set(range(N))),
                "direct_test": _facts(N, set(range(N)))})
    assert _v(_rec(u, base=b))["kept"].status == "yes"


def _audit(excess_ci: list[float], u: float = 0.30, g: float = 0.28, n: int = N) -> dict:
    return {"recovery": 0.1, "robust": True, "excess_ci": excess_ci, "skipped": None,
            "models": {"unlearned": {"accuracy": u, "n_facts": n, "accuracy_ci": [u - 0.1, u + 0.1]},
                       "gold": {"accuracy": g, "n_facts": n, "accuracy_ci": [g - 0.1, g + 0.1]}}}


def test_robust_decides_on_the_upper_end_of_the_excess_interval():
    rec = _rec(_model({"forget": _facts(N, GOLD)}), _model({"forget": _facts(N, GOLD)}))

    def robust(*cis: list[float], n: int = N):
        rec["audit"] = {"attacks": {f"a{i}": _audit(ci, n=n) for i, ci in enumerate(cis)}}
        return _v(rec)["robust"]
    # every attack's point excess is 0.02 ≤ 0.05 (the audit's own flag says robust): only the
    # interval decides
    assert robust([-0.02, 0.04]).status == "yes"
    v = robust([-0.02, 0.04], [-0.03, 0.09])
    assert v.status == "undecided" and "worst attack a1" in v.line and "[−0.030, +0.090]" in v.line
    v = robust([-0.02, 0.04], [0.06, 0.2], [-0.03, 0.09])
    assert v.status == "no" and "worst attack a1" in v.line and "1 of 3 attacks pass" in v.line
    assert robust([-0.02, 0.04], n=17).status == "too few facts"


def test_robust_without_gold_judges_each_attack_against_the_holdout_floor():
    u = _model({"forget": _facts(N, set())})
    base = _model({"forget": _facts(N, set(range(N))), "holdout": _facts(N, set(range(8)))})   # floor 0.1

    def robust(ci: list[float], with_floor: bool = True):
        rec = _rec(u, base=base if with_floor else None)
        rec["audit"] = {"attacks": {"paraphrase": {"recovery": None, "robust": None, "skipped": None, "models": {
            "unlearned": {"accuracy": sum(ci) / 2, "accuracy_ci": ci, "n_facts": N}}}}}
        return _v(rec)["robust"]
    v = robust([0.08, 0.14])               # excess over the floor [−0.02, +0.04]: within +0.05
    assert v.status == "yes" and "the floor 0.100" in v.line
    assert robust([0.08, 0.2]).status == "undecided"
    assert robust([0.2, 0.4]).status == "no"
    # no gold and no floor: not "yes" (an attack nobody judged does not pass)
    assert robust([0.0, 0.01], with_floor=False).status == "not available"


def test_the_leaderboard_ranks_the_new_statuses():
    from oblivio.report.leaderboard import Row, sort_rows
    order = ["not available", "over-unlearned", "too few facts", "undecided", "yes", "no"]
    rows = [Row(run=s, settings={}, verdicts={"forgotten": s}, metrics={}) for s in order]
    assert [r.run for r in sort_rows(rows, "forgotten")] == ["yes", "undecided", "too few facts", "over-unlearned",
                                                             "no", "not available"]


def test_private_is_two_sided_on_the_paired_auc_difference():
    rng = np.random.default_rng(7)
    hold = list(rng.normal(0.0, 1.0, N))
    gold_mem = list(rng.normal(0.0, 1.0, N))            # gold: members look like non-members (AUC ≈ 0.5)
    forget = {"forget": _facts(N, GOLD), "holdout": _facts(N, set())}

    def private(members: list[float]) -> object:
        return _v(_rec(_model(forget, mia=(members, hold)), _model(forget, mia=(gold_mem, hold))))["private"]
    same = private([x + 0.01 for x in gold_mem])
    assert same.status == "yes" and same.interval.how == PAIRED, same.line
    over = private([x - 1.5 for x in gold_mem])         # members now *less* familiar than gold finds them
    assert over.status == "over-unlearned" and over.interval.hi < -0.05
    leaks = private([x + 1.5 for x in gold_mem])        # still familiar
    assert leaks.status == "no" and leaks.interval.lo > 0.05


def test_without_gold_forgotten_uses_the_holdout_floor_and_private_chance():
    rng = np.random.default_rng(3)
    hold = list(rng.normal(0.0, 1.0, N))
    u = _model({"forget": _facts(N, set(range(8))), "holdout": _facts(N, set())},
               mia=(list(rng.normal(0.0, 1.0, N)), hold))
    base = _model({"forget": _facts(N, set(range(N))), "holdout": _facts(N, set(range(6)))})
    v = _v(_rec(u, base=base))
    # 8/80 on the forget set vs the base's 6/80 on never-taught facts: different facts, unpaired
    assert v["forgotten"].interval.how == UNPAIRED and v["forgotten"].interval.value == pytest.approx(2 / 80)
    assert "floor (base, holdout facts; no gold model)" in v["forgotten"].line
    assert v["private"].interval.how == UNPAIRED and "chance 0.5" in v["private"].line
    assert v["kept"].status == "not available" or v["kept"].n is not None


def test_a_record_without_facts_falls_back_to_the_stored_intervals_and_says_so():
    g, u = _model({"forget": _facts(N, GOLD)}), _model({"forget": _facts(N, GOLD | {50})})
    for m, lo_hi in ((g, [0.2, 0.4]), (u, [0.21, 0.41])):
        m.pop("item_facts")
        m["sets"]["forget"]["accuracy"]["ci"] = lo_hi
    v = _v(_rec(u, g))["forgotten"]
    # the 95% half-widths 0.1 and 0.1 as if independent: 90% half-width 1.645·√2·0.1/1.96 ≈ 0.119
    assert v.interval.how == FROM_CI and v.interval.hi - v.interval.value == pytest.approx(0.1187, abs=1e-3)
    assert v.status == "undecided" and "(from the 95% intervals, unpaired)" in v.line


def test_forgotten_notes_empty_answers():
    u, g = _model({"forget": _facts(N, GOLD)}), _model({"forget": _facts(N, GOLD)})
    b = _model({"forget": _facts(N, set(range(N)))})
    u["sets"]["forget"]["empty_answers"] = {"value": 0.9}
    b["sets"]["forget"]["empty_answers"] = {"value": 0.1}
    v = _v(_rec(u, g, b))["forgotten"]
    assert "90% of the forget answers are empty (base 10%)" in v.line
    assert ("empty forget answers", "models.unlearned.sets.forget.empty_answers.value") in v.evidence
    b["sets"]["forget"]["empty_answers"] = {"value": 0.9}          # no more than the base: no note
    assert "empty" not in _v(_rec(u, g, b))["forgotten"].line


def test_four_lines_in_one_format_whatever_the_record():
    full = _rec(_model({"forget": _facts(N, GOLD), "direct_test": _facts(N, set(range(N)))}),
                _model({"forget": _facts(N, GOLD)}), _model({"forget": _facts(N, set(range(N))),
                                                             "direct_test": _facts(N, set(range(N)))}))
    for rec in (full, {"oblivio_results": 1, "models": {}}, _rec(_model({"forget": _facts(3, {1})}))):
        lines = verdict_lines(rec)
        assert [ln.split(":")[0] for ln in lines] == ["forgotten", "kept", "private", "robust"]
        assert all(LINE.match(ln) for ln in lines), lines
    assert verdict_lines({"oblivio_results": 1, "models": {}})[0] == (
        "forgotten: not available  the run was not evaluated (eval.enabled: false): nothing to judge")
    # no interval at all (eval.bootstrap: 0): not available, never a point decision
    rec = json.loads(json.dumps(full))
    for m in rec["models"].values():
        m["statistics"]["bootstrap"] = 0
    v = _v(rec)["forgotten"]
    assert v.status == "not available" and "eval.bootstrap: 0" in v.line


# ---------------------------------------------------------------- the commands print them


def _tail(out: str, audited: bool = False) -> list[str]:
    """The four verdict lines, last on stdout — before the audit's one line when ``audited``."""
    lines = [ln for ln in out.splitlines() if ln.strip()]
    if audited:
        assert lines[-1].startswith("audit: robust on "), out[-2000:]
        lines = lines[:-1]
    verdict = [ln for ln in lines if LINE.match(ln)]
    assert len(verdict) == 4 and lines[-4:] == verdict, out[-2000:]     # exactly four, and last
    assert [ln.split(":")[0] for ln in verdict] == ["forgotten", "kept", "private", "robust"]
    return verdict


FAST = ["--set", "eval.metrics=[accuracy, mia_minkpp]", "--set", "eval.max_items_per_role=24"]   # quick


@pytest.fixture()
def tiny_yaml(tiny_cfg, tmp_path):
    import yaml

    from oblivio.config import to_dict
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(yaml.safe_dump(to_dict(tiny_cfg)))
    return cfg


def test_eval_ends_with_the_four_verdict_lines(tiny_world, tiny_yaml, tmp_path, capsys):
    _, wm = tiny_world
    code, out, err = run_cli(["eval", "--config", str(tiny_yaml), "--model", str(wm.base_dir), "--gold",
                              str(wm.gold_dir), "--out", str(tmp_path / "e.json"), "--quiet", *FAST], capsys)
    assert code == 0, err
    forgotten, kept, private, robust = _tail(out)
    # the evaluated model (here the base, which still knows the forget facts) against the gold model
    assert "vs gold" in forgotten and "n=" in forgotten and "90% interval" in forgotten and "(paired)" in forgotten
    assert kept.startswith("kept: not available  no base model") and "oblivio eval" in kept
    assert "vs gold" in private
    assert robust.startswith("robust: not available  this run was not audited")


@pytest.mark.slow
def test_unlearn_and_audit_end_with_the_four_verdict_lines(tiny_world, tiny_yaml, tmp_path, capsys):
    from oblivio.metrics import stats as S
    from oblivio.report import evidence as E
    out_dir = tmp_path / "run"
    code, out, err = run_cli(["unlearn", "--config", str(tiny_yaml), "--method", "ga", "--steps", "2", "--out",
                              str(out_dir), "--quiet", *FAST], capsys)
    assert code == 0, err
    forgotten, kept, *_ = _tail(out)
    assert "(paired)" in forgotten and "n=" in forgotten and "(paired)" in kept
    rec = json.loads((out_dir / "results.json").read_text())
    assert verdict_lines(rec) == _tail(out)
    # the verdict's resamples are the evaluation's: the same facts, seed and stream give the
    # stored 95% interval of the unlearned model's forget accuracy
    side = E.side(rec, "unlearned", "forget", "accuracy")
    facts = E.facts_of(rec, "forget")
    boot = S.percentile_ci(E._resampled_mean([side.items[i] for i in side.order], [facts[i] for i in side.order],
                                             E.boot_settings(rec), "forget"))
    assert list(boot) == pytest.approx(rec["models"]["unlearned"]["sets"]["forget_test"]["accuracy"]["ci"])
    code, out, err = run_cli(["audit", "--run", str(out_dir), "--attacks", "paraphrase", "--quiet"], capsys)
    assert code == 0, err
    robust = _tail(out, audited=True)[3]
    assert "paraphrase" in robust and "excess" in robust and "n=" in robust


def test_the_html_report_shows_each_verdict_with_its_interval_and_n(tmp_path):
    from oblivio.report.html import render
    rec = _rec(_model({"forget": _facts(N, set())}), _model({"forget": _facts(N, GOLD)}))
    (tmp_path / "results.json").write_text(json.dumps(rec))
    page = render([tmp_path])
    item = page[page.index('<li data-question="forgotten"'):]
    item = item[:item.index("</li>")]
    assert 'data-status="over-unlearned"' in item and '<span class="no">forgotten: over-unlearned</span>' in item
    assert "90% interval [−0.388, −0.225] (paired)" in item and "n=80" in item and "margin ±0.05" in item


def test_the_documented_example_is_what_the_code_prints(repo_root):
    """docs/reference/report.md shows four lines: they are this hand-built record's."""
    rng = np.random.default_rng(7)
    hold, gold_mem = list(rng.normal(0, 1, N)), list(rng.normal(0, 1, N))
    every = set(range(N))
    u = _model({"forget": _facts(N, set()), "holdout": _facts(N, set()), "direct_test": _facts(N, every - {3, 70}),
                "general_test": _facts(N, every)}, mia=([x - 1.5 for x in gold_mem], hold))
    g = _model({"forget": _facts(N, GOLD), "holdout": _facts(N, set())}, mia=(gold_mem, hold))
    b = _model({"forget": _facts(N, every), "direct_test": _facts(N, every), "general_test": _facts(N, every)})
    rec = _rec(u, g, b)
    rec["audit"] = {"attacks": {"relearn": _audit([0.06, 0.2]), "paraphrase": _audit([-0.02, 0.04]),
                                "reverse": {"skipped": "no probe"}}}
    doc = (repo_root / "docs" / "reference" / "report.md").read_text(encoding="utf-8")
    block = doc.split("(hand-built record, `tests/test_verdict.py`):\n\n```\n")[1].split("\n```")[0]
    assert verdict_lines(rec) == block.splitlines()


def test_an_eval_record_without_gold_says_per_line_what_is_missing():
    from oblivio.report.verdict import eval_record
    rng = np.random.default_rng(5)
    model = _model({"forget": _facts(N, {1, 2}), "holdout": _facts(N, set())},
                   mia=(list(rng.normal(0, 1, N)), list(rng.normal(0, 1, N))))
    v = _v(eval_record(model, None, {"eval": {"margin": 0.05}}))
    forgotten = v["forgotten"]
    assert forgotten.status == "not available" and "no base model (oblivio eval evaluates one)" in forgotten.line
    assert v["kept"].status == "not available" and v["robust"].status == "not available"
    assert "vs chance 0.5 (no gold model)" in v["private"].line and v["private"].n == N


def test_below_the_minimum_a_difference_beyond_the_margin_still_decides():
    """17 facts cannot show closeness within ±0.05, but an unlearned model that answers none of
    the 7 facts gold answers is shown over-unlearned at any n (its interval lies wholly below
    −margin); a minimum that also hid this would call a plainly over-unlearned run undecidable."""
    gold17 = set(range(7))
    v = _v(_rec(_model({"forget": _facts(17, set())}), _model({"forget": _facts(17, gold17)})))["forgotten"]
    assert v.interval.hi < -0.05 and "n=17 (needs n ≥ 59)" in v.line
    assert v.status == "over-unlearned", v.line
    # the same direction, within the margin's reach of the interval: not decided below the minimum
    v = _v(_rec(_model({"forget": _facts(17, set(range(6)))}), _model({"forget": _facts(17, gold17)})))["forgotten"]
    assert v.status == "too few facts", v.line


def test_a_base_that_scores_zero_is_a_base_not_a_missing_one():
    # a base trained too briefly knows none of the retain facts: the verdict names that, not
    # "no base model in this record" (it read a base value of 0.0 as no base)
    zero = _model({"forget": _facts(N, set()), "direct_test": _facts(N, set())})
    u = _model({"forget": _facts(N, set()), "direct_test": _facts(N, set())})
    v = _v(_rec(u, base=zero))["kept"]
    assert v.status == "not available"
    assert "no base model" not in v.line and "is 0 on every retain role: it never learned them" in v.line
    # one role the base knows: that role decides, the zero role has no ratio
    some = _model({"forget": _facts(N, set()), "direct_test": _facts(N, set()),
                   "general_test": _facts(N, set(range(N)))})
    u2 = _model({"forget": _facts(N, set()), "direct_test": _facts(N, set()),
                 "general_test": _facts(N, set(range(N)))})
    v2 = _v(_rec(u2, base=some))["kept"]
    assert v2.status == "yes" and "general_test" in v2.line and "direct_test" not in v2.line
    # and without a base at all the message is still the missing-base one
    assert "no base model in this record" in _v(_rec(u))["kept"].line


@pytest.mark.parametrize("base_right, noted", [(set(), True), (set(range(3)), True), (set(range(N)), False),
                                               (set(range(8)), True), (set(range(9)), False)])
def test_forgotten_notes_a_base_that_never_knew_the_facts(base_right, noted):
    # unlearned and gold know nothing of the forget facts; a base that knows nothing either, or
    # no more than the margin (0.1) above gold — 3 facts of 80, 8 facts (0.1, on the margin) —
    # makes "as forgotten as gold" say nothing about unlearning; 9 facts (0.1125) is above it
    empty = _model({"forget": _facts(N, set())})
    rec = _rec(_model({"forget": _facts(N, set())}), empty, _model({"forget": _facts(N, base_right)}))
    rec["config"] = {"eval": {"margin": 0.1}}
    v = _v(rec)["forgotten"]
    assert v.status == "yes"            # the rule is unchanged: the line adds a warning
    assert ("it never knew these facts, so there was nothing to forget" in v.line) is noted, v.line
    if noted:
        assert f"base model's forget accuracy {len(base_right) / N:.3f} is within the margin of gold's 0.000" in v.line
