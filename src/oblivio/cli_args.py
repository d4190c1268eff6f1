"""The ``oblivio`` command line's flags: one subparser per subcommand, every flag that sets a
config key made by :func:`_key` (its ``dest`` is the dotted key), so that the config is the
single source and a saved config.yaml reproduces a run (tests/test_config_flags.py)."""
from __future__ import annotations

import argparse
from typing import Any

#: flags that are not config keys, and why (tests/test_config_flags.py checks every other flag
#: of every subcommand maps to a config key through its ``dest``)
NON_CONFIG_FLAGS: dict[str, str] = {
    "--help": "argparse's help",
    "--version": "prints the version; runs nothing",
    "--config": "the config file itself",
    "--set": "overrides config keys by name (KEY=VALUE)",
    "--quiet": "display only (progress bars); never changes a result",
    "--debug": "display only (a traceback on an unexpected error); never changes a result",
    "--out": "where to write, not what to compute: a rerun from a saved config must not target the same folder",
    "--overwrite": "permission to replace an output folder; a saved config must never carry it",
    "--run": "calibrate, audit: the run folder whose config.yaml is the config",
    "--title": "report: the title of an HTML page about finished runs; computes nothing",
    "--resume": "unlearn: continue a run folder from its checkpoint; the run's own config.yaml is the config",
}


def _key(p: argparse.ArgumentParser | Any, *flags: str, key: str, **kw: Any) -> argparse.Action:
    """A flag that sets config key ``key`` (dotted, e.g. ``model.gold``): the key is its ``dest``,
    so :func:`_config` maps every such flag generically and a saved config.yaml reproduces it."""
    kw.setdefault("default", None)
    CONFIG_DESTS.add(key)
    return p.add_argument(*flags, dest=key, **kw)


