"""One flag per concept across subcommands (bench/cli_flags.py's checks), ``--limit`` and
``--log-with`` on every command that evaluates or runs, older spellings as hidden aliases, and
a run's config.yaml paths absolute (issue #25 item 3)."""
from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import pytest

from benchmod import load_bench
from clirun import run_cli

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    return load_bench("cli_flags")


@pytest.fixture(scope="module")
def measured(bench):
    return bench.measure()


# -- the bench's checks ------------------------------------------------------------------------
def test_no_placeholder_is_a_config_key(bench, measured) -> None:
    assert measured["metavar_is_key"] == []
    # the rule itself: argparse's own placeholder for dest=unlearn.train.max_steps, or the key's
    # last part, is caught; the words the flags use are not
    assert bench.key_like("UNLEARN.TRAIN.MAX_STEPS") and bench.key_like("MAX_STEPS")
    assert not any(bench.key_like(w) for w in ("N", "DIR", "NAMES", "KEY=VALUE", "KEY[:desc]", "TAU"))


def test_every_subcommand_has_an_example_and_shows_its_defaults(measured) -> None:
    assert measured["no_example"] == []
    assert measured["no_default_shown"] == []


def test_each_concept_has_one_visible_name(measured) -> None:
    assert measured["two_names"] == {}
    t = measured["table"]
    assert t["method"] == {"demo": "--method", "unlearn": "--method", "compare": "--method"}
    assert t["sampler"]["compare"] == "--sampler"
    assert t["calibration τ"] == {"calibrate": "--tau", "compare": "--tau"}
    assert {t["run folder"][c] for c in ("calibrate", "audit", "report", "leaderboard")} == {"<positional>"}
    # the early stop's floor is another concept, with its own name
    assert set(t["control.stop_utility_tau"].values()) == {"--stop-utility"}


def test_every_command_that_reads_data_takes_the_data_flags(measured) -> None:
    assert measured["data_without_neighbour_map_or_targets"] == []


def test_log_with_and_limit_where_they_make_sense(measured) -> None:
    assert measured["runs_without_log_with"] == []
    assert set(measured["limit"]) == {"demo", "unlearn", "eval", "compare", "audit"}


@pytest.mark.parametrize("argv, key, value", [
    (["audit", "--run", "R"], "run", "R"),
    (["audit", "R"], "run", "R"),
    (["calibrate", "R", "--tau", "0.8"], "run", "R"),
    (["calibrate", "--run", "R", "--tau", "0.8"], "run", "R"),
    (["compare", "--methods", "ga,npo"], "compare.methods", ["ga", "npo"]),
    (["compare", "--method", "ga,npo"], "compare.methods", ["ga", "npo"]),
    (["compare", "--samplers", "cyclic"], "compare.samplers", ["cyclic"]),
    (["compare", "--sampler", "cyclic"], "compare.samplers", ["cyclic"]),
    (["compare", "--calibrate", "0.7"], "compare.calibrate", 0.7),
    (["compare", "--tau", "0.7"], "compare.calibrate", 0.7),
    (["unlearn", "--method", "npo"], "unlearn.method", "npo"),
    (["reveal", "--target", "Kroltraim Nounror"], "data.targets", ["Kroltraim Nounror"]),
    (["eval", "--model", "M", "--limit", "2"], "eval.limit", 2),
    (["audit", "R", "--limit", "3", "--log-with", "tensorboard"], "eval.limit", 3),
    (["learn", "--epochs", "100"], "learn.epochs", 100),          # learn's epochs, not unlearning's
    (["compare", "--epochs", "2"], "unlearn.train.epochs", 2),
])
def test_old_and_new_spellings_land_on_the_same_key(argv, key, value) -> None:
    from oblivio.cli_args import build_parser
    assert vars(build_parser().parse_args(argv))[key] == value


def test_hidden_aliases_are_not_in_help(capsys) -> None:
    from oblivio.cli_args import build_parser
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)).choices
    text = sub["compare"].format_help() + sub["audit"].format_help() + sub["reveal"].format_help()
    for old in ("--methods", "--samplers", "--calibrate ", "--calibrate-metric", "--run", "--target "):
        assert old not in text, old


def test_run_folder_missing_is_an_input_error(capsys) -> None:
    code, _, err = run_cli(["audit"], capsys)
    assert code == 2 and "oblivio audit RUN" in err


