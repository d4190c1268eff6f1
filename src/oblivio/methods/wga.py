"""WGA: weighted gradient ascent (Wang, Zhang, Ding, Liu 2025, "Rethinking LLM Unlearning
Objectives: A Gradient Perspective and Go Beyond", ICLR 2025, arXiv 2502.19301).

L = mean_t w_t·log p_θ(y_t) + α·NLL_r with w_t = p_θ(y_t)^β (detached): tokens the model
already finds unlikely get little ascent, which slows GA's collapse. Defaults β = 1, α = 1.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from oblivio.methods.base import METHODS, LossParts, MethodBase, StepContext


@METHODS.register("wga")
@dataclass
class WGA(MethodBase):
    """Gradient ascent weighted by each answer token's own probability."""

    beta: float = 1.0
    alpha: float = 1.0

    uses: ClassVar[frozenset[str]] = frozenset({"forget", "retain"})

    def loss(self, ctx: StepContext, batch) -> LossParts:
        from oblivio.methods.ops import plus_retain_nll, weighted_ga
        forget = weighted_ga(ctx.model, batch["forget"], lambda p: p ** self.beta)
        return plus_retain_nll(ctx.model, batch, forget, self.alpha)
