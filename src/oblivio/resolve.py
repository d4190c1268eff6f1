"""Resolving a run's inputs: data specs into validated items, model specs into (model, tokenizer).

Shared by ``oblivio.api`` and the experiments built on it (experiments/compare.py), below
both so that neither imports the other. Data can be an ``UnlearningData``, a JSONL path,
``"tofu:forget01"`` or ``"world:<preset>"`` (:mod:`oblivio.data.spec` tells them apart: a file
is never taken for built-in data by its name); a model a local HF directory or a loaded model
(with its tokenizer); ``learn`` gives the embedded world's cached base and gold models.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from oblivio.config import Config
from oblivio.data.schema import UnlearningData
from oblivio.data.spec import REAL_DEFAULT_SET, TOFU_DEFAULT_SPLIT, check_data_file, data_scheme, real_set
from oblivio.errors import InputError

__all__ = ["bind_prompt", "data_scheme", "load_data", "learn", "prompt_format", "resolve_model", "main_process"]

Log = Callable[[str], None]


def main_process() -> bool:
    from oblivio.engine.dist import state
    return state().is_main_process


def load_data(spec: str | Path | UnlearningData | None, cfg: Config | None = None) -> UnlearningData:
    """Resolve a data spec (see module docstring) into validated items.

    ``spec=None`` means ``cfg.data.path`` when that is set, else the embedded world: a data
    path given anywhere is used, never silently replaced by the world. For a JSONL file the
    forget targets are ``cfg.data.targets``, else the neighbour map's keys, else inferred
    (:mod:`oblivio.data.neighbours`); ``data.targets_rule`` says which.
    """
    cfg = cfg or Config()
    if isinstance(spec, UnlearningData):
        return spec
    if spec is None:
        spec = cfg.data.path
    scheme = data_scheme(spec)
    if spec is None or (scheme is not None and scheme[0] == "world"):
        return _world_data(cfg, scheme[1] if scheme else "")
    if scheme is not None and scheme[0] == "real":      # a shipped real-knowledge set
        from oblivio.data.neighbours import load_jsonl_data
        d = load_jsonl_data(str(real_set(scheme[1])), targets=cfg.data.targets,
                            neighbour_map=cfg.data.neighbour_map, seed=world_seed(cfg))
        d.name = f"real:{scheme[1] or REAL_DEFAULT_SET}"
        return d
    if scheme is not None:          # tofu
        if cfg.data.targets:
            raise InputError("TOFU's forget targets are the authors of its split (tofu:forget01|05|10); "
                             "--targets / data.targets is for JSONL and world data", field="data.targets")
        from oblivio.data.tofu import load_tofu
        split = scheme[1] or TOFU_DEFAULT_SPLIT
        d = load_tofu(split, n_retain_authors=cfg.data.tofu_retain_authors,
                      holdout_authors=cfg.data.tofu_holdout_authors, include_general=cfg.data.tofu_general,
                      seed=world_seed(cfg), neighbour_map=cfg.data.neighbour_map,
                      general_trained=cfg.data.tofu_general_trained)
        d.targets_rule = f"the authors of TOFU's {split} split"
        return d
    check_data_file(spec)
    from oblivio.data.neighbours import load_jsonl_data
    return load_jsonl_data(str(spec), targets=cfg.data.targets, neighbour_map=cfg.data.neighbour_map,
                           seed=world_seed(cfg))


def world_seed(cfg: Config) -> int:
    """The data seed: ``world.seed`` (``--world-seed``; 0 when unset). It makes the embedded
    world and splits any data into validation and test; the training seed is ``cfg.seed``."""
    s = cfg.world.get("seed", 0)
    if not isinstance(s, int) or isinstance(s, bool):
        raise InputError(f"must be an integer, got {s!r}", field="world.seed")
    return s


def _world_data(cfg: Config, preset: str) -> UnlearningData:
    """The embedded world of ``cfg.world``, its preset replaced by ``preset`` when given."""
    from oblivio.world import build_world, world_config
    w = dict(cfg.world)
    if preset:
        w["preset"] = preset
    given = w.get("targets")
    if cfg.data.targets and given and list(given) != list(cfg.data.targets):
        raise InputError(f"world.targets {given} and data.targets {cfg.data.targets} differ; give one",
                         field="data.targets")
    w["targets"] = cfg.data.targets or given or ()
    d = build_world(world_config(**w))
    d.targets_rule = ("given (--targets / data.targets / world.targets)" if w["targets"] else
                      "the world's, chosen by seed among people with direct and indirect neighbours")
    return d


def learn(data: Any = None, *, config: Config | None = None, progress: bool = True, log: Log = print):
    """Base and gold tiny models (cached) for ``data``: a JSONL path, ``"tofu:..."``, an
    ``UnlearningData`` or, when both ``data`` and ``config.data.path`` are None, the embedded
    world. Base learns every trained row (forget, retain roles and their ``*_test`` rows; never
    ``holdout``), gold the same without the forget rows. Returns ``WorldModels``."""
    from oblivio.engine.learning import data_fingerprint, world_models
    cfg = config or Config()
    d = load_data(data if data is not None else cfg.data.path, cfg)
    # a generated world is keyed by its config (the same key from `oblivio learn`, the demo,
    # compare and any data object built from it); other data by the content of its items
    spec = d.source if d.source is not None else {"data": data_fingerprint(d)}
    log(f"learning base and gold models of '{d.name}': {len(d.trained())} trained rows "
        f"({len(d.trained(without_forget=True))} without the forget set), "
        f"{len(d.items) - len(d.trained())} holdout rows never trained")
    wm = world_models(d, model_size=cfg.model.size, vocab_size=cfg.model.vocab_size, learn=cfg.learn,
                      world_spec=spec, progress=progress, log=log)
    bind_prompt(wm.tokenizer, cfg)
    return wm


def resolve_model(model: Any, tokenizer: Any, cfg: Config):
    """(model, tokenizer) of a directory, GGUF file or registered name, or of a loaded model and
    its tokenizer; the run's prompt format is bound to the tokenizer (:func:`bind_prompt`)."""
    if isinstance(model, (str, Path)):
        from oblivio.models.io import load_model
        model, tokenizer = load_model(model, dtype=cfg.model.dtype, trust_remote_code=cfg.model.trust_remote_code,
                                      allow_pickle=cfg.model.allow_pickle)
    if tokenizer is None:
        raise InputError("a loaded model needs its tokenizer (tokenizer=...)", field="tokenizer")
    bind_prompt(tokenizer, cfg)
    return model, tokenizer


def prompt_format(cfg: Config) -> Any:
    """The configured prompt format (``model.prompt``, ``model.system_prompt``), unresolved."""
    from oblivio.models.format import PromptFormat
    return PromptFormat(style=cfg.model.prompt, system=cfg.model.system_prompt)


def bind_prompt(tokenizer: Any, cfg: Config) -> Any:
    """Bind the configured prompt format to ``tokenizer``: training, every metric, generation
    and the attacks then use it (models/format.py). Returns the resolved format."""
    from oblivio.models.format import bind_format
    return bind_format(tokenizer, prompt_format(cfg))
