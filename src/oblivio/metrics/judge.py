"""TRU's unlearning quality UQ and retention quality RQ (Liao et al. 2026, arXiv 2603.09980),
from the configured judge's verdicts (eval/judging.py, ``eval.judge``).

UQ on forget prompts = mean(relevance, rejection, helpfulness); RQ on every other judged
role = mean(readability, specificity, logic); 0–10, per item, the set value their mean (so
fact-level intervals come with them, eval/intervals.py). Each criterion's mean is in
``extra["criteria"]``; items whose verdict did not parse are counted in
``extra["unparseable"]`` and left out — never scored 0.

The criteria and their mean are defined here, and the judges (judges/base.py) import them:
the metric needs no judge, so the judges package stands above the metrics package.
"""
from __future__ import annotations

import numpy as np

from oblivio.metrics.base import MetricResult, SetStats, register_metric

SRC = "TRU (Liao et al. 2026, arXiv 2603.09980)"
FORGET_CRITERIA = ("relevance", "rejection", "helpfulness")
RETAIN_CRITERIA = ("readability", "specificity", "logic")


def quality(scores: dict[str, float]) -> float:
    """UQ or RQ of one verdict: the mean of its three criteria."""
    return sum(scores.values()) / len(scores)


def _judged(s: SetStats, criteria: tuple[str, ...]) -> MetricResult:
    if "judge" not in s.computed:
        return MetricResult.skip(f"no judge verdicts for set '{s.role}' (eval.judge.kind: none, or no "
                                 "generations)")
    vals, ids, bad = [], [], 0
    per_crit: dict[str, list[float]] = {c: [] for c in criteria}
    for it in s.items:
        if not it.judged:
            continue
        if it.judge_scores is None:
            bad += 1
            continue
        vals.append(quality({c: it.judge_scores[c] for c in criteria}))
        ids.append(it.item.id)
        for c in criteria:
            per_crit[c].append(it.judge_scores[c])
    extra = {"unparseable": bad, "judged": len(vals) + bad,
             "criteria": {c: float(np.mean(v)) if v else None for c, v in per_crit.items()}}
    if not vals:
        return MetricResult(value=None, skipped=f"every verdict on set '{s.role}' was unparseable ({bad})",
                            extra=extra)
    if len(ids) < len(s.items):
        extra["item_ids"] = ids
        extra["n_items_without_input"] = len(s.items) - len(ids)
    return MetricResult(value=float(np.mean(vals)), per_item=vals, extra=extra)


@register_metric("uq", needs=("gen", "judge"), on_forget="higher", on_retain="info", source=SRC,
                 description="Unlearning quality (0–10): mean of the judge's relevance, rejection and "
                             "helpfulness on forget prompts.")
def uq(s: SetStats) -> MetricResult:
    from oblivio.roles import base_role
    if base_role(s.role) != "forget":
        return MetricResult.skip("UQ is scored on forget prompts only")
    return _judged(s, FORGET_CRITERIA)


@register_metric("rq", needs=("gen", "judge"), on_forget="info", on_retain="higher", source=SRC,
                 description="Retention quality (0–10): mean of the judge's readability, specificity and "
                             "logic on retain prompts.")
def rq(s: SetStats) -> MetricResult:
    from oblivio.roles import base_role
    if base_role(s.role) == "forget":
        return MetricResult.skip("RQ is scored on retain prompts only")
    if base_role(s.role) == "holdout":
        return MetricResult.skip("holdout items were never trained: nothing to retain")
    return _judged(s, RETAIN_CRITERIA)
