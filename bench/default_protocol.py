"""The default recipe (presets.DEFAULT_RECIPE) under the protocol: chosen on validation worlds, reported on test worlds.

Issue #24 item 7. Two stages, each a grid of run folders on the one grid runner
(oblivio/pipeline/grid.py; a second invocation keeps the finished cells), every cell an
unlearning run of the default world preset with the robustness audit (all attacks):

* ``tune`` — every candidate on the **validation worlds** (``--val-worlds``, default 101,102,103;
  world seeds no reported number uses) with training seed 0, as ``tune`` cells: each evaluates
  and audits the validation portion of its world (``eval.portion: val``). Per candidate, the four
  verdict quantities are averaged per world and over worlds (oblivio.report.world_verdict) and
  summed into one **violation** — how far the world means are from what the verdicts ask:
  ``max(0, |forget acc − gold| − m) + max(0, |MIA AUC − gold| − m) + Σ_roles max(0, 0.95 −
  retain ratio) + Σ_attacks max(0, attack excess − m)`` with m the margin. The chosen recipe has
  the smallest violation (ties: fewer steps). Points, not intervals: three validation worlds
  hold ~25 validation forget facts, below the verdicts' minimum, so the choice is a ranking and
  the decision is left to the test stage. With ``--val-files`` (JSONL files of users' own data,
  e.g. ``examples/stranger/ferry.jsonl``), each file is one more validation source: base and gold
  are learned on it as the README's own-data path does (``oblivio learn --data FILE`` with
  ``learn.epochs`` = ``--learn-epochs``, once, under ``<out>/models/``), each candidate is run on
  its validation portion, and the file's violation (the same sum, from that one run) is added to the worlds'. The
  ranking is then by the **sum of the sources' violations**, the world set one source, each
  file one. ``--file-retain-val`` reads a file's held-out retain rows (``direct_test``, …) as
  its validation rows: the cells run on a copy with those rows relabelled ``*_val`` (under
  ``<out>/files/``; every row is learned as before): a file whose held-out retain rows are all
  ``*_test`` has no other place where "kept" is measured, since a tune cell reads the
  validation portion only (oblivio/pipeline/grid.py) and that portion's retain roles would
  otherwise be the rows unlearning trains on. The file is validation data all the same, never
  reported as a test. Writes ``<out>/tuned.json``.
* ``report`` — the chosen recipe (and with ``--frontier K`` the next K candidates by validation
  violation, reported but not chosen) on the **test worlds** (``--test-worlds``, default 1–7;
  world 0, on which earlier defaults were tuned, is left out) × training seeds (``--seeds``,
  default 0,1,2), as ``report`` cells on the test portion. Prints each recipe's four verdicts
  over the worlds (Student-t over worlds, n = forget facts summed over worlds) and the world
  means; writes ``<out>/report.json`` and ``<out>/report.md``.

Candidates: ``--cands`` JSON list of objects ``{"label", "method", "lr", "steps", "args",
"sampler", "batch_size", "control", "learn_size"}`` (defaults: the demo's; ``control`` is the run's
checkpoint rules, e.g. ``{"eval_every": 5, "stop_at_gold": true}``: a tune cell's checkpoints
read its validation portion, as every other number of the cell does; ``learn_size`` is the
tiny-model preset, ``model.size``, a file's base and gold are learned at, under
``<out>/models/<file>-<size>``: a choice of the own-data path, not of the recipe, so it is
compared on files only, ``--val-worlds ""``), else :data:`CANDIDATES`.

Usage:
  python bench/default_protocol.py tune   [--val-worlds 101,102,103] [--val-files F1,F2] [--cands JSON]
                                          [--out runs/default-protocol] [--round N]
  python bench/default_protocol.py report [--test-worlds 1,2,3,4,5,6,7] [--seeds 0,1,2] [--frontier 2]
  python bench/default_protocol.py report --cands JSON   (recipes reported as given, none chosen:
      report-given.json / report-given.md; e.g. the demo's default before the protocol)
  (check run: --preset tiny --val-worlds 101,102 --test-worlds 1,2 --seeds 0 --cands '[{"label": "npo2",
   "method": "npo", "steps": 2}]')
Results: bench/results/default_protocol/ (tuned.json, report.json, report.md).
"""
from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from pathlib import Path
from statistics import mean
from typing import Any

from oblivio import api
from oblivio.atomic import write_text
from oblivio.config import load_config, to_dict
from oblivio.pipeline.grid import Cell, quiet_log, run_grid, stderr_log
from oblivio.report import verdict as V
from oblivio.report import world_verdict as W

