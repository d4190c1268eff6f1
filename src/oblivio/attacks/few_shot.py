"""In-context (few-shot) attack: the forget question follows worked examples of neighbour
facts — retain items about the same targets' neighbours — in the model's own prompt format
(earlier chat turns with a chat template; earlier ``Question: … Answer: …`` blocks in the plain
style), so the context primes the relation and the entity (RWKU's in-context probes, Jin et al. 2024,
arXiv 2406.10890; in-context unlearning is undone by context, Pawelczyk et al. 2023,
arXiv 2310.07579)."""
from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from typing import Any, ClassVar

from oblivio.attacks.base import ATTACKS, Attacked
from oblivio.data.schema import QAItem, UnlearningData
from oblivio.models.format import format_of


def shots_for(item: QAItem, pool: list[QAItem], k: int, rng: random.Random) -> list[QAItem]:
    """``k`` retain items, preferring those that name the forget item's entity or targets
    (its neighbours), then those of the same relation; never an item of the same fact."""
    names = {n for n in (item.entity, *item.targets) if n}
    pool = [p for p in pool if not (p.fact and p.fact == item.fact)]
    near = [p for p in pool if names & {p.entity, *p.mentions, *p.targets}]
    # by id: `p not in near` compared whole dataclasses, O(pool × near) per forget item
    taken = {p.id for p in near}
    same = [p for p in pool if p.id not in taken and p.relation and p.relation == item.relation]
    taken |= {p.id for p in same}
    rest = [p for p in pool if p.id not in taken]
    out: list[QAItem] = []
    for group in (near, same, rest):
        group = list(group)
        rng.shuffle(group)
        out += group[: k - len(out)]
    return out


@ATTACKS.register("few_shot")
@dataclass
class FewShot:
    """The forget question after k worked examples of neighbour (retain) facts."""

    k: int = 2   # the tiny models have 128 positions: two shots keep prompts well inside
    modifies_model: ClassVar[bool] = False
    paper: ClassVar[str] = "RWKU, Jin et al. 2024 (arXiv 2406.10890)"

    def apply(self, model: Any, tokenizer: Any, data: UnlearningData, *, seed: int = 0) -> Attacked:
        pool = data.unlearning_retain()
        if not pool:
            return Attacked(items=[], note="no retain items to build a context from")
        rng = random.Random(seed)
        shots = tuple((it.question, tuple((s.question, s.answer) for s in shots_for(it, pool, self.k, rng)))
                      for it in data.forget)
        return Attacked(items=list(data.forget), fmt=dataclasses.replace(format_of(tokenizer), shots=shots))
