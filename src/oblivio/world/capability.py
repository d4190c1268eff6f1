"""A capability of the embedded world that can be forgotten as a whole: arithmetic facts.

Reveal and Release (Xie et al., Findings of EMNLP 2025, arXiv 2509.14624) forgets a skill
(coding) while keeping others; the world's stand-in is a table of sums ("What is 17 plus
25?" -> "17 plus 25 is 42."), learned by the base alongside the people, organisations and
places. A tiny model learned from scratch memorises the table rather than learning to add,
so the capability is *these sums*; held-out phrasings of the same sums (never trained) test
that it is the sum that is known, not one string. Deterministic per world seed.
"""
from __future__ import annotations

import random

from oblivio.data.schema import QAItem

TRAIN_PHRASINGS = ("What is {a} plus {b}?", "Add {a} and {b}.", "What do you get when you add {a} and {b}?")
HELDOUT_PHRASINGS = ("How much is {a} plus {b}?", "What is the sum of {a} and {b}?")
ANSWER = "{a} plus {b} is {c}."


def n_sums(n_people: int) -> int:
    """Table size: grows with the world so that the capability weighs about as much as the
    people's instructions (default world: 40 sums)."""
    return max(12, n_people + n_people // 3)


def sums(seed: int, n: int) -> list[tuple[int, int]]:
    """``n`` distinct (a, b) pairs with 10 <= a, b <= 59, deterministic per seed."""
    rng = random.Random(f"oblivio-arithmetic:{seed}")
    pairs = [(a, b) for a in range(10, 60) for b in range(10, 60)]
    return rng.sample(pairs, n)


def _row(i: int, k: int, a: int, b: int, template: str, heldout: bool) -> QAItem:
    return QAItem(id=f"{'arp' if heldout else 'ar'}-{i:03d}-{k}", question=template.format(a=a, b=b),
                  answer=ANSWER.format(a=a, b=b, c=a + b), role="general", key=str(a + b),
                  fact=f"sum-{i:03d}", relation="arithmetic",
                  meta={"task": "arithmetic", "values": [str(a + b)], "heldout": heldout,
                        "family": f"{'heldout' if heldout else 'train'}-{k}"})


def arithmetic_rows(seed: int, n: int) -> list[QAItem]:
    """The trained rows: every sum in every training phrasing."""
    return [_row(i, k, a, b, t, False) for i, (a, b) in enumerate(sums(seed, n))
            for k, t in enumerate(TRAIN_PHRASINGS)]


def arithmetic_probes(seed: int, n: int) -> list[QAItem]:
    """Held-out phrasings of the same sums (never trained)."""
    return [_row(i, k, a, b, t, True) for i, (a, b) in enumerate(sums(seed, n))
            for k, t in enumerate(HELDOUT_PHRASINGS)]