# -- --limit -------------------------------------------------------------------------------------
def _items(n_facts: int, phrasings: int = 2):
    from oblivio.data.schema import QAItem
    return [QAItem(id=f"f{f}-{p}", question=f"Q{f} {p}?", answer=f"A{f}", role="forget", fact=f"fact{f}")
            for f in range(n_facts) for p in range(phrasings)]


def test_first_facts_keeps_whole_facts_in_the_portion_order() -> None:
    from oblivio.data.portions import first_facts
    items = _items(7)
    two = first_facts(items, 2, role="forget_test", seed=0)
    facts = {it.fact for it in two}
    assert len(facts) == 2 and len(two) == 4            # every phrasing of 2 facts, not 2 rows
    three = {it.fact for it in first_facts(items, 3, role="forget_test", seed=0)}
    assert facts < three                                 # a prefix: N + 1 keeps the N
    shuffled = items[:]
    random.Random(3).shuffle(shuffled)                   # the order of the rows does not choose
    assert {it.fact for it in first_facts(shuffled, 2, role="forget_test", seed=0)} == facts
    assert [it.id for it in two] == [it.id for it in items if it.fact in facts]   # rows keep their order
    assert len(first_facts(items, 50, role="forget", seed=0)) == len(items)


def test_select_items_applies_the_limit_to_every_set(tiny_world) -> None:
    from oblivio.config import EvalConfig
    from oblivio.eval.evaluate import select_items
    data, _ = tiny_world
    full = select_items(data, EvalConfig(), "test")
    cut = select_items(data, EvalConfig(limit=2), "test")
    assert list(cut) == list(full)
    for name, rows in cut.items():
        n_full = len({it.fact or it.id for it in full[name]})
        assert len({it.fact or it.id for it in rows}) == min(2, n_full), name
    assert any(len({it.fact for it in v}) > 2 for v in full.values())   # the limit did cut something


def test_unlearn_limit_2_evaluates_at_most_2_facts_and_says_so(tiny_world, tiny_cfg, tmp_path, capsys) -> None:
    import yaml

    from oblivio.config import to_dict
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(yaml.safe_dump(to_dict(tiny_cfg)))
    code, out, err = run_cli(["unlearn", "--config", str(cfg), "--steps", "1", "--limit", "2", "--quiet",
                              "--out", str(tmp_path / "run")], capsys)
    assert code == 0, err
    rec = json.loads((tmp_path / "run" / "results.json").read_text())
    assert rec["config"]["eval"]["limit"] == 2
    assert set(rec["models"]) == {"base", "gold", "unlearned"}
    for name, m in rec["models"].items():
        assert m["statistics"]["limit"] == 2, name
        for s, facts in m["item_facts"].items():
            assert 1 <= len(set(facts)) <= 2, (name, s)
        assert max(m["statistics"]["facts_per_role"].values()) == 2
    assert "--limit 2: at most 2 facts per set" in out
    verdicts = [ln for ln in out.splitlines() if ln.startswith(("forgotten:", "kept:", "private:"))]
    assert len(verdicts) == 3 and all("n=2 " in ln for ln in verdicts), verdicts   # n counts the limited facts


# -- --log-with on commands that train nothing ---------------------------------------------------
def test_result_values_names_every_number_once() -> None:
    from oblivio.engine.tracking import result_values
    rec = {"models": {"unlearned": {
        "seconds": 1.5, "portion": "test",
        "sets": {"forget_test": {"accuracy": {"value": 0.25, "per_item": [0, 1], "ci": [0.0, 0.5], "n_facts": 2}}},
        "model": {"forget_quality": {"value": 0.5}, "privleak": {"value": None, "skipped": "no holdout"}},
        "statistics": {"bootstrap": 1000}, "item_ids": {"forget_test": ["a"]}}},
        "audit": {"attacks": {"relearn": {"recovery": 0.75, "robust": False, "excess_ci": [0.1, 0.2],
                                          "models": {"gold": {"accuracy": 0.125, "n_items": 8}}}}},
        "calibration": {"alpha": 0.375, "sweep": [{"alpha": 0.5}]}, "seed": 3,
        "reveal": {"target": "X", "relevance": 0.25, "curve": [0.1, 0.25], "truth": {"recall": 0.5}}}
    assert result_values(rec) == {
        "unlearned/seconds": 1.5, "unlearned/forget_test/accuracy": 0.25, "unlearned/forget_quality": 0.5,
        "audit/attacks/relearn/recovery": 0.75, "audit/attacks/relearn/models/gold/accuracy": 0.125,
        "audit/attacks/relearn/models/gold/n_items": 8.0, "calibration/alpha": 0.375,
        "reveal/relevance": 0.25, "reveal/truth/recall": 0.5}
    # one evaluation (``eval --out``) is the model "model"
    assert result_values({"sets": {"forget_test": {"accuracy": {"value": 0.5}}}, "model": {}}) == {
        "model/forget_test/accuracy": 0.5}


