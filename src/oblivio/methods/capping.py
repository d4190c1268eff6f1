"""The forget term shared by the GA family, with optional likelihood capping.

Wang et al. 2024/2025, "Towards Effective Evaluations and Comparisons for LLM Unlearning
Methods" (arXiv 2406.09179). Plain GA maximises the mean answer NLL. Capping
with threshold δ on the *summed* NLL ℓ_i: S = {i : ℓ_i < δ}, term = (1/|S|) Σ_{i∈S} (δ − ℓ_i),
zero when S is empty, so ascent stops on a sequence once its likelihood is below e^−δ.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def ga_forget_term(lp: torch.Tensor, mask: torch.Tensor, cap_delta: float | None = None) -> torch.Tensor:
    """−NLL_f (token mean), or the capped term when ``cap_delta`` is set."""
    if cap_delta is None:
        return lp.sum() / mask.sum().clamp_min(1)          # = −NLL
    ell = -lp.sum(-1)                                        # summed NLL per sequence
    below = ell < cap_delta
    if not bool(below.any()):
        # every sequence is already unlikely enough: a zero that keeps the graph connected
        return (ell * 0.0).sum()
    return (cap_delta - ell[below]).mean()


def combine_capped(forget: torch.Tensor, retain: torch.Tensor | None, alpha: float,
                   cap_retain_r: float | None) -> torch.Tensor:
    """α-weighted sum, or the retain-weighted variant (1−r)·retain + r·forget of Wang et al."""
    if retain is None:
        return forget
    if cap_retain_r is not None:
        return (1 - cap_retain_r) * retain + cap_retain_r * forget
    return forget + alpha * retain
