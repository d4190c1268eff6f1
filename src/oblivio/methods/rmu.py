"""RMU: representation misdirection for unlearning (Li et al. 2024, "The WMDP Benchmark",
arXiv 2403.03218).

At one layer ℓ the hidden states of forget answer tokens are steered to a fixed random
direction, and those of retain answer tokens are kept at the frozen model's:
L = mean_t ‖h_θ,ℓ(x_f)_t − c·u‖²/d + α·mean_t ‖h_θ,ℓ(x_r)_t − h_ref,ℓ(x_r)_t‖²/d,
u uniform in [0,1)^d normalised to unit length (seeded), c the steering coefficient. Only
the MLP down-projections of layers ℓ−2…ℓ are trained, as in the paper (with LoRA: the
adapters of those layers). Defaults: c = 6.5, α = 1200 (the paper's Zephyr-7B values), ℓ =
a quarter of the depth (layer 7 of 32 in the paper); tune c and α for small models.
Convention: hidden states are the layer's output (``output_hidden_states[ℓ + 1]``), averaged
over answer tokens as OpenUnlearning does.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from oblivio.methods.base import METHODS, LossParts, MethodBase, StepContext


@METHODS.register("rmu")
@dataclass
class RMU(MethodBase):
    """Scramble the forget representations at one layer; anchor the retain ones."""

    steering: float = 6.5
    alpha: float = 1200.0
    layer: int | None = None
    seed: int = 0

    uses: ClassVar[frozenset[str]] = frozenset({"forget", "retain", "reference"})

    def _layer(self, model: Any) -> int:
        n = model.config.num_hidden_layers
        return n // 4 if self.layer is None else self.layer

    def prepare(self, model: Any) -> None:
        from oblivio.errors import InputError
        ell = self._layer(model)
        if not 0 <= ell < model.config.num_hidden_layers:
            raise InputError(f"layer {ell} does not exist (the model has "
                             f"{model.config.num_hidden_layers})", field="unlearn.args.layer")
        layers = "|".join(str(i) for i in range(max(0, ell - 2), ell + 1))
        lora = any("lora_" in n for n, _ in model.named_parameters())
        want = re.compile(rf"layers\.({layers})\.mlp\." + (r".*lora_" if lora else r"down_proj\.weight$"))
        for n, p in model.named_parameters():
            p.requires_grad_(bool(want.search(n)))

    def loss(self, ctx: StepContext, batch) -> LossParts:
        import torch

        from oblivio.methods.ops import masked_mean
        ell = self._layer(ctx.model.module if hasattr(ctx.model, "module") else ctx.model)
        f, r = batch["forget"], batch["retain"]
        h_f = _hidden(ctx.model, f, ell)
        g = torch.Generator().manual_seed(self.seed)
        u = torch.rand(h_f.size(-1), generator=g)
        target = (self.steering * u / u.norm()).to(h_f.device, h_f.dtype)
        forget = masked_mean(((h_f - target) ** 2).mean(-1), f["labels"].ne(-100))
        h_r = _hidden(ctx.model, r, ell)
        with torch.no_grad():
            h_ref = ctx.reference.hidden(r, ell + 1).float()
        retain = masked_mean(((h_r - h_ref) ** 2).mean(-1), r["labels"].ne(-100))
        return LossParts(forget + self.alpha * retain, {"forget": forget, "retain": retain})


def _hidden(model: Any, sub: dict, ell: int):
    out = model(input_ids=sub["input_ids"], attention_mask=sub["attention_mask"], output_hidden_states=True)
    return out.hidden_states[ell + 1].float()