#: the frontier searched when no --cands is given: the demo's recipe before the protocol, NPO at
#: the strengths the earlier search liked, and the mixtures/variants issue #24 names
CANDIDATES: list[dict[str, Any]] = [
    {"label": "me_gd-160", "method": "me_gd", "lr": 5e-4, "steps": 160},
    {"label": "me_gd-80", "method": "me_gd", "lr": 5e-4, "steps": 80},
    {"label": "npo-a3-120", "method": "npo", "lr": 5e-4, "steps": 120, "args": {"alpha": 3.0}},
    {"label": "simnpo-a3-120", "method": "simnpo", "lr": 5e-4, "steps": 120, "args": {"alpha": 3.0}},
    {"label": "npo_me-120", "method": "npo_me", "lr": 5e-4, "steps": 120, "args": {"mix": 0.5, "alpha": 1.0}},
    {"label": "sam_npo-a3-120", "method": "sam_npo", "lr": 5e-4, "steps": 120, "args": {"alpha": 3.0}},
]


def cand_cells(preset: str, cands: list[dict[str, Any]], worlds: list[int], seeds: list[int], role: str) -> list[Cell]:
    base = to_dict(api.demo_config(preset))
    cells = []
    for c in cands:
        for w in worlds:
            for s in seeds:
                train: dict[str, Any] = {"lr": c.get("lr", 5e-4), "max_steps": c["steps"]}
                if "batch_size" in c:
                    train["batch_size"] = c["batch_size"]
                # the arguments go in the layer that names the method: a layer naming another
                # method than the demo's drops the arguments of the layers below it (config._layer)
                over = {"seed": s, "world": {"seed": w},
                        "unlearn": {"method": c["method"], "sampler": c.get("sampler", "melu"), "train": train,
                                    "args": dict(c.get("args", {}))},
                        "audit": {"enabled": True}}
                if "control" in c:
                    over["control"] = dict(c["control"])
                # the method's own arguments replace the demo's (a merge would keep the demo's alpha)
                cfg_base = {**base, "unlearn": {**base["unlearn"], "args": {}}}
                cells.append(Cell(f"{c['label']}-w{w}-s{s}", load_config(overrides=over, base=cfg_base), role=role,
                                  tags={"label": c["label"], "world": w, "seed": s}))
    return cells


def learned(file: Path, out: Path, epochs: int, size: str | None = None) -> tuple[Path, Path]:
    """Base and gold learned on ``file`` as the README's own-data path does (once: kept in
    ``out``), of the tiny-model preset ``size`` (``model.size``; none: the config's default)."""
    dest = out / "models" / (file.stem + (f"-{size}" if size else ""))
    if not (dest / "gold").is_dir():
        subprocess.run([sys.executable, "-m", "oblivio", "learn", "--data", str(file), "--out", str(dest),
                        "--set", f"learn.epochs={epochs}", *(["--set", f"model.size={size}"] if size else []),
                        "--quiet"], check=True)
    return dest / "base", dest / "gold"


def retain_as_val(file: Path, out: Path) -> Path:
    """A copy of ``file`` under ``<out>/files/`` (the rows carry their roles and targets, so
    no neighbour map goes with it) with every held-out retain row (``<role>_test``
    but not ``forget_test`` / ``holdout_test``) relabelled ``<role>_val``; the rest unchanged."""
    rows = []
    for line in file.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            role = str(row.get("set", ""))
            if role.endswith("_test") and role not in ("forget_test", "holdout_test"):
                row["set"] = role[: -len("_test")] + "_val"
            rows.append(json.dumps(row, ensure_ascii=False))
    # its own name, so that its base and gold are learned on it (models/<stem>-retain-val)
    dest = out / "files" / f"{file.stem}-retain-val.jsonl"
    dest.parent.mkdir(parents=True, exist_ok=True)
    write_text(dest, "\n".join(rows) + "\n")
    return dest


def file_cells(cands: list[dict[str, Any]], files: list[Path], out: Path, epochs: int,
               retain_val: bool = False) -> list[Cell]:
    """Every candidate on the validation portion of each own-data file (its source index:
    1000 + i); with ``retain_val``, of its copy from :func:`retain_as_val`. A candidate's
    ``learn_size`` is the model size its file base and gold are learned at."""
    cells = []
    for i, f in enumerate(files):
        f = retain_as_val(f, out) if retain_val else f
        for c in cands:
            base, gold = learned(f, out, epochs, c.get("learn_size"))
            train: dict[str, Any] = {"lr": c.get("lr", 5e-4), "max_steps": c["steps"]}
            if "batch_size" in c:
                train["batch_size"] = c["batch_size"]
            over = {"seed": 0, "model": {"path": str(base), "gold": str(gold)}, "data": {"path": str(f)},
                    "eval": {"portion": "val"}, "audit": {"enabled": True},
                    "unlearn": {"method": c["method"], "sampler": c.get("sampler", "melu"), "train": train,
                                "args": dict(c.get("args", {}))}}
            if "control" in c:
                over["control"] = dict(c["control"])
            cells.append(Cell(f"{c['label']}-{f.stem}", load_config(overrides=over), role="tune",
                              tags={"label": c["label"], "world": 1000 + i, "seed": 0}))
    return cells


