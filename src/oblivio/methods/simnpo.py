"""SimNPO: simple, reference-free NPO (Fan, Liu, Lin, Jia, Zhang, Mei, Liu 2024, arXiv 2410.07163).

L = −(2/β)·mean_i log σ(−(β/|y_i|)·log π_θ(y_i|x_i) − γ) + α·NLL_r

NPO's reference term is replaced by the length-normalised log-likelihood and a margin γ, so
no reference model is held. Defaults: β = 2.5, γ = 0 (inside the paper's TOFU grid), α = 1.
OpenUnlearning writes the margin as δ = γ/β inside the sigmoid; the value is the same.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from oblivio.methods.base import METHODS, LossParts, MethodBase, StepContext


@METHODS.register("simnpo")
@dataclass
class SimNPO(MethodBase):
    """NPO on the length-normalised log-likelihood, without a reference model."""

    beta: float = 2.5
    gamma: float = 0.0
    alpha: float = 1.0

    # β divides the loss; a negative retain weight would push the model away from the retain set
    arg_ranges: ClassVar[dict[str, tuple[float, bool]]] = {"beta": (0, False), "alpha": (0, True)}
    uses: ClassVar[frozenset[str]] = frozenset({"forget", "retain"})

    def loss(self, ctx: StepContext, batch) -> LossParts:
        import torch.nn.functional as F

        from oblivio.methods.ops import forward_logprobs, plus_retain_nll
        lp, mask = forward_logprobs(ctx.model, batch["forget"])
        avg = lp.sum(-1) / mask.sum(-1).clamp_min(1)             # (1/|y|)·log π_θ(y|x)
        forget = -(2.0 / self.beta) * F.logsigmoid(-self.beta * avg - self.gamma).mean()
        return plus_retain_nll(ctx.model, batch, forget, self.alpha)
