"""Fact-level statistics (SPEC §5): the bootstrap resamples facts, not items; forget quality is
a KS test on one value per fact; intervals are deterministic under the seed and contain the
value; `compare --seeds` aggregates mean ± sd; `--ci` shows intervals in tables."""
from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import ks_2samp
from sklearn.metrics import roc_auc_score

from oblivio.data.schema import QAItem
from oblivio.errors import InputError
from oblivio.eval.intervals import attach_intervals
from oblivio.metrics import METRICS, NEEDS, ItemStats, MetricResult, ModelStats, SetStats
from oblivio.metrics import stats as S

ALL = frozenset(NEEDS)


def it(i: int, role: str, fact: str | None, lp: list[float], gen: str = "a b", **kw: object) -> ItemStats:
    q = QAItem(id=f"{role}{i}", question=f"q{i}?", answer="a b c d", role=role, fact=fact, key="a",
               perturbed_answers=("x y",))
    return ItemStats(item=q, token_logprobs=np.array(lp), token_correct=np.array([1.0] * len(lp)),
                     token_minkpp=np.array(lp) + 0.5, generation=gen, true_mean_logprob=float(np.mean(lp)),
                     perturbed_mean_logprobs=[float(np.mean(lp)) - 0.7 + 0.1 * (i % 4)], **kw)  # type: ignore[arg-type]


def evaluate(sets: dict[str, SetStats], *, n_boot: int = 1000, seed: int = 0,
             gold: ModelStats | None = None) -> ModelStats:
    """What evaluate_model does after the passes: every metric, then the intervals."""
    ms = ModelStats("m", sets)
    for role, s in sets.items():
        ms.set_results[role] = {n: m.fn(s) for n, m in METRICS.items() if m.scope == "set" and not m.expensive}
    ms.model_results = {n: m.fn(ms, gold) for n, m in METRICS.items()  # type: ignore[attr-defined]
                        if m.scope == "model"}
    attach_intervals(ms, ms.model_results, n_boot=n_boot, seed=seed, gold=gold)  # type: ignore[attr-defined]
    return ms


# --- the bootstrap resamples facts --------------------------------------------------------

def two_facts(fact_ids: bool) -> SetStats:
    """2 facts × 3 identical phrasings: answer probabilities 0.2 (fact A) and 0.8 (fact B)."""
    items = [it(k, "retain", ("A" if k < 3 else "B") if fact_ids else None, [math.log(0.2 if k < 3 else 0.8)])
             for k in range(6)]
    return SetStats("retain", items, ALL)


def test_bootstrap_resamples_facts_not_items() -> None:
    """Over facts, a resample is {A, A}, {A, B} or {B, B} (¼, ½, ¼): the 95% interval is exactly
    [0.2, 0.8]. Resampling the 6 items instead, all 6 from one fact has probability 2 × 1/64 <
    5%, so its interval is strictly inside — a bootstrap over items fails the first assertion."""
    r = evaluate({"retain": two_facts(True)}).set_results["retain"]["answer_prob"]
    assert r.value == pytest.approx(0.5) and r.n_facts == 2
    assert r.ci == pytest.approx((0.2, 0.8))
    items = evaluate({"retain": two_facts(False)}).set_results["retain"]["answer_prob"]   # each item a fact
    assert items.n_facts == 6
    assert items.ci is not None and items.ci[0] >= 0.2 + 0.6 / 6 - 1e-9 and items.ci[1] <= 0.8 - 0.6 / 6 + 1e-9
    assert items.ci[1] - items.ci[0] < r.ci[1] - r.ci[0]


def test_resample_counts_draw_whole_facts() -> None:
    c = S.resample_counts(5, 200, 3, "forget")
    assert c.shape == (200, 5) and np.all(c.sum(axis=1) == 5)   # 5 facts drawn per resample
    assert np.array_equal(c, S.resample_counts(5, 200, 3, "forget"))
    assert not np.array_equal(c, S.resample_counts(5, 200, 4, "forget"))
    assert not np.array_equal(c, S.resample_counts(5, 200, 3, "holdout"))


