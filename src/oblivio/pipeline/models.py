"""Pipeline stage 1: where a run's models come from, and the data cut to their context.

One loader for every command: :class:`ModelSource` knows where the model to unlearn (and its
gold model) comes from and hands out fresh copies —

* a **folder** (a ``.gguf`` file or a registered name is converted into its folder once, when the
  source is made: models/resolve.py), loaded again for every copy;
* a **model in memory** with its tokenizer: *owned* (``copy=True``, a grid's: a private deep copy
  is made once and copied again for every run, so the caller's model is never touched) or
  *borrowed* (``copy=False``, ``api.unlearn``'s: the caller's object itself, unlearned in place,
  handed out once and never reloaded);
* the **generated world's** cached base and gold (trained once, engine/learning.py).

``Run`` (pipeline/run.py) takes one for its model, a grid (``compare``, pipeline/grid.py) makes
one and hands it to every cell, post-steps on a finished run folder (``oblivio audit``) and
``oblivio calibrate`` take the run's base from one, and ``oblivio reveal`` its model.
"""
from __future__ import annotations

import copy as _copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from oblivio.config import Config, load_config
from oblivio.data.schema import UnlearningData
from oblivio.errors import InputError
from oblivio.progress import say
from oblivio.resolve import learn, main_process, resolve_model

Log = Callable[[str], None]
Pair = tuple[Any, Any]          # (model, tokenizer)


@dataclass
class ModelSource:
    """Where a run's model and gold model come from (see the module docstring). ``base`` and
    ``gold_from``: a folder or a (model, tokenizer) pair in memory (None: no gold model);
    ``world``: the base is the generated world's cached model (``world_gold``: the gold too);
    ``timings``: the seconds spent learning them (empty when they came from the cache)."""

    cfg: Config
    base: Path | Pair
    gold_from: Path | Pair | None = None
    borrowed: bool = False
    world: bool = False
    world_gold: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    # a fresh copy already in memory that no one holds (the world's base as learning loaded it),
    # handed out by the first load() instead of loading another
    ready: Pair | None = field(default=None, repr=False)
    handed_out: bool = False

    @classmethod
    def resolve(cls, cfg: Config, data: UnlearningData | None, *, model: Any = None, tokenizer: Any = None,
                gold: Any = None, copy: bool = False, progress: bool = True, log: Log = say) -> ModelSource:
        """The source of ``model`` (a folder, ``.gguf`` file, registered name or a loaded model with
        ``tokenizer``), else ``cfg.model.path``, else the world's cached base (``data`` must be
        a generated world); its gold: ``gold`` (a folder or a (model, tokenizer) pair), else
        ``cfg.model.gold``, else the world's. ``copy``: a loaded model is deep-copied now and
        for every load (a grid); else it is the caller's, handed out once (a single run)."""
        spec = model if model is not None else cfg.model.path
        if spec is None:
            if data is None or data.source is None:   # only a generated world has models oblivio trains
                name = data.name if data is not None else "FILE"
                raise InputError("no model given: pass --model DIR (a local HF model directory), or train tiny "
                                 f"base and gold models on this data first: oblivio learn --data {name} --out "
                                 "models/ (then --model models/base --gold models/gold)", field="model")
            wm = learn(data, config=cfg, progress=progress, log=log)     # cached (or trained once)
            src = cls(cfg, wm.base_dir, wm.gold_dir, world=True, world_gold=True, ready=(wm.base, wm.tokenizer),
                      timings={f"learn_{k}": v for k, v in wm.seconds.items()})
        elif isinstance(spec, (str, Path)):
            src = cls(cfg, _folder(spec, log))
        else:
            if tokenizer is None:
                raise InputError("a loaded model needs its tokenizer (tokenizer=...)", field="tokenizer")
            src = cls(cfg, (_copy.deepcopy(spec) if copy else spec, tokenizer), borrowed=not copy)
        gold = gold if gold is not None else cfg.model.gold
        if gold is not None:
            src.world_gold = False
        if isinstance(gold, (str, Path)):
            src.gold_from = _folder(gold, log)
        elif gold is not None:
            if not (isinstance(gold, tuple) and len(gold) == 2):
                raise InputError("a loaded gold model is given with its tokenizer: gold=(model, tokenizer)",
                                 field="gold")
            src.gold_from = tuple(gold)
        return src

    @classmethod
    def folder(cls, path: str | Path, cfg: Config, log: Log = say) -> ModelSource:
        """The source of one model folder (a finished run's ``model/``)."""
        return cls(cfg, _folder(path, log))

    @property
    def path(self) -> Path | None:
        """The folder a config names for this model (None: the world's, which the config names
        by its world, or a model in memory)."""
        return None if self.world or not isinstance(self.base, Path) else self.base

    @property
    def gold_path(self) -> Path | None:
        """The gold model's folder for a config (None: the world's, in memory, or none)."""
        return None if self.world_gold or not isinstance(self.gold_from, Path) else self.gold_from

    @property
    def reloadable(self) -> bool:
        """Whether :meth:`load` gives the model before unlearning again (not for a borrowed object)."""
        return not self.borrowed

    def load(self) -> Pair:
        """A fresh (model, tokenizer), the caller's to change (unlearning is in place)."""
        if self.ready is not None:
            pair, self.ready = self.ready, None
            return pair
        if self.borrowed:
            if self.handed_out:
                raise RuntimeError("a borrowed model is handed out once; it cannot be reloaded")
            self.handed_out = True
            assert not isinstance(self.base, Path)
            return resolve_model(self.base[0], self.base[1], self.cfg)
        return _fresh(self.base, self.cfg)

    def reference(self) -> Pair | None:
        """``RunContext.reference``: a fresh copy of the model before unlearning, None when the
        run started from a borrowed object (which it changed)."""
        return self.load() if self.reloadable else None

    def gold(self) -> Pair:
        """The gold model and its tokenizer, (None, None) when there is none; a folder is loaded
        anew, a model in memory is the one given (a gold model is only evaluated)."""
        if self.gold_from is None:
            return None, None
        if isinstance(self.gold_from, Path):
            return resolve_model(self.gold_from, None, self.cfg)
        return resolve_model(self.gold_from[0], self.gold_from[1], self.cfg)

    def check(self, data: UnlearningData, log: Log) -> UnlearningData:
        """Broken model folders named before any evaluation; ``data`` cut to the model's
        context (a folder's config and tokenizer are read, not its weights)."""
        from oblivio.data.context import fit_for_model, fit_for_model_dir
        from oblivio.models.check import check_model_dir
        for src in (self.base, self.gold_from):
            if isinstance(src, Path):
                check_model_dir(src, allow_pickle=self.cfg.model.allow_pickle)
        say = log if main_process() else None
        if isinstance(self.base, Path):
            return fit_for_model_dir(data, self.base, trust_remote_code=self.cfg.model.trust_remote_code,
                                     log=say)[0]
        return fit_for_model(data, self.base[0], self.base[1], log=say)[0]


