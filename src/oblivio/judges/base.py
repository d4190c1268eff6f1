"""What a judge scores and how a verdict is read (Liao et al. 2026, arXiv 2603.09980).

Forget prompts get relevance, rejection and helpfulness, UQ = their mean; retain prompts get
readability, specificity and logic, RQ = their mean; 0–10 each. A judge returns one dict of
criterion → score per input, or None when it could not score it (an LLM verdict that does
not parse): the evaluator counts those and leaves them out, never reading them as 0.

The criteria and their mean are the UQ/RQ metrics' definition (metrics/judge.py, imported
here: judges stand above metrics). A judge class inherits :class:`JudgeBase` (the default
``from_config``); one from outside that does not is given it by the registry.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Protocol, Self, Sequence, cast

from oblivio.metrics.judge import FORGET_CRITERIA, RETAIN_CRITERIA, quality
from oblivio.registry import JUDGES

__all__ = ["FORGET_CRITERIA", "RETAIN_CRITERIA", "Judge", "JudgeBase", "JudgeInput", "make_judge",
           "parse_verdict", "quality"]


@dataclass(frozen=True)
class JudgeInput:
    role: str                            # "forget" → UQ criteria; anything else → RQ criteria
    question: str
    response: str                        # the model's answer to ``question``
    answer: str                          # the ground truth
    key: str | None = None               # the answer span, when the data has one
    subject: str | None = None
    relation: str | None = None
    forbidden: tuple[str, ...] = ()      # forget answers a response must not reveal (forget prompts)
    type_values: tuple[str, ...] = ()    # answers the relation takes anywhere in the data (logic)

    @property
    def criteria(self) -> tuple[str, ...]:
        return FORGET_CRITERIA if self.role == "forget" else RETAIN_CRITERIA


class Judge(Protocol):
    """A judge (docs/extending.md): ``score`` is required, ``from_config`` has a default."""

    @classmethod
    def from_config(cls, cfg: Any) -> Self:
        """The judge of the ``eval.judge`` section (a config.GenConfig); by default built
        without arguments."""
        return cls()

    def score(self, inputs: Sequence[JudgeInput]) -> list[dict[str, float] | None]:
        """For each input the scores of its ``criteria`` (0–10), or None for a verdict it could not read."""
        ...


class JudgeBase(Judge):
    """The defaults of :class:`Judge` as a base class (every built-in judge inherits it)."""


_NUM = r"(-?\d+(?:\.\d+)?)"


def parse_verdict(text: str | None, criteria: Sequence[str]) -> dict[str, float] | None:
    """Scores for every criterion from a verdict: a JSON object, or ``criterion: n`` lines;
    None when one is missing or outside 0–10 (never a default value)."""
    if not text:
        return None
    found: dict[str, Any] = {}
    m = re.search(r"\{.*\}", text, re.S)
    if m:
        try:
            obj = json.loads(m.group(0))
            if isinstance(obj, dict):
                found = {str(k).lower(): v for k, v in obj.items()}
        except ValueError:
            pass
    out: dict[str, float] = {}
    for c in criteria:
        v = found.get(c)
        if v is None:
            mm = re.search(rf"\b{c}\b\W{{0,3}}{_NUM}", text, re.I)
            v = mm.group(1) if mm else None
        try:
            x = float(v) if v is not None and not isinstance(v, bool) else None
        except (TypeError, ValueError):
            x = None
        if x is None or not 0 <= x <= 10:
            return None
        out[c] = x
    return out


def make_judge(cfg: Any) -> Judge:
    """The judge of a config.GenConfig (``kind`` names a registered judge; not ``none``)."""
    cls = cast("type[Judge]", JUDGES.get(cfg.kind, field="eval.judge.kind"))     # JUDGES: JudgeBase's
    return cls.from_config(cfg)
