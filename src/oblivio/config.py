"""Typed, validated configuration: one dataclass per component, YAML files, key=value overrides.

Unknown keys, wrong types and unknown names are :class:`InputError` naming the key
(``unlearn.train.lr``) and, for files, the file. A run saves its fully resolved config
next to its results, so ``oblivio unlearn --config runs/X/config.yaml`` reproduces it.

A config file may come from someone else (a received run folder's config.yaml), so it is
read strictly (textio.load_yaml: no duplicate keys, no aliases) and never does on its own
what runs code or reaches out: the COMMAND_LINE_ONLY keys are dropped from it, and a
``module:Name`` plugin it names (PLUGIN_FIELDS) is refused unless the command line names the
same value or passes ``--allow-plugins`` (:func:`load_config`).
"""
from __future__ import annotations

import dataclasses
import difflib
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oblivio.errors import InputError
from oblivio.registry import METHODS, uses_of

__all__ = ["Config", "TrainConfig", "EvalConfig", "ModelConfig", "DataConfig", "UnlearnConfig", "ControlConfig",
           "CalibrateConfig", "CompareConfig", "load_config", "from_dict", "to_dict", "merge", "parse_overrides",
           "validate", "build_method"]


@dataclass
class TrainConfig:
    """One training run of the one loop (engine/loop.py): learning a world or unlearning."""

    lr: float | None = 1e-4             # None (unlearning only): by the model's scale (engine/defaults.py)
    max_steps: int | None = None        # if set, overrides epochs
    epochs: float = 1.0
    batch_size: int = 8                 # per side (forget and retain) and per process
    grad_accum: int = 1
    warmup: float = 0.0                 # < 1: fraction of steps; ≥ 1: number of steps
    schedule: str = "linear"            # linear | cosine | constant
    weight_decay: float = 0.0
    max_grad_norm: float | None = 1.0
    mixed_precision: str = "no"         # no | bf16 | fp16
    checkpoint_every: int = 0           # 0 = no intermediate checkpoints
    seed: int = 0
    progress: bool = True
    # experiment trackers through Accelerate (tensorboard, wandb, mlflow, aim, …): loss parts,
    # learning rate and checkpoint metrics per step, written under the run folder, offline
    log_with: list[str] = field(default_factory=list)


@dataclass
class GenConfig:
    """A teacher (template | hf | endpoint) or judge (rule | hf | endpoint | none): which kind,
    and where its model is. An endpoint gets a key only from the environment variable the user
    names on the command line (``api_key_env``, never from a config file); without one, no key."""
    kind: str = "template"
    model: str | None = None              # kind hf: local model directory
    url: str | None = None                # kind endpoint: base URL, e.g. http://127.0.0.1:8000/v1
    endpoint_model: str = "default"       # the "model" field sent to the endpoint
    api_key_env: str | None = None        # command line only: the env variable holding the endpoint's key
    timeout: float = 60.0                 # seconds per HTTP request
    retries: int = 2                      # further attempts after a failed request (backoff 0.5 s·2^k)
    concurrency: int = 4                  # requests in flight at once
    batch_size: int = 8                   # kind hf: prompts per generate() call
    max_new_tokens: int = 160
    cache: bool = True                    # outputs cached on disk by kind + model + prompt ($OBLIVIO_CACHE/texts)
    # command line only: kind endpoint may be on another machine; Config.allow_remote_endpoints
    # (--allow-remote-endpoints) sets it on both endpoints, and their backends check it again
    allow_remote: bool = False


@dataclass
class EvalConfig:
    """One evaluation (eval/evaluate.py); ``enabled: false`` = a run trains and saves only."""

    batch_size: int = 64
    # None (TOFU's protocol): per set, its longest answer in tokens (end-of-answer EOS
    # included) + ``gen_margin``, so no answer is truncated; an int: one limit for every set
    max_new_tokens: int | None = None
    gen_margin: int = 8
    # the chat style's floor on that limit: an instruction-tuned model restates the question in
    # its answer ("The capital of France is Paris.") where a data set's answer may be one word
    chat_min_new_tokens: int = 48
    metrics: list[str] | None = None      # None = every registered metric that is not ``expensive``
    max_items_per_role: int | None = None  # a fixed subset, e.g. for checkpoint evaluation
    seed: int = 0
    extraction: bool = False               # also the expensive PS series / extraction strength
    bootstrap: int = 1000                  # resamples of facts for the 95% intervals (0 = none)
    show_ci: bool = False                  # tables show "value [lo, hi]" (CLI --ci)
    enabled: bool = True                   # false: no evaluation of base, gold or unlearned (`--no-eval`)
    reference_cache: bool = True           # base/gold evaluations cached on disk (eval/cache.py)
    # the TRU judge behind the uq / rq metrics (judges/): rule (offline default),
    # hf, endpoint or none; judged_answer_tokens: the longer generation a judged answer gets
    judge: GenConfig = field(default_factory=lambda: GenConfig(kind="rule", max_new_tokens=200))
    judged_answer_tokens: int = 128




