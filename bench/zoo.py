"""The method zoo on the default world: a stated tuning search, then one table over seeds (and worlds).

Issue #14. Every registered unlearning method, with the MELU sampler (the demo's), full
fine-tuning, method arguments at the paper defaults stated in each method's docstring. Three
stages, each a grid of run folders on the one grid runner (oblivio/pipeline/grid.py): a cell
is a run folder ``<out>/<preset>/<stage>/<cell>`` (config.yaml, results.json, model/ —
``oblivio audit --run`` and ``oblivio report`` take it), a second invocation keeps the cells
that finished, and every number printed is read back from the cells' results.json.

Tuning/reporting split:

* ``tune`` — ``tune`` cells (seed 100, never a reported seed) on the **validation worlds**
  ``--val-worlds`` (default 101, 102: never a table world) and their **validation** portions
  (``eval.portion: val``, never a test row — oblivio.roles): per method (× ``--args`` setting),
  one run per learning rate in ``--lrs`` and world for ``max(--checkpoints)`` steps, evaluated at
  every step of ``--checkpoints`` inside training (``control.eval_steps``: every item of
  ``forget_val`` and the ``*_val`` retain sets, accuracy and held-out-phrasing accuracy, inside
  ``oblivio.roles.selecting``), read back from the run's results.json ``curves``. A method that
  builds its model only after its last step (``builds_model_at_finish``: task_vector) cannot be
  evaluated inside training: it gets one cell per (lr, checkpoint), trained that many steps. A
  method that trains in rounds of its own (``runs_own_rounds``: reveal_release) has no
  checkpoints: it is not tuned, and not in the table. Each (lr, setting, step) is scored on its
  means over the validation worlds (only settings measured on all of them), against the
  verdicts' targets, two-sided as the "forgotten" verdict: forget accuracy and
  held-out-phrasing forget accuracy within gold ± the verdict margin (0.05) — forgetting more
  than gold misses too, as over-unlearning — and ``direct_val``/``indirect_val``/``general_val``
  accuracy ≥ 95% of base each. Chosen: the one meeting them with the best worst ratio; when
  none does, the smallest summed violation (then fewer steps). Writes ``tuned.json``.
* ``table`` — ``report`` cells (the test portion; they choose nothing): the chosen setting per
  method and the demo's default, on seeds ``--seeds`` (0,1,2) × worlds ``--world-seeds`` (default:
  the preset's world alone). Each run is evaluated on test (bootstrap intervals off with one
  world: the spread is over seeds; on with several, whose verdicts count facts from them), then
  the ``calibrate`` post-step mixes it toward the base to τ = 0.9 of the base's model utility (α
  chosen on validation) and evaluates the mixture on test;
  ``--audit`` adds the audit post-step, ``--lora R`` a LoRA run of the first seed. One world:
  mean ± sd over seeds. Several worlds: the mean over worlds ± the 95% Student-t half-width of
  the world means (each world's mean over its seeds; experiments/seeds.aggregate_worlds), and
  every row's four verdicts over the worlds (report/world_verdict). Writes ``table.json`` and
  ``table.md``. A table world that the tuning read is refused.
* ``cands`` — ``report`` cells of given candidate settings (``--cands``), each run like a table
  row: their test numbers side by side. Choosing a default from them on test would choose on
  reported facts; bench/default_protocol.py chooses on validation worlds. Writes ``cands.json``,
  ``cands.md``.

Cells run one after another in one process (the grid runner is sequential; the former pool of
worker processes, ``--jobs``, is gone). Times are the unlearning's wall time (results.json
``training.seconds``); peak memory is not per cell in a shared process, so the table has no
memory column (one ``oblivio unlearn`` per setting measures it: ``training.peak_rss_mb``).

Usage:
  python bench/zoo.py tune  [--methods a,b] [--lrs 5e-5,1e-4,2e-4,5e-4,1e-3,2e-3]
                            [--checkpoints 10,20,40,60,80,120,160] [--args '{"alpha": 1};{"alpha": 100}']
  python bench/zoo.py table [--seeds 0,1,2] [--world-seeds 1,2,3] [--lora 8 [--lora-methods a,b]]
                            [--audit a,b,demo] [--tuned bench/results/zoo/tuned.json]
  python bench/zoo.py cands --cands '[{"label": "a5", "method": "npo", "args": {"alpha": 5}, "lr": 5e-4, "steps": 9}]'
      (a candidate may also give "train": {"batch_size": 16, ...} and "sampler": "cyclic"; the label
      names the run, so a changed candidate needs a new label)
  (check runs: --preset tiny --methods npo,graddiff --lrs 5e-4 --checkpoints 2,4 --out /tmp/zoo-check;
   table --preset tiny --seeds 0,1 --out /tmp/zoo-check)
Results kept: bench/results/zoo/ (tuned.json, table.json, table.md, cands.md; the per-run JSON
files there are from the worker-pool version of this script).
"""
from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path
from statistics import mean, stdev
from typing import Any, Callable

