"""Direct Preference Optimization for unlearning: preferred = a refusal, dispreferred = the
forget answer, reference = π_ref.

Rafailov, Sharma, Mitchell, Ermon, Manning, Finn 2023 (arXiv 2305.18290), in its own
convention: with Δ_i = [log π_θ(w_i|x_i) − log π_ref(w_i|x_i)] − [log π_θ(l_i|x_i) − log π_ref(l_i|x_i)]
(w the refusal, l the forget answer, summed answer log-likelihoods),

    L = −mean_i log σ(β·Δ_i) + α·NLL_r.

Defaults: β = 0.1 (the DPO paper's), α = 0 (pure DPO; ``idkpo`` is the unlearning
literature's variant with the retain term and the 2/β scale). Refusals as in ``idk``.
The reference log-likelihoods of both answers are cached per item (engine/reference.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from oblivio.methods.base import METHODS, LossParts, MethodBase, RunInputs, StepContext


def preference_margin(ctx: StepContext, batch, alt, name: str):
    """Δ per forget item: the refusal's log-ratio minus the forget answer's (both vs π_ref)."""
    from oblivio.methods.alternate import require
    from oblivio.methods.ops import seq_logprob
    f = batch["forget"]
    w = require(alt, name).batch(f)
    win = seq_logprob(ctx.model, w) - ctx.reference.seq_logprob(w)
    lose = seq_logprob(ctx.model, f) - ctx.reference.seq_logprob(f)
    return win - lose


@METHODS.register("dpo")
@dataclass
class DPO(MethodBase):
    """Prefer the refusal over the forget answer, relative to the reference model."""

    beta: float = 0.1
    alpha: float = 0.0
    refusals: str = "auto"

    uses: ClassVar[frozenset[str]] = frozenset({"forget", "retain", "reference"})
    scale: ClassVar[str] = "1"          # the loss multiplier: 1 (Rafailov) or 2/β (idkpo)

    def prepare_data(self, inputs: RunInputs) -> None:
        from oblivio.methods.alternate import refusal_answers
        self.alt = refusal_answers(inputs, self.refusals)     # not a field: never a config key

    def loss(self, ctx: StepContext, batch) -> LossParts:
        import torch.nn.functional as F

        from oblivio.methods.ops import plus_retain_nll
        delta = preference_margin(ctx, batch, getattr(self, "alt", None), type(self).__name__.lower())
        mult = 2.0 / self.beta if self.scale == "2/beta" else 1.0
        forget = -mult * F.logsigmoid(self.beta * delta).mean()
        return plus_retain_nll(ctx.model, batch, forget, self.alpha)
