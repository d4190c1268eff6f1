"""PDU: primal–dual constrained unlearning (Entesari, Hatami, Pappas, Fazlyab 2025,
"Constrained Entropic Unlearning: A Primal-Dual Framework for Large Language Models", arXiv
2506.05314).

min L_f  subject to  NLL_r ≤ ε, solved on the Lagrangian L = L_f + λ·(NLL_r − ε) with dual
ascent after every loss evaluation: λ ← max(0, λ + η·(NLL_r − ε)). The forget term
flattens the logits at every forget answer position, L_f = mean_t (max_v z_t,v − mean_v
z_t,v)² (a bounded surrogate for maximum entropy, as the paper's logit-margin loss; here
over answer positions, OpenUnlearning averages over every position). Defaults (ours, for
models that learned their data to a retain NLL well under 0.1): λ₀ = 1, η = 1, ε = 0.1.
λ is method state: it is in the loss history (``lambda``) and in resumable checkpoints
(engine/checkpoint.py keeps a method's plain dataclass fields).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from oblivio.methods.base import METHODS, LossParts, MethodBase, StepContext


@METHODS.register("pdu")
@dataclass
class PDU(MethodBase):
    """Flatten the forget logits while a dual variable keeps the retain loss under ε."""

    eps: float = 0.1
    lam: float = 1.0
    dual_lr: float = 1.0

    uses: ClassVar[frozenset[str]] = frozenset({"forget", "retain"})

    def loss(self, ctx: StepContext, batch) -> LossParts:
        import torch

        from oblivio.methods.ops import answer_logits, masked_mean, mean_nll
        logits, _, mask = answer_logits(ctx.model, batch["forget"])
        margin = logits.max(-1).values - logits.mean(-1)
        forget = masked_mean(margin ** 2, mask)
        retain = mean_nll(ctx.model, batch["retain"])
        lam = self.lam
        total = forget + lam * (retain - self.eps)
        self.lam = max(0.0, lam + self.dual_lr * (float(retain.detach()) - self.eps))
        return LossParts(total, {"forget": forget, "retain": retain,
                                 "lambda": torch.tensor(lam)})
