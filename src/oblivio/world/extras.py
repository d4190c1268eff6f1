"""What the world's base and gold models learn beyond the QA items: open instructions about
people (:mod:`.instructions`) and a capability, arithmetic (:mod:`.capability`).

These rows are **not items of the world's** ``UnlearningData``: they have no set role, so the
standard forget / retain / test sets, their metrics and every unlearning method never see
them, and ``oblivio world`` does not write them. Only learning (``engine/learning.py``,
through :func:`learned_extras`) and the reveal step (``oblivio.reveal``, which builds its
own task data from them) read them. Roles, as learning uses them:

* base learns every trained instruction row (all trained people, the forget targets too)
  and every sum;
* gold learns the same without the rows about a forget target (gold never saw the targets),
  so the standard gold stays "retrained without the target";
* held-out probes (instruction families and arithmetic phrasings never trained) are learned
  by nobody; their text only goes into the tokenizer, as the world's held-out phrasings do.

Reveal and Release (Xie et al., Findings of EMNLP 2025, arXiv 2509.14624) needs them: a model
must answer "Tell me about X" with several facts for a name-only target to be revealed.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Mapping

from oblivio.data.schema import QAItem


@dataclass(frozen=True)
class Extras:
    base: tuple[QAItem, ...]     # rows the base learns beyond the world's trained items
    gold: tuple[QAItem, ...]     # the gold's: the same without rows about a forget target
    probes: tuple[QAItem, ...]   # held-out instruction families / phrasings (never trained)

    def texts(self) -> list[str]:
        """Text for the tokenizer (probes included, answers of trained rows)."""
        return [t for it in (*self.base, *self.probes) for t in (it.question, it.answer)]

    def digest(self) -> str:
        """Hash of what base and gold learn and the tokenizer reads (the model cache keys on it)."""
        rows = [[w, it.question, it.answer] for w, its in (("b", self.base), ("g", self.gold),
                                                            ("p", self.probes)) for it in its]
        return hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:16]


def world_extras(source: Mapping[str, Any]) -> Extras:
    """The extras of the world built from config ``source`` (``UnlearningData.source``)."""
    from oblivio.world import WorldConfig
    from oblivio.world.capability import arithmetic_probes, arithmetic_rows, n_sums
    from oblivio.world.graph import build_graph
    from oblivio.world.instructions import instruction_rows, probe_rows
    from oblivio.world.splits import choose_targets

    cfg = WorldConfig(**dict(source))
    graph = build_graph(cfg)
    targets = set(choose_targets(graph, cfg))
    people = graph.trained_people()
    ins = instruction_rows(graph, people)
    n = n_sums(cfg.n_people)
    arith = arithmetic_rows(cfg.seed, n)
    base = (*ins, *arith)
    gold = tuple(it for it in base if it.entity not in targets)
    return Extras(base, gold, (*probe_rows(graph, people), *arithmetic_probes(cfg.seed, n)))


def learned_extras(source: Mapping[str, Any] | None) -> Extras | None:
    """The extras to learn for data generated from ``source``; None for other data (a user's
    JSONL, TOFU: nothing is added to what the user gave)."""
    if source is None or "preset" not in source or "n_people" not in source:
        return None
    return world_extras(source)
