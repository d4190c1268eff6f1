"""Samplers at several budgets: forget efficacy vs held-out utility curves (issue #3).

Bushipaka et al. 2025 (S0, arXiv 2509.05316) compare retain samplers at equal *epochs*. One budget
gives one point per (method, sampler); whether MELU "keeps more utility at comparable
forgetting" than cyclic needs points at several budgets, so that curves can be compared at
the same forget efficacy. This runs ``oblivio.api.compare`` (fresh copy of the world's base
model per cell, same seed) once per epoch budget — reusing a budget's folder when its
``compare.json`` is already there (e.g. from ``oblivio compare ... --epochs N --out DIR/eN``)
— then prints one table over all budgets and draws ``curves.png``: forget efficacy (x) vs
S0 utility (y) per held-out role, one line per (method, sampler) through its budgets.

    python bench/sampler_budgets.py --epochs 1,2,3,4 --seeds 0,1,2 --out bench/results/sampler-budgets
    python bench/sampler_budgets.py --epochs 1,2 --methods npo --samplers cyclic,melu --seeds 0   # quicker
    # reuse a finished 3-seed compare at 2 epochs (bench/results/samplers) as the 2-epoch budget
    python bench/sampler_budgets.py --epochs 1,2,4 --reuse 2=bench/results/samplers \
        --samplers cyclic,melu,balanced,direct_only,indirect_only

With several ``--seeds`` every cell is unlearned once per seed (``api.compare(seeds=...)``):
the table gives mean ± sample sd, the curves and the comparable-forgetting table use the
means. A reused folder must have been made with the same seeds, learning rate and methods.

Also prints, per method and forget-efficacy floor x (``--floors``), each sampler's best mean
held-out utility over the budgets that reach efficacy ≥ x: the "comparable forgetting"
comparison (the curves are not monotone, so no interpolation).

The grid: every (method, sampler, seed) at every epoch budget is a cell of ``api.compare``,
which runs its cells on the one grid runner (oblivio/pipeline/grid.py ``run_cell``): a run
folder each, ``<out>/e<N>/runs/<method>__<sampler>__seed<k>``, kept when an interrupted budget
is rerun. Tuning/reporting split: every cell is a ``report`` cell and the curves and the
per-budget table choose nothing; the comparable-forgetting table does choose — per sampler
and floor, the budget with the best mean held-out utility — on the reported held-out numbers
themselves, so it is optimistic (alike for every sampler) and is not a tuned-then-tested result.
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def run_budgets(args: argparse.Namespace) -> dict[float, dict]:
    out: dict[float, dict] = {}
    seeds = [int(x) for x in args.seeds.split(",")]
    reuse = {float(k): Path(v) for k, v in (r.split("=", 1) for r in args.reuse)}
    for e in [float(x) for x in args.epochs.split(",")]:
        d = reuse.get(e, Path(args.out) / f"e{e:g}")
        if not (d / "compare.json").is_file():
            if e in reuse:
                raise SystemExit(f"--reuse {e:g}={d}: no compare.json there")
            from oblivio import api
            from oblivio.config import load_config
            cfg = load_config(overrides={"seed": args.seed, "world": {"preset": args.preset},
                                         "unlearn": {"train": {"lr": args.lr}}})
            api.compare(None, methods=args.methods, samplers=args.samplers, config=cfg, run_dir=d,
                        epochs=e, seeds=seeds if len(seeds) > 1 else None, overwrite=True, progress=False,
                        log=lambda m: print(m, flush=True))
        rec = json.loads((d / "compare.json").read_text())
        got = (rec.get("seeds") or [rec["seed"]], rec["config"]["unlearn"]["train"]["lr"], rec["budget"].get("epochs"))
        if got != (seeds if len(seeds) > 1 else [rec["seed"]], args.lr, e):
            raise SystemExit(f"{d}: made with seeds/lr/epochs {got}, not {seeds}/{args.lr}/{e:g}")
        if args.samplers != "all":
            keep = set(args.samplers.split(","))
            rec["cells"] = [c for c in rec["cells"] if c["sampler"] in keep]
        out[e] = rec
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", default="1,2,3,4")
    ap.add_argument("--methods", default="graddiff,npo")
    ap.add_argument("--samplers", default="all")
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--preset", default="default")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--seeds", default="0,1,2", help="unlearning seeds (mean ± sd over them)")
    ap.add_argument("--reuse", action="append", default=[], metavar="E=DIR",
                    help="take budget E (epochs) from an existing compare folder")
    ap.add_argument("--out", default="bench/results/sampler-budgets")
    ap.add_argument("--floors", type=lambda t: [float(x) for x in t.split(",")], default=[0.5, 0.7, 0.8, 0.9],
                    help="forget-efficacy floors for the comparable-forgetting table")
    args = ap.parse_args()
    runs = run_budgets(args)
    first = next(iter(runs.values()))
    roles = first["test_roles"]
    curves: dict[tuple[str, str], list[tuple[float, int, float, dict]]] = {}
    sds: dict[tuple[str, str, float], dict] = {}
    for e, rec in runs.items():
        for c in rec["cells"]:
            v = c["values"]
            curves.setdefault((c["method"], c["sampler"]), []).append(
                (e, c["steps"], v["forget_efficacy"], v["utility"]))
            sds[(c["method"], c["sampler"], e)] = c.get("sd") or {}
    print(f"lr {first['config']['unlearn']['train']['lr']}, seeds {first.get('seeds') or [first['seed']]}, "
          f"data {first['data']['name']}")
    print("| method | sampler | epochs | steps | forget efficacy | " + " | ".join(f"utility {r}" for r in roles) + " |")
    print("|---|---|---|---|---|" + "---|" * len(roles))

    def ms(v, sd) -> str:
        return f"{v:.3f}" + (f" ± {sd:.3f}" if isinstance(sd, float) else "")
    for (m, s), pts in curves.items():
        for e, steps, fe, u in sorted(pts):
            sd = sds[(m, s, e)]
            print(f"| {m} | {s} | {e:g} | {steps} | {ms(fe, sd.get('forget_efficacy'))} | "
                  + " | ".join(ms(u.get(r, float('nan')), (sd.get('utility') or {}).get(r)) for r in roles) + " |")
    # utility at comparable forgetting: the curves are not monotone (a longer budget also
    # trains longer on retain), so for each efficacy floor x report, per sampler, the budget
    # with the best mean held-out utility among those reaching forget efficacy ≥ x
    for m in dict.fromkeys(k[0] for k in curves):
        print(f"\n{m}: best mean held-out utility over budgets with forget efficacy ≥ x (epochs in brackets)")
        print("  sampler                " + "".join(f"   x={x:<11g}" for x in args.floors))
        for (mm, s), pts in curves.items():
            if mm != m:
                continue
            cols = []
            for x in args.floors:
                ok = [(sum(u[r] for r in roles) / len(roles), e) for e, _, fe, u in pts if fe >= x]
                cols.append(f"{max(ok)[0]:.3f} [{max(ok)[1]:g}]" if ok else "   –")
            print(f"  {s:<22} " + "".join(f"{c:<15}" for c in cols))
    plot(curves, roles, Path(args.out) / "curves.png")
    print(f"\nwrote {Path(args.out) / 'curves.png'}")


def plot(curves, roles, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(roles), figsize=(4.6 * len(roles), 4.2), squeeze=False)
    samplers = list(dict.fromkeys(s for _, s in curves))
    methods = list(dict.fromkeys(m for m, _ in curves))
    cmap = plt.get_cmap("tab10")
    for ax, r in zip(axes[0], roles):
        for (m, s), pts in curves.items():
            pts = sorted(pts)
            ax.plot([p[2] for p in pts], [p[3].get(r) for p in pts], marker="os"[methods.index(m) % 2],
                    ls="-" if methods.index(m) == 0 else "--", color=cmap(samplers.index(s) % 10), ms=4, lw=1,
                    label=f"{m}/{s}")
        ax.set_xlabel("forget efficacy ↑")
        ax.set_ylabel(f"S0 utility on {r} ↑")
        ax.set_title(r)
        ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=6, ncol=2)
    fig.suptitle("each line: one (method, sampler) through its epoch budgets", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    plt.close(fig)


if __name__ == "__main__":
    main()