from oblivio import api
from oblivio.config import Config, load_config, merge, to_dict
from oblivio.pipeline.grid import Cell, quiet_log, run_grid, stderr_log
from oblivio.presets import DEFAULT_RECIPE
from oblivio.report.verdict import MARGIN

BASES = ("direct", "indirect", "general")
FULL_METRICS = ["accuracy", "para_accuracy", "answer_prob", "truth_ratio", "forget_quality", "model_utility",
                "privleak", "mia_loss", "mia_minkpp", "gibberish_rate", "fluency"]
TUNE_SEED = 100
Rec = dict[str, Any]


# --- configs and cells ----------------------------------------------------------------------------
def cell_config(base: Rec, method: str, args: Rec, lr: float, steps: int, over: Rec) -> Config:
    """The demo's config with this method, its own arguments (replacing the demo's: a merge would
    keep ME+GD's), lr and steps, and ``over``."""
    cfg = {**base, "unlearn": {**base["unlearn"], "args": {}}}
    # the arguments go in the layer that names the method: a layer naming another method than
    # the demo's drops the arguments of the layers below it (config._layer)
    run = {"unlearn": {"method": method, "args": dict(args), "train": {"lr": lr, "max_steps": steps}}}
    return load_config(overrides=merge(run, over), base=cfg)


def cell_name(*parts: Any) -> str:
    """A plain folder name (grid.check_cells) from the parts that make the cell what it is."""
    text = "-".join(str(p) for p in parts if p not in ("", None))
    return re.sub(r"[^A-Za-z0-9._=+-]", "_", text)


def args_text(args: Rec) -> str:
    return "+".join(f"{k}={v}" for k, v in sorted(args.items()))


def tune_over(checkpoints: list[int] | None, world: int) -> Rec:
    """A tune cell: seed 100 on validation world ``world``, accuracy and held-out-phrasing
    accuracy on validation, and, for a method evaluated inside training, every item at each
    checkpoint (the utility column of the curve, direct_val accuracy, is only recorded: no
    stopping, the last weights kept)."""
    over: Rec = {"seed": TUNE_SEED, "world": {"seed": world},
                 "eval": {"metrics": ["accuracy", "para_accuracy"], "bootstrap": 0}}
    if checkpoints:
        over["control"] = {"eval_steps": checkpoints, "eval_items": None, "metrics": ["para_accuracy"],
                           "utility_metric": "direct/accuracy", "select": "final"}
    return over


