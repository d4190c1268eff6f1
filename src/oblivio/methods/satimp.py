"""SatImp: saturation × importance token weighting (Yang, Wang, Zhang, Liu et al. 2025,
"Exploring Criteria of Loss Reweighting to Enhance LLM Unlearning", ICML 2025, arXiv
2505.11953).

L = mean_t w_t·log p_θ(y_t) + α·NLL_r with w_t = p_t^β1·(1 − p_t)^β2 (detached): tokens
that are neither saturated (p ≈ 1) nor already forgotten (p ≈ 0) get the most ascent.
Defaults β1 = 5, β2 = 1, α = 0.1 (OpenUnlearning's configuration of the paper's method).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from oblivio.methods.base import METHODS, LossParts, MethodBase, StepContext


@METHODS.register("satimp")
@dataclass
class SatImp(MethodBase):
    """Gradient ascent weighted by p^β1·(1−p)^β2 per answer token."""

    beta1: float = 5.0
    beta2: float = 1.0
    alpha: float = 0.1

    uses: ClassVar[frozenset[str]] = frozenset({"forget", "retain"})

    def loss(self, ctx: StepContext, batch) -> LossParts:
        from oblivio.methods.ops import plus_retain_nll, weighted_ga
        forget = weighted_ga(ctx.model, batch["forget"],
                             lambda p: p ** self.beta1 * (1 - p) ** self.beta2)
        return plus_retain_nll(ctx.model, batch, forget, self.alpha)
