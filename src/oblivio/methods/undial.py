"""UNDIAL: self-distillation with adjusted logits (Dong, Lin, Belinkov, Bhattacharya, Berant,
Goldberg 2024, arXiv 2402.10052).

At every forget answer position t the student is trained toward the frozen reference's
distribution with the true token's logit lowered by β:
q_t = softmax(z_ref,t − β·onehot(y_t)), L = mean_t −Σ_v q_t,v log p_θ(v) + α·NLL_r.
The target never reaches a degenerate distribution, which is what makes UNDIAL stable.
Defaults: β = 10, α = 0 (as OpenUnlearning's config). Convention: answer positions only
(OpenUnlearning averages over every position, prompt and padding included).
"""
from __future__ import annotations

from dataclasses import dataclass

from oblivio.methods.base import METHODS, LossParts, MethodBase, StepContext


@METHODS.register("undial")
@dataclass
class UNDIAL(MethodBase):
    """Distil from the reference with the memorised token suppressed."""

    beta: float = 10.0
    alpha: float = 0.0


    @property
    def uses(self) -> frozenset[str]:
        """Retain batches only when the optional retain term is on (α > 0)."""
        return frozenset({"forget", "reference"} | ({"retain"} if self.alpha else set()))

    def loss(self, ctx: StepContext, batch) -> LossParts:
        import torch
        import torch.nn.functional as F

        from oblivio.methods.ops import answer_logits, plus_retain_nll, soft_cross_entropy
        f = batch["forget"]
        logits, tgt, mask = answer_logits(ctx.model, f)
        with torch.no_grad():
            z_ref = ctx.reference.logits(f)[:, :-1].float()
            onehot = F.one_hot(tgt.clamp_min(0), z_ref.size(-1)).to(z_ref.dtype)
            q = F.softmax(z_ref - self.beta * onehot, -1)
        forget = soft_cross_entropy(logits, q, mask)
        return plus_retain_nll(ctx.model, batch, forget, self.alpha)
