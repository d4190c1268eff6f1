"""The zoo's tuning choice (bench/zoo.py): two-sided forgetting targets, means over validation
worlds, and a table that refuses a world the tuning read."""
from __future__ import annotations

import math
from pathlib import Path
from types import ModuleType

import pytest

from benchmod import load_bench


@pytest.fixture(scope="module")
def zoo() -> ModuleType:
    return load_bench("zoo")


def point(step: int, forget: float, gold: float = 0.25, ratio: float = 1.0) -> dict:
    return {"step": step, "forget": forget, "para_forget": forget, "gold_forget": gold, "gold_para_forget": gold,
            "direct_test_ratio": ratio, "indirect_test_ratio": 1.0, "general_test_ratio": 1.0}


def test_forgetting_more_than_gold_is_a_violation(zoo: ModuleType) -> None:
    """Gold 0.25: forget 0.0 is 0.25 below gold — over-unlearned — and violates by 2 × (0.25 − 0.05)
    (accuracy and held-out phrasings); 0.28 is inside ± 0.05 and meets the targets."""
    under = zoo.scored(point(10, 0.0))
    assert under["violation"] == pytest.approx(0.4)
    assert not under["ok"]
    assert zoo.scored(point(10, 0.28))["ok"]
    above = zoo.scored(point(10, 0.45))
    assert above["violation"] == pytest.approx(0.3)


def test_retain_shortfall_adds_to_the_violation(zoo: ModuleType) -> None:
    s = zoo.scored(point(10, 0.25, ratio=0.85))
    assert s["violation"] == pytest.approx(0.10)
    assert s["min_ratio"] == pytest.approx(0.85)


def test_points_are_averaged_over_worlds_and_incomplete_settings_dropped(zoo: ModuleType) -> None:
    """World 101 forgets to 0.10, world 102 to 0.40 (gold 0.25 both): the mean 0.25 meets the targets
    though neither world alone does; a setting measured on one world only is not a candidate."""
    pts = [(101, 5e-4, {}, point(40, 0.10)), (102, 5e-4, {}, point(40, 0.40)),
           (101, 1e-3, {}, point(40, 0.25))]
    out = zoo.over_worlds(pts)
    assert len(out) == 1
    lr, _args, p = out[0]
    assert lr == 5e-4
    assert p["forget"] == pytest.approx(0.25)
    assert p["ok"] and p["worlds"] == [101, 102]


def test_choice_prefers_meeting_then_smallest_violation(zoo: ModuleType) -> None:
    meets = (5e-4, {}, zoo.scored(point(80, 0.27, ratio=0.97)))
    meets_better = (2e-4, {}, zoo.scored(point(120, 0.22, ratio=0.99)))
    close = (1e-3, {}, zoo.scored(point(20, 0.1)))
    assert zoo.choose([meets, meets_better, close])["lr"] == 2e-4
    far = (1e-4, {}, zoo.scored(point(20, 0.0)))
    got = zoo.choose([far, close])
    assert got["lr"] == 1e-3 and got["steps"] == 20
    assert math.isclose(got["tuning_point"]["violation"], 0.2)


def test_table_refuses_a_world_the_tuning_read(zoo: ModuleType, tmp_path: Path) -> None:
    tuned = tmp_path / "tuned.json"
    tuned.write_text('{"npo": {"lr": 5e-4, "steps": 40, "val_worlds": [101, 102]}}')
    with pytest.raises(SystemExit, match="read by the tuning"):
        zoo.main(["table", "--methods", "npo", "--world-seeds", "1,102", "--tuned", str(tuned),
                  "--out", str(tmp_path)])
