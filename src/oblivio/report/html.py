"""One self-contained HTML page per run, per set of runs, or per comparison folder.

Everything on the page comes from the runs' ``results.json`` (and a calibration's, when the
run folder holds ``calibrated-<τ>/``): the verdict (report/verdict.py), per-set tables with
their direction and, when present, bootstrap intervals, the figures (report/figures.py,
embedded PNG — no network, no CDN), efficiency, and the config with the command that
reproduces the run. Every number carries ``data-key``, its path in results.json, so a test
can check the page against the record. Jinja2 renders ``templates/report.html.j2`` with
autoescaping on: run folder names, forget targets, config values, metric, role and attack names
and ``--title`` are the user's text and reach the page only as text, never as markup.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oblivio.errors import InputError
from oblivio.report import figures as figs
from oblivio.report.verdict import WORDS, Verdict, verdicts

MODELS = ("base", "gold", "unlearned")


def fmt(v: Any) -> str:
    """The page's number format (3 decimals; 3 significant digits for very large/small)."""
    if v is None:
        return "n/a"
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, int):
        return str(v)
    if abs(v) >= 100 or (v != 0 and abs(v) < 1e-3):
        return f"{v:.3g}"
    return f"{v:.3f}"


@dataclass
class Cell:
    text: str
    key: str | None = None        # path in results.json of the number shown
    ci: str | None = None
    note: str | None = None       # a skip reason


@dataclass
class Run:
    name: str
    path: Path
    rec: dict[str, Any]
    calibration: dict[str, Any] | None = None
    verdicts: list[Verdict] = field(default_factory=list)


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
    run = Run(shown.name, shown, rec, cal)
    run.verdicts = checked_verdicts(rec, f)
    return run


def checked_verdicts(rec: dict[str, Any], f: Path) -> list[Verdict]:
    """The verdicts of results.json ``f`` (none without models); a record of a shape they cannot
    read is an InputError naming the file."""
    try:
        return verdicts(rec) if "models" in rec else []
    except (KeyError, TypeError, AttributeError, IndexError, ValueError) as e:
        raise InputError(f"results of an unexpected shape ({type(e).__name__}: {e}); the file was changed or "
                         "damaged: run it again", file=str(f)) from None


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


def _cell(rec: dict[str, Any], key: str) -> Cell:
    node: Any = rec
    for part in key.split(".")[:-1]:
        node = node.get(part, {}) if isinstance(node, dict) else {}
    if not isinstance(node, dict) or not node:
        return Cell("—")
    if node.get("skipped"):
        return Cell("skipped", note=str(node["skipped"]))
    ci = node.get("ci")
    ci_txt = f"[{fmt(ci[0])}, {fmt(ci[1])}]" if isinstance(ci, (list, tuple)) and len(ci) == 2 else None
    return Cell(fmt(node.get("value")), key, ci_txt)


def _set_tables(run: Run) -> list[dict[str, Any]]:
    rec = run.rec
    meta = rec.get("metrics", {})
    models = [m for m in MODELS if m in rec.get("models", {})]
    roles: list[str] = []
    for m in models:
        roles += [r for r in rec["models"][m].get("sets", {}) if r not in roles]
    tables = []
    for role in roles:
        rows = []
        names = sorted({k for m in models for k in rec["models"][m].get("sets", {}).get(role, {})})
        for name in names:
            from oblivio.roles import base_role
            good = meta.get(name, {}).get("good_on_forget" if base_role(role) == "forget" else "good_on_retain", "")
            rows.append({"metric": name, "good": good,
                         "cells": [_cell(rec, f"models.{m}.sets.{role}.{name}.value") for m in models]})
        tables.append({"role": role, "models": models, "rows": rows})
    rows = []
    for name in sorted({k for m in models for k in rec["models"][m].get("model", {})}):
        rows.append({"metric": name, "good": meta.get(name, {}).get("good_on_forget", ""),
                     "cells": [_cell(rec, f"models.{m}.model.{name}.value") for m in models]})
    tables.append({"role": "(model level)", "models": models, "rows": rows})
    return tables


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
    judge = run.rec.get("judge")
    return {
        "tables": _set_tables(run) if "models" in run.rec else [],
        "truth": figs.truth_ratios(run.rec),
        "roc": figs.mia_roc(run.rec),
        "training": figs.training(run.rec),
        "checkpoints": figs.checkpoints(run.rec),
        "attacks": figs.attacks(run.rec),
        "calibration": figs.calibration(run.calibration),
        "judge": judge or figs.NotAvailable("no judge ran (UQ/RQ come with the TRU judge)"),
        "efficiency": _efficiency(run),
        "command": _command(run),
        "config": json.dumps(run.rec.get("config", {}), indent=1),
        "versions": run.rec.get("versions", {}),
        "seed": run.rec.get("seed"),
        "data": run.rec.get("data", {}),
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
    return {"keys": keys, "rows": rows, "plots": plots, "config": json.dumps(rec.get("config", {}), indent=1)}


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
        runs_ctx.append({"run": r, "compare": compare,
                         "s": _compare_sections(r) if compare else _sections(r)})
    name = title or ("oblivio report: " + ", ".join(r.name for r in loaded))
    return env.get_template("report.html.j2").render(title=name, runs=runs_ctx, n=len(loaded))


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
