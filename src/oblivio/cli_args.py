"""The ``oblivio`` command line's flags. A flag that sets a config key is declared once, on
that key's field (``config.Flag``: name, help, metavar); this module makes it from the
declaration (type, choices, the key and its default in the help, ``dest`` = the dotted key)
and maps parsed values back to config overrides generically (:func:`cli_overrides`), so the
config is the single source and a saved config.yaml reproduces a run (tests/test_config_flags.py).
What is left here is the command line's own shape: which keys each subcommand takes, in which
groups, and the few flags that are not config keys (NON_CONFIG_FLAGS), each declared once.
"""
from __future__ import annotations

import argparse
import types
import typing
from dataclasses import dataclass
from typing import Any, Callable, Union

from oblivio.cli_examples import epilog
from oblivio.config import Config, FlagSpec, config_flags, merge, to_dict
from oblivio.config_checks import OneOf, Range

#: flags that are not config keys, and why (tests/test_config_flags.py checks every other flag
#: of every subcommand maps to a config key through its ``dest``)
NON_CONFIG_FLAGS: dict[str, str] = {
    "--help": "argparse's help",
    "--version": "prints the version; runs nothing",
    "--config": "the config file itself",
    "--set": "overrides config keys by name (KEY=VALUE)",
    "--quiet": "display only (progress lines and bars on stderr); never changes a result",
    "--debug": "display only (a traceback on an unexpected error); never changes a result",
    "--out": "where to write, not what to compute: a rerun from a saved config must not target the same folder",
    "--overwrite": "permission to replace an output folder; a saved config must never carry it",
    "--run": "calibrate, audit: the run folder whose config.yaml is the config (a positional RUN, as report's; "
             "--run RUN is its older spelling, hidden)",
    "--title": "report: the title of an HTML page about finished runs; computes nothing",
    "--resume": "unlearn: continue a run folder from its checkpoint; the run's own config.yaml is the config",
    "--format": "leaderboard: the table's file format; computes nothing",
    "--sort": "leaderboard: the order of the rows of a table about finished runs; computes nothing",
    "--question": "judge: the question of the one answer it scores (input, not a setting)",
    "--answer": "judge: the answer it scores (input, not a setting)",
    "--truth": "judge: the true answer of that question, the fact to forget (input, not a setting)",
    "--subject": "judge: who or what that question is about (input, not a setting)",
    "--kind": "judge: which of UQ (forget) and RQ (retain) to print; computes nothing else",
}

#: the ``dest`` of every flag made from a config declaration: each one a dotted config key
CONFIG_DESTS: set[str] = set()


@dataclass(frozen=True)
class _Group:
    """Config keys shown together under ``title`` in --help, or (``exclusive``) of which a
    command line gives at most one."""
    title: str | None
    keys: tuple[str, ...]
    exclusive: bool = False


_Item = str | _Group

# -- which keys each subcommand takes (a "--name" item is a flag that is not a config key) ----
_COMMON: tuple[_Item, ...] = ("--config", "--set", "seed", "world.seed", "--quiet", "--debug", "allow_plugins")
#: calibrate and audit: the config is the run's config.yaml (RUN); --set changes a key of it
_OF_A_RUN: tuple[_Item, ...] = ("--set", "--quiet", "--debug", "allow_plugins")
#: every command that loads a model: its format, and the permissions a config file never gives
_MODEL: tuple[_Item, ...] = ("model.prompt", "model.system_prompt", "model.dtype", "model.trust_remote_code",
                             "model.allow_pickle", "allow_remote_endpoints", "unlearn.teacher.api_key_env",
                             "eval.judge.api_key_env")
_JUDGE = _Group("the UQ/RQ judge (more: --set eval.judge.KEY=...)", ("eval.judge.kind", "eval.judge.model",
                                                                      "eval.judge.url"))