def tune_cells(base: Rec, names: list[str], lrs: list[float], cps: list[int], grid: list[Rec],
               worlds: list[int]) -> list[Cell]:
    """Every method × learning rate × argument setting × validation world: one run evaluated at
    the checkpoints, or, for a method that builds its model at the end, one run per checkpoint."""
    from oblivio.config import build_method
    cells = []
    for m in names:
        for g in grid:
            meth = build_method(m, g)
            if meth.runs_own_rounds:
                print(f"{m:<12} trains in rounds of its own (no checkpoints): not tuned, not in the table")
                break
            for lr in lrs:
                for w in worlds:
                    tags = {"method": m, "lr": lr, "args": g, "world": w}
                    if meth.builds_model_at_finish:
                        cells += [Cell(cell_name(m, args_text(g), f"lr{lr:g}", f"n{c}", f"w{w}"),
                                       cell_config(base, m, g, lr, c, tune_over(None, w)), role="tune",
                                       tags={**tags, "checkpoints": [c]}) for c in cps]
                    else:
                        cells.append(Cell(cell_name(m, args_text(g), f"lr{lr:g}", "c" + "_".join(map(str, cps)),
                                                    f"w{w}"),
                                          cell_config(base, m, g, lr, max(cps), tune_over(cps, w)), role="tune",
                                          tags={**tags, "checkpoints": cps}))
    return cells


def report_over(seed: int, world: int, *, calibrate: bool, audit: bool, intervals: bool,
                extra: Rec | None = None) -> Rec:
    """A report cell: the table's metrics on test, calibrated, audited. Without ``intervals`` no
    bootstrap (one world: the spread is over seeds); with them the config's (verdicts over
    worlds count each run's facts from them)."""
    ev: Rec = {"metrics": FULL_METRICS, **({} if intervals else {"bootstrap": 0})}
    over: Rec = {"seed": seed, "world": {"seed": world}, "eval": ev,
                 "post_steps": ["calibrate"] if calibrate else [], "calibrate": {"tau": 0.9},
                 "audit": {"enabled": audit}}
    return merge(over, extra or {})


def report_cells(base: Rec, rows: list[Rec], seeds: list[int], worlds: list[int], audited: set[str],
                 lora: int = 0) -> list[Cell]:
    """Every row (label, method, args, lr, steps; optional train, sampler) × world × seed, calibrated;
    audited on every seed when its label is in ``audited``, on the first seed when any is; with
    ``lora``, one LoRA run per row (first seed, first world), uncalibrated."""
    cells = []
    for r in rows:
        extra = {"unlearn": {k: v for k, v in (("train", r.get("train")), ("sampler", r.get("sampler"))) if v}}
        label_part = r["label"] if r["label"].startswith(r["method"]) else f"{r['label']}-{r['method']}"
        what = (label_part, args_text(r["args"]), f"lr{r['lr']:g}", f"n{r['steps']}")
        plan = [(w, s, False) for w in worlds for s in seeds] + ([(worlds[0], seeds[0], True)] if lora else [])
        for w, s, is_lora in plan:
            aud = not is_lora and (r["label"] in audited or (bool(audited) and s == seeds[0]))
            over = report_over(s, w, calibrate=not is_lora, audit=aud, intervals=len(worlds) > 1,
                               extra=merge(extra, {"model": {"lora_r": lora}} if is_lora else {}))
            cells.append(Cell(cell_name(*what, f"lora{lora}" if is_lora else "", f"w{w}", f"s{s}",
                                        "audit" if aud else "", "ci" if len(worlds) > 1 else ""),
                              cell_config(base, r["method"], r["args"], r["lr"], r["steps"], over), role="report",
                              tags={"label": r["label"], "method": r["method"], "lr": r["lr"], "steps": r["steps"],
                                    "args": r["args"], "seed": s, "world": w, "lora": lora if is_lora else 0}))
    return cells


# --- what a run's results.json says ---------------------------------------------------------------
def set_value(model: Rec, metric: str, set_name: str | None = None) -> float | None:
    node = model.get("sets", {}).get(set_name, {}) if set_name else model.get("model", {})
    v = (node.get(metric) or {}).get("value")
    return None if v is None else float(v)


def _ratio(u: float | None, b: float | None) -> float:
    if u is None or b is None:
        return math.nan
    return u / b if b else (1.0 if u == 0 else math.inf)      # nothing known before: nothing lost


Get = Callable[[str, str], "float | None"]


