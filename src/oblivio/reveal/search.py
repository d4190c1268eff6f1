"""Instruction search: which candidate instruction makes the model reveal the task best.

Reveal and Release (Xie et al., Findings of EMNLP 2025, arXiv 2509.14624): an instruction's
score is the weighted harmonic mean of the relevance R of its responses and their diversity
D = Vendi score / n (normalised to (0, 1]); the search queries the model with at most
``budget`` instructions. Strategies: ``neural_ucb`` (the paper's, :mod:`.neural_ucb`, over
instruction features), ``random`` (the baseline: ``budget`` instructions at random) and
``best_of_pool`` (every instruction: the ceiling a search can reach; ignores the budget).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from oblivio.errors import InputError
from oblivio.reveal.diversity import Diversity
from oblivio.reveal.relevance import harmonic
from oblivio.reveal.respond import respond
from oblivio.reveal.tasks import Task
from oblivio.world.candidates import Instruction

STRATEGIES = ("neural_ucb", "random", "best_of_pool")


@dataclass
class Query:
    instruction: Instruction
    prompts: list[str]
    responses: list[list[str]]       # per prompt, its responses
    contexts: list[Any]
    relevance: float
    diversity: float
    score: float


@dataclass
class SearchResult:
    strategy: str
    queries: list[Query] = field(default_factory=list)
    diversity_backend: str = ""

    def best(self) -> Query:
        return max(self.queries, key=lambda q: q.score)

    def curve(self) -> list[float]:
        """Best score found after 1, 2, ... queries (the sample-efficiency curve)."""
        out, b = [], 0.0
        for q in self.queries:
            b = max(b, q.score)
            out.append(b)
        return out


@dataclass
class Querier:
    """Asks the model one instruction and scores it."""

    model: Any
    tokenizer: Any
    task: Task
    diversity: Diversity
    n: int = 4                      # responses per instruction
    temperature: float = 1.0        # entity sampling
    weight: float = 0.8             # relevance's share of the harmonic mean (ours: 4x diversity)
    max_new_tokens: int = 96       # a multi-fact answer of the world is up to ~70 tokens
    seed: int = 0

    def __call__(self, ins: Instruction) -> Query:
        prompts, ctx = self.task.fill(ins, self.n, self.seed)
        if self.task.sample:
            resp = respond(self.model, self.tokenizer, prompts, n=self.n, temperature=self.temperature,
                           max_new_tokens=self.max_new_tokens, seed=self.seed)
            flat, flat_ctx = resp[0], ctx * self.n
        else:
            resp = respond(self.model, self.tokenizer, prompts, max_new_tokens=self.max_new_tokens)
            flat, flat_ctx = [r[0] for r in resp], ctx
        rel = self.task.score_responses(flat, flat_ctx)
        div = self.diversity.score(flat)
        return Query(ins, prompts, resp, ctx, rel, div, harmonic(rel, div, weight=self.weight))


def search(querier: Querier, *, strategy: str = "neural_ucb", budget: int = 12, seed: int = 0,
           nu: float | None = None, progress: Callable[[str], None] | None = None) -> SearchResult:
    """Query at most ``budget`` instructions of ``querier.task.pool`` with ``strategy``."""
    from oblivio.reveal.neural_ucb import NU, NeuralUCB, random_order
    pool = querier.task.pool
    if strategy not in STRATEGIES:
        raise InputError(f"unknown search strategy {strategy!r} (known: {', '.join(STRATEGIES)})",
                         field="reveal.strategy")
    if budget < 1:
        raise InputError(f"must be >= 1, got {budget}", field="reveal.budget")
    res = SearchResult(strategy, diversity_backend=querier.diversity.backend)
    budget = len(pool) if strategy == "best_of_pool" else min(budget, len(pool))

    def ask(i: int) -> float:
        q = querier(pool[i])
        res.queries.append(q)
        if progress:
            progress(f"query {len(res.queries)}/{budget}: relevance {q.relevance:.2f}, diversity "
                     f"{q.diversity:.2f}, score {q.score:.3f} — {q.instruction.text!r}")
        return q.score

    if strategy == "neural_ucb":
        # φ(p): the model's mean hidden state of the instruction (our choice; on the
        # tiny world it beat MiniLM features for the entity task, bench/reveal_curve.py)
        from oblivio.reveal.diversity import mean_hidden
        feats = mean_hidden(querier.model, querier.tokenizer, [querier.task.feature_text(i) for i in pool])
        bandit = NeuralUCB(feats, nu=NU if nu is None else nu, seed=seed)
        for _ in range(budget):
            arm = bandit.select()
            bandit.update(arm, ask(arm))
    else:
        order = random_order(len(pool), seed) if strategy == "random" else range(len(pool))
        for i in list(order)[:budget]:
            ask(i)
    return res