@dataclass
class ModelConfig:
    path: str | None = None          # a local HF directory; None = the tiny world model
    size: str = "tiny"               # tiny-model preset (models/tiny.py)
    vocab_size: int = 1024
    dtype: str = "auto"              # auto | float32 (fp32) | bfloat16 (bf16) | float16 (fp16)
    # the prompt format (models/format.py): auto = the tokenizer's chat template when it has one,
    # else the plain "Question: … Answer:" template; chat | plain force one
    prompt: str = "auto"
    system_prompt: str | None = None # chat only; None = the template's own default system prompt
    lora_r: int = 0                  # > 0: unlearn a LoRA adapter (the reference is the base, no copy)
    gold: str | None = None          # a model retrained without the forget set (forget quality, privleak);
                                     # None with the world: the world's own gold model
    lora_alpha: int = 16
    lora_targets: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj",
                                                             "gate_proj", "up_proj", "down_proj"])
    # command line only (--trust-remote-code, --allow-pickle, --set): a config *file* never turns
    # these on, so a saved config.yaml cannot re-enable running code from a model folder
    trust_remote_code: bool = False
    allow_pickle: bool = False       # load pytorch_model.bin (a pickle) when there is no safetensors


@dataclass
class DataConfig:
    path: str | None = None          # a JSONL path, "world[:preset]", "tofu:forget01" (data/spec.py), None = the world
    neighbour_map: str | None = None
    targets: list[str] | None = None # forget targets of a JSONL (else the map's keys, else inferred)
    tofu_retain_authors: int | None = None
    tofu_holdout_authors: int = 0
    tofu_general: bool = True
    tofu_general_trained: bool = False   # True: real authors / world facts as trained retain (not TOFU's protocol)


@dataclass
class UnlearnConfig:
    method: str = "graddiff"
    args: dict[str, Any] = field(default_factory=dict)
    sampler: str = "one_to_one_random"
    # lr None: chosen by the model's scale when the run starts (engine/defaults.py: 1e-3 for a
    # model under 10 M parameters, 1e-5 for a pretrained one, 1e-4 through a LoRA adapter)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(lr=None, epochs=5, batch_size=8))
    teacher: GenConfig = field(default_factory=GenConfig)   # TRU's target writer (teachers/)


@dataclass
class ControlConfig:
    """Checkpoint evaluation / early stopping / selection during unlearning (engine/checkpoint_eval.py).

    Off unless ``eval_every`` > 0. Every ``eval_every`` steps: a fast evaluation on
    ``eval_items`` items per role (cheap metrics only). Stops when utility < ``stop_utility_tau``
    × original (if set) or when forget ``forget_metric`` ≤ the gold model's + ``gold_margin``
    (``stop_at_gold``). ``select``: ``last_above_tau`` (the last checkpoint with utility ≥
    ``select_tau`` × original; its weights are restored) or ``final``.
    """
    eval_every: int = 0
    eval_items: int = 16
    stop_utility_tau: float | None = None
    stop_at_gold: bool = False
    gold_margin: float = 0.0
    select: str = "last_above_tau"
    select_tau: float | None = None          # None: stop_utility_tau, else 0.9
    utility_metric: str = "model_utility"
    forget_metric: str = "accuracy"


@dataclass
class CalibrateConfig:
    """Model mixing to equal utility (engine/calibrate.py; `oblivio calibrate`, `compare --calibrate`)."""
    tau: float = 0.9                 # utility target as a fraction of the original's
    tol: float = 0.01                # bisection tolerance on the mixing weight α
    metric: str = "model_utility"    # utility metric: a model metric or role/metric


@dataclass
class CompareConfig:
    """The grid of `oblivio compare` (experiments/compare.py)."""
    methods: list[str] = field(default_factory=lambda: ["graddiff", "npo"])
    samplers: list[str] | None = None     # None: every registered sampler
    calibrate: float | None = None        # τ: also calibrate every cell to utility ≥ τ × original
    seeds: list[int] | None = None        # every cell once per seed, reported as mean ± sd


@dataclass
class AuditConfig:
    """The robustness audit (attacks/audit.py; `oblivio audit`, `oblivio unlearn --audit`)."""
    enabled: bool = False                 # unlearn: audit the run when it is done
    attacks: list[str] | None = None      # None: every registered attack (`oblivio ls`)


@dataclass
class RevealConfig:
    """The reveal step (reveal/; `oblivio reveal`): what to reveal and how to search. The target
    is ``data.targets`` (``--target``). ``reveal_release`` takes the same settings as its
    ``unlearn.args``."""
    task: str = "entity"                  # entity | attribute | capability
    relation: str = "birthplace"          # attribute: the relation of every person
    keywords: list[str] = field(default_factory=list)   # entity outside the world: its known values
    scorer: str | None = None             # or a relevance callable, dotted path pkg.mod:fn
    strategy: str = "neural_ucb"          # neural_ucb | random | best_of_pool
    budget: int = 12                      # instructions queried
    top_k: int = 3                        # best instructions whose responses form the forget set
    samples: int = 4                      # responses per instruction
    threshold: float = 0.1                # a response's relevance to be kept (entity: >= 1 value)
    nu: float = 0.01                      # NeuralUCB exploration (tiny-world replay, bench/reveal_curve.py)
    embedder: str = "auto"                # auto | minilm | hidden (diversity and features)


