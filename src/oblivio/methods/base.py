"""The method contract: an unlearning method is a registered loss object, not a trainer.

``loss(ctx, batch) -> LossParts``. ``batch`` is a dict with optional ``"forget"`` and
``"retain"`` sub-batches (``input_ids``, ``attention_mask``, ``labels`` with the prompt
masked, ``index`` the item indices for reference caching). The one training loop
(engine/loop.py) calls it; a method never steps an optimiser.

Tensor helpers live in ``methods/ops.py`` and are imported inside ``loss`` so that listing
methods (``oblivio ls``) never imports torch. Notation as in SPEC: NLL = mean answer-token negative log-likelihood;
ℓ = summed answer NLL; log π(y|x) = −ℓ.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from oblivio.registry import Registry

if TYPE_CHECKING:
    import torch


@dataclass
class LossParts:
    total: torch.Tensor
    parts: dict[str, torch.Tensor] = field(default_factory=dict)


@dataclass
class StepContext:
    model: Any
    reference: Any | None      # engine.reference.Reference, when the method needs one
    step: int
    max_steps: int


class Method(Protocol):
    needs_reference: ClassVar[bool]
    needs_retain: ClassVar[bool]
    needs_forget: ClassVar[bool]

    def loss(self, ctx: StepContext, batch: dict[str, dict[str, torch.Tensor]]) -> LossParts: ...


METHODS: Registry[type] = Registry("method")