def measures(u: Get, base: Get, gold: Get, portion: str) -> Rec:
    """What the targets read in ``portion``: ``u``, ``base`` and ``gold`` give (metric, set)
    values; the ratio keys name the test roles either way."""
    fs = f"forget_{portion}"
    return {"forget": u("accuracy", fs), "para_forget": u("para_accuracy", fs),
            "gold_forget": gold("accuracy", fs), "gold_para_forget": gold("para_accuracy", fs),
            **{f"{r}_test_ratio": _ratio(u("accuracy", f"{r}_{portion}"), base("accuracy", f"{r}_{portion}"))
               for r in BASES}}


def scored(m: Rec) -> Rec:
    """The targets on measures (one world's, or their means over worlds), two-sided as the
    "forgotten" verdict: forget and held-out-phrasing forget accuracy within gold ± MARGIN
    (forgetting more than gold is over-unlearning, and misses too), every retain role's ratio
    ≥ 95% of base. ``violation`` sums how far each is outside; 0 meets them all."""
    dist = [abs((m[k] or 0.0) - (m[f"gold_{k}"] or 0.0)) for k in ("forget", "para_forget")]
    ratios = [m[f"{r}_test_ratio"] for r in BASES]
    viol = sum(max(0.0, d - MARGIN) for d in dist) + sum(max(0.0, 0.95 - v) for v in ratios if not math.isnan(v))
    return {**m, "min_ratio": min(ratios), "violation": viol, "ok": viol == 0.0}


def targets(u: Get, base: Get, gold: Get, portion: str) -> Rec:
    """:func:`scored` on one model's :func:`measures`."""
    return scored(measures(u, base, gold, portion))


def getter(model: Rec) -> Get:
    return lambda metric, set_name: set_value(model, metric, set_name)


def tune_points(tags: Rec, results: Rec) -> list[Rec]:
    """Every checkpoint of a tune cell with its measures against the cell's base and gold
    (validation): from the run's ``curves``, or the finished run of a one-checkpoint cell."""
    models = results["models"]
    base, gold = getter(models["base"]), getter(models["gold"])
    if results.get("curves"):
        rows = [(r["step"], r["per_role"]) for r in results["curves"] if r["step"] in tags["checkpoints"]]
    else:
        sets = models["unlearned"]["sets"]
        rows = [(results["training"]["steps"],
                 {s: {m: v.get("value") for m, v in ms.items()} for s, ms in sets.items()})]
    return [{"step": step, **measures(lambda m, s, v=vals: (v.get(s) or {}).get(m), base, gold, "val")}
            for step, vals in rows]


def over_worlds(points: list[tuple[int, float, Rec, Rec]]) -> list[tuple[float, Rec, Rec]]:
    """(world, lr, args, measures) → (lr, args, scored world means) per (lr, args, step); only
    settings measured on every world (a world's missing cell would bias the mean)."""
    worlds = {w for w, *_ in points}
    groups: dict[str, list[tuple[int, float, Rec, Rec]]] = {}
    for w, lr, args, p in points:
        groups.setdefault(json.dumps([lr, args, p["step"]], sort_keys=True), []).append((w, lr, args, p))
    out = []
    for g in groups.values():
        if {w for w, *_ in g} != worlds:
            continue
        _, lr, args, first = g[0]
        avg = {k: (mean(p[k] for *_, p in g) if all(p[k] is not None for *_, p in g) else None)
               for k in first if k != "step"}
        out.append((lr, args, {"step": first["step"], **scored(avg), "worlds": sorted(worlds)}))
    return out


def choose(points: list[tuple[float, Rec, Rec]]) -> Rec:
    """(lr, args, point) → the cheapest point meeting the targets with the best worst ratio; else
    the smallest violation (then the fewest steps)."""
    ok = [p for p in points if p[2]["ok"]]
    if ok:
        lr, args, p = max(ok, key=lambda x: (x[2]["min_ratio"], -x[2]["step"]))
    else:
        lr, args, p = min(points, key=lambda x: (x[2]["violation"], x[2]["step"]))
    return {"lr": lr, "steps": p["step"], **({"args": args} if args else {}), "tuning_point": p}


