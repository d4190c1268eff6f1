"""Config as data: the constraints and flags declared on the config's fields are what
validation checks and what the command line offers, one declaration per key."""
from __future__ import annotations

import argparse
import ast
import dataclasses
import math
from pathlib import Path
from typing import Any

import pytest

from oblivio.cli_args import CONFIG_DESTS, build_parser, cli_overrides
from oblivio.config import Config, config_flags, from_dict, load_config, merge, to_dict, validate
from oblivio.config_checks import OneOf, Range, declared_fields
from oblivio.errors import InputError

SRC = Path(__file__).resolve().parents[1] / "src" / "oblivio"


def declared(marker: type) -> list[tuple[str, Any, Any]]:
    """(dotted key, marker, field type) for every field of Config carrying a ``marker``."""
    out: list[tuple[str, Any, Any]] = []

    def walk(cls: type, prefix: str) -> None:
        for name, tp, markers in declared_fields(cls):
            key = f"{prefix}.{name}" if prefix else name
            out.extend((key, m, tp) for m in markers if isinstance(m, marker))
            if isinstance(tp, type) and dataclasses.is_dataclass(tp):
                walk(tp, key)
    walk(Config, "")
    return out


def nested(key: str, value: Any) -> dict[str, Any]:
    node: dict[str, Any] = {}
    cur = node
    *parents, leaf = key.split(".")
    for part in parents:
        cur = cur.setdefault(part, {})
    cur[leaf] = value
    return node


def at(d: Any, key: str) -> Any:
    for part in key.split("."):
        d = d[part]
    return d


def is_int_field(tp: Any) -> bool:
    return "int" in str(tp) and "float" not in str(tp)


def outside(rng: Range, integer: bool) -> list[Any]:
    """Values just outside each declared bound."""
    step = 1 if integer else 0.5
    bad = []
    if rng.gt is not None:
        bad.append(rng.gt)
    if rng.ge is not None:
        bad.append(rng.ge - step)
    if rng.lt is not None:
        bad.append(rng.lt)
    if rng.le is not None:
        bad.append(rng.le + step)
    return bad


RANGES = declared(Range)


def test_the_ranges_cover_both_training_configs_and_nested_ones() -> None:
    keys = {k for k, _, _ in RANGES}
    assert {"learn.lr", "unlearn.train.lr", "unlearn.teacher.timeout", "eval.judge.retries", "compare.seeds",
            "calibrate.tau", "seed"} <= keys
    assert len(keys) >= 45


@pytest.mark.parametrize("key, rng, tp", RANGES, ids=[k for k, _, _ in RANGES])
def test_every_declared_range_is_enforced_with_the_dotted_key(key, rng, tp) -> None:
    integer = is_int_field(tp)
    as_list = "list" in str(tp)
    for value in outside(rng, integer):
        with pytest.raises(InputError) as ei:
            load_config(overrides=nested(key, [value] if as_list else value))
        assert ei.value.field == key, (key, value, str(ei.value))
        assert "must be" in ei.value.message and str(value) in ei.value.message
    if not integer:
        with pytest.raises(InputError) as ei:
            load_config(overrides=nested(key, [math.nan] if as_list else math.nan))
        assert ei.value.field == key and "finite" in ei.value.message
    # each bound itself, where it is inclusive, is a valid value
    for bound in (rng.ge, rng.le):
        if bound is not None:
            load_config(overrides=nested(key, [bound] if as_list else bound))


@pytest.mark.parametrize("key, one_of, tp", declared(OneOf), ids=[k for k, _, _ in declared(OneOf)])
def test_every_declared_choice_is_enforced(key, one_of, tp) -> None:
    with pytest.raises(InputError) as ei:
        load_config(overrides=nested(key, "no-such-choice"))
    assert ei.value.field == key
    assert f"unknown {one_of.what} 'no-such-choice'" in ei.value.message
    assert ", ".join(one_of.choices) in ei.value.message
    for choice in one_of.choices:
        load_config(overrides=nested(key, choice))


def test_a_config_changed_after_construction_is_checked_on_its_nested_fields() -> None:
    cfg = Config()
    cfg.unlearn.train.batch_size = 0
    with pytest.raises(InputError) as ei:
        validate(cfg)
    assert ei.value.field == "unlearn.train.batch_size" and "≥ 1" in ei.value.message
    cfg = Config()
    cfg.eval.judge.timeout = math.inf
    with pytest.raises(InputError) as ei:
        validate(cfg)
    assert ei.value.field == "eval.judge.timeout" and "finite" in ei.value.message
    cfg = Config()
    cfg.reveal.nu = math.nan        # a float without a declared range is still finite
    with pytest.raises(InputError) as ei:
        validate(cfg)
    assert ei.value.field == "reveal.nu"


