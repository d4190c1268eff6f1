"""The ``reveal`` post-step: Reveal and Release's reveal step (Xie et al., Findings of EMNLP
2025, arXiv 2509.14624) on the run's model — an instruction search within ``reveal.budget``
queries, the best ``reveal.top_k`` instructions' filtered responses as self-generated forget
rows (reveal/pipeline.py).

``oblivio reveal`` is a run of this step alone (presets.REVEAL_PRESET: no training, no
evaluation; reveal/command.py). The task comes from the config's ``reveal`` section, the target
from ``data.targets`` (else the run's data's first target), the relevance as
reveal/command.py ``make_task`` says. Writes ``revealed.jsonl`` into the run folder (rows with
``set: forget``, the instruction and its score under ``meta.reveal``: usable as forget data),
the search's summary into results.json under ``reveal``, and hands the rows to the caller
(``UnlearnResult.outputs["reveal"]``, a RevealResult).
"""
from __future__ import annotations

from typing import Any

from oblivio.pipeline.post import RunContext
from oblivio.registry import POST_STEPS

ROWS_FILE = "revealed.jsonl"


@POST_STEPS.register("reveal")
class Reveal:
    """The self-generated forget set of the run's target, revealed by the run's model."""

    def run(self, ctx: RunContext) -> dict[str, Any]:
        from oblivio.data.schema import write_jsonl
        from oblivio.reveal.command import reveal_task
        from oblivio.reveal.pipeline import reveal
        task, target = reveal_task(ctx.cfg, ctx.data)
        r = ctx.cfg.reveal
        ctx.log(f"revealing {task.kind} {task.name!r}: {len(task.pool)} candidate instructions, budget {r.budget} "
                f"({r.strategy})")
        res = reveal(ctx.model, ctx.tokenizer, task, strategy=r.strategy, budget=r.budget, top_k=r.top_k,
                     threshold=r.threshold, n=r.samples, nu=r.nu, seed=ctx.cfg.seed, embedder=r.embedder,
                     log=ctx.log)
        ctx.outputs["reveal"] = res
        ctx.extra["reveal"] = {"task": task.kind, "name": task.name, "target": target, **res.to_json()}
        if ctx.work is not None:
            write_jsonl(res.rows, ctx.work / ROWS_FILE)
        return {"task": task.kind, "target": target, "rows": len(res.rows), "relevance": round(res.relevance, 4),
                "file": ROWS_FILE if ctx.work is not None else None}
