"""Controls of excessive unlearning on the embedded world (Wang et al. 2024, arXiv 2406.09179; issue #4).

Runs GA, GradDiff, KL and NPO with one step budget from the world's cached base model and
reports, uncalibrated and calibrated at τ = 0.9 (smallest α with model utility ≥ τ × the
base's, bisection on θ_mix = α·θ_base + (1−α)·θ_unl: the ``calibrate`` post-step), model
utility, forget accuracy, and PS-exact / extraction strength (ES) on the forget set and on the
retain sets. Then likelihood capping on/off for GA and GradDiff (δ = 2 and 6, ``unlearn.args
.cap_delta``), uncalibrated, and GA with checkpoint evaluation and early stopping
(``control.eval_every``, ``control.stop_utility_tau`` = τ; the last checkpoint above τ is kept).

    python bench/controls.py                    # default world, seeds 0-2
    python bench/controls.py --seeds 0          # one seed
    python bench/controls.py --preset tiny --steps 4 --seeds 0 --out /tmp/controls-check   # a check run
    python bench/controls.py --items 0          # evaluate every item (slower)

How it runs: every (setting, seed) is a cell of the one grid runner (oblivio/pipeline/grid.py),
a run folder ``<out>/<preset>/<setting>-s<seed>`` (config.yaml, results.json, model/); a second
invocation keeps the cells that finished, and every number printed is read back from the
cells' results.json. Tuning/reporting split: every cell is a ``report`` cell. The bench chooses
no setting (steps, lr, τ and δ are given); what is chosen inside a run — calibration's α and
the early stop's checkpoint — is chosen on the validation portion by the run itself (the
calibrate post-step, checkpoint evaluation: oblivio.roles), and every number reported is the
test portion's.

Evaluation: forget and the held-out neighbour roles unlearning never trains on (``direct_test``,
``indirect_test``, ``general_test``; ``--items`` per set, fixed by ``eval.seed``); model utility
is over them, and "retain" PS/ES/accuracy pool their items. ``--seeds`` sets the unlearning seed
(pairing order and the training RNG); the world, base and gold stay those of the world's own
seed, as in ``oblivio compare --seeds``. Writes ``<out>/<preset>/controls.json`` (every row as
mean ± sample sd over the seeds, with the per-seed values) and ``controls.md``.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from oblivio.config import load_config
from oblivio.pipeline.grid import Cell, quiet_log, run_grid, stderr_log

Rec = dict[str, Any]
# utility and the "retain" PS/ES are measured on the held-out portions of the neighbour roles,
# which unlearning never trains on: the retain rows it trains on would flatter every method
RETAIN = ("direct_test", "indirect_test", "general_test")
METHODS = {"GA": ("ga", {}), "GradDiff": ("graddiff", {}), "KL": ("kl", {}), "NPO": ("npo", {})}
CAPPED = {"GA δ=2": ("ga", {"cap_delta": 2.0}), "GA δ=6": ("ga", {"cap_delta": 6.0}),
          "GradDiff δ=2": ("graddiff", {"cap_delta": 2.0}), "GradDiff δ=6": ("graddiff", {"cap_delta": 6.0})}
EARLY = "GA early-stop"
METRICS = ["model_utility", "accuracy", "answer_prob", "rouge_recall", "truth_ratio", "ps_exact",
           "extraction_strength"]
COLS = ("utility", "forget_acc", "ps_exact_forget", "es_forget", "ps_exact_retain", "es_retain")


def settings(args: argparse.Namespace) -> list[tuple[str, str, Rec, Rec]]:
    """(row name, method, method arguments, config overrides) of every setting."""
    cal = {"post_steps": ["calibrate"], "calibrate": {"tau": args.tau, "tol": args.tol}}
    out = [(name, m, margs, cal) for name, (m, margs) in METHODS.items()]
    if not args.no_capping:
        out += [(name, m, margs, {}) for name, (m, margs) in CAPPED.items()]
    if args.eval_every:
        out.append((EARLY, "ga", {}, {"control": {"eval_every": args.eval_every, "eval_items": 8,
                                                  "stop_utility_tau": args.tau}}))
    return out


def cells(args: argparse.Namespace, seeds: list[int]) -> list[Cell]:
    from oblivio.config import merge
    base = {"world": {"preset": args.preset},
            # 1:1 random pairing named (docs/results/controls.md), not the sampler left to the data
            "unlearn": {"sampler": "one_to_one_random", "train": {"max_steps": args.steps, "lr": args.lr}},
            "eval": {"metrics": METRICS, "max_items_per_role": args.items or None, "batch_size": 64,
                     "max_new_tokens": 24, "bootstrap": 0}}
    out = []
    for name, method, margs, over in settings(args):
        for s in seeds:
            cfg = load_config(overrides=merge(base, {"seed": s, "unlearn": {"method": method, "args": margs},
                                                     **over}))
            folder = name.replace(" ", "_").replace("δ=", "cap")
            out.append(Cell(f"{folder}-s{s}", cfg, role="report", tags={"row": name, "seed": s}))
    return out


# --- a run's row ----------------------------------------------------------------------------------
def pooled(model: Rec, metric: str, sets: tuple[str, ...] = RETAIN) -> float | None:
    vals: list[float] = []
    for s in sets:
        vals += [v for v in ((model.get("sets", {}).get(s, {}).get(metric) or {}).get("per_item") or [])
                 if v is not None]
    return sum(vals) / len(vals) if vals else None


def value(model: Rec, metric: str, set_name: str | None = None) -> float | None:
    node = model.get("sets", {}).get(set_name, {}) if set_name else model.get("model", {})
    return (node.get(metric) or {}).get("value")


def row(model: Rec) -> Rec:
    return {"utility": value(model, "model_utility"), "forget_acc": value(model, "accuracy", "forget_test"),
            "ps_exact_forget": value(model, "ps_exact", "forget_test"),
            "ps_exact_retain": pooled(model, "ps_exact"),
            "es_forget": value(model, "extraction_strength", "forget_test"),
            "es_retain": pooled(model, "extraction_strength"), "retain_acc": pooled(model, "accuracy")}


def run_record(results: Rec) -> Rec:
    """One cell's record: uncalibrated (and calibrated) rows, the training and, for the early
    stop, its checkpoints."""
    ms, tr = results["models"], results["training"]
    rec: Rec = {"train_seconds": tr.get("seconds"), "stop": tr.get("stop_reason"), "steps": tr.get("steps"),
                "uncalibrated": row(ms["unlearned"])}
    if "calibrated" in ms:
        cal = results["post_steps"]["calibrate"]
        rec.update(alpha=cal["alpha"], calibrated=row(ms["calibrated"]), sweep=cal.get("sweep"),
                   evaluations=cal.get("evaluations"))
    if results.get("curves"):
        rec.update(selected_step=results.get("selected_step"), eval_share=results.get("eval_share"),
                   curves=[{k: v for k, v in c.items() if k not in ("per_role", "model")} for c in results["curves"]])
    return rec


def brief(r: Rec) -> str:
    def f(v: Any) -> str:
        return "   -  " if v is None else f"{v:6.3f}"
    return (f"utility {f(r['utility'])}, forget acc {f(r['forget_acc'])} PS-exact {f(r['ps_exact_forget'])} "
            f"ES {f(r['es_forget'])}; retain PS-exact {f(r['ps_exact_retain'])} ES {f(r['es_retain'])}")


# --- over the seeds -------------------------------------------------------------------------------
def _stats(vals: list) -> Rec:
    from oblivio.metrics.stats import mean_sd  # the aggregate `oblivio compare --seeds` uses
    m, sd, n = mean_sd(vals)
    return {"mean": m, "sd": sd, "n": n, "per_seed": vals}


def aggregate(recs: dict[str, list[Rec]], refs: list[Rec], seeds: list[int], args: argparse.Namespace) -> Rec:
    """Every row as mean ± sample sd over the seeds (the per-seed values kept)."""
    def cols(rows: list[Rec]) -> Rec:
        return {c: _stats([r.get(c) for r in rows]) for c in COLS}
    agg: Rec = {"preset": args.preset, "steps": args.steps, "lr": args.lr, "items_per_role": args.items,
                "tau": args.tau, "tol": args.tol, "seeds": seeds,
                "base": cols([row(r["models"]["base"]) for r in refs[:1]]),
                "gold": cols([row(r["models"]["gold"]) for r in refs[:1]]), "rows": {}}
    for name, rs in recs.items():
        agg["rows"][name] = cols([r["uncalibrated"] for r in rs])
        if "alpha" in rs[0]:
            agg["rows"][f"{name} @τ"] = {**cols([r["calibrated"] for r in rs]),
                                         "alpha": _stats([r["alpha"] for r in rs])}
        if "selected_step" in rs[0]:
            agg["rows"][name]["selected_step"] = _stats([r["selected_step"] for r in rs])
    agg["train_seconds"] = {name: [r["train_seconds"] for r in rs] for name, rs in recs.items()}
    return agg


def _ms(s: Rec) -> str:
    if s["mean"] is None:
        return "–"
    return f"{s['mean']:.3f}" + (f" ± {s['sd']:.3f}" if s["sd"] is not None else " (1 seed)")


def render(agg: Rec) -> str:
    """The markdown table: mean ± sd over the seeds."""
    lines = ["| model | α | " + " | ".join(COLS) + " |", "|" + "---|" * (len(COLS) + 2)]
    for name in ("base", "gold"):       # the world's models: the same on every unlearning seed
        vals = [agg[name][c]["mean"] for c in COLS]
        lines.append(f"| {name} | | " + " | ".join("–" if v is None else f"{v:.3f}" for v in vals) + " |")
    rows = agg["rows"]
    order = [*METHODS, *[f"{m} @τ" for m in METHODS], *[n for n in rows if n not in METHODS and not n.endswith("@τ")]]
    for name in (n for n in order if n in rows):
        alpha = _ms(rows[name]["alpha"]) if "alpha" in rows[name] else "0"
        label = name.replace("@τ", f"@ τ = {agg['tau']:g}")
        lines.append(f"| {label} | {alpha} | " + " | ".join(_ms(rows[name][c]) for c in COLS) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="default")
    ap.add_argument("--steps", type=int, default=30, help="unlearning steps for every method (30)")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--items", type=int, default=60, help="items per set evaluated (0 = all)")
    ap.add_argument("--tau", type=float, default=0.9)
    ap.add_argument("--tol", type=float, default=0.02)
    ap.add_argument("--no-capping", action="store_true")
    ap.add_argument("--eval-every", type=int, default=5, help="the early-stopping run (GA): checkpoint every K "
                    "steps; 0 = skip it")
    ap.add_argument("--seeds", default="0,1,2", help="unlearning seeds (comma list)")
    ap.add_argument("--out", default="runs/controls", help="the grid's folder: <out>/<preset>/<cell> run folders "
                    "(finished cells are kept: resumable), controls.json and controls.md")
    args = ap.parse_args(argv)
    seeds = [int(x) for x in args.seeds.split(",")]
    root = Path(args.out) / args.preset
    recs: dict[str, list[Rec]] = {}
    refs: list[Rec] = []            # the first cell's results: its base and gold (every cell's are the same)

    def done(cell: Cell, results: Rec) -> None:
        if not refs:
            print(f"base: {brief(row(results['models']['base']))}\ngold: {brief(row(results['models']['gold']))}",
                  flush=True)
            refs.append(results)
        rec = run_record(results)
        recs.setdefault(cell.tags["row"], []).append(rec)
        cal = f"; calibrated α={rec['alpha']:.3f} {brief(rec['calibrated'])}" if "alpha" in rec else ""
        early = f"; selected step {rec['selected_step']} ({rec['stop']})" if "selected_step" in rec else ""
        print(f"{cell.tags['row']:<13} s{cell.tags['seed']} trained {rec['train_seconds']:5.1f}s; "
              f"{brief(rec['uncalibrated'])}{cal}{early}", flush=True)
    run_grid(cells(args, seeds), root, progress=False, log=stderr_log, run_log=quiet_log, on_result=done)
    agg = aggregate(recs, refs, seeds, args)
    table = render(agg)
    print(table)
    (root / "controls.json").write_text(json.dumps({**agg, "table": table}, indent=1, default=str) + "\n")
    (root / "controls.md").write_text(table + "\n")
    print(f"wrote {root / 'controls.json'}, {root / 'controls.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
