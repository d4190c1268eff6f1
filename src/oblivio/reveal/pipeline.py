"""The reveal step end to end: search instructions, ask the best ones, keep what passes.

Reveal and Release (Xie et al., Findings of EMNLP 2025, arXiv 2509.14624): with a query
budget, find the instructions that make the model reveal the task (:mod:`.search`), take the
``top_k`` best, collect their responses and filter them (:mod:`.filter`). The result is the
self-generated forget set; ``oblivio reveal`` (a run of the ``reveal`` post-step,
post_steps/reveal.py) writes it as ``revealed.jsonl`` into its run folder to inspect. Where the
task knows the true values (``Task.truth``), how many of them the rows hold is measured after the
fact and only reported (``truth``, :mod:`.truth`); nothing above reads them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from oblivio.data.schema import QAItem
from oblivio.reveal.diversity import Diversity
from oblivio.reveal.filter import forget_rows
from oblivio.reveal.neural_ucb import NU
from oblivio.reveal.search import Querier, Query, SearchResult, search
from oblivio.reveal.tasks import Task
from oblivio.reveal.truth import truth_recall


@dataclass
class RevealResult:
    rows: list[QAItem]
    search: SearchResult
    chosen: list[Query]
    run_dir: Path | None = None      # the reveal run's folder (oblivio reveal), when it wrote one
    truth: dict[str, Any] | None = field(default=None)   # evaluation only (reveal/truth.py)

    @property
    def relevance(self) -> float:
        """Mean relevance of the chosen instructions (what the model still reveals)."""
        return sum(q.relevance for q in self.chosen) / max(1, len(self.chosen))

    def to_json(self) -> dict[str, Any]:
        return {"strategy": self.search.strategy, "queries": len(self.search.queries),
                "diversity_backend": self.search.diversity_backend, "rows": len(self.rows),
                "relevance": round(self.relevance, 4), "curve": [round(x, 4) for x in self.search.curve()],
                "chosen": [{"instruction": q.instruction.text, "kind": q.instruction.kind,
                            "relevance": round(q.relevance, 4), "diversity": round(q.diversity, 4),
                            "score": round(q.score, 4)} for q in self.chosen],
                **({"truth": self.truth} if self.truth is not None else {})}


def reveal(model: Any, tokenizer: Any, task: Task, *, strategy: str = "neural_ucb", budget: int = 12,
           top_k: int = 3, threshold: float = 0.1, n: int = 4, temperature: float = 1.0, weight: float = 0.8,
           nu: float = NU, seed: int = 0, embedder: str = "auto", chosen: list[Any] | None = None,
           log: Callable[[str], None] | None = None) -> RevealResult:
    """Search (unless ``chosen`` instructions are given: then only ask them again, as a
    release round does with the current model) and build the forget rows."""
    div = Diversity(model, tokenizer, backend=embedder)
    q = Querier(model, tokenizer, task, div, n=n, temperature=temperature, weight=weight, seed=seed)
    if chosen is None:
        from oblivio.progress import drop, phase
        n = len(task.pool) if strategy == "best_of_pool" else min(budget, len(task.pool))
        with phase("reveal: instruction search", f"{n} of {len(task.pool)} instructions ({strategy})",
                   log=log or drop):
            res = search(q, strategy=strategy, budget=budget, seed=seed, nu=nu, progress=log)
        best = sorted(res.queries, key=lambda x: -x.score)[:top_k]
    else:
        res = SearchResult("given", diversity_backend=div.backend)
        best = [q(ins) for ins in chosen]
        res.queries = list(best)
    rows = forget_rows(task, best, threshold=threshold)
    truth = truth_recall([r.answer for r in rows], task.truth) if task.truth else None
    if log:
        told = (f"; evaluation only: {len(truth['found'])} of the {truth['values']} true values appear in them"
                if truth else "")
        log(f"revealed {len(rows)} rows from {len(best)} instructions (relevance "
            f"{sum(b.relevance for b in best) / max(1, len(best)):.2f}; diversity by {div.backend} embeddings{told})")
    return RevealResult(rows, res, best, truth=truth)
