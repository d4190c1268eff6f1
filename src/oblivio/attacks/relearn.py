"""Relearning attack: a few fine-tuning steps (the one training loop, answer NLL) on a third
of the forget facts, then the *other* forget facts are scored: knowledge that was hidden, not
removed, comes back for facts never shown again (Hu et al. 2024, "Jogging the memory of
unlearned LLMs through targeted relearning attacks", arXiv 2406.13356; Deeb & Roger 2024,
arXiv 2410.08827: 88% recovery). ``relearn_unrelated`` fine-tunes on unrelated retain items
instead (Łucki et al. 2024, arXiv 2409.18025: ten unrelated examples suffice). The split is by
fact, so no phrasing of a scored fact is ever trained.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, ClassVar

from oblivio.attacks.base import ATTACKS, Attacked, by_fact, sorted_facts
from oblivio.data.schema import QAItem, UnlearningData


def split_by_fact(items: list[QAItem], fraction: float, seed: int) -> tuple[list[QAItem], list[QAItem]]:
    """(train, scored): ``round(fraction × facts)`` whole facts (at least one, and at least one
    left to score when there are two or more), chosen by ``seed``."""
    groups = by_fact(items)
    facts = sorted_facts(groups)
    random.Random(seed).shuffle(facts)
    n = max(1, round(fraction * len(facts)))
    if len(facts) > 1:
        n = min(n, len(facts) - 1)
    chosen = set(facts[:n])
    train = [it for f in facts if f in chosen for it in groups[f]]
    rest = [it for it in items if (it.fact or it.id) not in chosen]
    return train, rest


def relearn(model: Any, tokenizer: Any, items: list[QAItem], *, steps: int, lr: float, batch_size: int,
            seed: int) -> Any:
    from oblivio.engine.learning import learn_items
    from oblivio.engine.loop import TrainConfig
    for p in model.parameters():
        p.requires_grad_(True)
    cfg = TrainConfig(lr=lr, max_steps=steps, batch_size=batch_size, seed=seed, progress=False)
    return learn_items(model, tokenizer, items, cfg, desc="relearn").model


@ATTACKS.register("relearn")
@dataclass
class Relearn:
    """A few fine-tuning steps on a third of the forget facts; the other facts are scored."""

    fraction: float = 1 / 3
    steps: int = 10
    lr: float = 1e-3
    batch_size: int = 8
    modifies_model: ClassVar[bool] = True
    paper: ClassVar[str] = "Hu et al. 2024 (arXiv 2406.13356); Deeb & Roger 2024 (arXiv 2410.08827)"

    def apply(self, model: Any, tokenizer: Any, data: UnlearningData, *, seed: int = 0) -> Attacked:
        train, rest = split_by_fact(data.forget, self.fraction, seed)
        if not rest:
            return Attacked(model=model, items=[], note="one forget fact only: nothing left to score")
        model = relearn(model, tokenizer, train, steps=self.steps, lr=self.lr, batch_size=self.batch_size, seed=seed)
        return Attacked(model=model, items=rest, note=f"{self.steps} steps (lr {self.lr:g}) on {len(train)} items of "
                        f"{len(by_fact(train))} facts; scored on {len(rest)} items of {len(by_fact(rest))} other facts")


@ATTACKS.register("relearn_unrelated")
@dataclass
class RelearnUnrelated:
    """A few fine-tuning steps on N unrelated retain items (general knowledge); all forget facts scored."""

    n: int = 10
    steps: int = 10
    lr: float = 1e-3
    batch_size: int = 8
    modifies_model: ClassVar[bool] = True
    paper: ClassVar[str] = "Łucki et al. 2024 (arXiv 2409.18025)"

    def apply(self, model: Any, tokenizer: Any, data: UnlearningData, *, seed: int = 0) -> Attacked:
        pool = data.role("general") or data.unlearning_retain()
        if not pool:
            return Attacked(model=model, items=[], note="no retain items to relearn on")
        train = random.Random(seed).sample(pool, min(self.n, len(pool)))
        model = relearn(model, tokenizer, train, steps=self.steps, lr=self.lr, batch_size=self.batch_size, seed=seed)
        return Attacked(model=model, note=f"{self.steps} steps (lr {self.lr:g}) on {len(train)} "
                        f"{'general' if data.role('general') else 'retain'} items")
