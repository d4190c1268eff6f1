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
from oblivio.progress import say

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
        from oblivio.data.tofu import LEARN_SPLITS, load_tofu
        split = scheme[1] or TOFU_DEFAULT_SPLIT
        if split in LEARN_SPLITS:
            raise InputError(f"tofu:{split} has no forget set: it is data to fine-tune on (oblivio learn --data "
                             f"tofu:{split} --model MODEL); unlearning and evaluation take tofu:forget01|05|10",
                             field="data.path")
        d = load_tofu(split, root=cfg.data.tofu_dir, n_retain_authors=cfg.data.tofu_retain_authors,
                      holdout_authors=cfg.data.tofu_holdout_authors, include_general=cfg.data.tofu_general,
                      seed=world_seed(cfg), neighbour_map=cfg.data.neighbour_map,
                      general_trained=cfg.data.tofu_general_trained, allow_download=cfg.data.tofu_allow_download,
                      log=say)
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


def learn(data: Any = None, *, config: Config | None = None, model: Any = None, progress: bool = True,
          log: Log = say):
    """Base and gold models (cached) for ``data``: a JSONL path, ``"tofu:..."``, an
    ``UnlearningData`` or, when both ``data`` and ``config.data.path`` are None, the embedded
    world. Base learns every trained row (forget, retain roles and their ``*_test`` rows; never
    ``holdout``), gold the same without the forget rows.

    Without ``model`` (or ``config.model.path``) both are tiny models trained from scratch: a
    ``WorldModels``, whose ``recall`` is the base's greedy answer accuracy on the rows it was
    trained on (engine/learning.py ``base_recall``; below 0.9 a warning names the fix). With
    one (a folder, ``.gguf`` file or registered name) both are that pretrained model fine-tuned
    with the ``finetune`` recipe (TOFU's; engine/finetuning.py): a ``LearnedModels``. On TOFU,
    ``"tofu:full"`` learns the base model only and, with ``data.tofu_gold_split``, that split's
    gold; ``"tofu:retain99|95|90"`` one gold model; ``data.tofu_retain_authors`` (``--subset``)
    a subset of the authors (data/tofu.py ``learning_sets``)."""
    cfg = config or Config()
    spec = data if data is not None else cfg.data.path
    if model is not None or cfg.model.path is not None:
        return _finetune(spec, model if model is not None else cfg.model.path, cfg, progress=progress, log=log)
    _only_with_a_model(spec, cfg)
    from oblivio.engine.learning import data_fingerprint, world_models
    d = load_data(spec, cfg)
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


def _only_with_a_model(spec: Any, cfg: Config) -> None:
    """The learning options that only fine-tuning a pretrained model has: an InputError without one."""
    scheme = data_scheme(spec) if isinstance(spec, str) else None
    from oblivio.data.tofu import LEARN_SPLITS
    if scheme is not None and scheme[0] == "tofu" and scheme[1] in LEARN_SPLITS:
        raise InputError(f"tofu:{scheme[1]} is learned by fine-tuning a pretrained model: give it with --model "
                         "(e.g. --model smollm2-135m-instruct)", field="model.path")
    if cfg.data.tofu_gold_split is not None:
        raise InputError("--gold-split fine-tunes TOFU's gold model: give the pretrained model with --model",
                         field="data.tofu_gold_split")


def learning_data(spec: Any, cfg: Config) -> tuple[dict[str, list[Any]], dict[str, Any]]:
    """(rows each model learns, by name; the record of their scale) for fine-tuning on ``spec``:
    TOFU's full or retain splits (data/tofu.py ``learning_sets``), or any data's trained rows
    (base) and the same without the forget set (gold)."""
    scheme = data_scheme(spec) if isinstance(spec, str) else None
    if scheme is not None and scheme[0] == "tofu":
        from oblivio.data.tofu import learning_sets
        ls = learning_sets(scheme[1] or TOFU_DEFAULT_SPLIT, gold_split=cfg.data.tofu_gold_split,
                           n_retain_authors=cfg.data.tofu_retain_authors,
                           holdout_authors=cfg.data.tofu_holdout_authors, seed=cfg.seed, root=cfg.data.tofu_dir,
                           allow_download=cfg.data.tofu_allow_download, log=say)
        return ls.sets, ls.record
    if cfg.data.tofu_gold_split is not None:
        raise InputError("--gold-split is TOFU's (--data tofu:full)", field="data.tofu_gold_split")
    d = load_data(spec, cfg)
    sets = {"base": d.trained(), "gold": d.trained(without_forget=True)}
    return sets, {"data": d.name, **({"provenance": d.provenance} if d.provenance else {}),
                  "models": {n: {"items": len(v)} for n, v in sets.items()}}


def _finetune(spec: Any, model: Any, cfg: Config, *, progress: bool, log: Log):
    from oblivio.engine.finetuning import finetune_models
    if not isinstance(model, (str, Path)):
        raise InputError("learn fine-tunes a model given by its folder, .gguf file or registered name",
                         field="model.path")
    sets, record = learning_data(spec, cfg)
    log(f"fine-tuning {model} on '{record['data']}': " + ", ".join(
        f"{n} {len(v)} rows" for n, v in sets.items()))
    return finetune_models(model, sets, cfg, record=record, progress=progress, log=log)


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
