"""Quantisation attack: every Linear weight round-tripped through int8 or int4 —
round-to-nearest, symmetric, one scale per group of 32 input weights — then the model is
re-evaluated in float. Unlearning that moves weights by less than half a quantisation step
is undone by rounding back to the base model's grid (Zhang et al. 2024, "Does your LLM truly
unlearn? An embarrassingly simple approach to recover unlearned knowledge", arXiv 2410.16454:
retained forgotten knowledge 21% → 83% at 4-bit).

The fake quantisation is written here (a dozen lines): torch only ships per-group weight
quantisation in a private module (``torch.ao.quantization.fx._decomposed``, asymmetric),
and the quantisation libraries in reach target GPUs. The LM head is kept in float, as
GPTQ/AWQ do (it is tied to the input embedding in the tiny models).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from oblivio.attacks.base import ATTACKS, Attacked
from oblivio.data.schema import UnlearningData

if TYPE_CHECKING:
    import torch

GROUP = 32


def fake_quantize(w: torch.Tensor, bits: int, group: int = GROUP) -> torch.Tensor:
    """Round-trip ``w`` (…, in) through signed ``bits``-bit integers, symmetric per group of
    ``group`` consecutive entries of the last dimension: scale = max|w| / (2^(bits−1) − 1),
    q = clamp(round(w / scale), −qmax, qmax), result q·scale. Values on a group's grid come back
    exactly; every other value moves by at most scale/2. A zero group stays zero."""
    import torch
    qmax = 2 ** (bits - 1) - 1
    shape = w.shape
    flat = w.detach().reshape(-1, shape[-1]).float()
    pad = (-shape[-1]) % group
    if pad:   # a last partial group: padded with zeros, which never raise its max
        flat = torch.nn.functional.pad(flat, (0, pad))
    g = flat.reshape(flat.shape[0], -1, group)
    scale = g.abs().amax(dim=-1, keepdim=True) / qmax
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    q = torch.clamp(torch.round(g / scale), -qmax, qmax) * scale
    return q.reshape(flat.shape)[:, : shape[-1]].reshape(shape).to(w.dtype)


def quantize_model(model: Any, bits: int, group: int = GROUP, skip: tuple[str, ...] = ("lm_head",)) -> int:
    """Fake-quantise every ``nn.Linear`` weight in place (except modules named in ``skip``);
    returns how many were quantised."""
    import torch
    n = 0
    with torch.no_grad():
        for name, mod in model.named_modules():
            if isinstance(mod, torch.nn.Linear) and name.split(".")[-1] not in skip:
                mod.weight.copy_(fake_quantize(mod.weight, bits, group))
                n += 1
    return n


@dataclass
class _Quantize:
    bits: ClassVar[int] = 8
    group: int = GROUP
    modifies_model: ClassVar[bool] = True
    paper: ClassVar[str] = "Zhang et al. 2024 (arXiv 2410.16454)"

    def apply(self, model: Any, tokenizer: Any, data: UnlearningData, *, seed: int = 0) -> Attacked:
        n = quantize_model(model, self.bits, self.group)
        return Attacked(model=model, note=f"{n} Linear weights, int{self.bits}, groups of {self.group}")


@ATTACKS.register("quantize_int8")
@dataclass
class QuantizeInt8(_Quantize):
    """Linear weights round-tripped through int8 (round-to-nearest, per group of 32)."""

    bits: ClassVar[int] = 8


@ATTACKS.register("quantize_int4")
@dataclass
class QuantizeInt4(_Quantize):
    """Linear weights round-tripped through int4 (round-to-nearest, per group of 32)."""

    bits: ClassVar[int] = 4