def named_inputs(model: Any, gold: Any) -> tuple[Any, Any]:
    """What a run's config.yaml and inputs.json name of its ``model`` and ``gold``: a
    ModelSource's folders (None for the world's, which the config names by its world; the source
    itself for a model in memory, which no config names); other values as given."""
    if not isinstance(model, ModelSource):
        return model, gold
    named = model.path if model.path is not None else (None if model.world else model)
    return named, gold if gold is not None else model.gold_path


def _folder(spec: str | Path, log: Log) -> Path:
    """The local folder of a model spec: a GGUF file or a registered name converted once here,
    so that every copy (and :meth:`ModelSource.check`) loads that folder."""
    from oblivio.models.resolve import resolve_model_path
    return Path(resolve_model_path(spec, log=log).path)


def _fresh(base: Path | Pair, cfg: Config) -> Pair:
    """A new copy of a folder (loaded) or of an owned model in memory (deep-copied); the run's
    prompt format bound to its tokenizer either way (resolve.bind_prompt)."""
    if isinstance(base, Path):
        return resolve_model(base, None, cfg)
    model, tok = base
    return resolve_model(_copy.deepcopy(model), tok, cfg)


def fit(data: UnlearningData, model: Any, tokenizer: Any):
    """Over-long items cut to the model's context (data/context.py), said in a warning: it
    changes what is evaluated, so it is shown under ``--quiet`` too (oblivio/progress.py)."""
    from oblivio.data.context import fit_for_model
    from oblivio.progress import warn
    return fit_for_model(data, model, tokenizer, log=warn if main_process() else None)


def finished_run(run_path: Path, config: Config | None, *, load_unlearned: bool = True):
    """(config, (unlearned model, tokenizer) or None) of a finished ``unlearn`` run folder."""
    if not (run_path / "config.yaml").is_file() or not (run_path / "model").is_dir():
        raise InputError("not a finished unlearn run folder (needs config.yaml and model/)", file=str(run_path))
    cfg = config or load_config(run_path / "config.yaml")
    if not load_unlearned:
        return cfg, None
    return cfg, ModelSource.folder(run_path / "model", cfg).load()
