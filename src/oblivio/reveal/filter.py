"""From the chosen instructions' responses to a forget set: filter by relevance, de-duplicate.

Reveal and Release (Xie et al., Findings of EMNLP 2025, arXiv 2509.14624) keeps the
self-generated responses that are relevant to the task and drops repeats (the
threshold is our choice). A response is kept when its own relevance — the task's scorer on
that one response, with its prompt as context — is at least ``threshold``; two responses are
the same after lower-casing and collapsing whitespace (the first one seen is kept, with its
prompt). Like the search, the filter never reads the true answers (``Task.truth``): an entity
response is kept for asserting something of the right type about the named entity, true or not.
"""
from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Sequence

from oblivio.data.schema import QAItem

if TYPE_CHECKING:
    from oblivio.reveal.search import Query
    from oblivio.reveal.tasks import Task


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def forget_rows(task: Task, queries: Sequence[Query], *, threshold: float = 0.1,
                round_no: int = 0) -> list[QAItem]:
    """Rows (role ``forget``) from the queries' responses that pass the filter."""
    out: list[QAItem] = []
    seen: set[str] = set()
    for q in queries:
        for prompt, ctx, resps in zip(q.prompts, q.contexts, q.responses):
            for r in resps:
                key = _norm(r)
                if not key or key in seen:
                    continue
                if task.score_responses([r], [ctx]) < threshold:
                    continue
                seen.add(key)
                h = hashlib.sha256(f"{prompt}\n{r}".encode()).hexdigest()[:10]
                out.append(QAItem(id=f"rev-{round_no}-{h}", question=prompt, answer=r, role="forget",
                                  entity=task.name if task.kind == "entity" else None,
                                  mentions=(task.name,) if task.kind == "entity" else (),
                                  targets=(task.name,) if task.kind == "entity" else (),
                                  meta={"reveal": {"task": task.kind, "instruction": q.instruction.text,
                                                   "kind": q.instruction.kind, "round": round_no,
                                                   "score": round(q.score, 4)}}))
    return out
