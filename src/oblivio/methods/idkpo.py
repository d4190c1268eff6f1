"""IdkPO: DPO with an "I don't know" answer preferred over the forget answer, plus the retain
NLL — the unlearning literature's preference-optimisation baseline.

As the NPO paper states DPO for unlearning (Zhang, Lin, Bai, Mei 2024, arXiv 2404.05868,
§3, with TOFU's refusals of Maini et al. 2024, arXiv 2401.06121) and OpenUnlearning's
``IdkDPO`` configuration computes it (``compute_dpo_loss``: −(2/β)·logσ(β·Δ)):

    L = −(2/β)·mean_i log σ(β·Δ_i) + α·NLL_r,
    Δ_i = [log π_θ(w_i|x_i) − log π_ref(w_i|x_i)] − [log π_θ(l_i|x_i) − log π_ref(l_i|x_i)],

w_i a refusal (data/refusals.py), l_i the forget answer. The 2/β scale makes the gradient
at Δ = 0 independent of β (as NPO's). Defaults: β = 0.1, α = 1 (OpenUnlearning's IdkDPO).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from oblivio.methods.base import METHODS
from oblivio.methods.dpo import DPO


@METHODS.register("idkpo")
@dataclass
class IdkPO(DPO):
    """DPO (refusal ≻ forget answer) with the 2/β scale and the retain term."""

    beta: float = 0.1
    alpha: float = 1.0

    scale: ClassVar[str] = "2/beta"
