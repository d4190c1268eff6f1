"""The attack contract: an attack is a registered object that turns (model, forget items)
into what is then scored — an attacked model, transformed forget items (and prompt format),
or, for probes that do not generate (the logit lens), the scores themselves.

``apply(model, tokenizer, data, seed=...) -> Attacked``. The audit runner
(:mod:`oblivio.attacks.audit`) hands each attack a private copy of the model when the attack
declares ``modifies_model``, then scores the returned forget items with the one evaluator
(greedy answer accuracy and answer probability). Transformed items keep their ids, so the
runner can score the same items without the attack. Robustness assessment of the survey of
Liu et al. 2024 ("Rethinking Machine Unlearning for LLMs", arXiv 2402.08787).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from oblivio.data.schema import QAItem, UnlearningData
from oblivio.models.format import PromptFormat
from oblivio.registry import ATTACKS


@dataclass
class Attacked:
    """What an attack returns. ``None`` fields mean "as given": the model passed in, every
    forget item, the default prompt format."""

    model: Any = None
    items: list[QAItem] | None = None
    fmt: PromptFormat | None = None
    scores: dict[str, float | None] | None = None   # set only by attacks that score themselves
    per_item: dict[str, float] | None = None        # with ``scores``: item id -> 0/1 (the bootstrap's input)
    # with ``scores``: the same probe's score without the attack (the logit lens at the output
    # layer), so the recovery compares one readout; None: the evaluator's greedy scores
    clean_scores: dict[str, float | None] | None = None
    note: str = ""
    details: dict[str, Any] = dataclasses.field(default_factory=dict)   # per-model extras for the record
    skipped: str = ""   # why the attack does not apply to this data (the record says so; never a score of 0)


class Attack(Protocol):
    """``modifies_model``: True — the runner passes a copy (weights are changed), and the retain
    score under the attack is the attacked model on plain retain items; False — the retain
    score is the attack applied to retain items (:func:`oblivio.attacks.audit.run_audit`). An
    attack whose retain score means nothing may set ``retain_score = False``; attacks that
    score themselves (``Attacked.scores``) get none."""

    modifies_model: ClassVar[bool]
    paper: ClassVar[str]

    def apply(self, model: Any, tokenizer: Any, data: UnlearningData, *, seed: int = 0) -> Attacked: ...


# the registry lives in oblivio.registry (discovery: every module of this package, entry points
# in group ``oblivio.attacks``, dotted paths); re-exported here for the attacks' decorators
__all__ = ["ATTACKS", "Attack", "Attacked", "by_fact", "rewrite"]


def rewrite(items: Sequence[QAItem], question: Callable[[QAItem], str | None]) -> list[QAItem]:
    """Items with their question replaced by ``question(item)``; items mapped to None are dropped
    (an attack that does not apply to an item does not score it)."""
    out = []
    for it in items:
        q = question(it)
        if q is not None:
            out.append(dataclasses.replace(it, question=q))
    return out


def by_fact(items: Sequence[QAItem]) -> dict[str, list[QAItem]]:
    """Items grouped by fact (``fact`` field; an item without one is its own fact), in first-seen
    order: phrasings of one fact are never split between an attack's halves."""
    groups: dict[str, list[QAItem]] = {}
    for it in items:
        groups.setdefault(it.fact or it.id, []).append(it)
    return groups


def content_key(item: QAItem) -> str:
    """An item's own text (question and answer): what a per-item draw is seeded with and a
    fact without a name is sorted by. Never its id: a JSONL row without one is named by the
    file and line (``my.jsonl:3``), and a result must not change with the file's name."""
    return f"{item.question}\x00{item.answer}"


def sorted_facts(groups: dict[str, list[QAItem]]) -> list[str]:
    """The keys of :func:`by_fact`'s ``groups`` in an order that depends on the data's content
    only: named facts by name, then the facts of one unnamed item (keyed by its id) by that
    item's text (:func:`content_key`)."""
    return sorted(groups, key=lambda f: (0, f) if groups[f][0].fact else (1, content_key(groups[f][0])))