_UNLEARNING: tuple[_Item, ...] = (
    "unlearn.method", "unlearn.sampler", "unlearn.train.max_steps", "unlearn.train.lr", "model.lora_r",
    "unlearn.train.log_with", "eval.limit", "--out", "--overwrite", *_MODEL, "eval.extraction",
    _Group("controlling unlearning (capping: --set unlearn.args.cap_delta=2)",
           ("control.eval_every", "control.eval_items", "control.stop_utility_tau", "control.stop_at_gold")),
    _Group("TRU's teacher (--method tru; more: --set unlearn.teacher.KEY=...)",
           ("unlearn.teacher.kind", "unlearn.teacher.model", "unlearn.teacher.url")),
    _JUDGE)
#: where TOFU comes from, and its CPU-sized subset (data/tofu_source.py, data/tofu.py)
_TOFU = _Group("TOFU (--data tofu:...; docs/how-to/use-tofu.md)", ("data.tofu_retain_authors", "data.tofu_dir",
                                                                   "data.tofu_allow_download"))
_REVEAL = ("reveal.task", "reveal.relation", "reveal.keywords", "reveal.scorer", "reveal.strategy", "reveal.budget",
           "reveal.top_k", "reveal.samples", "reveal.threshold")

#: subcommand → its --help line and its flags, in --help order
_COMMANDS: dict[str, tuple[str, tuple[_Item, ...]]] = {
    "demo": ("the whole offline pipeline on the embedded fictional world (or a real model)",
             ("world.preset", *_COMMON, "eval.show_ci", "eval.margin", *_UNLEARNING)),
    "world": ("build the fictional world and write its items as JSONL",
              ("world.preset", "--out", "--overwrite", *_COMMON)),
    "learn": ("train (or reuse cached) tiny base and gold models of the world or of --data; with --model, fine-tune "
              "that pretrained model instead (TOFU's recipe)",
              ("world.preset", "data.path", "data.neighbour_map", "data.targets", "model.path",
               "data.tofu_gold_split", "model.lora_r", "learn.epochs", _TOFU, "--out",
               "--overwrite", "model.prompt", "model.system_prompt", "model.dtype", "model.trust_remote_code",
               "model.allow_pickle", *_COMMON)),
    "unlearn": ("unlearn the forget set of --data from --model",
                ("model.path", "data.path", "model.gold", "data.neighbour_map", "data.targets", "eval.enabled",
                 "--resume", "audit.enabled", "audit.attacks", *_COMMON, "eval.show_ci", "eval.margin",
                 *_UNLEARNING, _TOFU)),
    "reveal": ("the self-generated forget set of a target (Reveal and Release): a run folder with revealed.jsonl",
               ("model.path", "data.path", "world.preset", "data.neighbour_map", "data.targets", *_REVEAL,
                "unlearn.train.log_with", "--out", "--overwrite", *_MODEL, *_COMMON)),
    "eval": ("evaluate a model on every set of --data",
             ("model.path", "data.path", "model.gold", "data.neighbour_map", "data.targets", "eval.limit",
              "unlearn.train.log_with", "--out", "--overwrite", "eval.extraction", _JUDGE, *_MODEL, *_COMMON,
              "eval.show_ci", "eval.margin", _TOFU)),
    "calibrate": ("mix an unlearned run's model with its base until utility ≥ τ × original",
                  ("run", "calibrate.tau", "calibrate.tol", "calibrate.metric", "eval.extraction",
                   "unlearn.train.log_with", "--out", "--overwrite", *_MODEL, *_OF_A_RUN)),
    "compare": ("methods × retain samplers, same seed and budget: table and plot",
                ("compare.methods", "compare.samplers", "data.path", "world.preset", "model.path", "model.gold",
                 "data.neighbour_map", "data.targets",
                 _Group(None, ("unlearn.train.epochs", "unlearn.train.max_steps"), exclusive=True),
                 "unlearn.train.lr", "model.lora_r", "compare.calibrate", "calibrate.metric", "compare.seeds",
                 "compare.world_seeds",
                 "audit.enabled", "audit.attacks", "eval.limit", "unlearn.train.log_with", "--out", "--overwrite",
                 *_MODEL, *_COMMON, "eval.show_ci",
                 "eval.margin", _TOFU)),
    "report": ("one self-contained HTML page for one or several run (or compare) folders",
               ("runs", "--out", "--title", "--overwrite", "--debug")),
    "leaderboard": ("one table of many run (or compare) folders: settings, verdict and key metrics per run",
                    ("runs", "--format", "--sort", "--out", "--overwrite", "--debug")),
    "audit": ("robustness audit of a finished run: attacks on base, gold and unlearned",
              ("run", "audit.attacks", "model.gold", "eval.limit", "unlearn.train.log_with", *_OF_A_RUN,
               *_MODEL)),
    "judge": ("TRU's UQ and RQ of one answer, by the UQ/RQ judge (the offline rule judge by default)",
              ("--question", "--answer", "--truth", "--subject", "--kind", _JUDGE, "eval.judge.api_key_env",
               "allow_remote_endpoints", "--config", "--set", "--quiet", "--debug", "allow_plugins")),
    "ls": ("list methods, samplers, metrics and attacks", ()),
}
#: (subcommand, key) pairs whose flag must be given
_REQUIRED = {("eval", "model.path")}

