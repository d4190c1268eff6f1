"""ME+GD: maximum entropy on forget + gradient descent on retain (Yuan, Pang, Xu, Lin, Zhu,
Du, Zhang 2024, "A Closer Look at Machine Unlearning for Large Language Models", arXiv
2410.08109).

L = mean_t KL(U ‖ p_θ(·|x, y_<t)) over forget answer positions + α·NLL_r, with U uniform
over the vocabulary V: KL(U ‖ p) = −log|V| − (1/|V|)·Σ_v log p_v, zero exactly when the model
is maximally uncertain. Unlike GA the forget term is bounded below, so it cannot diverge.
Default α = 1 (the paper's GD weight).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from oblivio.methods.base import METHODS, LossParts, MethodBase, StepContext


@METHODS.register("me_gd")
@dataclass
class MEGD(MethodBase):
    """Push every forget answer position toward the uniform distribution; keep retain."""

    alpha: float = 1.0

    uses: ClassVar[frozenset[str]] = frozenset({"forget", "retain"})

    def loss(self, ctx: StepContext, batch) -> LossParts:
        import torch.nn.functional as F

        from oblivio.methods.ops import answer_logits, kl_uniform, plus_retain_nll
        logits, _, mask = answer_logits(ctx.model, batch["forget"])
        forget = kl_uniform(F.log_softmax(logits, -1), mask)
        return plus_retain_nll(ctx.model, batch, forget, self.alpha)
