"""Tables and plots of a method × sampler comparison (:mod:`oblivio.experiments.compare`).

Markdown tables of forget efficacy and per-role utility (uncalibrated, and at equal utility
after model-mixing calibration), the forget-efficacy vs test-utility scatter (one panel per
held-out role) and the calibration sweeps. Split from the grid runner so that the runner
stays about running; :func:`write_compare` writes the comparison's files (``compare.json``,
``compare.md``, the plots). matplotlib is imported only when a plot is drawn.

Both axes of the scatter are shares in [0, 1], and an axis fitted to the data alone makes a
one-point gap between cells (0.964 against 0.974) fill the panel: each axis spans at least
:data:`MIN_SPAN` within [0, 1] (:func:`share_limits`), and the base and gold models' values are
drawn as reference lines, so a gap reads against the scale of the whole range.
"""
from __future__ import annotations

import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from oblivio.data.schema import UnlearningData, summarize

#: the samplers' short names in tables and cell labels (``npo/MELU``)
SHORT = {"one_to_one_sequential": "1:1 seq", "one_to_one_random": "1:1 rand", "cyclic": "cyclic",
         "direct_only": "direct", "indirect_only": "indirect", "balanced": "balanced", "melu": "MELU"}

if TYPE_CHECKING:  # only for annotations: the runner imports this module
    from oblivio.experiments.compare import Cell