def test_a_file_error_names_the_file_and_the_key(tmp_path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("control:\n  stop_utility_tau: 1.5\n")
    with pytest.raises(InputError) as ei:
        load_config(f)
    assert ei.value.file == str(f) and ei.value.field == "control.stop_utility_tau"
    assert "(0, 1]" in ei.value.message


# -- the flags made from the declarations --------------------------------------------------------
def subparsers() -> dict[str, argparse.ArgumentParser]:
    ap = build_parser()
    for a in ap._actions:
        if isinstance(a, argparse._SubParsersAction):
            return dict(a.choices)
    raise AssertionError("no subcommands")


#: what each subcommand needs to parse at all
BASE_ARGV = {"eval": ["--model", "M"], "calibrate": ["--run", "R"], "audit": ["--run", "R"], "world": ["--out", "O"],
             "reveal": ["--out", "O"], "leaderboard": ["R"], "judge": ["--question", "Q", "--answer", "A"]}


def sample(action: argparse.Action) -> tuple[list[str], Any]:
    """A valid text for the flag and the value it must give the config key."""
    if action.nargs == 0:
        return [], action.const
    if action.choices:
        return [str(list(action.choices)[-1])], list(action.choices)[-1]
    spec = config_flags()[action.dest]
    text = {"compare.seeds": "3,5", "compare.world_seeds": "3,5", "compare.samplers": "melu, balanced"}.get(action.dest)
    if text is not None:
        return [text], [3, 5] if action.dest.endswith("seeds") else ["melu", "balanced"]
    if "list" in str(spec.type):
        return ["a, b"], ["a", "b"]
    if is_int_field(spec.type):
        return ["3"], 3
    if "float" in str(spec.type):
        return ["0.25"], 0.25
    return ["some-text"], "some-text"


def config_actions():
    for cmd, p in subparsers().items():
        for a in p._actions:
            if a.dest in CONFIG_DESTS:
                for option in a.option_strings:
                    yield cmd, option, a


@pytest.mark.parametrize("cmd, option, action", list(config_actions()),
                         ids=[f"{c} {o}" for c, o, _ in config_actions()])
def test_every_generated_flag_writes_its_config_key(cmd, option, action) -> None:
    text, value = sample(action)
    base = [] if (cmd, option) in (("eval", "--model"),) else BASE_ARGV.get(cmd, [])
    args = subparsers()[cmd].parse_args([*base, option, *text])
    over = cli_overrides(args)
    assert at(over, action.dest) == value
    # the key is the config's own, and the value has its type
    built = to_dict(from_dict(Config, merge(to_dict(Config()), over)))
    assert at(built, action.dest) == value


def test_a_flag_not_given_sets_nothing() -> None:
    for cmd, p in subparsers().items():
        if cmd in ("report", "ls"):
            continue
        assert cli_overrides(p.parse_args(BASE_ARGV.get(cmd, []))) == (
            {"model": {"path": "M"}} if cmd == "eval" else {}), cmd


def shown(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(map(str, value)) or "none"
    return f"{value:g}" if isinstance(value, float) else str(value)


def test_the_default_in_help_is_the_configs() -> None:
    defaults = to_dict(Config())
    checked = 0
    for cmd, option, a in config_actions():
        if cmd in ("demo", "calibrate", "audit") or a.nargs == 0 or a.help == argparse.SUPPRESS:
            continue     # a hidden alias (an older spelling) has no help of its own
        value = at(defaults, a.dest)
        help_text = a.help.replace("%%", "%")
        if value is None:
            assert f"default: {config_flags()[a.dest].flag.none}" in help_text or "default:" not in help_text
        else:
            assert f"default: {shown(value)}]" in help_text, (cmd, option, help_text)
        assert a.dest in help_text        # the help names the key the flag sets
        checked += 1
    assert checked > 60


def test_help_shows_the_default_recipe_and_the_runs_config() -> None:
    """demo and unlearn show one default recipe: its method, and the rules that give a tiny model
    its rate and steps and the data its sampler."""
    subs = subparsers()
    helps = {cmd: {o: a.help for a in p._actions for o in a.option_strings} for cmd, p in subs.items()}
    for cmd in ("demo", "unlearn"):
        assert "default: npo_swap]" in helps[cmd]["--method"]
        assert "default: by the model's scale: 0.0005 under 10 M parameters, 1e-05 pretrained" in helps[cmd]["--lr"]
        assert "240 steps under 10 M parameters, 5 epochs pretrained" in helps[cmd]["--steps"]
        assert "default: melu where the data have direct/indirect neighbour rows" in helps[cmd]["--sampler"]
    assert "default: npo_swap,graddiff,npo]" in helps["compare"]["--method"]
    assert "default: the run's]" in helps["calibrate"]["--tau"]
    assert "calibrate.tau in (0, 1]" in helps["calibrate"]["--tau"]


def test_every_flag_has_help_and_one_meaning() -> None:
    """A flag sets one key everywhere, except a ``shared`` one: the same concept at another place
    (compare's ``--method`` is its list of methods), whose name one key owns and the others borrow."""
    dests_of: dict[str, set[str]] = {}
    for cmd, p in subparsers().items():
        for a in p._actions:
            assert a.help and a.help.strip(), (cmd, a.option_strings)
            for option in a.option_strings:
                dests_of.setdefault(option, set()).add(a.dest)
    specs = config_flags()
    for option, dests in dests_of.items():
        borrowers = {d for d in dests if d in specs and specs[d].flag.shared and specs[d].flag.name == option}
        assert len(dests - borrowers) == 1, (option, dests)
    assert dests_of["--method"] == {"unlearn.method", "compare.methods"}
    # the old names of the flags that had two keep working
    for cmd, argv, key in (("reveal", ["--target", "X"], "data.targets"),
                           ("unlearn", ["--target", "X"], "data.targets"),
                           ("compare", ["--calibrate-metric", "m"], "calibrate.metric"),
                           ("calibrate", ["--utility", "m"], "calibrate.metric")):
        over = cli_overrides(subparsers()[cmd].parse_args([*BASE_ARGV.get(cmd, []), *argv]))
        assert at(over, key) in (["X"], "m")


def test_one_declaration_per_flag() -> None:
    """Each config key's flag is declared once, on its field, and each other flag once in cli_args."""
    assert set(config_flags()) == {a.dest for _, _, a in config_actions()}
    tree = ast.parse((SRC / "cli_args.py").read_text(encoding="utf-8"))
    names = [c.args[0].value for c in ast.walk(tree) if isinstance(c, ast.Call)
             and getattr(c.func, "attr", "") == "add_argument" and c.args and isinstance(c.args[0], ast.Constant)]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    # and none of them is a config key's flag
    assert not set(names) & {o for s in config_flags().values() for o in (s.flag.name, *s.flag.aliases)}


def test_a_flag_declared_twice_or_on_a_missing_field_is_an_error() -> None:
    from oblivio.config import Flag, Flags, _collect_nested
    with pytest.raises(TypeError, match="no field 'lrr'"):
        _collect_nested(Flags(lrr=Flag("--x", "x")), "unlearn.train", type(Config().learn), {}, {})


# -- retired keys and the module layering ----------------------------------------------------------
def test_an_old_config_with_run_dir_still_loads(tmp_path, capsys) -> None:
    assert not hasattr(Config(), "run_dir")
    f = tmp_path / "config.yaml"
    f.write_text("seed: 3\nrun_dir: null\n")       # what every earlier config.yaml holds
    assert load_config(f).seed == 3 and capsys.readouterr().err == ""
    f.write_text("seed: 3\nrun_dir: runs/x\n")
    assert load_config(f).seed == 3
    assert "run_dir" in capsys.readouterr().err
    f.write_text("seed: 3\nrun_dirr: runs/x\n")    # any other unknown key stays an error
    with pytest.raises(InputError, match="unknown key"):
        load_config(f)


def test_config_checks_knows_no_config_class() -> None:
    text = (SRC / "config_checks.py").read_text(encoding="utf-8")
    assert "oblivio.config " not in text and "from oblivio.config import" not in text


@pytest.mark.parametrize("name", ["config.py", "config_checks.py", "cli_args.py"])
def test_no_function_over_80_lines(name) -> None:
    tree = ast.parse((SRC / name).read_text(encoding="utf-8"))
    long = [(n.name, n.end_lineno - n.lineno + 1) for n in ast.walk(tree)
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.end_lineno - n.lineno + 1 > 80]
    assert not long


def test_reveal_release_searches_with_the_reveal_steps_defaults() -> None:
    """One source: reveal_release's search arguments default to config.reveal's (a second copy
    of the defaults drifted once: a budget of 10 against 12)."""
    import dataclasses

    from oblivio.config import RevealConfig, build_method
    method = build_method("reveal_release", {})
    shared = {f.name for f in dataclasses.fields(RevealConfig)} & {f.name for f in dataclasses.fields(method)}
    assert shared >= {"task", "relation", "keywords", "strategy", "budget", "top_k", "samples", "threshold", "nu"}
    cfg = RevealConfig()
    for name in shared - {"scorer"}:       # scorer: None in the config, "" (the task's) as a method argument
        assert getattr(method, name) == getattr(cfg, name), name


def test_a_layer_naming_another_method_drops_the_earlier_methods_arguments(tmp_path) -> None:
    """The default recipe carries npo_swap's ``mix``; a file or flag that names another method
    must not inherit it (it is not that method's argument), while arguments given for the
    same method still merge."""
    from oblivio.config import load_config
    from oblivio.presets import DEFAULT_RECIPE
    f = tmp_path / "c.yaml"
    f.write_text("unlearn:\n  method: npo\n  args:\n    beta: 0.2\n")
    cfg = load_config(f)
    assert (cfg.unlearn.method, cfg.unlearn.args) == ("npo", {"beta": 0.2})
    same = load_config(overrides={"unlearn": {"method": DEFAULT_RECIPE["method"], "args": {"alpha": 2.0}}})
    assert same.unlearn.args == {**DEFAULT_RECIPE["args"], "alpha": 2.0}
