"""Gradient difference (GradDiff): L = −NLL_f + α·NLL_r (Liu et al. 2022; Maini et al. 2024,
TOFU arXiv 2401.06121). Optional likelihood capping (arXiv 2406.09179):
``cap_delta`` = δ, and ``cap_retain_r`` = r for the (1−r)·NLL_r + r·capped variant.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from oblivio.methods.base import METHODS, LossParts, MethodBase, StepContext


@METHODS.register("graddiff")
@dataclass
class GradDiff(MethodBase):
    """Ascend on forget, descend on retain."""

    alpha: float = 1.0
    cap_delta: float | None = None
    cap_retain_r: float | None = None

    uses: ClassVar[frozenset[str]] = frozenset({"forget", "retain"})

    def loss(self, ctx: StepContext, batch) -> LossParts:
        from oblivio.methods.capping import combine_capped, ga_forget_term
        from oblivio.methods.ops import forward_logprobs, mean_nll
        lp, mask = forward_logprobs(ctx.model, batch["forget"])
        forget = ga_forget_term(lp, mask, self.cap_delta)
        retain = mean_nll(ctx.model, batch["retain"])
        total = combine_capped(forget, retain, self.alpha, self.cap_retain_r)
        return LossParts(total, {"forget": forget, "retain": retain})
