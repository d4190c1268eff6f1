"""One self-contained HTML page per run, per set of runs, or per comparison folder.

Everything on the page comes from the runs' ``results.json`` (and a calibration's, when the
run folder holds ``calibrated-<τ>/``), in the order a reader needs it: the verdict — each line
with its status, n, interval and margin in sight (report/overview.py) — and, for several runs or
a comparison, one table of runs × verdicts named by method and settings; then per evaluated set
the few key metrics with their counts and 95% intervals, the rest folded away
(report/tables.py); the figures (report/figures.py: embedded PNG and SVG — no network, no CDN);
the judge's UQ/RQ and the audit's attacks as tables; efficiency; the config with the command
that reproduces the run; and a glossary of every metric the page names, in the metric
registry's own words (each metric name also carries it as its hover text). Every number
carries ``data-key``, its path in results.json, so a test can check the page against the
record. Jinja2 renders ``templates/report.html.j2`` with autoescaping on: run folder names,
forget targets, config values, metric, role and attack names and ``--title`` are the user's
text and reach the page only as text, never as markup.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oblivio.errors import InputError
from oblivio.report import figures as figs
from oblivio.report import overview as ov
from oblivio.report import tables as T
from oblivio.report.tables import Cell, fmt
from oblivio.report.verdict import WORDS, Verdict, checked_verdicts

__all__ = ["Cell", "fmt", "GENERATOR", "Run", "load_run", "render", "write_report", "checked_verdicts"]

@dataclass
class Run:
    name: str
    path: Path
    rec: dict[str, Any]
    calibration: dict[str, Any] | None = None
    verdicts: list[Verdict] = field(default_factory=list)
    source: Path | None = None    # the file read (``path`` is the name shown: a run being written is a .partial)


def load_run(path: str | Path, display: Path | None = None) -> Run:
    p = Path(path)
    f = p
    if p.is_dir():
        f = p / "results.json" if (p / "results.json").is_file() or not (p / "compare.json").is_file() \
            else p / "compare.json"
    if not f.is_file():
        raise InputError("not a run folder (no results.json or compare.json)", file=str(p))
    from oblivio.report.results import read_results
    rec = read_results(f, ("oblivio_results", "oblivio_compare"))
    cal = None
    folder = f.parent
    for c in sorted(folder.glob("calibrated-*/results.json")):
        cal = read_results(c)
    shown = display or folder      # a run being written lives in <run>.partial: show its final name
    run = Run(shown.name, shown, rec, cal, source=f)
    run.verdicts = checked_verdicts(rec, f)
    return run


def _lookup(rec: dict[str, Any], key: str) -> Any:
    node: Any = rec
    for part in key.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None
    return node


def _efficiency(run: Run) -> list[tuple[str, Cell]]:
    rec = run.rec
    rows = [(f"time: {k} (s)", Cell(fmt(v), f"timings.{k}")) for k, v in (rec.get("timings") or {}).items()]
    tr = rec.get("training") or {}
    for k in ("steps", "seconds", "processes", "examples_per_process", "tokens_per_process", "peak_rss_mb",
              "peak_cuda_mb"):
        if k in tr:
            rows.append((f"training {k}", Cell(fmt(tr[k]), f"training.{k}")))
    if tr.get("steps") and tr.get("seconds"):
        rows.append(("seconds per step", Cell(fmt(tr["seconds"] / tr["steps"]))))
    for k in ("eval_share", "eval_seconds"):
        if k in rec:
            rows.append((k.replace("_", " "), Cell(fmt(rec[k]), k)))
    eff = rec.get("efficiency") or {}     # engine/efficiency.py: FLOPs estimate and phases
    if "audit" in (eff.get("phases") or {}):
        rows.append(("time: audit (s)", Cell(fmt(eff["phases"]["audit"]), "efficiency.phases.audit")))
    if eff:
        rows.append(("parameters", Cell(fmt(eff["parameters"]), "efficiency.parameters")))
        for k in ("training", "inference"):
            rows.append((f"tokens: {k}", Cell(fmt(eff["tokens"][k]), f"efficiency.tokens.{k}")))
        for k in ("training", "inference", "total"):
            rows.append((f"FLOPs ({k}, est.)", Cell(fmt(eff["flops"][k]), f"efficiency.flops.{k}")))
        rows.append(("FLOPs convention", Cell(eff.get("convention", ""))))
    return rows


def _command(run: Run) -> str:
    return f"oblivio unlearn --config {run.path / 'config.yaml'} --out {run.path.name}-rerun"


def _sections(run: Run) -> dict[str, Any]:
    rec = run.rec
    judge_models, judge_rows = T.judge_table(rec)
    return {
        "verdicts": [ov.shown(v, rec) for v in run.verdicts],
        "tables": T.metric_tables(rec) if "models" in rec else [],
        "truth": figs.truth_ratios(rec),
        "roc": figs.mia_roc(rec),
        "training": figs.training(rec),
        "checkpoints": figs.checkpoints(rec),
        "attacks": figs.attacks(rec),
        "attack_table": T.attack_table(rec),
        "calibration": figs.calibration(run.calibration),
        "judge": {"kind": (rec.get("judge") or {}).get("judge") or {}, "models": judge_models, "rows": judge_rows}
        if judge_rows else figs.NotAvailable("no judge ran (UQ/RQ come with the TRU judge)"),
        "efficiency": _efficiency(run),
        "command": _command(run),
        "config": json.dumps(rec.get("config", {}), indent=1),
        "versions": rec.get("versions", {}),
        "seed": rec.get("seed"),
        "data": rec.get("data", {}),
    }


def _compare_sections(run: Run) -> dict[str, Any]:
    rec = run.rec
    cells = rec.get("cells") or []
    keys = sorted({k for c in cells for k, v in (c.get("values") or c).items()
                   if isinstance(v, (int, float)) and not isinstance(v, bool)})
    rows = [{"label": f"{c.get('method')} / {c.get('sampler')}",
             "cells": [Cell(fmt((c.get("values") or c).get(k)),
                            f"cells.{i}.{'values.' if 'values' in c else ''}{k}") for k in keys]}
            for i, c in enumerate(cells)]
    plots = []
    import base64
    for png in sorted(run.path.glob("*.png")):
        plots.append(figs.Figure("data:image/png;base64," + base64.b64encode(png.read_bytes()).decode("ascii"),
                                 f"comparison plot {png.name}"))
    over = rec.get("verdicts")
    return {"keys": keys, "rows": rows, "plots": plots, "config": json.dumps(rec.get("config", {}), indent=1),
            "world_verdicts": {str(k): [ov.parse_line(str(x)) for x in v] for k, v in over.items()
                               if isinstance(v, list)} if isinstance(over, dict) else {},
            "notes": [str(n) for n in rec.get("notes") or [] if n]}


def _overview(loaded: Sequence[Run]) -> list[ov.OverviewRow]:
    """The runs × verdicts rows: one per run, a comparison's per cell (report/overview.py)."""
    rows: list[ov.OverviewRow] = []
    for r in loaded:
        f = r.source or r.path
        if "oblivio_compare" in r.rec:
            rows += ov.compare_rows(r.rec, f.parent if f.is_file() else f)
        else:
            rows.append(ov.run_row(r.rec, r.verdicts, r.path, f))
    return rows


