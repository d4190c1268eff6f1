"""Negative Preference Optimization (Zhang, Lin, Bai, Mei 2024, arXiv 2404.05868):
L = −(2/β)·mean log σ(−β·(log π_θ(y|x) − log π_ref(y|x))) + α·NLL_r.

The reference log-likelihoods of forget items never change, so the Reference caches them
per item: the frozen model runs once per forget item, not once per step.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from oblivio.methods.base import METHODS, LossParts, MethodBase, StepContext


@METHODS.register("npo")
@dataclass
class NPO(MethodBase):
    """Preference optimisation with only a dispreferred answer (the forget answer)."""

    beta: float = 0.1
    alpha: float = 1.0

    # β divides the loss; a negative retain weight would push the model away from the retain set
    arg_ranges: ClassVar[dict[str, tuple[float, bool]]] = {"beta": (0, False), "alpha": (0, True)}
    uses: ClassVar[frozenset[str]] = frozenset({"forget", "retain", "reference"})

    def loss(self, ctx: StepContext, batch) -> LossParts:
        from oblivio.methods.ops import npo_forget, plus_retain_nll, seq_logprob
        f = batch["forget"]
        forget = npo_forget(seq_logprob(ctx.model, f), ctx.reference.seq_logprob(f), self.beta)
        return plus_retain_nll(ctx.model, batch, forget, self.alpha)
