"""Plain fine-tuning (NLL on the answer): how base and gold models learn a world, and how
the relearning attack recovers knowledge. Uses the ``retain`` side of the batch."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from oblivio.methods.base import METHODS, LossParts, MethodBase, StepContext


@METHODS.register("finetune")
@dataclass
class Finetune(MethodBase):
    """Minimise the answer NLL of the batch (learning, not unlearning)."""

    uses: ClassVar[frozenset[str]] = frozenset({"retain"})

    def loss(self, ctx: StepContext, batch) -> LossParts:
        from oblivio.methods.ops import mean_nll
        nll = mean_nll(ctx.model, batch["retain"])
        return LossParts(nll, {"nll": nll})