def summary(model: Rec, base: Rec, gold: Rec) -> Rec:
    p = model.get("portion") or "test"
    s = targets(getter(model), getter(base), getter(gold), p)
    for m in ("forget_quality", "model_utility", "privleak", "mia_loss"):
        s[m] = set_value(model, m)
    s["gibberish_forget"] = set_value(model, "gibberish_rate", f"forget_{p}")
    gib = [set_value(model, "gibberish_rate", f"{r}_{p}") for r in BASES]
    s["gibberish_test"] = mean(g for g in gib if g is not None) if any(g is not None for g in gib) else None
    return s


def audit_summary(rec: Rec, seconds: float | None) -> Rec:
    """Per attack: robust, recovery, each model's attacked forget (and retain) accuracy."""
    out = {}
    for name, a in rec["attacks"].items():
        ms = a.get("models", {})
        out[name] = {"robust": a.get("robust"), "recovery": a.get("recovery"), "note": a.get("note", ""),
                     **{f"{m}_acc": ms.get(m, {}).get("accuracy") for m in ("base", "gold", "unlearned")},
                     "unlearned_clean": ms.get("unlearned", {}).get("clean_accuracy"),
                     "excess_ci": a.get("excess_ci"), "skipped": a.get("skipped"),
                     **{f"{m}_retain": ms.get(m, {}).get("retain_accuracy") for m in ("base", "gold", "unlearned")}}
    return {"attacks": out, "seconds": seconds}


def table_row(cell: Cell, results: Rec) -> Rec:
    """A report cell as one row of table.json."""
    ms = results["models"]
    row = {**cell.tags, "run": cell.name, "train_s": results["training"].get("seconds"),
           "steps_done": results["training"].get("steps"), "uncal": summary(ms["unlearned"], ms["base"], ms["gold"])}
    if "calibrated" in ms:
        row["cal"] = {"alpha": results["post_steps"]["calibrate"]["alpha"],
                      **summary(ms["calibrated"], ms["base"], ms["gold"])}
    if results.get("audit"):
        row["audit"] = audit_summary(results["audit"], results.get("timings", {}).get("audit"))
    return row


# --- the stages -----------------------------------------------------------------------------------
def methods_list(arg: str | None) -> list[str]:
    import oblivio.methods  # noqa: F401
    from oblivio.registry import METHODS
    return arg.split(",") if arg else [n for n in METHODS.names() if n != "finetune"]


def header(results: Rec) -> None:
    ms = results["models"]
    p = ms["gold"].get("portion") or "test"
    print(f"gold forget accuracy {set_value(ms['gold'], 'accuracy', f'forget_{p}'):.3f} (held-out phrasings "
          f"{set_value(ms['gold'], 'para_accuracy', f'forget_{p}'):.3f}); base accuracy "
          + ", ".join(f"{r}_{p} {set_value(ms['base'], 'accuracy', f'{r}_{p}'):.3f}" for r in BASES), flush=True)


def run_stage(cells: list[Cell], folder: Path) -> dict[str, Rec]:
    """The grid, its reference line printed once; ``{cell name: results.json}``."""
    seen: list[str] = []

    def done(cell: Cell, results: Rec) -> None:
        if not seen:
            header(results)
        seen.append(cell.name)
    return run_grid(cells, folder, progress=False, log=stderr_log, run_log=quiet_log, on_result=done)


