"""Verdicts over worlds (oblivio.report.world_verdict): world means of seed means, a Student-t
interval over the worlds, the single-run rules, hand-computed on small records."""
from __future__ import annotations

import math

import pytest

from oblivio.report import world_verdict as W

T90_2 = 2.919985580   # scipy.stats.t.ppf(0.95, 2): the 90% two-sided critical value, 2 df
T95_2 = 4.302652730   # t.ppf(0.975, 2)


def rec(forget: float, gold: float, *, keep: float = 0.9, base: float = 0.9, auc: float = 0.5, gold_auc: float = 0.5,
        attack: tuple[float, float] | None = None, facts: int = 30, portion: str = "test") -> dict:
    """A results.json-shaped record: forget and one held-out retain role, the MIA AUC, one attack."""
    f, r = f"forget_{portion}", f"direct_{portion}"
    ids = [f"q{i}" for i in range(facts)]

    def model(fv: float, rv: float, a: float) -> dict:
        return {"sets": {f: {"accuracy": {"value": fv}}, r: {"accuracy": {"value": rv}}},
                "model": {"mia_minkpp": {"value": a}},
                "item_ids": {f: ids, r: ids}, "item_facts": {f: ids, r: ids}}
    out = {"config": {"eval": {"margin": 0.05}},
           "models": {"unlearned": model(forget, keep, auc), "gold": model(gold, base, gold_auc),
                      "base": model(0.9, base, 0.9)}}
    if attack is not None:
        out["audit"] = {"attacks": {"paraphrase": {"models": {"unlearned": {"accuracy": attack[0], "n_facts": facts},
                                                              "gold": {"accuracy": attack[1]}}},
                                    "skipped_one": {"skipped": "no probes"}}}
    return out


def _hand_t(values: list[float], crit: float) -> tuple[float, float, float]:
    m = sum(values) / len(values)
    sd = math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1))
    return m, m - crit * sd / math.sqrt(len(values)), m + crit * sd / math.sqrt(len(values))


def test_seeds_are_averaged_within_a_world_then_t_over_worlds():
    # world 1 has two seeds (differences 0.02 and 0.04 -> 0.03); worlds 2, 3 one each
    runs = [(1, rec(0.32, 0.30)), (1, rec(0.34, 0.30)), (2, rec(0.30, 0.31)), (3, rec(0.25, 0.25))]
    v = W.forgotten(runs, 0.05)
    m, lo, hi = _hand_t([0.03, -0.01, 0.0], T90_2)
    assert v.interval is not None
    assert (v.interval.value, v.interval.lo, v.interval.hi) == pytest.approx((m, lo, hi), abs=1e-9)
    assert v.interval.n == 90                 # 30 facts per world, each world counted once
    assert -0.05 <= v.interval.lo and v.interval.hi <= 0.05 and v.status == "yes"     # [−0.028, +0.042]


def test_forgotten_two_sided_and_the_fact_minimum():
    over = [(w, rec(0.05, 0.30)) for w in (1, 2)] + [(3, rec(0.06, 0.30))]
    assert W.forgotten(over, 0.05).status == "over-unlearned"
    remains = [(w, rec(0.60 + 0.01 * w, 0.30)) for w in (1, 2, 3)]
    assert W.forgotten(remains, 0.05).status == "no"
    wide = [(1, rec(0.40, 0.30)), (2, rec(0.20, 0.30)), (3, rec(0.30, 0.30))]
    assert W.forgotten(wide, 0.05).status == "undecided"
    few = [(w, rec(0.30, 0.30, facts=9)) for w in (1, 2, 3)]       # 27 facts < 59 at ±0.05
    assert W.forgotten(few, 0.05).status == "too few facts"
    assert W.forgotten(few, 0.2).status == "yes"                    # 27 ≥ min_facts(0.2) = 14


def test_private_is_two_sided_on_the_auc_difference():
    runs = [(1, rec(0.3, 0.3, auc=0.30, gold_auc=0.50)), (2, rec(0.3, 0.3, auc=0.28, gold_auc=0.52)),
            (3, rec(0.3, 0.3, auc=0.33, gold_auc=0.50))]
    v = W.private(runs, 0.05)
    m, lo, hi = _hand_t([-0.20, -0.24, -0.17], T90_2)
    assert v.interval is not None and (v.interval.lo, v.interval.hi) == pytest.approx((lo, hi))
    assert v.status == "over-unlearned"
    flipped = [(w, rec(0.3, 0.3, auc=0.5 - (a - 0.5), gold_auc=0.5)) for w, a in ((1, 0.30), (2, 0.28), (3, 0.33))]
    assert W.private(flipped, 0.05).status == "no"


