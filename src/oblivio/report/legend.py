"""Where the report's matplotlib figures put their legends: beside the plot area, never on it.

A legend inside the axes (matplotlib's default placement) covered the ROC curves, the
truth-ratio histograms and the checkpoint curves it named. Every figure of the report
(report/figures.py, report/curves.py) places its legend with :func:`legend_outside`.
"""
from __future__ import annotations

from typing import Any


def legend_outside(ax: Any, fontsize: float = 7) -> Any:
    """The axes' legend right of its plot area, top-aligned, without a frame; the figure's
    ``tight_layout()`` then shrinks the axes to make room for it inside the figure. None when
    nothing is labelled."""
    if not ax.get_legend_handles_labels()[0]:
        return None
    return ax.legend(fontsize=fontsize, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0,
                     frameon=False)
