"""bench/default_protocol.py's own-data validation sources: a file's held-out retain rows read
as its validation rows (``--file-retain-val``), and the ranking by the sum of the sources'
violations (the worlds one source, each file one)."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from benchmod import load_bench
from oblivio.presets import DEFAULT_RECIPE

dp = load_bench("default_protocol")


def test_retain_as_val_relabels_held_out_retain_rows_only(tmp_path: Path) -> None:
    rows = [{"question": "q1", "answer": "a", "set": "forget"},
            {"question": "q2", "answer": "a", "set": "direct_test", "targets": ["X"]},
            {"question": "q3", "answer": "a", "set": "indirect"},
            {"question": "q4", "answer": "a", "set": "general_test"},
            {"question": "q5", "answer": "a", "set": "forget_test"},
            {"question": "q6", "answer": "a", "set": "holdout_test"},
            {"question": "q7", "answer": "é", "set": "retain_test", "meta": {"k": 1}}]
    src = tmp_path / "mine.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    out = dp.retain_as_val(src, tmp_path / "out")
    assert out == tmp_path / "out" / "files" / "mine-retain-val.jsonl"   # its own name: its own models
    got = [json.loads(ln) for ln in out.read_text(encoding="utf-8").splitlines()]
    assert [r["set"] for r in got] == ["forget", "direct_val", "indirect", "general_val", "forget_test",
                                       "holdout_test", "retain_val"]
    # every other field as it was
    assert [{k: v for k, v in r.items() if k != "set"} for r in got] == \
        [{k: v for k, v in r.items() if k != "set"} for r in rows]
    assert src.read_text(encoding="utf-8").count("direct_test") == 1     # the original untouched


def test_the_ranking_sums_the_sources_violations(monkeypatch: pytest.MonkeyPatch) -> None:
    """A candidate best on the worlds but worst on a file loses to one that is a little worse
    on the worlds and much better on the file; the file's runs are scored on their own."""
    seen: list[list[int]] = []

    def fake_means(runs, margin):
        seen.append(sorted(w for w, _ in runs))
        v = sum(rec["v"] for _, rec in runs)
        return {"violation": v, "forget_minus_gold": 0.0, "auc_minus_gold": 0.0, "retain_ratio": {},
                "attack_excess": {}, "worlds": []}
    monkeypatch.setattr(dp, "means", fake_means)
    cands = [{"label": "a", "steps": 80}, {"label": "b", "steps": 120}, {"label": "c", "steps": 40}]
    got = {"a": [(101, {"v": 0.1}), (102, {"v": 0.1}), (1000, {"v": 0.9}), (1001, {"v": 0.1})],
           "b": [(101, {"v": 0.2}), (102, {"v": 0.2}), (1000, {"v": 0.1}), (1001, {"v": 0.1})],
           "c": [(101, {"v": 0.3}), (102, {"v": 0.2}), (1000, {"v": 0.1}), (1001, {"v": 0.1})]}
    out = dp.ranked(cands, got, [Path("ferry.jsonl"), Path("obs.jsonl")], 0.05)
    assert [c["label"] for c in out] == ["b", "c", "a"]      # b 0.6, c 0.7, a 1.2 (best worlds, last)
    b = out[0]
    assert b["violation"] == pytest.approx(0.6) and b["world_violation"] == pytest.approx(0.4)
    assert b["files"]["ferry.jsonl"]["violation"] == pytest.approx(0.1)
    assert seen[:3] == [[101, 102], [1000], [1001]]           # worlds together, each file alone
    # a tie goes to fewer steps
    got["c"] = [(101, {"v": 0.2}), (102, {"v": 0.2}), (1000, {"v": 0.1}), (1001, {"v": 0.1})]
    assert [c["label"] for c in dp.ranked(cands, got, [Path("f.jsonl"), Path("g.jsonl")], 0.05)][:2] == ["c", "b"]