# -- the flags that are not config keys: each declared once, its text by subcommand ---------------
_RUN_FOLDER = "run folder (default runs/<command>-<time>)"
_OUT_HELP = {
    "demo": _RUN_FOLDER, "unlearn": _RUN_FOLDER,
    "world": "output JSONL file",
    "reveal": "run folder (default runs/reveal-<time>) with revealed.jsonl, results.json and config.yaml; a path "
              "ending in .jsonl gets the rows as JSONL (as before) and the run folder beside it, named by its stem",
    "learn": "also copy the base/ and gold/ model folders into this new folder (an oblivio output folder: never "
             "one you made)",
    "eval": "write the evaluation JSON here (its folder must exist)",
    "calibrate": "output folder (default RUN/calibrated-<tau>)",
    "compare": "output folder (default runs/compare-<time>)",
    "report": "HTML file (default RUN/report.html for one run, ./report.html for several)",
    "leaderboard": "write the table to this file (its folder must exist) instead of stdout",
}
_OUT_REQUIRED = {"world"}
_REPLACE_RUN = "replace an existing run folder (only one that oblivio marked as its run)"
_OVERWRITE_HELP = {
    "demo": _REPLACE_RUN, "unlearn": _REPLACE_RUN,
    "world": "replace an existing output file",
    "reveal": "replace an existing run folder (only one that oblivio marked) and .jsonl file",
    "learn": "replace an existing --out folder (only one that oblivio made)", "eval": "replace an existing --out file",
    "calibrate": "replace an existing output folder", "compare": "replace an existing output folder",
    "report": "replace an existing file that oblivio did not write",
    "leaderboard": "replace an existing --out file",
}