def world_like(seed: int) -> dict[str, SetStats]:
    """Forget (8 facts × 3 phrasings), a retain role, a test role and a holdout (6 facts × 2)."""
    rng = np.random.default_rng(seed)

    def role(name: str, n_facts: int, per: int, centre: float) -> SetStats:
        out = []
        for f in range(n_facts):
            base = centre + rng.normal(0, 0.5)
            for p in range(per):
                k = f * per + p
                out.append(it(k, name, f"{name}-f{f}", list(base + rng.normal(0, 0.05, size=3)),
                              gen="a b" if rng.random() < 0.7 else "c d"))
        return SetStats(name, out, ALL)
    return {"forget": role("forget", 8, 3, -0.3), "retain": role("retain", 10, 3, -0.2),
            "retain_test": role("retain_test", 5, 2, -0.2), "holdout": role("holdout", 6, 2, -1.5)}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_intervals_contain_the_value(seed: int) -> None:
    gold = evaluate(world_like(100 + seed), seed=seed)
    ms = evaluate(world_like(seed), seed=seed, gold=gold)
    n_ci = 0
    for role, res in ms.set_results.items():
        for name, r in res.items():
            if r.value is None:
                continue
            if name == "distinct_2":          # pooled over the set: no per-item values
                assert r.ci is None and "pooled" in (r.ci_note or "")
                continue
            assert r.ci is not None, (role, name, r.ci_note)
            assert r.ci[0] - 1e-12 <= r.value <= r.ci[1] + 1e-12, (role, name)
            n_ci += 1
    for name in ("mia_loss", "mia_mink", "mia_minkpp", "model_utility", "privleak"):
        r = ms.model_results[name]  # type: ignore[attr-defined]
        if name == "privleak" and r.value is None:
            # MUSE's convention is undefined when the gold model's AUC is 1 (this synthetic gold)
            assert "AUC is 1" in (r.skipped or "")
            continue
        assert r.ci is not None, (name, r.ci_note)
        assert r.ci[0] - 1e-12 <= r.value <= r.ci[1] + 1e-12, name
    assert ms.model_results["mia_loss"].n_facts == {"members": 8, "nonmembers": 6}  # type: ignore[attr-defined]
    fq = ms.model_results["forget_quality"]  # type: ignore[attr-defined]
    assert fq.ci is None and "test" in (fq.ci_note or "")
    assert n_ci > 30


def test_special_estimators_match_their_values() -> None:
    """Truth ratio, QA perplexity and S0 utility are not means of ``per_item``: their own
    estimators reproduce the value (else the interval would belong to another statistic)."""
    ms = evaluate(world_like(5))
    for role in ("forget", "retain", "holdout"):
        for name in ("truth_ratio", "qa_perplexity", "s0_utility"):
            r = ms.set_results[role][name]
            assert r.ci is not None and r.ci_note is None, (role, name, r.ci_note)
    r = ms.set_results["retain"]["truth_ratio"]
    assert not math.isclose(float(np.mean(r.per_item)), r.value)        # per_item holds the raw R


def test_value_without_estimator_gets_a_note_not_an_interval() -> None:
    s = two_facts(True)
    ms = ModelStats("m", {"retain": s}, {"retain": {"odd": MetricResult(value=0.9, per_item=[0.5] * 6)}})
    attach_intervals(ms, {}, n_boot=100, seed=0)
    r = ms.set_results["retain"]["odd"]
    assert r.ci is None and "not a mean" in (r.ci_note or "")


def test_determinism_under_the_seed() -> None:
    a, b, c = (evaluate(world_like(7), seed=s) for s in (11, 11, 12))
    for role in ("forget", "retain"):
        for name in ("answer_prob", "rouge_recall", "truth_ratio"):
            assert a.set_results[role][name].ci == b.set_results[role][name].ci
    assert a.model_results["mia_loss"].ci == b.model_results["mia_loss"].ci  # type: ignore[attr-defined]
    assert a.set_results["forget"]["answer_prob"].ci != c.set_results["forget"]["answer_prob"].ci
    off = evaluate(world_like(7), n_boot=0)
    assert off.set_results["forget"]["answer_prob"].ci is None


def test_weighted_auc_equals_sklearn_on_the_expanded_resample() -> None:
    rng = np.random.default_rng(0)
    sm, sn = rng.normal(1, 1, 12), rng.normal(0, 1, 9)
    sn[0] = sm[0]                                                    # a tie counts ½
    cm, cn = np.repeat(np.arange(4), 3), np.repeat(np.arange(3), 3)
    wm, wn = S.resample_counts(4, 20, 0, "m"), S.resample_counts(3, 20, 0, "n")
    aucs = S.weighted_auc(sm, cm, sn, cn, wm, wn)
    for b in range(20):
        m = np.concatenate([np.tile(sm[cm == f], int(wm[b, f])) for f in range(4)])
        n = np.concatenate([np.tile(sn[cn == f], int(wn[b, f])) for f in range(3)])
        assert aucs[b] == pytest.approx(roc_auc_score(np.r_[np.ones(m.size), np.zeros(n.size)], np.r_[m, n]))


# --- forget quality on facts --------------------------------------------------------------