def test_kept_reads_the_lower_end_of_the_ratio():
    runs = [(1, rec(0.3, 0.3, keep=0.88, base=0.9)), (2, rec(0.3, 0.3, keep=0.90, base=0.9)),
            (3, rec(0.3, 0.3, keep=0.89, base=0.9))]
    v = W.kept(runs)
    m, lo, hi = _hand_t([0.88 / 0.9, 1.0, 0.89 / 0.9], T90_2)
    assert v.interval is not None and v.interval.lo == pytest.approx(lo)
    assert lo == pytest.approx(0.970, abs=1e-3) and v.status == "yes"
    lost = [(w, rec(0.3, 0.3, keep=k, base=0.9)) for w, k in ((1, 0.60), (2, 0.62), (3, 0.61))]
    assert W.kept(lost).status == "no"
    assert "direct_test" in W.kept(lost).sentence


def test_robust_reads_the_upper_end_of_each_attack_and_skips_skipped():
    runs = [(w, rec(0.3, 0.3, attack=(0.30 + d, 0.30))) for w, d in ((1, 0.00), (2, 0.01), (3, -0.01))]
    v = W.robust(runs, 0.05)
    m, lo, hi = _hand_t([0.0, 0.01, -0.01], T95_2)
    assert v.interval is not None and v.interval.hi == pytest.approx(hi) and v.status == "yes"
    assert "1 of 1 attacks pass" in v.sentence          # the skipped attack is not counted
    recovers = [(w, rec(0.3, 0.3, attack=(0.30 + d, 0.30))) for w, d in ((1, 0.30), (2, 0.32), (3, 0.31))]
    assert W.robust(recovers, 0.05).status == "no"


def test_a_tuning_runs_validation_portion_is_read():
    runs = [(w, rec(0.31, 0.30, portion="val")) for w in (1, 2, 3)]
    v = W.forgotten(runs, 0.05)
    assert v.interval is not None and v.interval.value == pytest.approx(0.01)
    assert W.kept(runs).status != "not available"


def test_one_world_is_not_an_interval():
    runs = [(1, rec(0.30, 0.30)), (1, rec(0.31, 0.30))]
    assert [v.status for v in W.world_verdicts(runs)] == ["not available"] * 4


def test_compare_reads_each_cells_run_folders_by_world(tmp_path):
    import json
    from types import SimpleNamespace

    from oblivio.experiments.worlds import cell_verdicts
    diffs = {(1, "a"): 0.30, (1, "b"): 0.32, (2, "a"): 0.29, (3, "a"): 0.31}
    for (w, name), fv in diffs.items():
        d = tmp_path / "worlds" / f"world-{w}" / "runs" / name
        d.mkdir(parents=True)
        (d / "results.json").write_text(json.dumps(rec(fv, 0.30)))
    cell = SimpleNamespace(label="npo/random", runs=[f"worlds/world-{w}/runs/{n}" for w, n in diffs])
    (forgotten, *_rest) = cell_verdicts(tmp_path, [cell], [1, 2, 3])["npo/random"]
    m, lo, hi = _hand_t([0.01, -0.01, 0.01], T90_2)      # world 1: the mean of its two seeds
    assert f"[{lo:+.3f}".replace("-", "−") in forgotten and "3 worlds" in forgotten


def test_a_difference_of_shares_is_cut_to_minus_one_one():
    runs = [(1, rec(0.95, 0.05)), (2, rec(0.30, 0.30)), (3, rec(0.90, 0.10))]
    iv = W.forgotten(runs, 0.05).interval
    assert iv is not None and iv.hi == 1.0 and iv.lo > -1.0
    m, lo, hi = _hand_t([0.9, 0.0, 0.8], T90_2)
    assert hi > 1.0 and iv.lo == pytest.approx(lo)          # only the side beyond the bound is cut


def test_a_verdicts_detail_is_its_status_n_and_interval():
    runs = [(1, rec(0.32, 0.30)), (1, rec(0.34, 0.30)), (2, rec(0.30, 0.31)), (3, rec(0.25, 0.25))]
    v = W.forgotten(runs, 0.05)
    m, lo, hi = _hand_t([0.03, -0.01, 0.0], T90_2)
    d = v.detail
    assert d["status"] == "yes" and d["n"] == 90
    assert (d["value"], d["lo"], d["hi"]) == pytest.approx((m, lo, hi), abs=1e-9)
    assert d["level"] == pytest.approx(0.90)
    few = W.forgotten([(1, rec(0.3, 0.3))], 0.05).detail      # one world: no interval, no bounds
    assert "lo" not in few and few["status"] != "yes"
