"""IDK fine-tuning: L = NLL(refusal | x_f) + α·NLL_r.

TOFU's "I don't know" baseline (Maini, Feng, Schwarzschild, Lipton, Kolter 2024, arXiv
2401.06121, §5: the forget answers are replaced by refusals and the model is fine-tuned on
them; the paper calls it "preference optimization", without a dispreferred answer). Every
forget item gets one refusal (data/refusals.py: TOFU's ``idk.jsonl`` for TOFU data, a
generated set for the embedded world; ``refusals`` = ``"auto"``, ``"world"``, ``"tofu"``
or a JSONL path). Defaults: α = 1 (TOFU's retain term weight).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from oblivio.methods.base import METHODS, LossParts, MethodBase, RunInputs, StepContext


@METHODS.register("idk")
@dataclass
class IDK(MethodBase):
    """Teach a refusal on the forget questions; keep the retain answers."""

    alpha: float = 1.0
    refusals: str = "auto"

    uses: ClassVar[frozenset[str]] = frozenset({"forget", "retain"})

    def prepare_data(self, inputs: RunInputs) -> None:
        from oblivio.methods.alternate import refusal_answers
        self.alt = refusal_answers(inputs, self.refusals)     # not a field: never a config key

    def loss(self, ctx: StepContext, batch) -> LossParts:
        from oblivio.methods.alternate import require
        from oblivio.methods.ops import mean_nll, plus_retain_nll
        idk = mean_nll(ctx.model, require(getattr(self, "alt", None), "idk").batch(batch["forget"]))
        return plus_retain_nll(ctx.model, batch, idk, self.alpha)