def fq_model(name: str, ratios: list[list[float]], facts: bool = True) -> ModelStats:
    items, flat = [], []
    for f, rs in enumerate(ratios):
        for p, r in enumerate(rs):
            items.append(ItemStats(item=QAItem(id=f"{name}{f}-{p}", question="q?", answer="a", role="forget",
                                               fact=f"f{f}" if facts else None)))
            flat.append(r)
    res = {"forget": {"truth_ratio": MetricResult(value=0.5, per_item=flat)}}
    return ModelStats(name, {"forget": SetStats("forget", items, ALL)}, res)


def test_forget_quality_is_ks_on_fact_means() -> None:
    """4 facts × 3 phrasings per model, fully separated: on items KS sees 12 vs 12
    (p = 2 / C(24, 12) ≈ 7e-7), on facts 4 vs 4 (p = 2 / C(8, 4) = 2/70)."""
    mine = [[0.10, 0.11, 0.12], [0.20, 0.21, 0.22], [0.30, 0.31, 0.32], [0.40, 0.41, 0.42]]
    theirs = [[0.50, 0.51, 0.52], [0.60, 0.61, 0.62], [0.70, 0.71, 0.72], [0.80, 0.81, 0.82]]
    fq = METRICS.get("forget_quality").fn(fq_model("m", mine), fq_model("g", theirs))
    hand = ks_2samp([0.11, 0.21, 0.31, 0.41], [0.51, 0.61, 0.71, 0.81]).pvalue
    assert fq.value == pytest.approx(hand) and fq.value == pytest.approx(2 / 70)
    items = ks_2samp(sum(mine, []), sum(theirs, [])).pvalue
    assert fq.extra["item_level_p"] == pytest.approx(items) and items < 1e-5
    assert fq.extra["n_facts"] == 4 and fq.extra["n_facts_gold"] == 4 and fq.extra["n_items"] == 12
    assert fq.n_facts == {"model": 4, "gold": 4}
    # the fact mean, not one phrasing: shifting one phrasing per fact moves the fact means past gold's
    shifted = [[r[0], r[1], r[2] + 3.0] for r in mine]          # fact means 1.11 … 1.41 > every gold mean
    p = METRICS.get("forget_quality").fn(fq_model("m", shifted), fq_model("g", theirs)).value
    assert p == pytest.approx(ks_2samp([1.11, 1.21, 1.31, 1.41], [0.51, 0.61, 0.71, 0.81]).pvalue)
    # without fact ids every item is its own fact: the item-level test
    no_ids = METRICS.get("forget_quality").fn(fq_model("m", mine, facts=False), fq_model("g", theirs, facts=False))
    assert no_ids.value == pytest.approx(items) and no_ids.extra["n_facts"] == 12


def test_fact_means() -> None:
    m, labels = S.fact_means([1.0, 2.0, 3.0, 10.0], ["x", "x", "y", "x"])
    assert labels == ["x", "y"] and m.tolist() == pytest.approx([13 / 3, 3.0])
    assert S.mean_sd([1.0, 2.0, 4.0]) == pytest.approx((7 / 3, statistics.stdev([1, 2, 4]), 3))
    assert S.mean_sd([None, 2.0]) == (2.0, None, 1)


# --- compare --seeds and --ci -------------------------------------------------------------

FAST_EVAL = {"metrics": ["mean_token_prob", "rouge_recall", "s0_forget_efficacy", "s0_utility", "accuracy",
                         "answer_prob", "truth_ratio", "model_utility"],
             "max_items_per_role": 6, "max_new_tokens": 12}


def test_parse_seeds() -> None:
    from oblivio.experiments.seeds import parse_seeds
    assert parse_seeds("0, 1,2") == [0, 1, 2] and parse_seeds([3]) == [3] and parse_seeds(None) is None
    for bad in ("0,x", "1,1", "", [1.5]):
        with pytest.raises(InputError):
            parse_seeds(bad)   # type: ignore[arg-type]