def _glossary(runs_ctx: list[dict[str, Any]]) -> list[T.Entry]:
    """The registry's entry of every metric named on the page (tables and judge), once; a
    metric the registry lacks is described by the first run that saved it."""
    named: dict[str, dict[str, Any]] = {}          # metric → the record that names it first
    for r in runs_ctx:
        if r["compare"]:
            continue
        judge = r["s"]["judge"]
        for name in [row.metric for t in r["s"]["tables"] for row in (*t.key, *t.other)] + \
                [jr.metric.lower() for jr in (judge["rows"] if isinstance(judge, dict) else [])]:
            named.setdefault(name, r["run"].rec)
    return [e for name, rec in sorted(named.items()) for e in T.glossary(rec, [name])]


def _label(r: Run) -> str:
    if "oblivio_compare" in r.rec:
        return f"comparison {r.name}"
    return ov.run_row(r.rec, r.verdicts, r.path, r.source or r.path).label


def render(runs: Sequence[str | Path | Run], *, title: str | None = None) -> str:
    """The HTML page for one or several run folders (or a compare folder)."""
    from jinja2 import Environment, PackageLoader
    loaded = [r if isinstance(r, Run) else load_run(r) for r in runs]
    if not loaded:
        raise InputError("no run folder given", field="runs")
    # autoescape always on: Jinja's choice by file extension does not match ".j2", which left
    # every field a user controls (targets, folder names, titles) raw in the page
    env = Environment(loader=PackageLoader("oblivio.report", "templates"), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True)
    env.tests["na"] = lambda x: isinstance(x, figs.NotAvailable)
    env.globals["fmtkey"] = lambda rec, key: fmt(_lookup(rec, key))
    env.globals["words"] = WORDS
    runs_ctx = []
    for r in loaded:
        compare = "oblivio_compare" in r.rec
        runs_ctx.append({"run": r, "compare": compare, "label": _label(r),
                         "s": _compare_sections(r) if compare else _sections(r)})
    name = title or ("oblivio report: " + ", ".join(r.name for r in loaded))
    single = len(loaded) == 1 and not runs_ctx[0]["compare"]
    return env.get_template("report.html.j2").render(
        title=name, runs=runs_ctx, n=len(loaded), overview=[] if single else _overview(loaded),
        any_run=any(not r["compare"] for r in runs_ctx), glossary=_glossary(runs_ctx),
        questions=("forgotten", "kept", "private", "robust"), named_by=ov.NAMED_BY)


GENERATOR = '<meta name="generator" content="oblivio report">'


def write_report(runs: Sequence[str | Path | Run], out: str | Path, *, title: str | None = None,
                 overwrite: bool = False, display_path: Path | None = None) -> Path:
    """Render and write atomically (a temporary name, then renamed). An existing file is
    replaced only if oblivio wrote it, or with ``overwrite``; the inputs are checked first."""
    dest = Path(out)
    if dest.is_dir():
        raise InputError("is a folder; give the report file's path (e.g. report.html)", file=str(dest))
    from oblivio.atomic import check_replaceable
    check_replaceable(dest)      # a link, a device or a FIFO (reading one would block): never read or replaced
    if not dest.parent.is_dir():
        raise InputError("the folder for the report does not exist", file=str(dest))
    if dest.exists() and not overwrite and GENERATOR not in dest.read_text(encoding="utf-8", errors="replace"):
        raise InputError("exists and is not an oblivio report; choose another --out or pass --overwrite",
                         file=str(dest))
    loaded = [r if isinstance(r, Run) else load_run(r, display_path if len(runs) == 1 else None) for r in runs]
    html = render(loaded, title=title)
    from oblivio.atomic import write_text
    write_text(dest, html)
    return dest
