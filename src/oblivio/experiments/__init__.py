"""Experiments built on the API: grids of runs compared on equal terms.

:func:`compare` runs methods × retain samplers with the same seed and budget on the same
data (Bushipaka et al. 2025, arXiv 2509.05316), optionally calibrated to equal utility by
model mixing (Wang et al. 2024, arXiv 2406.09179).
"""
from __future__ import annotations

from oblivio.experiments.compare import SAMPLER_ORDER, Cell, CompareResult, compare

__all__ = ["compare", "CompareResult", "Cell", "SAMPLER_ORDER"]
