"""Pipeline stage 1: the models of a run, and the data cut to their context."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from oblivio.config import Config, load_config
from oblivio.data.schema import UnlearningData
from oblivio.errors import InputError
from oblivio.models.resolve import resolve_model_path
from oblivio.resolve import learn, main_process, resolve_model

Log = Callable[[str], None]


@dataclass
class RunModels:
    """The model to unlearn (and its tokenizer), the gold model when there is one, and the
    seconds spent learning the world's models (empty when they came from the cache)."""

    model: Any
    tokenizer: Any
    gold: Any = None
    gold_tokenizer: Any = None
    timings: dict[str, float] = field(default_factory=dict)
    # a fresh copy of the model before unlearning (models are unlearned in place); None when
    # the run started from an object
    reload: Callable[[], Any] | None = None


def fit(data: UnlearningData, model: Any, tokenizer: Any, log: Log):
    """Over-long items cut to the model's context, and logged (data/context.py)."""
    from oblivio.data.context import fit_for_model
    return fit_for_model(data, model, tokenizer, log=log if main_process() else None)


def run_models(cfg: Config, data: UnlearningData, *, model: Any, tokenizer: Any, gold: Any, need_gold: bool,
               progress: bool, log: Log) -> RunModels:
    """The models of an ``unlearn`` run: ``model`` (a directory or an object), else
    ``cfg.model.path``, else the generated world's cached base (its gold loaded when
    ``need_gold``); ``gold`` (or ``cfg.model.gold``) replaces the world's gold."""
    out: RunModels
    if model is None and cfg.model.path is None:
        if data.source is None:
            raise InputError("no model given: pass --model DIR (a local HF model directory), or train tiny "
                             f"base and gold models on this data first: oblivio learn --data {data.name} "
                             "--out models/ (then --model models/base --gold models/gold)", field="model")
        wm = learn(data, config=cfg, progress=progress, log=log)   # a generated world: cached (or trained)
        out = RunModels(wm.base, wm.tokenizer, timings={f"learn_{k}": v for k, v in wm.seconds.items()},
                        reload=lambda: resolve_model(wm.base_dir, None, cfg))
        if need_gold:                                             # loaded only when used
            out.gold, out.gold_tokenizer = wm.gold, wm.tokenizer
    else:
        src = model if model is not None else cfg.model.path
        out = RunModels(*resolve_model(src, tokenizer, cfg))
        if isinstance(src, (str, Path)):
            out.reload = lambda: resolve_model(src, None, cfg)
    gold = gold if gold is not None else cfg.model.gold
    if gold is not None:
        out.gold, out.gold_tokenizer = resolve_model(gold, None, cfg)
    return out


def reference_models(cfg: Config, d: UnlearningData, *, reference: Any = None, tokenizer: Any = None,
                     gold: Any = None, progress: bool = True, log: Log = print):
    """(reference, gold model, gold tokenizer) of a finished run: ``reference`` when given, else
    the run's base (``model.path``, or the generated world's cached base, whose gold comes with it)."""
    gold_model = gold_tok = None
    if reference is None and cfg.model.path is None and d.source is not None:
        wm = learn(d, config=cfg, progress=progress, log=log)
        reference, gold_model, gold_tok = wm.base, wm.gold, wm.tokenizer
    elif reference is None and cfg.model.path is not None:
        reference, _ = resolve_model(cfg.model.path, None, cfg)
    elif reference is not None:
        reference, _ = resolve_model(reference, tokenizer, cfg)
    if gold is None:
        gold = cfg.model.gold
    if gold is not None:
        gold_model, gold_tok = resolve_model(gold, None, cfg)
    if reference is None:
        raise InputError("no reference model: give reference=... (the model before unlearning)", field="reference")
    return reference, gold_model, gold_tok


def finished_run(run_path: Path, config: Config | None, *, load_unlearned: bool = True):
    """(config, (unlearned model, tokenizer) or None) of a finished ``unlearn`` run folder."""
    if not (run_path / "config.yaml").is_file() or not (run_path / "model").is_dir():
        raise InputError("not a finished unlearn run folder (needs config.yaml and model/)", file=str(run_path))
    cfg = config or load_config(run_path / "config.yaml")
    if not load_unlearned:
        return cfg, None
    return cfg, resolve_model(run_path / "model", None, cfg)


def model_sources(cfg: Config, d: UnlearningData, *, model: Any, tokenizer: Any, gold: Any, progress: bool,
                  log: Log) -> tuple[Any, Any, dict[str, float]]:
    """(source, gold source, learning timings) for runs that need fresh copies of the model
    (a grid): a directory (re-loaded for every copy) or a (model, tokenizer) pair (deep-copied;
    the caller's model is never touched). None with world data = the world's cached models."""
    import copy
    timings: dict[str, float] = {}
    source: Any
    gold_source: Any = None
    if model is None and cfg.model.path is None:
        if d.source is None:   # only a generated world has models oblivio can train itself
            raise InputError("no model given: pass --model DIR (a local HF model directory)", field="model")
        wm = learn(d, config=cfg, progress=progress, log=log)
        timings.update({f"learn_{k}": v for k, v in wm.seconds.items()})
        source, gold_source = wm.base_dir, wm.gold_dir
    elif model is None or isinstance(model, (str, Path)):
        # a .gguf file or a registered name becomes its converted folder once, here, so every
        # copy (and check_sources) loads that folder
        source = resolve_model_path(model if model is not None else str(cfg.model.path), log=log).path
    else:
        if tokenizer is None:
            raise InputError("a loaded model needs its tokenizer (tokenizer=...)", field="tokenizer")
        source = (copy.deepcopy(model), tokenizer)
    if gold is not None:
        gold_source = resolve_model_path(gold, log=log).path if isinstance(gold, (str, Path)) else tuple(gold)
    return source, gold_source, timings


def fresh(source: Any, cfg: Config) -> tuple[Any, Any]:
    """A fresh copy of a model source (see :func:`model_sources`)."""
    if isinstance(source, (str, Path)):
        return resolve_model(source, None, cfg)
    import copy
    model, tok = source
    return copy.deepcopy(model), tok


def check_sources(d: UnlearningData, source: Any, gold_source: Any, cfg: Config, log: Log) -> UnlearningData:
    """Broken model folders named before any evaluation; ``d`` cut to the model's context."""
    from oblivio.data.context import fit_for_model, fit_for_model_dir
    from oblivio.models.check import check_model_dir
    for src in (source, gold_source):
        if isinstance(src, (str, Path)):
            check_model_dir(Path(src), allow_pickle=cfg.model.allow_pickle)
    say = log if main_process() else None
    if isinstance(source, tuple):
        return fit_for_model(d, source[0], source[1], log=say)[0]
    return fit_for_model_dir(d, Path(source), trust_remote_code=cfg.model.trust_remote_code, log=say)[0]