def test_compare_seeds_mean_sd(tiny_world, tiny_cfg, tmp_path) -> None:
    from oblivio import api
    from oblivio.config import load_config, to_dict
    data, wm = tiny_world
    cfg = load_config(overrides={"eval": FAST_EVAL}, base=to_dict(tiny_cfg))
    out = tmp_path / "cmp"
    res = api.compare(data, config=cfg, model=wm.base_dir, methods="graddiff", samplers="one_to_one_random",
                      steps=2, seeds=[0, 1, 2], run_dir=out, progress=False, log=lambda m: None)
    (c,) = res.cells
    assert c.seeds == [0, 1, 2] and len(c.per_seed) == 3
    for key in ("forget_answer_prob", "forget_efficacy", "model_utility"):
        xs = [r["values"][key] for r in c.per_seed]
        assert c.values[key] == pytest.approx(statistics.mean(xs)), key
        assert c.sd is not None and c.sd[key] == pytest.approx(statistics.stdev(xs)), key
        assert c.n is not None and c.n[key] == 3
    xs = [r["values"]["forget_answer_prob"] for r in c.per_seed]
    assert len(set(xs)) > 1                                     # the seeds really differ
    role = "direct_test"
    ys = [r["values"]["utility"][role] for r in c.per_seed]
    assert c.values["utility"][role] == pytest.approx(statistics.mean(ys))
    assert c.sd["utility"][role] == pytest.approx(statistics.stdev(ys))
    rec = json.loads((out / "compare.json").read_text())
    assert rec["seeds"] == [0, 1, 2]
    cj = rec["cells"][0]
    assert cj["values"]["forget_efficacy"] == pytest.approx(c.values["forget_efficacy"])
    assert cj["sd"]["forget_efficacy"] == pytest.approx(c.sd["forget_efficacy"])
    assert [r["seed"] for r in cj["per_seed"]] == [0, 1, 2]
    md = (out / "compare.md").read_text()
    row = next(ln for ln in md.splitlines() if ln.startswith("| graddiff"))
    assert " ± " in row and "| 3 |" in row
    assert "seeds 0, 1, 2" in md


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "oblivio", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_cli_eval_ci_and_results(tiny_world, tmp_path) -> None:
    """`oblivio eval --ci`: the table shows value [lo, hi]; the JSON has ci and n_facts."""
    _, wm = tiny_world
    out = tmp_path / "eval.json"
    r = _cli("eval", "--model", str(wm.base_dir), "--gold", str(wm.gold_dir), "--data", "world:tiny", "--ci",
             "--set", "eval.max_new_tokens=8", "--set", "eval.bootstrap=200", "--out", str(out), "--quiet",
             cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    line = next(ln for ln in r.stdout.splitlines() if ln.startswith("forget") and "answer_prob" in ln)
    assert "[" in line and "]" in line
    assert "95% bootstrap interval over facts (200 resamples" in r.stdout
    rec = json.loads(out.read_text())
    ap = rec["sets"]["forget_test"]["answer_prob"]
    assert ap["ci"][0] <= ap["value"] <= ap["ci"][1] and \
        ap["n_facts"] == rec["statistics"]["facts_per_role"]["forget_test"]
    fq = rec["model"]["forget_quality"]
    assert fq["extra"]["n_facts"] < fq["extra"]["n_items"]       # the tiny world: several phrasings per fact
    bad = _cli("eval", "--model", str(wm.base_dir), "--data", "world:tiny", "--set", "eval.bootstrap=-1",
               cwd=tmp_path)
    assert bad.returncode == 2 and "eval.bootstrap" in bad.stderr


def test_cli_compare_seeds_bad_input(tmp_path) -> None:
    r = _cli("compare", "--data", "world:tiny", "--seeds", "0,zero", "--out", str(tmp_path / "o"), "--quiet",
             cwd=tmp_path)
    assert r.returncode == 2 and "seeds" in r.stderr
    assert not (tmp_path / "o").exists()


def test_compare_tables_show_sd_and_intervals() -> None:
    """compare.md: "mean ± sd" for cells run on several seeds, "v [lo, hi]" with --ci."""
    from oblivio.experiments.compare import Cell
    from oblivio.report.compare_view import calibrated_markdown, markdown_table
    one = Cell("graddiff", "cyclic", 4, 8, 1, {}, "max_steps",
               values={"forget_efficacy": 0.5, "utility": {"general_test": 0.8}, "model_utility": 0.7,
                       "forget_accuracy": 0.25, "forget_quality": 0.2,
                       "ci": {"forget_efficacy": [0.4, 0.6], "utility": {"general_test": [0.75, 0.85]}}})
    plain = markdown_table([one], {}, ["general_test"])
    assert "[0.400, 0.600]" not in plain
    with_ci = markdown_table([one], {}, ["general_test"], ci=True)
    assert "| 0.500 [0.400, 0.600] | 0.800 [0.750, 0.850] | 0.700 |" in with_ci
    multi = Cell("npo", "melu", 4, 8, 1, {}, "max_steps", values={"forget_efficacy": 0.5, "utility": {}},
                 seeds=[0, 1, 2], sd={"forget_efficacy": 0.125, "utility": {}}, n={"forget_efficacy": 3})
    t = markdown_table([multi], {}, [], ci=True)
    assert "| npo | melu | 4 | 3 | 0.500 ± 0.125 |" in t and "n" in t.splitlines()[0]
    multi.calibration = {"alpha": 0.5, "utility": 0.9, "values": {"forget_efficacy": 0.3},
                         "sd": {"alpha": 0.1, "utility": 0.01, "values": {"forget_efficacy": 0.05}}}
    assert "| npo | melu | 0.500 ± 0.100 | 0.900 ± 0.010 | 0.300 ± 0.050 |" in calibrated_markdown([multi], [], 0.9)