def _non_config(p: Any, cmd: str, name: str) -> None:
    """Add the flag ``name`` that is not a config key (NON_CONFIG_FLAGS says why) to ``p``."""
    of_run = cmd in ("calibrate", "audit")
    if name == "--out":
        p.add_argument("--out", required=cmd in _OUT_REQUIRED, help=_OUT_HELP[cmd])
    elif name == "--overwrite":
        p.add_argument("--overwrite", action="store_true", help=_OVERWRITE_HELP[cmd])
    elif name == "--config":
        p.add_argument("--config", help="YAML config file (docs/reference/configuration.md)")
    elif name == "--set":
        p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                       help="override a key of the run's config, e.g. --set eval.batch_size=32" if of_run else
                       "override a config key, e.g. --set unlearn.train.lr=1e-4 (repeatable)")
    elif name == "--quiet":
        p.add_argument("--quiet", action="store_true",
                       help="no progress lines or bars on stderr (results still go to stdout; warnings stay)")
    elif name == "--debug":
        p.add_argument("--debug", action="store_true",
                       help="show the Python traceback of an unexpected error (also: OBLIVIO_DEBUG=1)")
    elif name == "run":
        # positional like report's and leaderboard's run folders; SUPPRESS: an absent positional
        # must not overwrite the value of the hidden --run (the spelling before). None when neither
        # is given: set first, as set_defaults would also replace the actions' own defaults
        p.set_defaults(run=None)
        p.add_argument("run", nargs="?", default=argparse.SUPPRESS, metavar="RUN",
                       help="a finished `oblivio unlearn` run folder")
        p.add_argument("--run", dest="run", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    elif name == "--resume":
        p.add_argument("--resume", metavar="RUN",
                       help="continue an interrupted run (its .partial/.failed folder or its name) from its last "
                            "checkpoint, with its saved config.yaml")
    elif name == "--title":
        p.add_argument("--title", help="page title")
    elif name == "runs":
        p.add_argument("runs", nargs="+", help="run folders (results.json) or compare folders (compare.json)"
                       + (": a compare folder stands for its cells' run folders (runs/*)" if cmd == "leaderboard"
                          else ""))
    elif name in ("--format", "--sort"):
        _table_flag(p, name)
    elif name in _JUDGE_INPUT:
        _JUDGE_INPUT[name](p)
    else:
        raise KeyError(name)


#: ``oblivio judge``'s inputs: one question, one answer, the fact it is judged against
_JUDGE_INPUT: dict[str, Callable[[Any], Any]] = {
    "--question": lambda p: p.add_argument("--question", required=True, metavar="Q", help="the question"),
    "--answer": lambda p: p.add_argument("--answer", required=True, metavar="A",
                                         help="the answer to judge (a model's response to Q)"),
    "--truth": lambda p: p.add_argument(
        "--truth", metavar="T", help="the fact Q asks for: for UQ the fact to forget (a leak of it scores "
        "rejection 0), for RQ the correct answer (specificity); without it nothing can leak or be specific"),
    "--subject": lambda p: p.add_argument(
        "--subject", metavar="NAME", help="who or what Q is about (relevance); default: the longest run of "
        "capitalised words after Q's first word"),
    "--kind": lambda p: p.add_argument("--kind", choices=("forget", "retain"),
                                       help="print only UQ (Q as a forget prompt) or only RQ (a retain prompt); "
                                            "default both"),
}


def _table_flag(p: Any, name: str) -> None:
    """``oblivio leaderboard``'s --format and --sort (their names: report/leaderboard.py)."""
    from oblivio.report.leaderboard import COLUMNS, DEFAULT_SORT, FORMATS
    if name == "--format":
        p.add_argument("--format", choices=FORMATS,
                       help="md (Markdown), csv or html (one self-contained page, sortable); default: the --out "
                            "file's extension when it is one of these, else md")
    else:
        p.add_argument("--sort", metavar="KEY[:desc]",
                       help=f"the column to sort by, ascending (KEY:desc: descending; missing values last); "
                            f"default {DEFAULT_SORT}; keys: {', '.join(COLUMNS)}")


# -- flags made from the config's declarations ---------------------------------------------------
def _names(s: str) -> list[str]:
    """``a, b`` → ["a", "b"]."""
    return [x.strip() for x in s.split(",") if x.strip()]


def _csv(s: str) -> list[str] | None:
    """``a,b`` → ["a", "b"]; ``all`` → None (every registered name)."""
    names = _names(s)
    return None if names == ["all"] else names


def _seed_list(text: str) -> list[int]:
    from oblivio.experiments.seeds import parse_seeds
    seeds = parse_seeds(text)
    return list(seeds or [])


#: ``Flag.parse`` names → the function that reads the flag's text
_PARSERS: dict[str, Callable[[str], Any]] = {"names": _names, "all_or_names": _csv, "seeds": _seed_list}


def _value_type(tp: Any) -> Any:
    """``int | None`` → int: the type a flag's value has (a flag never gives None)."""
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    return args[0] if typing.get_origin(tp) in (Union, types.UnionType) and len(args) == 1 else tp


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value) or "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _flag_help(spec: FlagSpec, default: Any) -> str:
    """The --help text of a declared flag: its help, then the key it sets with the key's range,
    and the default (``default``: the config's value, or what the declaration says None means)."""
    if _value_type(spec.type) is bool:
        tail = f"{spec.key}: {'false' if spec.flag.name.startswith('--no-') else 'true'}"
    else:
        rng = next((f" {m.describe()}" for m in spec.markers if isinstance(m, Range)), "")
        shown = spec.flag.none if default is None else _shown(default)
        tail = spec.key + rng + (f"; default: {shown}" if shown is not None else "")
    return f"{spec.flag.help} [{tail}]".replace("%", "%%")      # argparse formats help with %


