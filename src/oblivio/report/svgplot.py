"""A line chart as a small SVG document, for the one figure every run folder has.

Every run's report shows its training loss (report/figures.py ``training``), including runs
without evaluation, whose report has no other figure. Drawing it with matplotlib costs the
import of matplotlib (about 1 s on the 2-core CI machine, half of oblivio's whole-process
overhead over a bare training script, ``bench/process_time.py``) for a handful of polylines.
This module writes those polylines, axes with round tick values, an optional marker line
and a legend as SVG text, and the audit's chart (:func:`attack_rows`: one row per attack, its
name in full, skipped attacks named with their reason); the other figures (histograms, ROC
curves) stay on matplotlib, which the runs that draw them have imported for their evaluation
anyway.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

# matplotlib's tab10 colours, so the figures of one report look alike
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def nice_ticks(lo: float, hi: float, most: int = 6) -> list[float]:
    """Round tick values covering [lo, hi]: steps of 1, 2, 2.5 or 5 × 10^k, at most ``most``
    ticks inside the range (Heckbert's "nice numbers", Graphics Gems 1990) — enough ticks to
    read a value off the axis, never the range's two ends only."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(1, most - 1)
    mag = 10 ** math.floor(math.log10(raw))
    # the round step nearest the raw one (in ratio): rounding up instead left 2 ticks on a range
    # of 13 (step 5) where 2.5 gives 5
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if (hi - lo) / (m * mag) <= most),
               key=lambda st: abs(math.log(st / raw)))
    first = math.ceil(lo / step - 1e-9) * step
    out = []
    k = 0
    while first + k * step <= hi + step * 1e-9:
        out.append(round(first + k * step, 12))
        k += 1
    return out


LEGEND_GAP = 14   # px between a line chart's plot area and its legend column