def tune(a: argparse.Namespace, root: Path, names: list[str]) -> None:
    """The tuning search on the validation worlds; the choice over every tune cell of the folder
    on those worlds (a second search adds learning rates, it does not replace); writes tuned.json."""
    cps = sorted({int(x) for x in a.checkpoints.split(",")})
    grid = [json.loads(g) for g in a.args.split(";")] if a.args else [{}]
    worlds = [int(w) for w in a.val_worlds.split(",")]
    base = to_dict(api.demo_config(a.preset))
    folder = root / "tune"
    run_stage(tune_cells(base, names, [float(x) for x in a.lrs.split(",")], cps, grid, worlds), folder)
    index = json.loads((folder / "grid.json").read_text()) if (folder / "grid.json").is_file() else {"cells": {}}
    points: dict[str, list[tuple[int, float, Rec, Rec]]] = {}
    for name, entry in index["cells"].items():
        res_file = folder / name / "results.json"
        t = entry["tags"]
        if entry["role"] == "tune" and t["method"] in names and t.get("world") in worlds and res_file.is_file():
            points.setdefault(t["method"], []).extend(
                (t["world"], t["lr"], t["args"], p) for p in tune_points(t, json.loads(res_file.read_text())))
    settled = {m: over_worlds(points.get(m, [])) for m in names}
    tuned = {m: {**choose(ps), "val_worlds": worlds} for m, ps in settled.items() if ps}
    prev = json.loads(Path(a.tuned).read_text()) if Path(a.tuned).is_file() else {}
    Path(a.tuned).write_text(json.dumps({**prev, **tuned}, indent=1) + "\n")
    for m, t in tuned.items():
        p = t["tuning_point"]
        verdict = "meets targets" if p["ok"] else f"violation {p['violation']:.3f}"
        print(f"{m:<12} lr {t['lr']:.0e} steps {t['steps']:>4}  forget {p['forget']:.3f} (gold {p['gold_forget']:.3f}) "
              f"para {p['para_forget']:.3f} min val ratio {p['min_ratio']:.3f}  {verdict}")
    print(f"wrote {a.tuned}")


def table(a: argparse.Namespace, root: Path, names: list[str], stage: str) -> None:
    """``table``: every tuned method and the demo's default; ``cands``: the given candidates."""
    base = to_dict(api.demo_config(a.preset))
    seeds = [int(s) for s in a.seeds.split(",")]
    worlds = [int(s) for s in a.world_seeds.split(",")] if a.world_seeds else [base["world"]["seed"]]
    audited = set(a.audit.split(",")) if a.audit else set()
    if stage == "cands":
        rows = [{"args": {}, **c} for c in json.loads(a.cands)]
        lora = 0
    else:
        tuned = json.loads(Path(a.tuned).read_text())
        read = {w for t in tuned.values() for w in t.get("val_worlds", [])} & set(worlds)
        if read:
            sys.exit(f"table: world(s) {sorted(read)} were read by the tuning: report on others (--world-seeds)")
        rows = [{"label": m, "method": m, "lr": tuned[m]["lr"], "steps": tuned[m]["steps"],
                 "args": tuned[m].get("args", {})} for m in names if m in tuned]
        d = DEFAULT_RECIPE     # the default recipe (the demo's) as its own row
        if not a.no_demo:
            rows.append({"label": "demo", "method": d["method"], "args": d["args"], "lr": d["train"]["lr"],
                         "steps": d["train"]["max_steps"], "sampler": d["sampler"]})
        lora = a.lora
    cells = report_cells(base, rows, seeds, worlds, audited, lora)
    if lora and a.lora_methods:
        keep = set(a.lora_methods.split(","))
        cells = [c for c in cells if not c.tags["lora"] or c.tags["label"] in keep]
    results = run_stage(cells, root / stage)
    table_rows = [table_row(c, results[c.name]) for c in cells]
    labels = [r["label"] for r in rows]
    vlines, detail = verdicts(cells, results, labels, worlds)
    lines = render(table_rows, labels) + vlines
    print("\n".join(lines))
    (root / f"{stage}.json").write_text(json.dumps(table_rows, indent=1) + "\n")
    if detail:
        (root / f"{stage}-verdicts.json").write_text(json.dumps({"worlds": worlds, "seeds": seeds,
                                                                 "verdicts": detail}, indent=1) + "\n")
    (root / f"{stage}.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {root / (stage + '.json')}, {root / (stage + '.md')}")