#: the ``dest`` of every flag made by :func:`_key`: each one a dotted config key
CONFIG_DESTS: set[str] = set()


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="YAML config file (see README: Configuration)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key, e.g. --set unlearn.train.lr=1e-4 (repeatable)")
    _key(p, "--seed", key="seed", type=int, help="global seed (default 0)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    _debug(p)
    _allow_plugins(p)


def _debug(p: argparse.ArgumentParser) -> None:
    p.add_argument("--debug", action="store_true",
                   help="show the Python traceback of an unexpected error (also: OBLIVIO_DEBUG=1)")


def _allow_plugins(p: argparse.ArgumentParser) -> None:
    # every subcommand that reads a config file: its plugins are refused without this flag
    _key(p, "--allow-plugins", key="allow_plugins", action="store_true",
         help="import module:Name plugins named in a config file or a run folder's config.yaml (runs their "
              "code: only for files you trust; names given on the command line need no permission)")


def _seed_list(text: str) -> list[int]:
    from oblivio.experiments.seeds import parse_seeds
    seeds = parse_seeds(text)
    return list(seeds or [])


def _ci(p: argparse.ArgumentParser) -> None:
    _key(p, "--ci", key="eval.show_ci", action="store_true",
                   help="tables show each value's 95%% bootstrap interval over facts, "
                        "value [lo, hi] (eval.show_ci; resamples: eval.bootstrap)")


def _unlearn_args(p: argparse.ArgumentParser) -> None:
    _key(p, "--method", key="unlearn.method",
         help="unlearning method (see `oblivio ls`), or a dotted path module:Class")
    _key(p, "--sampler", key="unlearn.sampler", help="retain sampler (see `oblivio ls`), or module:Class")
    _key(p, "--steps", key="unlearn.train.max_steps", type=int, help="number of unlearning steps")
    _key(p, "--lr", key="unlearn.train.lr", type=float, help="unlearning learning rate")
    _key(p, "--lora-r", key="model.lora_r", type=int, help="unlearn a LoRA adapter of this rank (0 = full model)")
    _key(p, "--log-with", key="unlearn.train.log_with", type=_names, metavar="TRACKERS",
         help="experiment trackers through Accelerate, e.g. tensorboard or wandb (offline): loss parts, lr and "
              "checkpoint metrics per step, under RUN/tracking")
    p.add_argument("--out", help="run folder (default runs/<command>-<time>)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing run folder (only one that oblivio marked as its run)")
    _model_safety(p)
    g = p.add_argument_group("controlling unlearning (capping: --set unlearn.args.cap_delta=2)")
    _key(g, "--eval-every", key="control.eval_every", type=int,
         help="evaluate a fixed subset every K steps (control.eval_every)")
    _key(g, "--eval-items", key="control.eval_items", type=int,
         help="items per role in that subset (control.eval_items, default 16)")
    _key(g, "--stop-utility", key="control.stop_utility_tau", type=float, metavar="TAU",
         help="early stop when utility < TAU × original; keep the last checkpoint above it")
    _key(g, "--stop-at-gold", key="control.stop_at_gold", action="store_true",
         help="early stop when forget accuracy reaches the gold model's level")
    _key(p, "--extraction", key="eval.extraction", action="store_true",
         help="also the PS series and extraction strength (extra generation passes)")
    g = p.add_argument_group("TRU's teacher (--method tru; more: --set unlearn.teacher.KEY=...)")
    _key(g, "--teacher", key="unlearn.teacher.kind", help="template (offline, default) | hf | endpoint")
    _key(g, "--teacher-model", key="unlearn.teacher.model", help="teacher hf: a local model directory")
    _key(g, "--teacher-url", key="unlearn.teacher.url",
         help="teacher endpoint: an OpenAI-compatible base URL "
              "(localhost unless --allow-remote-endpoints; key: --teacher-key-env)")
    _judge_args(p)


def _judge_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("the UQ/RQ judge (more: --set eval.judge.KEY=...)")
    _key(g, "--judge", key="eval.judge.kind", help="rule (offline, default) | hf | endpoint | none")
    _key(g, "--judge-model", key="eval.judge.model", help="judge hf: a local model directory")
    _key(g, "--judge-url", key="eval.judge.url",
         help="judge endpoint: an OpenAI-compatible base URL "
              "(localhost unless --allow-remote-endpoints; key: --judge-key-env)")


_TARGETS_HELP = ("comma-separated forget targets (data.targets); default: the --neighbour-map keys, else per "
                 "forget row the entity that the most forget rows name")


def _model_format(p: argparse.ArgumentParser) -> None:
    _key(p, "--prompt", key="model.prompt", choices=("auto", "chat", "plain"),
         help="prompt format: the tokenizer's chat template (chat), 'Question: … Answer:' (plain), or "
         "chat exactly when the tokenizer has a template (auto, the default)")
    _key(p, "--system-prompt", key="model.system_prompt", metavar="TEXT",
         help="the chat's system prompt (default: the chat template's own)")
    _key(p, "--dtype", key="model.dtype", choices=("auto", "fp32", "bf16", "fp16", "float32", "bfloat16", "float16"),
         help="weights' dtype when loading a model (default auto: as saved)")


def _model_safety(p: argparse.ArgumentParser) -> None:
    _model_format(p)     # every command that loads a model takes the format flags too
    # command line only: a config file never sets these (config.COMMAND_LINE_ONLY)
    _key(p, "--trust-remote-code", key="model.trust_remote_code", action="store_true",
         help="run Python code shipped in a model folder (model.trust_remote_code)")
    _key(p, "--allow-pickle", key="model.allow_pickle", action="store_true",
         help="load pickle weights (pytorch_model.bin) when there are no safetensors; "
         "only for files you trust (model.allow_pickle)")
    _key(p, "--allow-remote-endpoints", key="allow_remote_endpoints", action="store_true",
         help="let a teacher or judge endpoint be on another machine (default: localhost only)")
    _key(p, "--teacher-key-env", key="unlearn.teacher.api_key_env", metavar="VAR",
         help="send the value of environment variable VAR as the teacher endpoint's bearer key (default: none)")
    _key(p, "--judge-key-env", key="eval.judge.api_key_env", metavar="VAR",
         help="send the value of environment variable VAR as the judge endpoint's bearer key (default: none)")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="oblivio", description="Machine unlearning for causal language models: "
                                 "forget, keep the rest, and prove both.")
    ap.add_argument("--version", action="store_true", help="print the version")
    sub = ap.add_subparsers(dest="cmd")
    p = sub.add_parser("demo", help="the whole offline pipeline on the embedded fictional world (or a real model)")
    _key(p, "--preset", key="world.preset",
         help="world size: tiny | small | default | large; or smollm2: SmolLM2-135M-Instruct forgets Einstein and "
              "Shakespeare (--data real; needs the smollm2 extra, docs/real-models.md)")
    _common(p)
    _ci(p)
    _unlearn_args(p)
    p = sub.add_parser("world", help="build the fictional world and write its items as JSONL")
    _key(p, "--preset", key="world.preset", help="world size (default: default)")
    p.add_argument("--out", required=True, help="output JSONL file")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    _common(p)
    p = sub.add_parser("learn", help="train (or reuse cached) tiny base and gold models of the world or of --data")
    _key(p, "--preset", key="world.preset", help="world size (the embedded world only)")
    _key(p, "--data", key="data.path", help="JSONL file (or tofu:forget01|05|10) to learn instead of the world")
    p.add_argument("--out", help="also copy the base/ and gold/ model folders into this new folder (an oblivio "
                                 "output folder: never one you made)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing --out folder (only one that oblivio made)")
    _common(p)
    p = sub.add_parser("unlearn", help="unlearn the forget set of --data from --model")
    _key(p, "--model", key="model.path", help="local HF model directory (default: the world's base model)")
    _key(p, "--data", key="data.path", help="JSONL file, tofu:forget01|05|10, or world:<preset> (default: world)")
    _key(p, "--gold", key="model.gold",
         help="a model retrained without the forget set (enables forget quality, privleak)")
    _key(p, "--neighbour-map", key="data.neighbour_map",
         help="JSON map target → direct/indirect entities (retain roles)")
    _key(p, "--targets", "--target", key="data.targets", type=_names, help=_TARGETS_HELP)
    _key(p, "--no-eval", key="eval.enabled", action="store_false",
         help="train and save only: no evaluation of the base, gold or unlearned model (eval.enabled: false)")
    p.add_argument("--resume", metavar="RUN",
                   help="continue an interrupted run (its .partial/.failed folder or its name) from its last "
                        "checkpoint, with its saved config.yaml")
    _key(p, "--audit", key="audit.enabled", action="store_true",
         help="then run the robustness audit on the run (oblivio audit; audit.enabled)")
    _common(p)
    _ci(p)
    _unlearn_args(p)
    p = sub.add_parser("reveal", help="the self-generated forget set of a target (Reveal and Release), as JSONL")
    _key(p, "--model", key="model.path", help="local HF model directory (default: the world's base model)")
    _key(p, "--data", key="data.path", help="data whose rows name the target's known values (default: world)")
    _key(p, "--preset", key="world.preset", help="world size: tiny | small | default | large")
    _key(p, "--target", "--targets", key="data.targets", type=_names, help="the entity to reveal (data.targets)")
    _key(p, "--task", key="reveal.task", help="entity | attribute | capability (reveal.task)")
    _key(p, "--relation", key="reveal.relation", help="attribute task: the relation, e.g. birthplace")
    _key(p, "--keywords", key="reveal.keywords", type=_names,
         help="comma-separated values the target must not reveal (relevance outside the world)")
    _key(p, "--scorer", key="reveal.scorer", help="relevance callable pkg.mod:fn(responses, context) -> [0, 1]")
    _key(p, "--strategy", key="reveal.strategy", help="neural_ucb | random | best_of_pool")
    _key(p, "--budget", key="reveal.budget", type=int, help="instructions queried (reveal.budget)")
    _key(p, "--top-k", key="reveal.top_k", type=int, help="best instructions kept (reveal.top_k)")
    _key(p, "--samples", key="reveal.samples", type=int, help="responses per instruction (reveal.samples)")
    _key(p, "--threshold", key="reveal.threshold", type=float, help="a response's relevance to keep it")
    p.add_argument("--out", required=True, help="output JSONL file (the self-generated forget rows)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    _model_safety(p)
    _common(p)
    p = sub.add_parser("eval", help="evaluate a model on every set of --data")
    _key(p, "--model", key="model.path", required=True)
    _key(p, "--data", key="data.path", help="JSONL file, tofu:..., or world:<preset> (default: world)")
    _key(p, "--gold", key="model.gold", help="gold (retrained) model directory")
    p.add_argument("--out", help="write the evaluation JSON here (its folder must exist)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    _key(p, "--extraction", key="eval.extraction", action="store_true",
         help="also the PS series and extraction strength (extra generation passes)")
    _judge_args(p)
    _model_safety(p)
    _common(p)
    _ci(p)
    p = sub.add_parser("calibrate", help="mix an unlearned run's model with its base until utility ≥ τ × original")
    p.add_argument("--run", required=True, help="a finished `oblivio unlearn` run folder")
    _key(p, "--tau", key="calibrate.tau", type=float, help="utility target as a fraction of the original (0.9)")
    _key(p, "--tol", key="calibrate.tol", type=float, help="bisection tolerance on α (0.01)")
    _key(p, "--utility", key="calibrate.metric", help="utility metric: a model metric or role/metric")
    _key(p, "--extraction", key="eval.extraction", action="store_true",
         help="also the PS series and extraction strength at the chosen α")
    p.add_argument("--out", help="output folder (default RUN/calibrated-<tau>)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    _model_safety(p)
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a key of the run's config, e.g. --set eval.batch_size=32")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    _allow_plugins(p)
    p = sub.add_parser("compare", help="methods × retain samplers, same seed and budget: table and plot")
    _key(p, "--methods", key="compare.methods", type=_csv, help="comma-separated methods (default graddiff,npo)")
    _key(p, "--samplers", key="compare.samplers", type=_csv, help="comma-separated samplers, or 'all' (default)")
    _key(p, "--data", key="data.path",
         help="world | world:<preset> | tofu:forget01|05|10 | a JSONL file (default: world)")
    _key(p, "--preset", key="world.preset", help="world size: tiny | small | default | large")
    _key(p, "--model", key="model.path",
         help="reference model directory, re-loaded for every cell (default: the world's base)")
    _key(p, "--gold", key="model.gold", help="a model retrained without the forget set (enables forget quality)")
    _key(p, "--neighbour-map", key="data.neighbour_map",
         help="JSON map target → direct/indirect entities (retain roles)")
    _key(p, "--targets", key="data.targets", type=_names, help=_TARGETS_HELP)
    g = p.add_mutually_exclusive_group()
    _key(g, "--epochs", key="unlearn.train.epochs", type=float,
         help="budget: this many epochs per cell (default: unlearn.train.epochs)")
    _key(g, "--steps", key="unlearn.train.max_steps", type=int,
         help="budget: this many steps per cell instead of equal epochs")
    _key(p, "--lr", key="unlearn.train.lr", type=float, help="unlearning learning rate")
    _key(p, "--lora-r", key="model.lora_r", type=int, help="unlearn a LoRA adapter of this rank (0 = full model)")
    _key(p, "--calibrate", key="compare.calibrate", type=float, metavar="TAU",
         help="also calibrate every cell to utility ≥ TAU × original by model mixing")
    _key(p, "--calibrate-metric", key="calibrate.metric", help="utility metric for --calibrate (model_utility)")
    _key(p, "--seeds", key="compare.seeds", type=_seed_list,
         help="comma-separated unlearning seeds, e.g. 0,1,2: every cell once per seed, reported as mean ± sd "
              "(data and reference models stay those of --seed)")
    _key(p, "--audit", key="audit.enabled", action="store_true",
         help="also run the robustness audit on every cell (base and gold once per seed; audit.enabled)")
    _key(p, "--attacks", key="audit.attacks", type=_names,
         help="with --audit: comma-separated attacks (default all, see oblivio ls)")
    p.add_argument("--out", help="output folder (default runs/compare-<time>)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    _model_safety(p)
    _common(p)
    _ci(p)
    p = sub.add_parser("report", help="one self-contained HTML page for one or several run (or compare) folders")
    p.add_argument("runs", nargs="+", help="run folders (results.json) or compare folders (compare.json)")
    p.add_argument("--out", help="HTML file (default RUN/report.html for one run, ./report.html for several)")
    p.add_argument("--title", help="page title")
    p.add_argument("--overwrite", action="store_true", help="replace an existing file that oblivio did not write")
    _debug(p)
    p = sub.add_parser("audit", help="robustness audit of a finished run: attacks on base, gold and unlearned")
    p.add_argument("--run", required=True, help="a finished `oblivio unlearn` run folder")
    _key(p, "--attacks", key="audit.attacks", type=_names,
         help="comma-separated attacks (default: all, see `oblivio ls`)")
    _key(p, "--gold", key="model.gold", help="gold model directory, when the run's data is not the embedded world")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a key of the run's config, e.g. --set eval.batch_size=32")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    _debug(p)
    _model_safety(p)
    _allow_plugins(p)
    sub.add_parser("ls", help="list methods, samplers, metrics and attacks")
    return ap


def _names(s: str) -> list[str]:
    """``a, b`` → ["a", "b"]."""
    return [x.strip() for x in s.split(",") if x.strip()]


def _csv(s: str) -> list[str] | None:
    """``a,b`` → ["a", "b"]; ``all`` → None (every registered name)."""
    names = [x.strip() for x in s.split(",") if x.strip()]
    return None if names == ["all"] else names


def cli_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The config keys the command line set: every flag whose ``dest`` is a dotted config key."""
    from oblivio.config import merge
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