def line_chart(series: Mapping[str, Sequence[tuple[float, float | None]]], *, xlabel: str, ylabel: str,
               vline: tuple[float, str] | None = None, width: int = 400, height: int = 240,
               bold: str | None = None) -> str:
    """An SVG line chart of ``series`` (name → (x, y) points; None or non-finite y are gaps).

    ``vline``: (x, label) drawn dotted in red; ``bold``: the name of the series drawn thicker.
    ``width`` × ``height`` is the chart with its axes; the legend is a column to the right of
    it, outside the plot area (the drawing is that much wider), so it never hides a curve.
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

    # the legend's column: a 14-pixel line, a gap and the longest name at ~6 px a character
    full = width + round(LEGEND_GAP + 30 + 6 * max(len(str(n)) for n in series))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{full}" height="{height}" '
           f'viewBox="0 0 {full} {height}" font-family="sans-serif" font-size="10">',
           f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#888"/>']
    for y in nice_ticks(y0, y1):          # a light grid line and a label at every round value
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{py(y):.1f}" y2="{py(y):.1f}" '
                   f'stroke="{"#bbb" if y == 0 else "#eee"}"/>'
                   f'<text x="{left - 4}" y="{py(y) + 3:.1f}" text-anchor="end">{_fmt(y)}</text>')
    for x in nice_ticks(x0, x1, 7):
        out.append(f'<line x1="{px(x):.1f}" x2="{px(x):.1f}" y1="{top + ph}" y2="{top + ph + 3}" stroke="#888"/>'
                   f'<text x="{px(x):.1f}" y="{top + ph + 13}" text-anchor="middle">{_fmt(x)}</text>')
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
        lx = left + pw + LEGEND_GAP          # right of the plot area's frame
        out.append(f'<line x1="{lx}" x2="{lx + 14}" y1="{top + 6 + 12 * i}" y2="{top + 6 + 12 * i}" '
                   f'stroke="{colour}" stroke-width="{w}"/>'
                   f'<text x="{lx + 18}" y="{top + 9 + 12 * i}">{escape(name)}</text>')
    if vline is not None:
        x = px(vline[0])
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + ph}" stroke="#d62728" '
                   f'stroke-dasharray="2,2"/><text x="{x - 3:.1f}" y="{top + ph - 4}" text-anchor="end" '
                   f'fill="#d62728">{escape(vline[1])}</text>')
    out.append("</svg>")
    return "".join(out)


@dataclass(frozen=True)
class AttackRow:
    """One attack of the audit chart: the unlearned model's attacked forget accuracy with its
    95% interval, the references under the same attack, and the words at the row's end; a
    skipped attack has ``skipped`` (the words shown in place of its bar) and no values."""
    name: str
    value: float | None = None
    lo: float | None = None
    hi: float | None = None
    gold: float | None = None
    base: float | None = None
    colour: str = "#7f7f7f"
    note: str = ""
    skipped: str | None = None


#: the bar colour of each audit decision (report/figures.py ``CHART_DECISIONS``): "too few facts"
#: (an interval on fewer facts than could show robustness, the verdict's "too few facts to
#: decide") in the verdict's amber, never robust's green
DECISION_COLOURS = {"robust": "#2ca02c", "not robust": "#d62728", "not decided": "#9e9e9e",
                    "too few facts": "#e0a040"}
_CHAR = 7.0      # px per character at font-size 11, generous: the columns are sized with it


def _legend(x: float, colours: Mapping[str, str]) -> tuple[list[str], float]:
    """The chart's key on one line — the bar colours, the whisker, gold's diamond, base's mark —
    and the x where it ends."""
    out = []
    for text, colour in colours.items():
        out.append(f'<rect x="{x:.0f}" y="6" width="11" height="9" fill="{colour}"/>'
                   f'<text x="{x + 14:.0f}" y="14">{escape(text)}</text>')
        x += 24 + _CHAR * len(text)
    out.append(f'<line x1="{x:.0f}" x2="{x + 16:.0f}" y1="10.5" y2="10.5" stroke="#222"/>'
               f'<text x="{x + 20:.0f}" y="14">95% interval</text>')
    x += 110
    out.append(f'<path d="M{x:.0f} 5.5 l5 5 l-5 5 l-5 -5 z" fill="#000"/><text x="{x + 9:.0f}" y="14">gold</text>')
    x += 46
    out.append(f'<line x1="{x:.0f}" x2="{x:.0f}" y1="4" y2="17" stroke="#7f7f7f" stroke-width="3"/>'
               f'<text x="{x + 6:.0f}" y="14">base (same attack)</text>')
    return out, x + 6 + _CHAR * len("base (same attack)")


def _clip(v: float) -> float:
    return min(1.0, max(0.0, v))


def attack_rows(rows: Sequence[AttackRow], *, xlabel: str, width: int = 720) -> str:
    """The audit as SVG: one row per attack on a 0–1 axis — a bar for the unlearned model's
    attacked forget accuracy (its 95% interval as a whisker; a value of 0 still shows a stub),
    a black diamond for gold's under the same attack, a grey bar end for base's — its name
    left in full (the column is as wide as the longest name) and its note right; a skipped
    attack is a row that says so in words (``AttackRow.skipped``)."""
    row_h, top, bottom = 22, 30, 40
    label_w = 12 + 7 * max([len(r.name) for r in rows] + [6])
    note_w = min(340, 12 + _CHAR * max([len(r.note) for r in rows] + [10]))
    # the key names the decisions the rows have (each colour once), in DECISION_COLOURS' order
    shown = {t: c for t, c in DECISION_COLOURS.items() if any(r.skipped is None and r.colour == c for r in rows)}
    legend, legend_end = _legend(label_w, shown)
    # wide enough for the key and for the axis label (under the axis where it fits)
    half = _CHAR * len(xlabel) / 2
    pw = max(160, width - label_w - note_w - 10, legend_end - label_w - note_w, 2 * half - label_w - note_w)
    width = round(label_w + pw + note_w + 10)
    label_x = min(max(label_w + pw / 2, half), width - half)
    height = top + row_h * len(rows) + bottom

    def px(v: float) -> float:
        return label_w + _clip(v) * pw

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           *legend]
    for t in nice_ticks(0.0, 1.0):
        out.append(f'<line x1="{px(t):.1f}" x2="{px(t):.1f}" y1="{top - 4}" y2="{top + row_h * len(rows)}" '
                   f'stroke="#e4e4e4"/><text x="{px(t):.1f}" y="{top + row_h * len(rows) + 13}" '
                   f'text-anchor="middle">{_fmt(t)}</text>')
    for i, r in enumerate(rows):
        y = top + i * row_h
        mid = y + row_h / 2
        out.append(f'<text x="{label_w - 6}" y="{mid + 4:.1f}" text-anchor="end">{escape(r.name)}</text>')
        if r.skipped is not None or r.value is None:
            out.append(f'<text x="{label_w + 4}" y="{mid + 4:.1f}" fill="#777" font-style="italic">'
                       f'{escape(r.skipped or "no attacked accuracy in the record")}</text>')
            continue
        w = max(2.0, px(r.value) - label_w)           # a zero still shows: a 2-pixel stub
        out.append(f'<rect x="{label_w}" y="{y + 5}" width="{w:.1f}" height="{row_h - 10}" fill="{r.colour}"/>')
        if r.lo is not None and r.hi is not None:
            out.append(f'<line x1="{px(r.lo):.1f}" x2="{px(r.hi):.1f}" y1="{mid:.1f}" y2="{mid:.1f}" stroke="#222"/>'
                       + "".join(f'<line x1="{px(v):.1f}" x2="{px(v):.1f}" y1="{mid - 4:.1f}" y2="{mid + 4:.1f}" '
                                 'stroke="#222"/>' for v in (r.lo, r.hi)))
        if r.base is not None:
            out.append(f'<line x1="{px(r.base):.1f}" x2="{px(r.base):.1f}" y1="{y + 3}" y2="{y + row_h - 3}" '
                       'stroke="#7f7f7f" stroke-width="3"/>')
        if r.gold is not None:
            out.append(f'<path d="M{px(r.gold):.1f} {mid - 5:.1f} l5 5 l-5 5 l-5 -5 z" fill="#000"/>')
        out.append(f'<text x="{label_w + pw + 10}" y="{mid + 4:.1f}">{escape(r.note)}</text>')
    out.append(f'<text x="{label_x:.1f}" y="{height - 6}" text-anchor="middle">{escape(xlabel)}</text>')
    out.append("</svg>")
    return "".join(out)
