"""CE-U: cross-entropy unlearning (Yang 2025, "CE-U: Cross Entropy Unlearning", arXiv
2503.01224).

At every forget answer position the target is the model's own distribution (detached) with
the true token's logit set to −∞: q = softmax(z.detach() with z_y = −∞), L = mean_t −Σ_v q_v
log p_θ(v) (+ α·NLL_r, default off as in the paper). Its gradient is p − q, which vanishes
as p_y → 0 instead of exploding like GA's. The first ``ignore_first`` answer tokens are not
trained (the paper's footnote; default 1).
"""
from __future__ import annotations

from dataclasses import dataclass

from oblivio.methods.base import METHODS, LossParts, MethodBase, StepContext


@METHODS.register("ceu")
@dataclass
class CEU(MethodBase):
    """Cross-entropy toward the model's own distribution without the true token."""

    ignore_first: int = 1
    alpha: float = 0.0


    @property
    def uses(self) -> frozenset[str]:
        """Retain batches only when the optional retain term is on (α > 0)."""
        return frozenset({"forget"} | ({"retain"} if self.alpha else set()))

    def loss(self, ctx: StepContext, batch) -> LossParts:
        import torch
        import torch.nn.functional as F

        from oblivio.methods.ops import answer_logits, plus_retain_nll, soft_cross_entropy
        logits, tgt, mask = answer_logits(ctx.model, batch["forget"])
        # drop the first `ignore_first` answer positions of each sequence
        mask = mask & (mask.cumsum(-1) > self.ignore_first)
        with torch.no_grad():
            z = logits.detach().scatter(-1, tgt.clamp_min(0).unsqueeze(-1), float("-inf"))
            q = F.softmax(z, -1)
        forget = soft_cross_entropy(logits, q, mask)
        return plus_retain_nll(ctx.model, batch, forget, self.alpha)