def _add_config_flag(p: Any, key: str, *, default: Any, required: bool = False) -> argparse.Action:
    """Add the flag declared on config key ``key`` to parser (or group) ``p``. Its argparse
    default stays None (not given: the config's value stands); ``default`` is shown in its help."""
    spec = config_flags()[key]
    kw: dict[str, Any] = {"dest": key, "default": None, "help": _flag_help(spec, default)}
    tp = _value_type(spec.type)
    if tp is bool:
        kw["action"] = "store_false" if spec.flag.name.startswith("--no-") else "store_true"
    else:
        kw["type"] = (_PARSERS[spec.flag.parse] if spec.flag.parse else
                      _names if typing.get_origin(tp) is list else tp)
        choices = next((m.choices for m in spec.markers if isinstance(m, OneOf)), None)
        if choices is not None:
            kw["choices"] = choices
        else:
            kw["metavar"] = spec.flag.metavar or key.rpartition(".")[2].upper()
        kw["required"] = required
    CONFIG_DESTS.add(key)
    action = p.add_argument(spec.flag.name, **kw)
    for alias in spec.flag.aliases:     # an older spelling: it works, --help shows only the one name
        p.add_argument(alias, **{**kw, "help": argparse.SUPPRESS, **({"required": False} if "required" in kw else {})})
    return action


def _help_defaults(cmd: str) -> dict[str, Any] | None:
    """The config a subcommand starts from, whose values --help shows: the config's defaults
    (the default recipe, presets.DEFAULT_RECIPE) with, for ``demo``, its world
    (presets.DEMO_DEFAULTS); None for calibrate and audit, whose config is the run's config.yaml."""
    if cmd in ("calibrate", "audit"):
        return None
    d = to_dict(Config())
    if cmd == "demo":
        from oblivio.presets import DEMO_DEFAULTS
        d = merge(d, DEMO_DEFAULTS)
    return d


def _at(d: dict[str, Any], dotted: str) -> Any:
    node: Any = d
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _add(p: Any, cmd: str, item: _Item, defaults: dict[str, Any] | None) -> None:
    if isinstance(item, _Group):
        g = p.add_mutually_exclusive_group() if item.exclusive else p.add_argument_group(item.title)
        for key in item.keys:
            _add(g, cmd, key, defaults)
    elif item.startswith("--") or item in ("runs", "run"):
        _non_config(p, cmd, item)
    else:
        default = "the run's" if defaults is None else _at(defaults, item)
        _add_config_flag(p, item, default=default, required=(cmd, item) in _REQUIRED)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="oblivio", description="Machine unlearning for causal language models: "
                                 "forget, keep the rest, and prove both.")
    ap.add_argument("--version", action="store_true", help="print the version")
    sub = ap.add_subparsers(dest="cmd")
    for cmd, (text, items) in _COMMANDS.items():
        p = sub.add_parser(cmd, help=text, description=text, epilog=epilog(cmd),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        defaults = _help_defaults(cmd)
        for item in items:
            _add(p, cmd, item, defaults)
    return ap


def cli_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The config keys the command line set: every flag whose ``dest`` is a dotted config key."""
    over: dict[str, Any] = {}
    explicit = {k: v for k, v in vars(args).items() if v is not None and k in CONFIG_DESTS}
    for key, value in explicit.items():
        node: dict[str, Any] = {}
        cur = node
        parts = key.split(".")
        for part in parts[:-1]:
            cur = cur.setdefault(part, {})
        cur[parts[-1]] = value
        over = merge(over, node)
    if "unlearn.train.epochs" in explicit:      # an epoch budget given here beats a config's step count
        over["unlearn"]["train"].setdefault("max_steps", None)
    return over