def verdicts(cells: list[Cell], results: dict[str, Rec], labels: list[str],
             worlds: list[int]) -> tuple[list[str], dict[str, Rec]]:
    """Each row's four verdicts over the worlds (several worlds only: one world has no spread),
    as lines and as ``{label: {question: Verdict.detail}}``."""
    if len(worlds) < 2:
        return [], {}
    from oblivio.report.world_verdict import world_verdicts
    out = ["", "## Verdicts over worlds " + ",".join(map(str, worlds)) + " (Student-t over worlds, uncalibrated)"]
    detail: dict[str, Rec] = {}
    for lab in labels:
        runs = [(c.tags["world"], results[c.name]) for c in cells if c.tags["label"] == lab and not c.tags["lora"]]
        if runs:
            vs = world_verdicts(runs)
            out += [f"### {lab}", *(f"- {v.line}" for v in vs)]
            detail[lab] = {v.question: v.detail for v in vs}
    return out, detail


# --- the printed tables -----------------------------------------------------------------------------
def spread(rs: list[Rec], get: Callable[[Rec], Any], fmt: str = ".3f") -> str:
    """Mean ± sd over seeds (one world), or the mean over worlds ± the 95% t half-width of the
    world means (each the mean over that world's seeds)."""
    from oblivio.experiments.seeds import aggregate_worlds
    by_world: dict[int, list[float]] = {}
    for r in rs:
        v = get(r)
        if isinstance(v, (int, float)) and math.isfinite(v):
            by_world.setdefault(r["world"], []).append(float(v))
    if not by_world:
        return "–"
    if len(by_world) == 1:
        xs = next(iter(by_world.values()))
        return f"{mean(xs):{fmt}} ± {stdev(xs):{fmt}}" if len(xs) > 1 else f"{xs[0]:{fmt}} (1 seed)"
    m, half, _ = aggregate_worlds([mean(xs) for xs in by_world.values()])
    return f"{m:{fmt}} ± {half:{fmt}}"


COLS = [("forget", "forget"), ("para_forget", "para"), ("direct_test_ratio", "d_test%"),
        ("indirect_test_ratio", "i_test%"), ("general_test_ratio", "g_test%"), ("forget_quality", "FQ"),
        ("privleak", "privleak"), ("gibberish_forget", "gib_f")]


def render(rows: list[Rec], labels: list[str]) -> list[str]:
    worlds = sorted({r["world"] for r in rows})
    how = "mean ± sd over seeds" if len(worlds) == 1 else f"mean over {len(worlds)} worlds ± 95% t half-width"
    out: list[str] = []
    for key in ("uncal", "cal"):
        out += ["", f"## {'uncalibrated' if key == 'uncal' else 'calibrated to τ = 0.9 (model mixing)'} ({how})",
                "| method | lr | steps | " + " | ".join(c for _, c in COLS) + " | meets | "
                + ("α |" if key == "cal" else "train s |"), "|" + "---|" * (len(COLS) + 5)]
        for lab in labels:
            rs = [r for r in rows if r["label"] == lab and not r["lora"] and key in r]
            if not rs:
                continue
            cells = [spread(rs, lambda r, k=k, key=key: r[key][k], ".2g" if k == "forget_quality" else
                            ".1f" if k == "privleak" else ".3f") for k, _ in COLS]
            tail = spread(rs, lambda r: r["cal"]["alpha"], ".2f") if key == "cal" else \
                spread(rs, lambda r: r["train_s"], ".1f")
            out.append(f"| {lab} | {rs[0]['lr']:.0e} | {rs[0]['steps']} | " + " | ".join(cells)
                       + f" | {sum(r[key]['ok'] for r in rs)}/{len(rs)} | {tail} |")
    return out + render_audit(rows, labels) + render_lora(rows)


def render_lora(rows: list[Rec]) -> list[str]:
    lora = [r for r in rows if r["lora"]]
    if not lora:
        return []
    out = ["", "## LoRA vs full (first seed and world): unlearning wall time",
           "| method | full s | LoRA s | LoRA forget | LoRA min test ratio |", "|---|---|---|---|---|"]
    for r in lora:
        f = next((x for x in rows if x["label"] == r["label"] and not x["lora"] and x["seed"] == r["seed"]
                  and x["world"] == r["world"]), None)
        if f:
            out.append(f"| {r['label']} | {f['train_s']:.1f} | {r['train_s']:.1f} | {r['uncal']['forget']:.3f} | "
                       f"{r['uncal']['min_ratio']:.3f} |")
    return out