def default_learn() -> TrainConfig:
    # 20 epochs over the world's 6 phrasings per fact: training phrasings 100%, held-out
    # phrasings 89.6% on the default world; 40 epochs memorise strings more and generalise
    # less (85.1%) at twice the time (bench/world_frontier.py, bench/README.md)
    return TrainConfig(lr=3e-3, epochs=20, batch_size=32, warmup=0.05, schedule="cosine",
                       max_grad_norm=1.0)


@dataclass
class Config:
    seed: int = 0
    run_dir: str | None = None
    world: dict[str, Any] = field(default_factory=lambda: {"preset": "default"})
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    learn: TrainConfig = field(default_factory=default_learn)
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
    allow_plugins: bool = False
    allow_remote_endpoints: bool = False

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


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None,
                base: dict[str, Any] | None = None) -> Config:
    """Defaults ← ``base`` ← YAML file ← overrides; validated.

    ``overrides`` (and ``base``) are the command line's or the Python API's: trusted. The
    file is not (see the module docstring): a plugin it names that the overrides do not give
    again is an InputError unless ``allow_plugins`` is true in the result, raised before
    validation looks any name up (which would import it)."""
    d: dict[str, Any] = to_dict(Config())
    d = merge(d, base or {})
    file = None
    loaded: dict[str, Any] = {}
    if path is not None:
        file = str(Path(path))
        loaded = _read_config_file(Path(path))
        _reject_unknown(loaded, d, "", file)
        d = merge(d, loaded)
    if overrides:
        _reject_unknown(overrides, d, "", None)
        d = merge(d, overrides)
    if loaded and d.get("allow_plugins") is not True:
        _refuse_file_plugins(loaded, overrides or {}, d, file)
    cfg = from_dict(Config, d, file=file)
    validate(cfg, file)
    return cfg


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
#: (allow_remote_endpoints) or names a credential (api_key_env). They come from the command line
#: (their flags, --set) or the Python API; in a file they are dropped with a warning.
COMMAND_LINE_ONLY = ("model.trust_remote_code", "model.allow_pickle", "allow_plugins", "allow_remote_endpoints",
                     "unlearn.teacher.allow_remote", "eval.judge.allow_remote",
                     "unlearn.teacher.api_key_env", "eval.judge.api_key_env")


def _drop_unsafe(loaded: dict[str, Any], file: str) -> None:
    """Remove every COMMAND_LINE_ONLY key from a loaded file; warn when it would enable something."""
    import sys
    for dotted in COMMAND_LINE_ONLY:
        *parents, leaf = dotted.split(".")
        node: Any = loaded
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict) or leaf not in node:
            continue
        value = node.pop(leaf)
        if value not in (None, False):
            flag = _COMMAND_LINE_FLAG.get(dotted, f"--set {dotted}=...")
            shown = str(value).lower() if isinstance(value, bool) else repr(value)
            print(f"oblivio: warning: {file}: {dotted}: {shown} is ignored; a config file never sets it, "
                  f"give it on the command line ({flag})", file=sys.stderr)


_COMMAND_LINE_FLAG = {"model.trust_remote_code": "--trust-remote-code", "model.allow_pickle": "--allow-pickle",
                      "allow_plugins": "--allow-plugins", "allow_remote_endpoints": "--allow-remote-endpoints",
                      "unlearn.teacher.allow_remote": "--allow-remote-endpoints",
                      "eval.judge.allow_remote": "--allow-remote-endpoints",
                      "unlearn.teacher.api_key_env": "--teacher-key-env VAR",
                      "eval.judge.api_key_env": "--judge-key-env VAR"}


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
    """Names and ranges that types alone do not catch (config_checks.py)."""
    from oblivio.config_checks import validate_config
    share_endpoint_policy(cfg)      # set after construction (cfg.allow_remote_endpoints = True) counts too
    validate_config(cfg, file, build_method)


def build_method(name: str, args: dict[str, Any], *, file: str | None = None, cls: type | None = None) -> Any:
    """Instantiate a registered method, validating its arguments."""
    cls = cls or METHODS.get(name, field="unlearn.method")
    if not dataclasses.is_dataclass(cls):       # a plugin class without fields takes no arguments
        if args:
            raise InputError(f"method {name} takes no arguments (not a dataclass)", file=file, field="unlearn.args")
        method = cls()
    else:
        method = from_dict(cls, args or {}, prefix="unlearn.args", file=file)
        from oblivio.config_checks import check_method_args
        check_method_args(method, file)
    try:
        uses_of(method)          # on the instance: `uses` may depend on the arguments (a property)
    except InputError as e:
        raise InputError(e.message, file=file, field="unlearn.method") from None
    return method
