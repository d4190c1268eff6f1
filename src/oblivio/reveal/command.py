"""``oblivio reveal`` / ``api.reveal``: the self-generated forget set of a target, as JSONL.

Reveal and Release (Xie et al., Findings of EMNLP 2025, arXiv 2509.14624), the reveal step
alone, so that a user can read what the model gives away before releasing it. The task
comes from the config's ``reveal`` section; the target from ``data.targets`` (``--target``).
Which relevance is used: a person of the data's world — its known attribute values; else
``reveal.keywords`` or ``reveal.scorer``; else the ``key`` of every data row about the target.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from oblivio.config import Config
from oblivio.errors import InputError
from oblivio.reveal.pipeline import RevealResult, reveal
from oblivio.reveal.tasks import Task, data_entity_values, user_entity_task, world_task


def make_task(cfg: Config, data: Any, target: str | None) -> Task:
    r = cfg.reveal
    world = data is not None and data.source is not None and "n_people" in data.source
    if r.task != "entity":
        if not world:
            raise InputError(f"the {r.task} task needs the embedded world's data (--data world)", field="reveal.task")
        return world_task(r.task, data.source, relation=r.relation)
    if not target:
        raise InputError("name the entity to reveal: --target 'Name' (data.targets)", field="data.targets")
    if r.keywords or r.scorer:
        return user_entity_task(target, keywords=r.keywords, scorer=r.scorer)
    if world:
        from oblivio.world import WorldConfig
        from oblivio.world.graph import build_graph
        if target in build_graph(WorldConfig(**data.source)).people:
            return world_task("entity", data.source, target=target)
    vals = data_entity_values(data, target) if data is not None else ()
    return user_entity_task(target, keywords=vals)


def run_reveal(model: Any = None, data: Any = None, *, tokenizer: Any = None, config: Config | None = None,
               out: str | Path | None = None, progress: bool = True,
               log: Callable[[str], None] = print) -> RevealResult:
    """Reveal ``data.targets[0]`` (or the task's subject) from ``model`` and write the rows."""
    from oblivio.resolve import learn, load_data, resolve_model
    cfg = config or Config()
    model = model if model is not None else cfg.model.path
    d = None
    plain = cfg
    if data is not None or cfg.data.path is not None or model is None or not (cfg.reveal.keywords
                                                                               or cfg.reveal.scorer):
        # the target is the one to reveal, not the world's forget target: the world (and its
        # cached base) stays the configured one, which knows every person
        from oblivio.config import load_config, to_dict
        plain = load_config(overrides={"data": {"targets": []}, "world": {"targets": []}}, base=to_dict(cfg))
        d = load_data(data if data is not None else cfg.data.path, plain)
    names = list(cfg.data.targets or (d.targets if d is not None else ()))
    target = names[0] if names else None
    task = make_task(cfg, d, target)          # every bad input is settled before a model is loaded
    if model is None:
        if d is None or d.source is None:
            raise InputError("no model given: --model DIR", field="model.path")
        wm = learn(d, config=plain, progress=progress, log=log)
        model, tokenizer = wm.base, wm.tokenizer
    else:
        model, tokenizer = resolve_model(model, tokenizer, cfg)
    r = cfg.reveal
    log(f"revealing {task.kind} {task.name!r}: {len(task.pool)} candidate instructions, budget {r.budget} "
        f"({r.strategy})")
    res = reveal(model, tokenizer, task, strategy=r.strategy, budget=r.budget, top_k=r.top_k,
                 threshold=r.threshold, n=r.samples, nu=r.nu, seed=cfg.seed, embedder=r.embedder, log=log)
    if out is not None:
        from oblivio.data.schema import write_jsonl
        write_jsonl(res.rows, out)
        log(f"wrote {len(res.rows)} self-generated forget rows to {out}")
    return res
