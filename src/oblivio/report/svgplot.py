"""A line chart as a small SVG document, for the one figure every run folder has.

Every run's report shows its training loss (report/figures.py ``training``), including runs
without evaluation, whose report has no other figure. Drawing it with matplotlib costs the
import of matplotlib (about 1 s on the 2-core CI machine, half of oblivio's whole-process
overhead over a bare training script, ``bench/process_time.py``) for a handful of polylines.
This module writes those polylines, axes with min/max tick labels, an optional marker line
and a legend as SVG text; the other figures (histograms, ROC curves, bars) stay on
matplotlib, which the runs that draw them have imported for their evaluation anyway.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

# matplotlib's tab10 colours, so the figures of one report look alike
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def line_chart(series: Mapping[str, Sequence[tuple[float, float | None]]], *, xlabel: str, ylabel: str,
               vline: tuple[float, str] | None = None, width: int = 400, height: int = 240,
               bold: str | None = None) -> str:
    """An SVG line chart of ``series`` (name → (x, y) points; None or non-finite y are gaps).

    ``vline``: (x, label) drawn dotted in red; ``bold``: the name of the series drawn thicker.
    Raises ValueError when no series has a finite point."""
    pts = [(x, y) for s in series.values() for x, y in s if y is not None and math.isfinite(y)]
    if not pts:
        raise ValueError("no finite point to draw")
    xs = [x for x, _ in pts] + ([vline[0]] if vline else [])
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(y for _, y in pts), max(y for _, y in pts)
    if x1 == x0:
        x1 = x0 + 1
    if y1 == y0:
        y0, y1 = y0 - 0.5, y1 + 0.5
    left, right, top, bottom = 52, 10, 10, 36
    pw, ph = width - left - right, height - top - bottom

    def px(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * pw

    def py(y: float) -> float:
        return top + (y1 - y) / (y1 - y0) * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="10">',
           f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#888"/>']
    for y in (y0, y1):
        out.append(f'<text x="{left - 4}" y="{py(y) + 3:.1f}" text-anchor="end">{_fmt(y)}</text>')
    if y0 < 0 < y1:
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{py(0):.1f}" y2="{py(0):.1f}" stroke="#ddd"/>')
    for x in (x0, x1):
        out.append(f'<text x="{px(x):.1f}" y="{top + ph + 12}" text-anchor="middle">{_fmt(x)}</text>')
    out.append(f'<text x="{left + pw / 2}" y="{height - 6}" text-anchor="middle">{escape(xlabel)}</text>')
    out.append(f'<text transform="translate(12 {top + ph / 2}) rotate(-90)" text-anchor="middle">'
               f'{escape(ylabel)}</text>')
    for i, (name, s) in enumerate(series.items()):
        colour = PALETTE[i % len(PALETTE)]
        runs: list[list[str]] = [[]]          # a missing value breaks the line
        for x, v in s:
            if v is None or not math.isfinite(v):
                runs.append([])
            else:
                runs[-1].append(f"{px(x):.1f},{py(v):.1f}")
        w = 2 if name == bold else 1
        for r in runs:
            if r:
                out.append(f'<polyline points="{" ".join(r)}" fill="none" stroke="{colour}" stroke-width="{w}"/>')
        out.append(f'<line x1="{left + 8}" x2="{left + 22}" y1="{top + 10 + 12 * i}" y2="{top + 10 + 12 * i}" '
                   f'stroke="{colour}" stroke-width="{w}"/>'
                   f'<text x="{left + 26}" y="{top + 13 + 12 * i}">{escape(name)}</text>')
    if vline is not None:
        x = px(vline[0])
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + ph}" stroke="#d62728" '
                   f'stroke-dasharray="2,2"/><text x="{x - 3:.1f}" y="{top + ph - 4}" text-anchor="end" '
                   f'fill="#d62728">{escape(vline[1])}</text>')
    out.append("</svg>")
    return "".join(out)