def test_a_candidates_checkpoint_rules_reach_its_world_and_file_cells(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """``control`` in a candidate is the cells' control config (stop at gold, every 5 steps);
    a candidate without it keeps the config's defaults (no checkpoint evaluation)."""
    monkeypatch.setattr(dp, "learned", lambda f, out, epochs, size=None: (tmp_path / "base", tmp_path / "gold"))
    cands = [{"label": "sag", "method": "npo", "steps": 40,
              "control": {"eval_every": 5, "stop_at_gold": True, "select": "final", "eval_items": None}},
             {"label": "plain", "method": "npo", "steps": 40}]
    data = tmp_path / "mine.jsonl"
    data.write_text(json.dumps({"question": "q", "answer": "a", "set": "forget"}) + "\n", encoding="utf-8")
    cells = dp.cand_cells("tiny", cands, [101], [0], "tune") + dp.file_cells(cands, [data], tmp_path, 20)
    by = {c.name: c.config.control for c in cells}
    for name in ("sag-w101-s0", "sag-mine"):
        ctl = by[name]
        assert (ctl.eval_every, ctl.stop_at_gold, ctl.select, ctl.eval_items) == (5, True, "final", None)
    for name in ("plain-w101-s0", "plain-mine"):
        assert (by[name].eval_every, by[name].stop_at_gold) == (0, False)


def test_a_candidates_learn_size_picks_its_file_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``learn_size`` learns the file's base and gold at that model size, in a folder of their
    own, and each candidate's cells read its own; without it the config's default size."""
    calls: list[list[str]] = []
    monkeypatch.setattr(dp.subprocess, "run", lambda argv, check: calls.append(argv))
    data = tmp_path / "mine.jsonl"
    data.write_text(json.dumps({"question": "q", "answer": "a", "set": "forget"}) + "\n", encoding="utf-8")
    cands = [{"label": "t", "method": "npo", "steps": 4, "learn_size": "tiny"},
             {"label": "s", "method": "npo", "steps": 4, "learn_size": "small"},
             {"label": "d", "method": "npo", "steps": 4}]
    cells = {c.name: c.config.model for c in dp.file_cells(cands, [data], tmp_path, 100)}
    assert cells["s-mine"].path == str(tmp_path / "models" / "mine-small" / "base")
    assert cells["s-mine"].gold == str(tmp_path / "models" / "mine-small" / "gold")
    assert cells["t-mine"].path == str(tmp_path / "models" / "mine-tiny" / "base")
    assert cells["d-mine"].path == str(tmp_path / "models" / "mine" / "base")
    sizes = [[a for a in argv if a.startswith("model.size=")] for argv in calls]
    assert sizes == [["model.size=tiny"], ["model.size=small"], []]
    assert all("learn.epochs=100" in argv for argv in calls)


def test_a_files_only_round_adds_nothing_for_the_worlds(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no validation world the worlds' share of the violation is 0, not a mean of nothing."""
    def fake_means(runs, margin):
        return {"violation": 9.0 if not runs else sum(r["v"] for _, r in runs), "forget_minus_gold": 0.0,
                "auc_minus_gold": 0.0, "retain_ratio": {}, "attack_excess": {}, "worlds": [w for w, _ in runs]}
    monkeypatch.setattr(dp, "means", fake_means)
    got = {"a": [(1000, {"v": 0.3})]}
    out = dp.ranked([{"label": "a", "steps": 1}], got, [Path("f.jsonl")], 0.05)
    assert out[0]["violation"] == pytest.approx(0.3) and out[0]["world_violation"] == 0.0


@pytest.mark.parametrize("method, args, want", [
    ("npo", {"alpha": 3.0}, {"alpha": 3.0}), ("rmu", {"alpha": 1.0}, {"alpha": 1.0}), ("npo", {}, {}),
    ("npo_me", {"mix": 0.2}, {"mix": 0.2}),
    # the default's own method starts from the default's arguments, as `--set unlearn.args.tamper=0.3` does
    (DEFAULT_RECIPE["method"], {"tamper": 0.3}, {**DEFAULT_RECIPE["args"], "tamper": 0.3})])
def test_a_candidates_own_arguments_reach_its_world_cells_whatever_its_method(method, args, want):
    """The candidate's arguments are not dropped when its method is not the demo's (a config
    layer naming another method drops the arguments of the layers below it)."""
    cell = dp.cand_cells("tiny", [{"label": "c", "method": method, "steps": 4, "args": args}], [101], [0], "tune")[0]
    assert cell.config.unlearn.method == method and cell.config.unlearn.args == want


def test_the_zoos_cells_carry_their_arguments_whatever_the_method():
    from oblivio.api import demo_config
    from oblivio.config import to_dict
    zoo = load_bench("zoo")
    cfg = zoo.cell_config(to_dict(demo_config("tiny")), "rmu", {"alpha": 1}, 1e-3, 10, {"seed": 3})
    assert (cfg.unlearn.method, cfg.unlearn.args, cfg.unlearn.train.lr, cfg.seed) == ("rmu", {"alpha": 1}, 1e-3, 3)
    # the default's own method keeps the default's arguments; another method its own
    assert zoo.cell_config(to_dict(demo_config("tiny")), DEFAULT_RECIPE["method"], {}, 1e-3, 10, {}).unlearn.args \
        == DEFAULT_RECIPE["args"]
    assert zoo.cell_config(to_dict(demo_config("tiny")), "npo_me", {}, 1e-3, 10, {}).unlearn.args == {}


def test_the_readmes_learn_line_uses_the_size_chosen_on_validation_files() -> None:
    """bench/results/default_protocol/learn-size.json's choice is the model size of the README's
    own-data learn command (which bench/newcomer.py and bench/file_seeds.py run): a change of
    either must change the other."""
    newcomer = load_bench("newcomer")
    root = Path(__file__).resolve().parents[1]
    tuned = json.loads((root / "bench" / "results" / "default_protocol" / "learn-size.json").read_text())
    chosen = next(c for c in tuned["ranked"] if c["label"] == tuned["chosen"])
    learn = [ln for ln in newcomer.readme_commands() if ln.startswith("oblivio learn ")]
    assert learn == [f"oblivio learn --data my.jsonl --out mymodels/ --set learn.epochs=100 "
                     f"--set model.size={chosen['learn_size']}"]
    assert chosen["learn_size"] == "small" and tuned["val_worlds"] == [] and tuned["file_retain_val"] is True
    # the sizes were compared with round 9's default; every later round tuned the default on the
    # files learned at the chosen size
    dp_dir = root / "bench" / "results" / "default_protocol"
    r9 = json.loads((dp_dir / "tuned-round9.json").read_text())
    r9_chosen = next(c for c in r9["ranked"] if c["label"] == r9["chosen"])
    assert (chosen["method"], chosen["args"]) == (r9_chosen["method"], r9_chosen["args"])
    latest = json.loads((dp_dir / "tuned.json").read_text())
    assert latest["round"] > 10
    assert next(c for c in latest["ranked"] if c["label"] == latest["chosen"])["learn_size"] == chosen["learn_size"]


def test_tuned_json_is_strict_json_without_world_means() -> None:
    """A files-only round has no world means (NaN): they are written as null, not NaN."""
    got = dp.finite({"a": math.nan, "b": [1.0, math.nan, {"c": math.nan}], "d": "x", "e": 2})
    assert got == {"a": None, "b": [1.0, None, {"c": None}], "d": "x", "e": 2}
    json.dumps(got, allow_nan=False)
