"""Task vector negation (Ilharco et al. 2023, "Editing Models with Task Arithmetic", arXiv
2212.04089; as the unlearning baseline of MUSE, Shi et al. 2024, arXiv 2407.06460).

Training *descends* the forget NLL (a model reinforced on the forget set, θ_ft); when
training ends the difference is subtracted: θ ← θ₀ − λ·(θ_ft − θ₀). ``prepare`` keeps θ₀ of
the trainable parameters (one copy of them: with LoRA only the adapter), ``finish`` applies
the negation. With LoRA, ΔW = B·A with B₀ = 0 (PEFT's initialisation), so negating only B
(B ← −λ·B) gives exactly ΔW' = −λ·ΔW. Default λ = 1 (MUSE). The weights during training are
the reinforced model, not the negated one: the method declares ``builds_model_at_finish``, and
checkpoint evaluation refuses it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from oblivio.methods.base import METHODS, LossParts, MethodBase, StepContext


@METHODS.register("task_vector")
@dataclass
class TaskVector(MethodBase):
    """Fine-tune on the forget set, then subtract λ times the change."""

    lam: float = 1.0

    uses: ClassVar[frozenset[str]] = frozenset({"forget"})
    builds_model_at_finish: ClassVar[bool] = True
    _start: dict[str, Any] = field(default_factory=dict, init=False, repr=False)

    def prepare(self, model: Any) -> None:
        lora = any("lora_" in n for n, p in model.named_parameters() if p.requires_grad)
        self._start = {n: p.detach().clone() for n, p in model.named_parameters()
                       if p.requires_grad and (not lora or "lora_B" in n)}

    def finish(self, model: Any) -> None:
        import torch
        with torch.no_grad():
            for n, p in model.named_parameters():
                if n in self._start:
                    p0 = self._start[n].to(p.device)
                    p.copy_(p0 - self.lam * (p - p0))
        self._start = {}

    def loss(self, ctx: StepContext, batch) -> LossParts:
        from oblivio.methods.ops import mean_nll
        nll = mean_nll(ctx.model, batch["forget"])
        return LossParts(nll, {"forget_nll": nll})
