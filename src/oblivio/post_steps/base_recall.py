"""The ``base_recall`` post-step: how much of what it was trained on the base model recalls —
item-weighted accuracy over every trained set (every role but ``holdout``), on the training
phrasings and on held-out paraphrases. The demo runs it: a base model that never learned its
facts makes any forgetting look free."""
from __future__ import annotations

from typing import Any

from oblivio.pipeline.post import RunContext
from oblivio.registry import POST_STEPS


def base_recall(report: Any) -> dict[str, float]:
    """Item-weighted accuracy of ``report`` (an EvalReport) over every trained set, on training
    (``accuracy``) and on held-out phrasings (``para_accuracy``); nan where nothing was measured."""
    tot = {"train": [0.0, 0], "heldout": [0.0, 0]}
    from oblivio.roles import base_role
    for role, ms in report.sets.items():
        if base_role(role) == "holdout":
            continue
        n = len(report.item_ids.get(role, []))
        for key, metric in (("train", "accuracy"), ("heldout", "para_accuracy")):
            r = ms.get(metric)
            if r is not None and r.value is not None:
                tot[key][0] += r.value * n
                tot[key][1] += n
    return {k: (v / n if n else float("nan")) for k, (v, n) in tot.items()}


@POST_STEPS.register("base_recall")
class BaseRecall:
    """The base model's recall, from the run's own evaluation of it (no extra model pass)."""

    def run(self, ctx: RunContext) -> dict[str, Any]:
        base = ctx.reports.get("base")
        if base is None:
            ctx.log("base_recall: the base model was not evaluated (eval.enabled is off)")
            return {"train": None, "heldout": None}
        rec = base_recall(base)
        ctx.log(f"base model recall: {rec['train']:.1%} of training facts exactly (greedy answer contains the "
                f"object), {rec['heldout']:.1%} on held-out phrasings")
        return rec
