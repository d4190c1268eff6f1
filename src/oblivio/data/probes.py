"""The probe fields of an item as items of their own: what learning adds, what attacks ask.

An item may carry a second-language version of itself (``xl_question`` / ``xl_answer``, a
held-out ``xl_paraphrased_question``, optionally ``xl_key``) and a reverse query
(``reverse_question`` / ``reverse_answer`` / ``reverse_key``: object → subject). The model
that knows the item learns these too — :func:`probe_training_items` turns them into training
items for the base and gold models (engine/learning.py) — while unlearning never sees them:
samplers and collation read only ``question`` / ``answer`` of the data's items, and these
derived items are never part of an :class:`UnlearningData`. The cross-lingual attack (TRU,
Liao et al., arXiv 2603.09980) and the reverse attack (RWKU, arXiv 2406.10890; the reversal
curse, Berglund et al., arXiv 2309.12288) ask them through :func:`xl_probe_items` and
:func:`reverse_probe_items`.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from oblivio.data.schema import QAItem


def _probe(it: QAItem, suffix: str, question: str, answer: str, key: str | None) -> QAItem:
    return dataclasses.replace(it, id=f"{it.id}~{suffix}", question=question, answer=answer, key=key,
                               paraphrased_question=None, paraphrased_question_answer=None,
                               paraphrased_answer=None, perturbed_answers=(),
                               xl_question=None, xl_answer=None, xl_paraphrased_question=None, xl_key=None,
                               reverse_question=None, reverse_answer=None, reverse_key=None)


def probe_training_items(items: Sequence[QAItem]) -> list[QAItem]:
    """The trained second-language and reverse questions of ``items`` as training items, each
    distinct (question, answer) once (the world repeats a fact's probes over its phrasings),
    never one that is already an item of ``items``. Held-out phrasings are never included."""
    seen = {(it.question, it.answer) for it in items}
    out: list[QAItem] = []
    for it in items:
        cands = []
        if it.xl_question and it.xl_answer:
            cands.append(_probe(it, "xl", it.xl_question, it.xl_answer, it.xl_key or it.key))
        if it.reverse_question and it.reverse_answer:
            cands.append(_probe(it, "rev", it.reverse_question, it.reverse_answer, it.reverse_key))
        for c in cands:
            if (c.question, c.answer) not in seen:
                seen.add((c.question, c.answer))
                out.append(c)
    return out


def _distinct(items: list[QAItem]) -> list[QAItem]:
    seen: set[str] = set()
    out = []
    for it in items:
        if it.question not in seen:
            seen.add(it.question)
            out.append(it)
    return out


def xl_probe_items(items: Sequence[QAItem], *, heldout: bool = True) -> list[QAItem]:
    """Per item its second-language probe, keeping the item's id (so the audit scores the same
    item without the attack): ``heldout`` — the never-trained ``xl_paraphrased_question``
    (else, for data that carries only a translation, ``xl_question``); not ``heldout`` — the
    trained ``xl_question``. Answer ``xl_answer``, key ``xl_key`` (else ``key``); each distinct
    question once; items without a probe are left out."""
    out = []
    for it in items:
        q = (it.xl_paraphrased_question or it.xl_question) if heldout else it.xl_question
        if q and it.xl_answer:
            out.append(dataclasses.replace(_probe(it, "", q, it.xl_answer, it.xl_key or it.key), id=it.id))
    return _distinct(out)


def reverse_probe_items(items: Sequence[QAItem]) -> list[QAItem]:
    """Per item its reverse query (answer ``reverse_answer``, key ``reverse_key``: the subject),
    keeping the item's id; each distinct question once; items without one are left out."""
    out = [dataclasses.replace(_probe(it, "", it.reverse_question, it.reverse_answer, it.reverse_key), id=it.id)
           for it in items if it.reverse_question and it.reverse_answer]
    return _distinct(out)
