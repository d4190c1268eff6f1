"""One default recipe (presets.DEFAULT_RECIPE) for `oblivio unlearn`, `compare`, `demo` and the
Python API: the config's own unlearn defaults are it, with the rate and budget left to the
model's scale and the sampler to the data; another method named keeps its own arguments; data
without neighbour rows fall back from MELU to 1:1 random pairing and say so."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from oblivio.cli import _config, build_parser
from oblivio.config import Config, build_method, load_config, to_dict
from oblivio.presets import DEFAULT_RECIPE, DEMO_DEFAULTS

ARGS = {"mix": 0.5, "alpha": 10.0, "tokens": 1.0, "echo": 3.0, "floor": 0.75, "anchor": 1.0, "lens": 0.5,
        "name_hold": 0.0, "name_push": 0.5}
RECIPE = {"method": "npo_swap", "args": ARGS, "sampler": "melu",
          "train": {"lr": 5e-4, "max_steps": 240, "batch_size": 8}}


def test_the_recipe_is_the_one_chosen_on_validation() -> None:
    """bench/results/default_protocol/tuned.json's choice, written out: a change to the recipe
    must change this line and the docs that quote it (docs/results/demo.md)."""
    assert DEFAULT_RECIPE == RECIPE
    tuned = json.loads((Path(__file__).resolve().parents[1] / "bench" / "results" / "default_protocol"
                        / "tuned.json").read_text())
    chosen = next(r for r in tuned["ranked"] if r["label"] == tuned["chosen"])
    assert (chosen["method"], chosen["args"], chosen["lr"], chosen["steps"]) == (
        RECIPE["method"], RECIPE["args"], RECIPE["train"]["lr"], RECIPE["train"]["max_steps"])
    assert tuned["val_worlds"] == [101, 102]
    assert tuned["val_files"] == ["examples/stranger/ferry.jsonl", "examples/stranger2/observatory.jsonl",
                                  "examples/stranger3/seedbank.jsonl", "examples/stranger4/marionettes.jsonl",
                                  "examples/stranger5/cheese.jsonl", "examples/stranger6/bells.jsonl",
                                  "examples/stranger7/paper.jsonl", "examples/stranger8/glassworks.jsonl",
                                  "examples/stranger9/clocks.jsonl", "examples/stranger10/organs.jsonl",
                                  "examples/stranger11/ropes.jsonl"]
    assert tuned["file_retain_val"] is True and tuned["round"] == 18
    # the files' base and gold were learned as the README's own-data path learns them
    assert chosen["learn_size"] == "small"


def _resolved(cfg: Config, model, data) -> dict:
    """The unlearn section as a run resolves it on ``model`` and ``data`` (the three rules)."""
    from oblivio.data.neighbours import choose_sampler
    from oblivio.engine.defaults import with_budget, with_lr
    tc, _ = with_lr(cfg.unlearn.train, model, lora=False)
    tc, _ = with_budget(tc, model)
    return {"method": cfg.unlearn.method, "args": cfg.unlearn.args,
            "sampler": choose_sampler(data, cfg.unlearn.sampler)[0],
            "train": {"lr": tc.lr, "max_steps": tc.max_steps, "batch_size": tc.batch_size}}


def test_the_default_configs_unlearn_section_is_the_recipe(tiny_world) -> None:
    """On the tiny world (a small model, data with neighbour rows) the config's defaults, left to
    their rules, are exactly the recipe; nothing of it is fixed in the config that a real model
    would inherit (rate, budget and sampler are None: the rules')."""
    data, wm = tiny_world
    cfg = load_config()
    u = cfg.unlearn
    assert (u.method, u.args, u.sampler) == ("npo_swap", ARGS, None)
    assert (u.train.lr, u.train.max_steps, u.train.epochs, u.train.batch_size) == (None, None, None, 8)
    assert _resolved(cfg, wm.base, data) == RECIPE
    # the demo adds the world only: the same recipe
    assert DEMO_DEFAULTS == {"world": {"preset": "default"}}
    from oblivio import api
    assert to_dict(api.demo_config("default"))["unlearn"] == to_dict(cfg)["unlearn"]


@pytest.mark.parametrize("cmd", ["unlearn", "demo"])
def test_the_parser_without_method_flags_is_the_recipe(cmd: str) -> None:
    u = _config(build_parser().parse_args([cmd])).unlearn
    assert (u.method, u.args, u.sampler, u.train.lr, u.train.max_steps, u.train.epochs) == (
        "npo_swap", ARGS, None, None, None, None)


@pytest.mark.parametrize("cmd", ["unlearn", "demo"])
def test_another_method_drops_the_recipes_arguments(cmd: str) -> None:
    """`--method graddiff` is GradDiff with its own arguments: npo_me's mix would be refused as
    an unknown argument, and its α would silently replace GradDiff's own."""
    u = _config(build_parser().parse_args([cmd, "--method", "graddiff", "--steps", "7"])).unlearn
    assert (u.method, u.args, u.train.max_steps) == ("graddiff", {}, 7)
    gd = build_method(u.method, u.args)
    assert gd == build_method("graddiff", {})
    # the same method named again keeps the recipe's arguments, and merges a new one
    u = _config(build_parser().parse_args([cmd, "--method", "npo_swap", "--set", "unlearn.args.beta=0.2"])).unlearn
    assert u.args == {**ARGS, "beta": 0.2}
    # npo_me, whose maximum entropy the recipe's stand-in targets replace, is another method:
    # its own arguments
    u = _config(build_parser().parse_args([cmd, "--method", "npo_me"])).unlearn
    assert (u.method, u.args) == ("npo_me", {})


def test_the_api_default_is_the_recipe_and_another_method_its_own() -> None:
    """api.unlearn's method/method_args/sampler, written into the config as a run does."""
    from oblivio.pipeline.run import Run
    cfg = Run.from_args(None, "world:tiny").cfg
    assert (cfg.unlearn.method, cfg.unlearn.args, cfg.unlearn.sampler) == ("npo_swap", ARGS, None)
    cfg = Run.from_args(None, "world:tiny", method="graddiff").cfg
    assert (cfg.unlearn.method, cfg.unlearn.args) == ("graddiff", {})
    cfg = Run.from_args(None, "world:tiny", method="npo", method_args={"beta": 0.3}).cfg
    assert (cfg.unlearn.method, cfg.unlearn.args) == ("npo", {"beta": 0.3})
    # the keyword settings reach the same keys
    from oblivio.config import settings_overrides
    cfg = load_config(overrides=settings_overrides({"method": "graddiff"}))
    assert (cfg.unlearn.method, cfg.unlearn.args) == ("graddiff", {})


def test_compares_default_cells_hold_the_recipe_and_named_methods_their_own() -> None:
    from oblivio.experiments.compare import _plan
    cfg = load_config(overrides={"world": {"preset": "tiny"}})
    assert cfg.compare.methods == ["npo_swap", "graddiff", "npo"]
    p = _plan(None, None, "cyclic", cfg, (None, "model_utility", 0.01), None, None, None, None, None, None, False,
              False)
    assert p.margs == {"npo_swap": ARGS, "graddiff": {}, "npo": {}}
    assert p.budget_info["kind"] == "scale" and (p.train_cfg.max_steps, p.train_cfg.epochs) == (None, None)
    p = _plan(None, "npo,graddiff", "cyclic", cfg, (None, "model_utility", 0.01), None, None, 3, None, None, None,
              False, False)
    assert p.margs == {"npo": {}, "graddiff": {}} and p.budget_info == {"kind": "steps", "steps": 3}
    # a budget in the config is its kind: steps beat epochs, as in a run
    for train, kind in (({"max_steps": 9}, "steps"), ({"epochs": 2.0}, "epochs"),
                        ({"max_steps": 9, "epochs": 2.0}, "steps")):
        c = load_config(overrides={"world": {"preset": "tiny"}, "unlearn": {"train": train}})
        p = _plan(None, "npo", "cyclic", c, (None, "model_utility", 0.01), None, None, None, None, None, None,
                  False, False)
        assert p.budget_info["kind"] == kind, train


# --- the sampler left to the data ------------------------------------------------------------

def _rows(neighbours: bool) -> list[dict]:
    rows = []
    for who, role in (("Ana", "forget"), ("Ben", "direct" if neighbours else "retain"), ("Cara", "retain"),
                      ("Dov", "retain"), ("Eli", "retain_test")):
        for k in range(2):
            rows.append({"question": f"What is fact {k} of {who}?", "answer": f"{who} fact {k}.",
                         "set": role, "entity": who, **({"targets": ["Ana"]} if role == "direct" else {})})
    return rows


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_the_sampler_left_to_the_data(tmp_path) -> None:
    from oblivio import api
    from oblivio.data.neighbours import check_sampler, choose_sampler
    from oblivio.errors import InputError
    plain = api.load_data(str(_write(tmp_path / "plain.jsonl", _rows(False))))
    name, rule = choose_sampler(plain, None)
    assert name == "one_to_one_random" and "no direct/indirect neighbour rows" in rule and "--neighbour-map" in rule
    check_sampler(plain, name)
    with pytest.raises(InputError):                  # MELU itself cannot pair these rows
        check_sampler(plain, "melu")
    assert choose_sampler(plain, "melu") == ("melu", "given")      # a named sampler is never replaced
    labelled = api.load_data(str(_write(tmp_path / "labelled.jsonl", _rows(True))))
    assert choose_sampler(labelled, None)[0] == "melu"
    # only the rows unlearning sees count: a neighbour row held out for testing pairs nothing
    test_only = [dict(r, set="direct_test") if r["entity"] == "Ben" else r for r in _rows(True)]
    assert choose_sampler(api.load_data(str(_write(tmp_path / "t.jsonl", test_only))), None)[0] == \
        "one_to_one_random"


def test_unlearn_without_a_neighbour_map_falls_back_and_says_so(tiny_world, tmp_path, capsys) -> None:
    """`oblivio unlearn --data plain.jsonl` with no sampler flag: no crash, MELU's fallback said
    on stderr and recorded in results.json; the same command with `--sampler melu` still stops."""
    from oblivio.cli import main
    _, wm = tiny_world
    f = _write(tmp_path / "plain.jsonl", _rows(False))
    common = ["unlearn", "--model", str(wm.base_dir), "--data", str(f), "--method", "graddiff", "--steps", "2",
              "--no-eval"]
    with pytest.raises(SystemExit) as e:
        main([*common, "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert e.value.code == 0, err
    assert "sampler: one_to_one_random (the data have no direct/indirect neighbour rows" in err
    assert "unlearned with graddiff (one_to_one_random): 2 steps" in err
    rec = json.loads((tmp_path / "run" / "results.json").read_text())
    assert rec["training"]["sampler"] == "one_to_one_random" and "no direct/indirect" in rec["training"]["sampler_rule"]
    assert rec["config"]["unlearn"]["sampler"] is None             # config.yaml reruns it by the same rule
    with pytest.raises(SystemExit) as e:
        main([*common, "--sampler", "melu", "--out", str(tmp_path / "run2")])
    assert e.value.code == 2 and "--neighbour-map" in capsys.readouterr().err


def test_the_configuration_reference_quotes_the_recipes_arguments() -> None:
    """docs/reference/configuration.md states the unlearn defaults; a recipe change that leaves
    them behind fails here."""
    doc = (Path(__file__).resolve().parents[1] / "docs" / "reference" / "configuration.md").read_text()
    args = ", ".join(f"{k}: {v}" for k, v in DEFAULT_RECIPE["args"].items())
    assert f"`method: {DEFAULT_RECIPE['method']}`, `args: {{{args}}}`" in " ".join(doc.split())
