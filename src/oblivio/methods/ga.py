"""Gradient ascent (GA): L = −NLL_f (Jang et al. 2023, arXiv 2210.01504).

Optional likelihood capping (Wang et al. 2024, arXiv 2406.09179): ``cap_delta`` = δ.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from oblivio.methods.base import METHODS, LossParts, MethodBase, StepContext


@METHODS.register("ga")
@dataclass
class GradientAscent(MethodBase):
    """Ascend the forget NLL; no retain term (the method that over-unlearns)."""

    cap_delta: float | None = None

    uses: ClassVar[frozenset[str]] = frozenset({"forget"})

    def loss(self, ctx: StepContext, batch) -> LossParts:
        from oblivio.methods.capping import ga_forget_term
        from oblivio.methods.ops import forward_logprobs
        lp, mask = forward_logprobs(ctx.model, batch["forget"])
        forget = ga_forget_term(lp, mask, self.cap_delta)
        return LossParts(forget, {"forget": forget})