def render_audit(rows: list[Rec], labels: list[str]) -> list[str]:
    """Per attack: attacked forget accuracy of the unlearned model over the audited runs, base's
    and gold's, and how many runs were robust."""
    aud = [r for r in rows if r.get("audit") and not r["lora"]]
    if not aud:
        return []
    attacks = list(dict.fromkeys(k for r in aud for k in r["audit"]["attacks"]))
    out = ["", "## Robustness audit: attacked forget accuracy, unlearned [robust runs]",
           "| model | " + " | ".join(attacks) + " | audit s |", "|" + "---|" * (len(attacks) + 2)]
    for ref in ("base", "gold"):
        cells = [spread([r for r in aud if k in r["audit"]["attacks"]],
                        lambda r, k=k, ref=ref: r["audit"]["attacks"][k][f"{ref}_acc"], ".2f") for k in attacks]
        out.append(f"| {ref} (all audited runs) | " + " | ".join(cells) + " | |")
    for lab in labels:
        rs = [r for r in aud if r["label"] == lab]
        if not rs:
            continue
        cells = []
        for k in attacks:
            have = [r for r in rs if k in r["audit"]["attacks"]]
            rob = [r["audit"]["attacks"][k]["robust"] for r in have if r["audit"]["attacks"][k]["robust"] is not None]
            cells.append(f"{spread(have, lambda r, k=k: r['audit']['attacks'][k]['unlearned_acc'], '.2f')} "
                         f"[{sum(rob)}/{len(rob)}]")
        out.append(f"| {lab} | " + " | ".join(cells) + f" | {spread(rs, lambda r: r['audit']['seconds'], '.0f')} |")
    return out


def main(argv: list[str] | None = None) -> None:
    a = _parser().parse_args(argv)
    root = Path(a.out) / a.preset
    root.mkdir(parents=True, exist_ok=True)
    a.tuned = a.tuned or str(root / "tuned.json")
    names = methods_list(a.methods)
    if a.stage == "tune":
        tune(a, root, names)
    else:
        if a.stage == "cands" and not a.cands:
            sys.exit("cands: give --cands")
        table(a, root, names, a.stage)


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("stage", choices=["tune", "table", "cands"])
    ap.add_argument("--cands", default="", help="cands: JSON list of {label, method, args, lr, steps[, train, "
                    "sampler]}; each is run on --seeds × --world-seeds like a table row")
    ap.add_argument("--preset", default="default")
    ap.add_argument("--methods")
    ap.add_argument("--lrs", default="5e-5,1e-4,2e-4,5e-4,1e-3,2e-3")
    ap.add_argument("--checkpoints", default="10,20,40,60,80,120,160")
    ap.add_argument("--args", default="", help="tune: method-argument settings searched too, JSON objects "
                    "separated by ';' (e.g. RMU's '{\"alpha\": 1};{\"alpha\": 100}')")
    ap.add_argument("--val-worlds", default="101,102", help="tune: the validation worlds (never a table "
                    "world); the choice reads the means over them")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--world-seeds", default="", help="table/cands: world seeds (default: the preset's world); "
                    "several: values over worlds and the four verdicts over worlds")
    ap.add_argument("--no-demo", action="store_true", help="table: without the demo default's row (e.g. a "
                    "second process on other methods sharing --out)")
    ap.add_argument("--lora", type=int, default=0, help="table: also a LoRA run of rank R (first seed)")
    ap.add_argument("--lora-methods", default="", help="table: the methods of the LoRA runs (default all)")
    ap.add_argument("--audit", default="", help="labels audited on every seed (comma list; 'demo' = the "
                    "demo default); with any, every other row is audited on the first seed")
    ap.add_argument("--tuned", default="", help="the tuning's choice (default <out>/<preset>/tuned.json)")
    ap.add_argument("--out", default="runs/zoo", help="the grids' folder: <out>/<preset>/{tune,table,cands}/<cell> "
                    "run folders (finished cells are kept: resumable) and the stage's JSON and Markdown")
    return ap


if __name__ == "__main__":
    main()