def run(cells: list[Cell], out: Path) -> dict[str, list[tuple[int, dict[str, Any]]]]:
    """Run the grid; per candidate label, its (world, results.json) pairs."""
    got: dict[str, list[tuple[int, dict[str, Any]]]] = {}

    def done(cell: Cell, results: dict[str, Any]) -> None:
        got.setdefault(cell.tags["label"], []).append((cell.tags["world"], results))
        print(f"  done {cell.name}: " + " | ".join(ln.split("  ")[0] for ln in V.verdict_lines(results)),
              file=sys.stderr, flush=True)
    run_grid(cells, out, progress=False, log=stderr_log, run_log=quiet_log, on_result=done)
    return got


def means(runs: list[tuple[int, dict[str, Any]]], margin: float) -> dict[str, Any]:
    """The world means of every verdict quantity (W.spread) and the summed violation."""
    facts = W._facts("forget")
    fg = W.spread(runs, W._diff("unlearned", "forget", "accuracy"), V.LEVEL, facts)
    au = W.spread(runs, W._auc_diff, V.LEVEL, facts)
    roles = list(dict.fromkeys(r for _, rec in runs for r in V.keep_roles(rec)))
    ratios = {r: W.spread(runs, W._ratio(r, "accuracy"), V.LEVEL, facts) for r in roles}
    names = list(dict.fromkeys(n for _, rec in runs for n in ((rec.get("audit") or {}).get("attacks") or {})))
    excess = {n: W.spread(runs, W._attack_excess(n), V.LEVEL, facts) for n in names}

    def avg(s: W.Spread) -> float:
        return mean(s.per_world.values()) if s.per_world else math.nan
    v = (max(0.0, abs(avg(fg)) - margin) + max(0.0, abs(avg(au)) - margin)
         + sum(max(0.0, V.KEEP - avg(s)) for s in ratios.values())
         + sum(max(0.0, avg(s) - margin) for s in excess.values() if s.per_world))
    return {"forget_minus_gold": avg(fg), "auc_minus_gold": avg(au),
            "retain_ratio": {r: avg(s) for r, s in ratios.items()},
            "attack_excess": {n: avg(s) for n, s in excess.items() if s.per_world},
            "violation": v, "worlds": sorted(fg.per_world)}


def finite(obj: Any) -> Any:
    """``obj`` with every NaN float as None: strict JSON, where a files-only round (no world)
    has no world means."""
    if isinstance(obj, float) and math.isnan(obj):
        return None
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [finite(v) for v in obj]
    return obj


def cands_of(args: argparse.Namespace) -> list[dict[str, Any]]:
    return json.loads(args.cands) if args.cands else CANDIDATES


def ranked(cands: list[dict[str, Any]], got: dict[str, list[tuple[int, dict[str, Any]]]], files: list[Path],
           margin: float) -> list[dict[str, Any]]:
    """Every candidate scored on each source — the worlds (index < 1000) one, file i (index
    1000 + i) one each — and ranked by the sum of the sources' violations (ties: fewer steps)."""
    scored = []
    for c in cands:
        runs = got.get(c["label"], [])
        in_worlds = [r for r in runs if r[0] < 1000]
        m = means(in_worlds, margin)
        if not in_worlds:       # a files-only round (--val-worlds ""): the worlds add nothing
            m["violation"] = 0.0
        per_file = {f.name: means([r for r in runs if r[0] == 1000 + i], margin) for i, f in enumerate(files)}
        total = m["violation"] + sum(f["violation"] for f in per_file.values())
        scored.append({**c, **m, "world_violation": m["violation"], "violation": total, "files": per_file})
        print(f"{c['label']:<20} violation {total:.3f} (worlds {m['violation']:.3f}"
              + "".join(f", {k} {f['violation']:.3f}" for k, f in per_file.items())
              + f")  forget−gold {m['forget_minus_gold']:+.3f}  AUC−gold {m['auc_minus_gold']:+.3f}  min retain "
              f"ratio {min(m['retain_ratio'].values(), default=math.nan):.3f}  max attack excess "
              f"{max(m['attack_excess'].values(), default=math.nan):+.3f}")
    return sorted(scored, key=lambda s: (s["violation"], s["steps"]))