def _fmt(x: float | None, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if x != 0 and abs(x) < 1e-3:
        return f"{x:.1e}"
    return f"{x:.{digits}f}"


def _get(tree: dict[str, Any] | None, path: tuple[str, ...]) -> Any:
    for k in path:
        if not isinstance(tree, dict):
            return None
        tree = tree.get(k)
    return tree


def _val(v: dict[str, Any], path: tuple[str, ...], sd: dict[str, Any] | None = None, ci: bool = False) -> str:
    """One table cell: "mean ± sd" over seeds when ``sd`` is given, else the value and, with
    ``ci``, its 95% bootstrap interval over facts "v [lo, hi]"."""
    x = _get(v, path)
    if sd is not None:
        s = _get(sd, path)
        return _fmt(x) if x is None or s is None else f"{_fmt(x)} ± {_fmt(s)}"
    iv = _get(v.get("ci"), path) if ci else None
    return _fmt(x) if x is None or not iv else f"{_fmt(x)} [{_fmt(iv[0])}, {_fmt(iv[1])}]"


def markdown_table(cells: Sequence[Cell], reference: dict[str, dict[str, Any]], roles: Sequence[str], *,
                   ci: bool = False) -> str:
    """Forget efficacy, per-role utility, model utility, forget accuracy and forget quality per
    cell; cells run on several seeds show mean ± sd (and a column n), otherwise ``ci`` adds the
    95% bootstrap intervals over facts (forget quality, a p-value, has none)."""
    seeds = any(c.sd is not None for c in cells)
    head = (["method", "sampler", "steps"] + (["n"] if seeds else []) + ["forget efficacy ↑"]
            + [f"utility {r} ↑" for r in roles] + ["model utility ↑", "forget acc ↓", "forget quality ↑"])
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    paths = ([("forget_efficacy",)] + [("utility", r) for r in roles]
             + [("model_utility",), ("forget_accuracy",), ("forget_quality",)])

    def row(method: str, sampler: str, steps: str, n: str, v: dict[str, Any], sd: dict[str, Any] | None) -> str:
        cols = [method, sampler, steps] + ([n] if seeds else [])
        cols += [_val(v, p, sd, ci) for p in paths]
        return "| " + " | ".join(cols) + " |"
    for name, v in reference.items():
        lines.append(row(f"({name})", "–", "0", "–", v, None))
    for c in cells:
        n = str(_get(c.n, ("forget_efficacy",)) or len(c.seeds)) if c.sd is not None else "1"
        lines.append(row(c.method, c.sampler, str(c.steps), n, c.values, c.sd))
    return "\n".join(lines)


def calibrated_markdown(cells: Sequence[Cell], roles: Sequence[str], tau: float) -> str:
    head = (["method", "sampler", "α", f"utility (≥ {tau:g}×ref)", "forget efficacy ↑"]
            + [f"utility {r} ↑" for r in roles] + ["forget acc ↓", "forget quality ↑"])
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for c in cells:
        cal = c.calibration or {}
        sd = cal.get("sd")
        cols = [c.method, c.sampler, _val(cal, ("alpha",), sd), _val(cal, ("utility",), sd)]
        cols += [_val(cal, ("values", "forget_efficacy"), sd)]
        cols += [_val(cal, ("values", "utility", r), sd) for r in roles]
        cols += [_val(cal, ("values", "forget_accuracy"), sd), _val(cal, ("values", "forget_quality"), sd)]
        lines.append("| " + " | ".join(cols) + " |")
    return "\n".join(lines)


# --- plots ---------------------------------------------------------------------------------

#: the least span of a share axis (forget efficacy, utility) in the comparison's scatter
MIN_SPAN = 0.2


def share_limits(values: Sequence[float], *, min_span: float = MIN_SPAN, pad: float = 0.05) -> tuple[float, float]:
    """Axis limits for shares: the values' range widened by ``pad`` of its span on each side,
    then to at least ``min_span`` about its middle, shifted (not shrunk) to stay within [0, 1];
    (0, 1) without finite values."""
    vals = [float(v) for v in values if v is not None and math.isfinite(v)]
    if not vals:
        return 0.0, 1.0
    lo, hi = min(vals), max(vals)
    lo, hi = lo - pad * (hi - lo), hi + pad * (hi - lo)
    if hi - lo < min_span:
        mid = (lo + hi) / 2
        lo, hi = mid - min_span / 2, mid + min_span / 2
    if lo < 0:
        lo, hi = 0.0, min(1.0, hi - lo)
    if hi > 1:
        lo, hi = max(0.0, lo - (hi - 1)), 1.0
    return lo, hi


def panel_limits(cells: Sequence[Cell], reference: dict[str, dict[str, Any]],
                 role: str) -> tuple[tuple[float, float], tuple[float, float]]:
    """(x limits, y limits) of one role's panel: every cell's forget efficacy and utility (± its
    sd over seeds) and the reference models' values, by :func:`share_limits`."""
    xs: list[float] = []
    ys: list[float] = []
    for c in cells:
        x, y = c.values.get("forget_efficacy"), c.values.get("utility", {}).get(role)
        if x is None or y is None:
            continue
        dx = (_get(c.sd, ("forget_efficacy",)) or 0) if c.sd is not None else 0
        dy = (_get(c.sd, ("utility", role)) or 0) if c.sd is not None else 0
        xs += [x - dx, x + dx]
        ys += [y - dy, y + dy]
    for v in reference.values():
        if v.get("forget_efficacy") is not None:
            xs.append(v["forget_efficacy"])
        if v.get("utility", {}).get(role) is not None:
            ys.append(v["utility"][role])
    return share_limits(xs), share_limits(ys)

def plot_grid(cells: Sequence[Cell], reference: dict[str, dict[str, Any]], roles: Sequence[str],
              path: Path, title: str = "") -> Path:
    """Forget efficacy (x) vs S0 test utility (y), one panel per test role; axes by
    :func:`panel_limits`, the base's and gold's utility (and gold's forget efficacy) as dotted lines."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    roles = list(roles) or ["(no test role)"]
    fig, axes = plt.subplots(1, len(roles), figsize=(4.6 * len(roles), 4.2), squeeze=False)
    methods = list(dict.fromkeys(c.method for c in cells))
    samplers = list(dict.fromkeys(c.sampler for c in cells))
    markers = "osD^vP*X"
    cmap = plt.get_cmap("tab10")
    for ax, role in zip(axes[0], roles):
        for c in cells:
            x, y = c.values.get("forget_efficacy"), c.values.get("utility", {}).get(role)
            if x is None or y is None:
                continue
            ax.scatter(x, y, marker=markers[methods.index(c.method) % len(markers)],
                       color=cmap(samplers.index(c.sampler) % 10), s=46, zorder=3, clip_on=False)
            if c.sd is not None:   # several seeds: mean ± sd
                ax.errorbar(x, y, xerr=_get(c.sd, ("forget_efficacy",)) or 0,
                            yerr=_get(c.sd, ("utility", role)) or 0, fmt="none", lw=0.8,
                            color=cmap(samplers.index(c.sampler) % 10), zorder=2)
            ax.annotate(c.label, (x, y), fontsize=6.5, xytext=(3, 3), textcoords="offset points")
        for name, v in reference.items():
            x, y = v.get("forget_efficacy"), v.get("utility", {}).get(role)
            colour = "black" if name == "base" else "grey"
            if y is not None:        # the reference's utility across the panel: a gap reads against it
                ax.axhline(y, ls=":", lw=0.9, color=colour, zorder=1)
            if x is not None and name == "gold":     # gold's forgetting: where the cells should be
                ax.axvline(x, ls=":", lw=0.9, color=colour, zorder=1)
            if x is not None and y is not None:
                # a share of 0 or 1 sits on the frame: drawn whole, not cut by it
                ax.scatter(x, y, marker="*" if name == "base" else "X", color=colour, s=110, zorder=4,
                           clip_on=False)
                ax.annotate(name, (x, y), fontsize=7, xytext=(3, -9), textcoords="offset points")
        (x0, x1), (y0, y1) = panel_limits(cells, reference, role)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
        ax.set_xlabel("forget efficacy 1 − mean(P̄, R, C) ↑")
        ax.set_ylabel(f"S0 utility on {role} ↑")
        ax.set_title(role)
        ax.grid(alpha=0.3)
    handles = [plt.Line2D([], [], marker=markers[i % len(markers)], ls="", color="k", label=m)
               for i, m in enumerate(methods)]
    handles += [plt.Line2D([], [], marker="o", ls="", color=cmap(i % 10), label=s) for i, s in enumerate(samplers)]
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 9), fontsize=7, frameon=False)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout(rect=(0, 0.08, 1, 0.95 if title else 1))
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


_SWEEP_X = ("s0_forget_efficacy", "forget_efficacy")


def plot_calibration(cells: Sequence[Cell], path: Path, tau: float) -> Path:
    """Each cell's calibration sweep: forget efficacy (x; α when the sweep lacks it) vs
    utility (y), the chosen α marked."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.8))
    cmap = plt.get_cmap("tab20")
    # the calibration search evaluates without sentence embeddings: C is not in these values
    xlabel = "S0 forget efficacy during the sweep (without C, except at α = 1) ↑"
    for k, c in enumerate(cells):
        cal = c.calibration or {}
        pts = []
        for e in cal.get("sweep") or []:
            xk = next((key for key in _SWEEP_X if isinstance(e.get(key), (int, float))), None)
            if xk is None:
                xk, xlabel = "alpha", "mixing weight α of the reference"
            if isinstance(e.get(xk), (int, float)) and isinstance(e.get("utility"), (int, float)):
                pts.append((float(e[xk]), float(e["utility"])))
        pts.sort()
        if pts:
            ax.plot(*zip(*pts), "-o", ms=3, lw=1, color=cmap(k % 20), label=c.label)
        chosen = [e for e in cal.get("sweep") or [] if e.get("alpha") == cal.get("alpha")]
        if chosen:
            e = chosen[0]
            xk = next((key for key in _SWEEP_X if isinstance(e.get(key), (int, float))), "alpha")
            if isinstance(e.get(xk), (int, float)) and isinstance(e.get("utility"), (int, float)):
                ax.scatter(e[xk], e["utility"], marker="*", s=90, color=cmap(k % 20), zorder=4)
    target = (cells[0].calibration or {}).get("target") if cells else None
    if target is not None:
        ax.axhline(target, ls="--", color="grey", lw=1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("utility (calibration metric) ↑")
    ax.set_title(f"calibration sweeps (τ = {tau:g}; ★ = chosen α)", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


# --- files ---------------------------------------------------------------------------------

def write_compare(work: Path, d: UnlearningData, cfg, cells: Sequence[Cell], reference: dict[str, dict[str, Any]],
                  budget_info: dict[str, Any], methods: Sequence[str], samplers: Sequence[str], roles: Sequence[str],
                  timings: dict[str, float], c_note: str | None, calibrate: float | None, *, final: bool,
                  table: str = "", cal_table: str = "", seeds: Sequence[int] | None = None) -> dict[str, Path]:
    """Write ``compare.json`` (after every cell, ``complete`` false until the end) and, when
    ``final``, ``compare.md`` and the plots; returns the files written."""
    from oblivio.config import to_dict
    from oblivio.report.results import versions, write_json
    rec = {
        "oblivio_compare": 1,
        "complete": final,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "seed": cfg.seed,
        "seeds": list(seeds) if seeds else None,
        "aggregate": ("values: mean over seeds; sd: sample standard deviation (n − 1); n: seeds with a value"
                      if seeds else None),
        "versions": versions(),
        "config": to_dict(cfg),
        "data": {"name": d.name, "counts": summarize(d.items), "targets": list(d.targets),
                 "neighbour_roles": d.neighbour_roles, **({"provenance": d.provenance} if d.provenance else {})},
        "budget": budget_info,
        "methods": methods,
        "samplers": samplers,
        "test_roles": roles,
        "notes": [c_note] if c_note else [],
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "reference": reference,
        "cells": [c.to_json() for c in cells],
        "calibration": {"tau": calibrate} if calibrate is not None else None,
    }
    files = {"json": work / "compare.json"}
    write_json(files["json"], rec)
    if not final:
        return files
    kind = budget_info["kind"]
    bud = (f"{budget_info['epochs']:g} epochs per cell (steps differ by sampler)" if kind == "epochs"
           else f"{budget_info['steps']} steps per cell" if kind == "steps"
           else f"{budget_info['rule']}, the same rule for every cell; the steps taken are in the table")
    ms = "; ".join(f"{c.method}/{c.sampler}: {c.pairs_per_epoch} pairs = {c.steps_per_epoch} steps per epoch"
                   for c in cells if c.method == cells[0].method) if cells else ""
    notes = [f"data: {d.name} ({', '.join(f'{r} {n}' for r, n in summarize(d.items).items())}); "
             f"targets: {', '.join(d.targets) or '-'}",
             (f"seeds {', '.join(map(str, seeds))} (unlearning; data and reference models: world seed "
              f"{cfg.world.get('seed', 0)}); "
              "each cell: mean ± sample sd over the seeds, n = seeds" if seeds else
              f"seed {cfg.seed} (one seed)") + f"; budget: {bud}; batch size {cfg.unlearn.train.batch_size}, "
             f"lr {cfg.unlearn.train.lr if cfg.unlearn.train.lr is not None else 'by model scale'}",
             ("[lo, hi]: 95% bootstrap interval over facts; forget quality is a KS test on one value "
              "per fact" if cfg.eval.show_ci and not seeds else ""),
             f"epoch lengths — {ms}" if ms else "",
             "forget efficacy = 1 − mean(P̄, R, C) on the forget set; utility = HM(P̄, R, C) per role "
             "(S0, Bushipaka et al. 2025, arXiv 2509.05316)"]
    if c_note:
        notes.append(c_note)
    if not d.neighbour_roles:
        notes.append("no neighbour roles in this data (e.g. TOFU has no entity graph): retain is one role")
    md = ["# oblivio compare", "", *[f"- {n}" for n in notes if n], "", table, ""]
    if cal_table:
        md += [f"## Calibrated to equal utility (τ = {calibrate:g}, model mixing)", "", cal_table, ""]
    (work / "compare.md").write_text("\n".join(md), encoding="utf-8")
    files["md"] = work / "compare.md"
    files["png"] = plot_grid(cells, reference, roles, work / "compare.png", title=f"{d.name}: {bud}")
    if cal_table and calibrate is not None:
        files["calibrated_png"] = plot_calibration(cells, work / "compare_calibrated.png", float(calibrate))
    return files
