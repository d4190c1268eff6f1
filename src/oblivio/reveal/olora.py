"""O-LoRA's orthogonality loss and the LoRA (PEM) arithmetic of the release step.

Orthogonal subspace learning (Wang et al. 2023, "Orthogonal Subspace Learning for Language
Model Continual Learning", arXiv 2310.14152): a new LoRA is trained with
λ · Σ_layers ‖A_rᵀ A_f‖²_F added to its loss, so its input subspace stays orthogonal to an
earlier one's. Reveal and Release (Xie et al., Findings of EMNLP 2025, arXiv 2509.14624)
applies it between the forget PEM (A_f, trained on revealed data) and a retain PEM (A_r,
trained on retain data), then negates the forget PEM: W ← W − λ_neg · s · B_f A_f (s = LoRA
scaling). PEFT stores A as [r, d_in] (O-LoRA's A is [d_in, r]), so A_rᵀ A_f there is
A_r A_fᵀ here: an [r_r, r_f] matrix per adapted module.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from oblivio.engine.contract import LossParts, MethodBase, RunInputs, StepContext, as_method
from oblivio.registry import uses_of


def _key(name: str) -> str:
    # the same module under PEFT ("base_model.model.") or a DDP wrapper ("module.")
    for prefix in ("module.", "base_model.model."):
        if name.startswith(prefix):
            name = name[len(prefix):]
    return name


def lora_factors(model: Any, adapter: str = "default") -> dict[str, tuple[torch.Tensor, torch.Tensor, float]]:
    """module path -> (A [r, d_in], B [d_out, r], scaling) of every LoRA-adapted module (live tensors)."""
    out = {}
    for name, mod in model.named_modules():
        if hasattr(mod, "lora_A") and adapter in getattr(mod, "lora_A", {}):
            out[_key(name)] = (mod.lora_A[adapter].weight, mod.lora_B[adapter].weight, float(mod.scaling[adapter]))
    return out


def orthogonality_loss(current_a: dict[str, torch.Tensor], frozen_a: dict[str, torch.Tensor]) -> torch.Tensor:
    """Σ over shared modules of ‖A_r A_fᵀ‖²_F (PEFT layout; 0 iff every row of A_f is
    orthogonal to every row of A_r)."""
    terms = [(frozen_a[k].to(a.device, a.dtype) @ a.T).pow(2).sum() for k, a in current_a.items() if k in frozen_a]
    if not terms:
        raise ValueError("no LoRA module is shared between the two adapters")
    return torch.stack(terms).sum()


@dataclass
class Orthogonal(MethodBase):
    """A registered method's loss plus λ · O-LoRA term against frozen retain-PEM A matrices;
    every hook is the inner method's."""

    inner: Any
    retain_a: dict[str, torch.Tensor]
    lam: float = 0.1

    def __post_init__(self) -> None:
        self.inner = as_method(self.inner)

    @property
    def uses(self) -> frozenset[str]:
        return uses_of(self.inner)

    @property
    def builds_model_at_finish(self) -> bool:
        return self.inner.builds_model_at_finish

    def prepare(self, model: Any) -> None:
        self.inner.prepare(model)

    def prepare_data(self, inputs: RunInputs) -> None:
        self.inner.prepare_data(inputs)

    def finish(self, model: Any) -> None:
        self.inner.finish(model)

    def loss(self, ctx: StepContext, batch: Any) -> LossParts:
        parts = self.inner.loss(ctx, batch)
        if not self.retain_a or self.lam == 0:
            return parts
        cur = {k: a for k, (a, _, _) in lora_factors(ctx.model).items()}
        o = orthogonality_loss(cur, self.retain_a)
        return LossParts(parts.total + self.lam * o, {**parts.parts, "olora": o.detach()})


@torch.no_grad()
def add_delta(model: Any, factors: dict[str, tuple[torch.Tensor, torch.Tensor, float]], coef: float) -> None:
    """W ← W + coef · s · B A for every module in ``factors`` (a plain, unwrapped model):
    coef = −λ_neg negates a PEM, +1 adds one."""
    mods = {_key(n): m for n, m in model.named_modules()}
    for k, (a, b, s) in factors.items():
        w = mods[k].weight
        w += (coef * s * (b.to(w.device, torch.float32) @ a.to(w.device, torch.float32))).to(w.dtype)
