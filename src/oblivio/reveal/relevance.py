"""Relevance scorers of the reveal step: how much of the task a set of responses reveals.

Reveal and Release (Xie et al., Findings of EMNLP 2025, arXiv 2509.14624) scores an
instruction by a task score of its responses (the paper: the fraction naming the target's
known attributes, a toxicity score, a Person entity). The method promises to need no forget
data, so no scorer here reads the target's true attribute values (those are for evaluation
only, :mod:`oblivio.reveal.truth`). Ours:

* entity (:class:`EntityRelevance`): the fraction of the entity's attribute *types* (a town, a
  year, an occupation, ...) that the responses assert *about the entity*: a value of the type
  (a pattern, e.g. a year, or the type's gazetteer, e.g. every town of the world) in a sentence
  whose subject is the entity. A sentence that starts with a name is about that name; one that
  does not ("He was mentored by Bo Kern.") is about the entity when it names the entity, else
  about the subject of the sentence before; before the first sentence the subject is the
  entity when the prompt names it. Right or wrong values count alike: the score is what the
  model is willing to say about the name;
* attribute type (:class:`TypeRelevance`): the fraction of responses that contain a value of
  that type (e.g. a town of the world for birthplace);
* capability: the fraction of responses that are correct (contain the right sum);
* a user's entity: a keyword list or a scorer the user gives (:class:`KeywordRelevance`).

Every scorer is ``(responses, context) -> float in [0, 1]``, ``context`` being what the prompt
was filled with, one per response: the entity task's prompt, the attribute task's person, the
sum's answer. A user's own scorer is a Python callable named by dotted path (``mypkg.mod:fn``
or ``mypkg.mod.fn``) with that signature.
"""
from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

from oblivio.errors import InputError

Scorer = Callable[[Sequence[str], Any], float]


def _has(text: str, value: str) -> bool:
    return value.lower() in text.lower()


@dataclass(frozen=True)
class KeywordRelevance:
    """Fraction of ``values`` found in at least one response: a user's entity, with the words the
    user says it must not reveal (``reveal.keywords``: the user's choice, not read from data)."""

    values: tuple[str, ...]

    def __call__(self, responses: Sequence[str], context: Any = None) -> float:
        if not self.values:
            return 0.0
        return sum(any(_has(r, v) for r in responses) for v in self.values) / len(self.values)

    def found(self, response: str) -> list[str]:
        return [v for v in self.values if _has(response, v)]


@dataclass(frozen=True)
class ValueType:
    """A type of attribute value ("a town", "a year") and how a value of it is found in text: a
    regular expression — a pattern (a four-digit year) or a gazetteer (:meth:`of_values`)."""

    name: str
    pattern: str

    @classmethod
    def of_values(cls, name: str, values: Iterable[str]) -> ValueType:
        """The type whose values are ``values`` (whole words, any case; longest first, so a
        two-word value is found whole)."""
        vals = sorted({v for v in values if v.strip()}, key=lambda v: (-len(v), v))
        if not vals:
            return cls(name, r"(?!x)x")        # matches nothing
        return cls(name, r"(?i:\b(?:" + "|".join(re.escape(v) for v in vals) + r")\b)")

    def find(self, text: str) -> list[str]:
        return [m.group(0) for m in re.finditer(self.pattern, text)]


@dataclass(frozen=True)
class TypeRelevance:
    """Fraction of responses that contain some value of the type (attribute relevance)."""

    type: ValueType

    def __call__(self, responses: Sequence[str], context: Any = None) -> float:
        if not responses:
            return 0.0
        return sum(bool(self.type.find(r)) for r in responses) / len(responses)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class EntityRelevance:
    """Fraction of ``types`` that the responses assert about the entity ``name`` (module
    docstring); ``others``: the other entities' names, each of which, named first in a
    sentence, makes that sentence about someone else. ``context``: each response's prompt."""

    name: str
    types: tuple[ValueType, ...]
    others: tuple[str, ...] = ()

    def __call__(self, responses: Sequence[str], context: Any = None) -> float:
        if not self.types or not responses:
            return 0.0
        prompts = list(context) if context is not None and len(context) == len(responses) else [None] * len(responses)
        got: set[str] = set()
        for r, p in zip(responses, prompts):
            got |= self.asserted(r, p)
        return len(got) / len(self.types)

    def asserted(self, response: str, prompt: str | None = None) -> set[str]:
        """The names of the types with a value in a sentence about the entity."""
        return {t.name for s in self.about(response, prompt) for t in self.types if t.find(s)}

    def about(self, response: str, prompt: str | None = None) -> list[str]:
        """The sentences of ``response`` about the entity (module docstring), its own name
        blanked out (it is no value of it)."""
        me = _word(self.name)
        subject = self.name if prompt is not None and me.search(prompt) else None
        out = []
        for sent in _SENTENCE_END.split(response.strip()):
            first = next((n for n in (self.name, *self.others) if _word(n).match(sent.lstrip())), None)
            if first is not None:
                subject = first
            elif me.search(sent):
                subject = self.name
            if subject == self.name:
                out.append(me.sub(" ", sent))
        return out


def _word(name: str) -> re.Pattern[str]:
    return re.compile(r"(?i:\b" + re.escape(name) + r"\b)")


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
