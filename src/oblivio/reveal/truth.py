"""Evaluation only: how much of the target's true answers the revealed text holds.

Reveal and Release (Xie et al., Findings of EMNLP 2025, arXiv 2509.14624) promises unlearning
without the forget data, so the reveal step's relevance and filter never read the true
answers (:mod:`oblivio.reveal.relevance`). Whether what was revealed is *true* is still worth
knowing — a search can be fooled into rewarding confident nonsense — so where the truth is
known (a world's person, a data set's rows about the target: ``Task.truth``) it is measured
here, after the fact, and only reported:

* ``recall``: the fraction of the true values that appear (case-insensitive substring) in at
  least one revealed row;
* ``rows_with_truth``: the fraction of revealed rows that contain at least one true value.
"""
from __future__ import annotations

from typing import Any, Sequence


def truth_recall(texts: Sequence[str], truth: Sequence[str]) -> dict[str, Any]:
    """``recall``, ``rows_with_truth`` (module docstring), the values ``found`` and the counts."""
    vals = [v for v in dict.fromkeys(truth) if v.strip()]
    low = [t.lower() for t in texts]
    found = [v for v in vals if any(v.lower() in t for t in low)]
    with_truth = sum(any(v.lower() in t for v in vals) for t in low)
    return {"values": len(vals), "found": found, "recall": len(found) / len(vals) if vals else None,
            "rows": len(texts), "rows_with_truth": with_truth / len(texts) if texts else None}