def tune(args: argparse.Namespace) -> None:
    cands = cands_of(args)
    worlds = [int(x) for x in args.val_worlds.split(",") if x]
    files = [Path(f) for f in args.val_files.split(",")] if args.val_files else []
    cells = cand_cells(args.preset, cands, worlds, [0], "tune")
    cells += file_cells(cands, files, Path(args.out), args.learn_epochs, args.file_retain_val)
    got = run(cells, Path(args.out) / "tune")
    margin = V.MARGIN
    scored = ranked(cands, got, files, margin)
    out = {**({"round": args.round} if args.round else {}), "val_worlds": worlds,
           "val_files": [str(f) for f in files], "file_retain_val": args.file_retain_val,
           "seed": 0, "margin": margin,
           "rule": __doc__.split("* ``report``")[0].strip(), "chosen": scored[0]["label"], "ranked": scored}
    Path(args.out).mkdir(parents=True, exist_ok=True)
    write_text(Path(args.out) / "tuned.json", json.dumps(finite(out), indent=1, allow_nan=False) + "\n")
    print(f"chosen on validation worlds {worlds}" + (f" and files {[f.name for f in files]}" if files else "")
          + f": {scored[0]['label']}")


def report(args: argparse.Namespace) -> None:
    if args.cands:      # recipes reported as given (e.g. the default before the protocol): none chosen here
        tuned = {"val_worlds": [], "chosen": None, "ranked": cands_of(args)}
    else:
        tuned = json.loads((Path(args.out) / "tuned.json").read_text(encoding="utf-8"))
    ranked = tuned["ranked"]
    picks = ranked if args.cands else ranked[: 1 + args.frontier]
    worlds = [int(x) for x in args.test_worlds.split(",")]
    seeds = [int(x) for x in args.seeds.split(",")]
    got = run(cand_cells(args.preset, picks, worlds, seeds, "report"), Path(args.out) / "report")
    how = (f"Chosen on validation worlds {tuned['val_worlds']} (bench/default_protocol.py tune): "
           f"**{tuned['chosen']}**." if tuned["chosen"] else "Recipes given with --cands, none chosen here.")
    rows, md = [], ["# The default recipe on unseen test worlds", "",
                    f"{how} Reported on test worlds {worlds} × seeds {seeds}, test portions; "
                    "verdicts over worlds (Student-t, the world the unit).", ""]
    for c in picks:
        runs = got.get(c["label"], [])
        vs = W.world_verdicts(runs)
        lines = [v.line for v in vs]
        m = means(runs, V.MARGIN)
        detail = {v.question: v.detail for v in vs}
        rows.append({"label": c["label"], "chosen": c["label"] == tuned["chosen"], "recipe": c,
                     "verdicts": lines, "verdict_detail": detail, "means": m, "runs": len(runs),
                     "worlds": sorted({w for w, _ in runs})})
        head = f"## {c['label']}" + (" (chosen)" if c["label"] == tuned["chosen"] else
                                     " (given)" if tuned["chosen"] is None else " (frontier, not chosen)")
        print(head[3:])
        for ln in lines:
            print("  " + ln)
        md += [head, "", *[f"- {ln}" for ln in lines], ""]
    name = "report-given" if args.cands else "report"
    write_text(Path(args.out) / f"{name}.json",
               json.dumps({**({"round": args.round} if args.round else {}), "test_worlds": worlds, "seeds": seeds,
                           "rows": rows}, indent=1) + "\n")
    write_text(Path(args.out) / f"{name}.md", "\n".join(md) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("stage", choices=["tune", "report"])
    ap.add_argument("--preset", default="default")
    ap.add_argument("--cands", help="JSON list of candidate recipes (module docstring)")
    ap.add_argument("--val-worlds", default="101,102,103")
    ap.add_argument("--val-files", default="", help="own-data JSONL files, each one more validation source")
    ap.add_argument("--learn-epochs", type=int, default=100, help="learn.epochs for a --val-files base and gold")
    ap.add_argument("--file-retain-val", action="store_true",
                    help="read a --val-files file's held-out retain rows (*_test) as its validation rows")
    ap.add_argument("--test-worlds", default="1,2,3,4,5,6,7")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--frontier", type=int, default=0, help="also report the next K candidates by validation")
    ap.add_argument("--out", default="runs/default-protocol")
    ap.add_argument("--round", type=int, help="the round's number, written into tuned.json / report.json "
                    "(bench/results_pages.py labels the rounds by it)")
    args = ap.parse_args()
    tune(args) if args.stage == "tune" else report(args)


if __name__ == "__main__":
    main()
