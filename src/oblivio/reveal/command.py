"""``oblivio reveal`` / ``api.reveal``: the self-generated forget set of a target, as a run.

Reveal and Release (Xie et al., Findings of EMNLP 2025, arXiv 2509.14624), the reveal step
alone, so that a user can read what the model gives away before releasing it. A reveal is a
:class:`~oblivio.pipeline.run.Run` of presets.REVEAL_PRESET — no training, no evaluation —
whose ``reveal`` post-step (post_steps/reveal.py) writes ``revealed.jsonl`` into the run folder
and a summary into results.json; the model is unchanged, so no model/ is saved, and the run's
config.yaml reruns it (``oblivio reveal --config RUN/config.yaml``). An ``--out`` that ends in
``.jsonl`` is the JSONL file of earlier versions: the rows are written there too, and the run
folder is beside it, named by its stem (``revealed.jsonl`` → ``revealed/``).

The task comes from the config's ``reveal`` section; the target from ``data.targets``
(``--targets``). Which relevance is used: a person of the data's world — the types of its
attributes (the world's value pools, never the person's own values); else ``reveal.keywords`` or
``reveal.scorer``; else the types of the target's relations, learned from the other entities'
rows of the data (reveal/tasks.py ``data_entity_task``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from oblivio.config import Config, load_config, to_dict
from oblivio.errors import InputError
from oblivio.progress import say
from oblivio.reveal.pipeline import RevealResult
from oblivio.reveal.tasks import Task, data_entity_task, user_entity_task, world_task


def make_task(cfg: Config, data: Any, target: str | None) -> Task:
    r = cfg.reveal
    world = data is not None and data.source is not None and "n_people" in data.source
    if r.task != "entity":
        if not world:
            raise InputError(f"the {r.task} task needs the embedded world's data (--data world)", field="reveal.task")
        return world_task(r.task, data.source, relation=r.relation)
    if not target:
        raise InputError("name the entity to reveal: --targets 'Name' (data.targets)", field="data.targets")
    if r.keywords or r.scorer:
        return user_entity_task(target, keywords=r.keywords, scorer=r.scorer)
    if world:
        from oblivio.world import WorldConfig
        from oblivio.world.graph import build_graph
        if target in build_graph(WorldConfig(**data.source)).people:
            return world_task("entity", data.source, target=target)
    if data is None:
        return user_entity_task(target)
    # relevance from the types of the target's attributes, learned from other entities' rows:
    # the target's own answers are what the method promises not to need (evaluation only)
    return data_entity_task(data, target)


def reveal_task(cfg: Config, data: Any) -> tuple[Task, str | None]:
    """(task, target) of a reveal: the target is ``data.targets[0]``, else the data's first."""
    names = list(cfg.data.targets or (data.targets if data is not None else ()))
    target = names[0] if names else None
    return make_task(cfg, data, target), target


def reveal_data(cfg: Config, model: Any, data: Any) -> Any:
    """The data a reveal reads (None: none needed — a model of one's own and keywords or a
    scorer). Loaded without targets: the target is the one to reveal, not the world's forget
    target, so the world (and its cached base, which knows every person) stays the configured one."""
    from oblivio.resolve import load_data
    model = model if model is not None else cfg.model.path
    if data is None and cfg.data.path is None and model is not None and (cfg.reveal.keywords or cfg.reveal.scorer):
        return None
    plain = load_config(overrides={"data": {"targets": []}, "world": {"targets": []}}, base=to_dict(cfg))
    return load_data(data if data is not None else cfg.data.path, plain)


def reveal_config(cfg: Config) -> Config:
    """``cfg`` as a reveal run: presets.REVEAL_PRESET, and the ``reveal`` post-step first."""
    from oblivio.presets import REVEAL_PRESET
    steps = ["reveal", *(s for s in cfg.post_steps if s != "reveal")]
    return load_config(overrides={**REVEAL_PRESET, "post_steps": steps}, base=to_dict(cfg))


def run_folder_of(out: str | Path | None) -> tuple[Path | None, Path | None]:
    """(run folder, JSONL file) of ``--out``: a folder; or a ``.jsonl`` file (earlier versions'
    output) with the run folder beside it, named by its stem."""
    if out is None:
        return None, None
    p = Path(out)
    if p.suffix.lower() == ".jsonl":
        return p.with_suffix(""), p
    return p, None


def run_reveal(model: Any = None, data: Any = None, *, tokenizer: Any = None, config: Config | None = None,
               out: str | Path | None = None, overwrite: bool = False, progress: bool = True,
               log: Callable[[str], None] = say) -> RevealResult:
    """Reveal ``data.targets[0]`` (or the task's subject) from ``model`` (default: the world's
    base) as a run into ``out`` (see the module docstring); every bad input is refused before
    a model is loaded or anything written."""
    from oblivio.pipeline.run import Run
    cfg = reveal_config(config or Config())
    d = reveal_data(cfg, model, data)
    reveal_task(cfg, d)
    folder, jsonl = run_folder_of(out)
    if jsonl is not None:
        from oblivio.paths import check_writable
        check_writable(str(jsonl), kind="file", overwrite=overwrite)
    res = Run.from_args(model, d, tokenizer=tokenizer, config=cfg, run_dir=folder, overwrite=overwrite,
                        progress=progress, log=log, kind="reveal").execute()
    found: RevealResult = res.outputs["reveal"]
    found.run_dir = folder
    if jsonl is not None:
        from oblivio.data.schema import write_jsonl
        write_jsonl(found.rows, jsonl)
        log(f"wrote {len(found.rows)} self-generated forget rows to {jsonl}")
    return found
