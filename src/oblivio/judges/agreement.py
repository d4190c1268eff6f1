"""A judge as a measured instrument: its agreement with human labels.

A UQ/RQ judge (Liao et al. 2026, arXiv 2603.09980, scored by our judges) means something
only once its agreement with scores given independently of it is known. The labels are a
JSONL file of hand-written responses (``tests/data/judge_labels.jsonl``; its rubric and
classes: ``tests/data/README.md``), one per line, each with the question, its ground truth,
the response, the way the response fails or succeeds (``class``), the human's three criterion
scores (``human``) and their mean (``score``, 0–10: UQ for a forget prompt, RQ for a retain
one), and a ``split``: ``dev`` (the rows a rule may be designed on) or ``heldout`` (scored
only to report; the rows a design never reads).

:func:`agreement` compares one judge's verdicts with the labels, per split and per prompt
kind: Spearman's ρ between the judge's score and the human score (scipy), and *accuracy*,
the share of rows where both fall on the same side of 5 (a good response, ≥ 5, or a bad one),
overall and per class, with the mean judge and human score per class. Verdicts that did not
parse are counted and left out.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from oblivio.errors import InputError
from oblivio.judges.base import JudgeInput
from oblivio.metrics.judge import FORGET_CRITERIA, RETAIN_CRITERIA, quality

SPLITS = ("dev", "heldout")
KINDS = ("forget", "retain")
GOOD = 5.0          # a score ≥ GOOD says "good response"; accuracy = same side as the human's
_TEXT = ("question", "answer", "key", "response", "class", "subject", "relation")


@dataclass(frozen=True)
class Label:
    """One labelled response: the judge's input and the human's scores."""

    id: str
    split: str
    kind: str            # "forget" (UQ) or "retain" (RQ)
    cls: str             # the way the response succeeds or fails, e.g. "salad", "partial_leak"
    human: dict[str, float]
    score: float         # mean of ``human``
    x: JudgeInput
    note: str = ""       # what makes the row adversarial, when it is


def _row(obj: Any, where: dict[str, Any]) -> Label:
    if not isinstance(obj, dict):
        raise InputError("a label row must be a JSON object", **where)
    kind, split = obj.get("kind"), obj.get("split")
    if kind not in KINDS:
        raise InputError(f"must be one of {', '.join(KINDS)}", field="kind", **where)
    if split not in SPLITS:
        raise InputError(f"must be one of {', '.join(SPLITS)}", field="split", **where)
    for f in _TEXT:
        if not isinstance(obj.get(f), str):
            raise InputError("must be a string", field=f, **where)
    crit = FORGET_CRITERIA if kind == "forget" else RETAIN_CRITERIA
    human = obj.get("human")
    if not isinstance(human, dict) or set(human) != set(crit) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 10 for v in human.values()):
        raise InputError(f"must give {', '.join(crit)}, each a number in 0–10", field="human", **where)
    score = obj.get("score")
    if not isinstance(score, (int, float)) or abs(score - quality(human)) > 0.01:
        raise InputError("must be the mean of 'human'", field="score", **where)
    lists = {}
    for f in ("forbidden", "type_values"):
        v = obj.get(f, [])
        if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
            raise InputError("must be a list of strings", field=f, **where)
        lists[f] = tuple(v)
    x = JudgeInput(role=kind, question=obj["question"], response=obj["response"], answer=obj["answer"],
                   key=obj["key"] or None, subject=obj["subject"] or None, relation=obj["relation"] or None,
                   forbidden=lists["forbidden"], type_values=lists["type_values"])
    return Label(str(obj.get("id", where["line"])), split, kind, obj["class"], {k: float(v) for k, v in human.items()},
                 float(score), x, str(obj.get("note", "")))


def load_labels(path: str | Path) -> list[Label]:
    """The rows of a labels file; a bad row is an InputError naming its line and field."""
    p = Path(path)
    if not p.is_file():
        raise InputError("labels file not found", file=str(p))
    out = []
    for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as e:
            raise InputError(f"not JSON ({e})", file=str(p), line=n) from None
        out.append(_row(obj, {"file": str(p), "line": n}))
    if not out:
        raise InputError("no label rows", file=str(p))
    return out


def _rho(a: Sequence[float], b: Sequence[float]) -> float | None:
    if len(a) < 3 or len(set(a)) < 2 or len(set(b)) < 2:
        return None       # undefined on a constant side
    from scipy.stats import spearmanr  # lazy: the registry imports this module for `oblivio ls`
    r = float(spearmanr(a, b).statistic)
    return None if math.isnan(r) else round(r, 4)


def _side(v: float) -> bool:
    return v >= GOOD


def _group(rows: list[tuple[Label, dict[str, float] | None]]) -> dict[str, Any]:
    scored = [(lab, quality({c: v[c] for c in lab.x.criteria})) for lab, v in rows if v is not None]
    judge = [s for _, s in scored]
    human = [lab.score for lab, _ in scored]
    out: dict[str, Any] = {"n": len(rows), "unparseable": len(rows) - len(scored), "spearman": _rho(judge, human),
                           "accuracy": round(float(np.mean([_side(j) == _side(h) for j, h in zip(judge, human)])), 4)
                           if scored else None}
    crit = {c for lab, _ in scored for c in lab.x.criteria}
    out["criteria"] = {c: _rho([v[c] for lab, v in rows if v is not None and c in lab.human],
                               [lab.human[c] for lab, v in rows if v is not None and c in lab.human])
                       for c in sorted(crit)}
    classes: dict[str, Any] = {}
    for cls in sorted({lab.cls for lab, _ in scored}):
        pairs = [(j, lab.score) for lab, j in scored if lab.cls == cls]
        classes[cls] = {"n": len(pairs), "accuracy": round(float(np.mean([_side(j) == _side(h) for j, h in pairs])), 4),
                        "judge_mean": round(float(np.mean([j for j, _ in pairs])), 2),
                        "human_mean": round(float(np.mean([h for _, h in pairs])), 2)}
    out["classes"] = classes
    return out


def agreement(labels: Sequence[Label], verdicts: Sequence[dict[str, float] | None]) -> dict[str, Any]:
    """Agreement of ``verdicts`` (one per label, a judge's ``score`` output) with the labels:
    for each split and ``all``, for each kind and both together (see module docstring)."""
    if len(labels) != len(verdicts):
        raise ValueError(f"{len(labels)} labels but {len(verdicts)} verdicts")
    pairs = list(zip(labels, verdicts))
    out: dict[str, Any] = {}
    for split in (*SPLITS, "all"):
        in_split = [(lab, v) for lab, v in pairs if split in ("all", lab.split)]
        out[split] = {kind: _group([(lab, v) for lab, v in in_split if kind in ("both", lab.kind)])
                      for kind in (*KINDS, "both")}
    return out
