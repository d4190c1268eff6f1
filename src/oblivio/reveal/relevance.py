"""Relevance scorers of the reveal step: how much of the task a set of responses reveals.

Reveal and Release (Xie et al., Findings of EMNLP 2025, arXiv 2509.14624) scores an
instruction by a task score of its responses (the paper: the fraction naming the target's
known attributes, a toxicity score, a Person entity). Ours:

* entity: the fraction of the target's known attribute values that appear in the responses
  (exact, case-insensitive substring; for a user's target the values are a keyword list);
* attribute type: the fraction of responses that contain a value of that type (any of the
  world's values of the relation: a town for birthplace);
* capability: the fraction of responses that are correct (contain the right sum).

Every scorer is ``(responses, context) -> float in [0, 1]``, ``context`` being what the
prompt was filled with (the sum's answer, the person); a user's own scorer is a Python
callable named by dotted path (``mypkg.mod:fn`` or ``mypkg.mod.fn``) with that signature.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from oblivio.errors import InputError

Scorer = Callable[[Sequence[str], Any], float]


def _has(text: str, value: str) -> bool:
    return value.lower() in text.lower()


@dataclass(frozen=True)
class KeywordRelevance:
    """Fraction of ``values`` found in at least one response (entity relevance)."""

    values: tuple[str, ...]

    def __call__(self, responses: Sequence[str], context: Any = None) -> float:
        if not self.values:
            return 0.0
        return sum(any(_has(r, v) for r in responses) for v in self.values) / len(self.values)

    def found(self, response: str) -> list[str]:
        return [v for v in self.values if _has(response, v)]


@dataclass(frozen=True)
class TypeRelevance:
    """Fraction of responses that contain some value of the type (attribute relevance)."""

    values: tuple[str, ...]

    def __call__(self, responses: Sequence[str], context: Any = None) -> float:
        if not responses:
            return 0.0
        return sum(any(_has(r, v) for v in self.values) for r in responses) / len(responses)


@dataclass(frozen=True)
class Correctness:
    """Fraction of responses that contain their context's correct answer (capability);
    ``context``: one correct answer per response."""

    def __call__(self, responses: Sequence[str], context: Any = None) -> float:
        if not responses:
            return 0.0
        answers = list(context or [])
        if len(answers) != len(responses):
            raise ValueError(f"{len(answers)} correct answers for {len(responses)} responses")
        return sum(_has(r, a) for r, a in zip(responses, answers)) / len(responses)


def load_callable(path: str, *, field: str = "reveal.scorer") -> Scorer:
    """A user's scorer by dotted path (``pkg.mod:fn`` or ``pkg.mod.fn``)."""
    mod_name, _, attr = path.partition(":") if ":" in path else path.rpartition(".")
    if not mod_name or not attr:
        raise InputError(f"expected a dotted path such as 'mypkg.scoring:relevance', got {path!r}", field=field)
    try:
        fn = getattr(importlib.import_module(mod_name), attr)
    except (ImportError, AttributeError) as e:
        raise InputError(f"cannot import {path!r}: {e}", field=field) from None
    if not callable(fn):
        raise InputError(f"{path!r} is not callable", field=field)
    return fn


def harmonic(relevance: float, diversity: float, *, weight: float = 0.5) -> float:
    """Weighted harmonic mean of relevance and (normalised) diversity, both in [0, 1]:
    1 / (w/R + (1−w)/D); 0 when either is 0. ``weight`` is relevance's share."""
    if relevance <= 0 or diversity <= 0:
        return 0.0
    return 1.0 / (weight / relevance + (1.0 - weight) / diversity)
