"""Config is the single source: every CLI flag is a config key, and a run folder's
config.yaml alone reproduces the run, gold model included."""
from __future__ import annotations

import argparse
import json

import pytest

from oblivio.cli import NON_CONFIG_FLAGS, build_parser, cli_overrides
from oblivio.config import load_config, to_dict


def subparsers(ap: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for a in ap._actions:
        if isinstance(a, argparse._SubParsersAction):
            return dict(a.choices)
    return {}


def is_key(key: str) -> bool:
    node: object = to_dict(load_config())
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def every_flag():
    ap = build_parser()
    for cmd, p in [("", ap), *subparsers(ap).items()]:
        for a in p._actions:
            if a.option_strings:
                yield cmd, a


def test_every_flag_is_a_config_key_or_listed_with_a_reason() -> None:
    seen = 0
    for cmd, a in every_flag():
        flag = max(a.option_strings, key=len)
        if flag in NON_CONFIG_FLAGS:
            assert NON_CONFIG_FLAGS[flag].strip(), flag
            continue
        assert is_key(a.dest), f"oblivio {cmd} {flag}: dest {a.dest!r} is not a config key"
        assert a.default is None, f"oblivio {cmd} {flag}: a default here would shadow the config's"
        seen += 1
    assert seen >= 30      # the walk really covered the subcommands


@pytest.mark.parametrize("argv, key, value", [
    (["unlearn", "--gold", "G"], "model.gold", "G"),
    (["unlearn", "--no-eval"], "eval.enabled", False),
    (["unlearn", "--model", "M"], "model.path", "M"),
    (["unlearn", "--data", "D.jsonl"], "data.path", "D.jsonl"),
    (["unlearn", "--neighbour-map", "n.json"], "data.neighbour_map", "n.json"),
    (["unlearn", "--steps", "7"], "unlearn.train.max_steps", 7),
    (["unlearn", "--stop-at-gold"], "control.stop_at_gold", True),
    (["demo", "--stop-utility", "0.8"], "control.stop_utility_tau", 0.8),
    (["demo", "--preset", "tiny"], "world.preset", "tiny"),
    (["eval", "--model", "M", "--extraction"], "eval.extraction", True),
    (["calibrate", "--run", "R", "--tau", "0.7"], "calibrate.tau", 0.7),
    (["calibrate", "--run", "R", "--utility", "forget/accuracy"], "calibrate.metric", "forget/accuracy"),
    (["compare", "--methods", "ga,npo"], "compare.methods", ["ga", "npo"]),
    (["compare", "--samplers", "all"], "compare.samplers", None),
    (["compare", "--calibrate", "0.9"], "compare.calibrate", 0.9),
    (["compare", "--calibrate-metric", "s0_utility"], "calibrate.metric", "s0_utility"),
])
def test_flags_land_in_the_config(argv, key, value) -> None:
    args = build_parser().parse_args(argv)
    cfg = to_dict(load_config(overrides=cli_overrides(args)))
    node = cfg
    for part in key.split("."):
        node = node[part]
    assert node == value


def test_flags_not_given_leave_the_config_alone() -> None:
    assert cli_overrides(build_parser().parse_args(["unlearn"])) == {}


def test_epoch_budget_flag_beats_a_configs_step_count() -> None:
    args = build_parser().parse_args(["compare", "--epochs", "2"])
    cfg = load_config(overrides=cli_overrides(args), base={"unlearn": {"train": {"max_steps": 50}}})
    assert cfg.unlearn.train.epochs == 2.0 and cfg.unlearn.train.max_steps is None


def test_config_yaml_reproduces_the_run_with_its_gold(tiny_world, tiny_cfg, tmp_path, capsys) -> None:
    """`oblivio unlearn --config RUN/config.yaml` with nothing else gives the same forget
    quality: the gold model given as a flag is in the saved config (model.gold), as are the
    model, data, method and step count."""
    import yaml

    from oblivio.cli import main
    from oblivio.data.schema import write_jsonl
    data, wm = tiny_world
    jsonl = tmp_path / "world.jsonl"
    write_jsonl(data.items, str(jsonl))       # not the embedded world: no gold unless one is given
    base_cfg = tmp_path / "tiny.yaml"
    base_cfg.write_text(yaml.safe_dump(to_dict(tiny_cfg)))
    metrics = "eval.metrics=[answer_prob,truth_ratio,forget_quality,model_utility]"

    def run(argv):
        with pytest.raises(SystemExit) as ei:
            main([*argv, "--quiet"])
        assert ei.value.code == 0, capsys.readouterr().err
    run(["unlearn", "--config", str(base_cfg), "--model", str(wm.base_dir), "--data", str(jsonl),
         "--gold", str(wm.gold_dir), "--method", "ga", "--steps", "3", "--set", metrics, "--out", str(tmp_path / "a")])
    run(["unlearn", "--config", str(tmp_path / "a" / "config.yaml"), "--out", str(tmp_path / "b")])
    a, b = (json.loads((tmp_path / r / "results.json").read_text()) for r in ("a", "b"))
    fq = [r["models"]["unlearned"]["model"]["forget_quality"] for r in (a, b)]
    assert fq[0]["value"] is not None and fq[0] == fq[1]
    assert set(b["models"]) == {"base", "gold", "unlearned"}
    assert b["config"] == a["config"] and a["config"]["model"]["gold"] == str(wm.gold_dir.resolve())
    assert b["training"]["steps"] == 3
    for r in ("a", "b"):
        assert (tmp_path / r / "config.yaml").read_text() == (tmp_path / "a" / "config.yaml").read_text()


def test_no_eval_is_saved_and_reproduced(tiny_world, tiny_cfg, tmp_path, capsys) -> None:
    import yaml

    from oblivio.cli import main
    cfg_file = tmp_path / "tiny.yaml"
    cfg_file.write_text(yaml.safe_dump(to_dict(tiny_cfg)))
    for src, out in ((str(cfg_file), "a"), (str(tmp_path / "a" / "config.yaml"), "b")):
        extra = ["--no-eval"] if out == "a" else []
        with pytest.raises(SystemExit) as ei:
            main(["unlearn", "--config", src, "--steps", "2", *extra, "--out", str(tmp_path / out), "--quiet"])
        assert ei.value.code == 0, capsys.readouterr().err
        rec = json.loads((tmp_path / out / "results.json").read_text())
        assert rec["config"]["eval"]["enabled"] is False and rec["models"] == {}