def test_eval_with_limit_and_log_with_writes_the_results_to_tensorboard(tiny_world, tmp_path, capsys) -> None:
    pytest.importorskip("tensorboard")
    from test_tracking import _scalars
    data, wm = tiny_world
    jsonl = tmp_path / "world.jsonl"
    from oblivio.data.schema import write_jsonl
    write_jsonl(data.items, str(jsonl))
    out = tmp_path / "e.json"
    code, stdout, err = run_cli(["eval", "--model", str(wm.base_dir), "--data", str(jsonl), "--limit", "2",
                                 "--log-with", "tensorboard", "--quiet", "--out", str(out)], capsys)
    assert code == 0, err
    rep = json.loads(out.read_text())
    assert rep["statistics"]["limit"] == 2
    assert all(1 <= len(set(f)) <= 2 for f in rep["item_facts"].values())
    sc = _scalars(tmp_path / "tracking" / "e")
    acc = rep["sets"]["forget_test"]["accuracy"]["value"]
    assert sc["model/forget_test/accuracy"] == [(0, pytest.approx(acc))]


@pytest.mark.parametrize("argv, expect", [
    (["eval", "--model", "M", "--log-with", "tensorboard"], "give --out FILE"),
    (["eval", "--model", "M", "--log-with", "tensorbored", "--out", "x.json"], "unknown tracker"),
])
def test_log_with_mistakes_fail_before_any_model_loads(argv, expect, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(argv, capsys)
    assert code == 2 and expect in err, err


# -- config.yaml paths ---------------------------------------------------------------------------
def test_a_run_saves_every_path_absolute(tmp_path, monkeypatch) -> None:
    from oblivio.config import load_config
    from oblivio.pipeline.resume import run_config
    monkeypatch.chdir(tmp_path)
    # "tofu" and "world" also name data schemes: as a folder or a map they are paths all the same
    cfg = load_config(overrides={"data": {"neighbour_map": "world", "tofu_dir": "tofu"}})
    saved = run_config(cfg, model="models/base", data="data/my.jsonl", gold="models/gold", evaluate_models=None,
                       method=None, method_args=None, sampler=None)
    assert (saved.model.path, saved.model.gold, saved.data.path, saved.data.neighbour_map, saved.data.tofu_dir) == (
        str(tmp_path / "models/base"), str(tmp_path / "models/gold"), str(tmp_path / "data/my.jsonl"),
        str(tmp_path / "world"), str(tmp_path / "tofu"))
    # a data scheme and a registered model name are names, not paths
    kept = run_config(load_config(), model="smollm2-135m-instruct", data="world:tiny", gold=None,
                      evaluate_models=None, method=None, method_args=None, sampler=None)
    assert (kept.model.path, kept.data.path) == ("smollm2-135m-instruct", "world:tiny")


def test_audit_scores_and_counts_the_limited_items(tiny_world) -> None:
    """An attack's score under --limit: the items of 2 facts, and n_items says so (not the
    forget set's size, which the audit was handed)."""
    import copy

    from oblivio.attacks.audit import score
    from oblivio.config import EvalConfig
    data, wm = tiny_world
    forget = data.forget
    s = score(copy.deepcopy(wm.base), wm.tokenizer, forget, eval_cfg=EvalConfig(limit=2))
    per_fact: dict[str, int] = {}
    for it in forget:
        per_fact[it.fact] = per_fact.get(it.fact, 0) + 1
    assert len(per_fact) > 2
    kept = {it.fact for it in forget if it.id in s["per_item"]}
    assert len(kept) == 2 and s["n_items"] == sum(per_fact[f] for f in kept) < len(forget)
