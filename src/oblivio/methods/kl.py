"""KL minimisation: L = −NLL_f + α·KL(p_ref ‖ p_θ) on retain inputs, full vocabulary, every
answer position (Maini et al. 2024, TOFU). Optional capping as in GA.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from oblivio.methods.base import METHODS, LossParts, MethodBase, StepContext


@METHODS.register("kl")
@dataclass
class KLMin(MethodBase):
    """Ascend on forget; keep the retain distribution close to the reference's."""

    alpha: float = 1.0
    cap_delta: float | None = None
    cap_retain_r: float | None = None

    uses: ClassVar[frozenset[str]] = frozenset({"forget", "retain", "reference"})

    def loss(self, ctx: StepContext, batch) -> LossParts:
        from oblivio.methods.capping import combine_capped, ga_forget_term
        from oblivio.methods.ops import forward_logprobs, kl_ref_to_model
        lp, mask = forward_logprobs(ctx.model, batch["forget"])
        forget = ga_forget_term(lp, mask, self.cap_delta)
        kl = kl_ref_to_model(ctx.model, ctx.reference, batch["retain"])
        total = combine_capped(forget, kl, self.alpha, self.cap_retain_r)
        return LossParts(total, {"forget": forget, "kl": kl})
