"""Controls of excessive unlearning on the embedded world (Wang et al. 2024, arXiv 2406.09179; issue #4).

Runs GA, GradDiff, KL and NPO with one step budget from the world's cached base model and
reports, uncalibrated and calibrated at τ = 0.9 (smallest α with model utility ≥ τ × the
base's, bisection on θ_mix = α·θ_base + (1−α)·θ_unl): model utility, forget accuracy, and
PS-exact / extraction strength (ES) on the forget set and on the retain sets. Then
likelihood capping on/off for GA and GradDiff (δ = 2 and 6), uncalibrated.

    python bench/controls.py                    # default world, seeds 0-2 (~3 min a seed on 2 CPU cores)
    python bench/controls.py --seeds 0          # one seed
    python bench/controls.py --preset small     # quicker
    python bench/controls.py --items 0          # evaluate every item (slower)

Evaluation subset: forget (all items up to --items) and the held-out neighbour sets
unlearning never trains on (direct_test, indirect_test, general_test; --items per role, fixed
by seed); model utility and calibration use them, and "retain" PS/ES pool them.
Base and gold models come from ``oblivio.api.learn`` (cached). ``--seeds`` sets the
unlearning seed (pairing order and the training RNG); the world, base and gold stay those of
the world's own seed, as in ``oblivio compare --seeds``. Each seed's record is written as
``OUT-sN.json`` and reused when it exists (delete it to redo), so an interrupted run resumes;
``OUT`` gets every cell as mean ± sample sd over the seeds, with the per-seed values.
"""
from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

# utility and the "retain" PS/ES are measured on the held-out portions of the neighbour roles,
# which unlearning never trains on: the retain rows it trains on would flatter every method
RETAIN = ("direct_test", "indirect_test", "general_test")
METHODS = {"GA": ("ga", {}), "GradDiff": ("graddiff", {}), "KL": ("kl", {}), "NPO": ("npo", {})}
CAPPED = {"GA δ=2": ("ga", {"cap_delta": 2.0}), "GA δ=6": ("ga", {"cap_delta": 6.0}),
          "GradDiff δ=2": ("graddiff", {"cap_delta": 2.0}), "GradDiff δ=6": ("graddiff", {"cap_delta": 6.0})}


def pooled(report, metric: str, roles) -> float | None:
    vals: list[float] = []
    for r in roles:
        res = report.sets.get(r, {}).get(metric)
        if res is not None and res.per_item:
            vals += res.per_item
    return sum(vals) / len(vals) if vals else None


def row(report, utility: float | None = None) -> dict:
    return {"utility": report.value("model_utility") if utility is None else utility,
            "forget_acc": report.value("accuracy", "forget"),
            "ps_exact_forget": report.value("ps_exact", "forget"),
            "ps_exact_retain": pooled(report, "ps_exact", RETAIN),
            "es_forget": report.value("extraction_strength", "forget"),
            "es_retain": pooled(report, "extraction_strength", RETAIN),
            "retain_acc": pooled(report, "accuracy", RETAIN)}


def fmt(v) -> str:
    return "   -  " if v is None else f"{v:6.3f}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="default")
    ap.add_argument("--steps", type=int, default=30, help="unlearning steps for every method (30)")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--items", type=int, default=60, help="items per role evaluated (0 = all)")
    ap.add_argument("--tau", type=float, default=0.9)
    ap.add_argument("--tol", type=float, default=0.02)
    ap.add_argument("--no-capping", action="store_true")
    ap.add_argument("--eval-every", type=int, default=5, help="checkpoint-evaluation run (GA); 0 = skip")
    ap.add_argument("--seeds", default="0,1,2", help="unlearning seeds (comma list)")
    ap.add_argument("--out", default="bench/results/controls/controls.json")
    args = ap.parse_args(argv)
    seeds = [int(x) for x in args.seeds.split(",")]
    outp = Path(args.out)
    per_seed = []
    for seed in seeds:
        f = outp.with_name(f"{outp.stem}-s{seed}.json")
        if f.exists():
            rec = json.loads(f.read_text())
            made = {k: rec.get(k) for k in SETTINGS}
            if made != {k: getattr(args, a) for k, a in SETTINGS.items()}:
                raise SystemExit(f"{f} was made with {made}: delete it or give another --out")
            print(f"seed {seed}: reusing {f}", flush=True)
            per_seed.append(rec)
            continue
        rec = run_seed(args, seed, f)
        per_seed.append(rec)
    agg = aggregate(per_seed, seeds)
    table = render(agg, args)
    print(table)
    outp.parent.mkdir(parents=True, exist_ok=True)
    outp.write_text(json.dumps({**agg, "table": table}, indent=1, default=str))
    print(f"wrote {outp}")
    return 0


def run_seed(args, seed: int, path: Path) -> dict:
    """One seed's every cell; written to ``path`` when complete (partial progress next to it)."""
    t_all = time.perf_counter()
    run = _SeedRun.start(args, seed, path.with_suffix(".partial.json"))
    base_rep, gold_rep, t_eval_cheap, t_eval_full = _baselines(run)
    print(f"base: {brief(row(base_rep))}\ngold: {brief(row(gold_rep))}", flush=True)
    run.out.update({"seed": seed, **{k: getattr(args, a) for k, a in SETTINGS.items()},
                    "base": row(base_rep), "gold": row(gold_rep),
                    "eval_seconds": {"cheap": t_eval_cheap, "full": t_eval_full}, "runs": {}})
    _method_runs(run, base_rep)
    if not args.no_capping:
        _capped_runs(run)
    if args.eval_every:
        _early_stop_run(run)
    out = run.out
    out["seconds"] = time.perf_counter() - t_all
    print(f"seed {seed}: {out['seconds']:.0f}s", flush=True)
    path.write_text(json.dumps(out, indent=1, default=str))
    run.partial.unlink(missing_ok=True)
    return out


def brief(r: dict) -> str:
    return (f"utility {fmt(r['utility'])}, forget acc {fmt(r['forget_acc'])} PS-exact {fmt(r['ps_exact_forget'])} "
            f"ES {fmt(r['es_forget'])}; retain PS-exact {fmt(r['ps_exact_retain'])} ES {fmt(r['es_retain'])}")


@dataclasses.dataclass
class _SeedRun:
    """One seed's world, models, evaluation subset and configs, and its record so far."""
    args: Any
    seed: int
    cfg: Any
    data: Any
    wm: Any                      # the learned world: base, gold, tokenizer
    ev_data: Any                 # forget + the held-out retain roles
    cheap: Any                   # EvalConfig without PS-exact/ES
    full: Any                    # EvalConfig with them
    partial: Path                # where progress is saved after every cell
    out: dict = dataclasses.field(default_factory=dict)

    @classmethod
    def start(cls, args, seed: int, partial: Path) -> _SeedRun:
        import torch
        torch.set_num_threads(max(1, os.cpu_count() or 1))
        from oblivio import api
        from oblivio.config import load_config
        from oblivio.data.schema import UnlearningData
        from oblivio.eval.evaluate import EvalConfig

        cfg = load_config(overrides={"world": {"preset": args.preset},
                                     "unlearn": {"train": {"max_steps": args.steps, "lr": args.lr,
                                                           "progress": False}}})
        data = api.load_data(None, cfg)
        # learn(None, ...): the cache key is the world spec (the same models as `oblivio learn`)
        wm = api.learn(None, config=cfg, progress=False, log=lambda m: print(m, flush=True))
        # the held-out retain rows of both portions: calibration and checkpoints choose on *_val,
        # every number printed is *_test (oblivio.roles)
        held = (*RETAIN, *(r.replace("_test", "_val") for r in RETAIN))
        ev_data = UnlearningData([it for it in data.items if it.role in ("forget", *held)], name=data.name,
                                 targets=data.targets)
        cheap = EvalConfig(metrics=["model_utility", "accuracy", "answer_prob", "rouge_recall", "truth_ratio"],
                           max_items_per_role=args.items or None, batch_size=64, max_new_tokens=24)
        # PS-exact and ES come from teacher forcing (eval/extraction.py): nearly free
        full = dataclasses.replace(cheap, metrics=cheap.metrics + ["ps_exact", "extraction_strength"])
        print(f"world {data.name}: {len(data.items)} items; evaluating forget + {', '.join(RETAIN)} "
              f"({args.items or 'all'} per role); {args.steps} steps at lr {args.lr} for every method", flush=True)
        return cls(args=args, seed=seed, cfg=cfg, data=data, wm=wm, ev_data=ev_data, cheap=cheap, full=full,
                   partial=partial)

    def save(self) -> None:
        self.partial.parent.mkdir(parents=True, exist_ok=True)
        self.partial.write_text(json.dumps(self.out, indent=1, default=str))

    def unlearn(self, method: str, margs: dict, callbacks=()):
        """``method`` on a copy of the base model; (model, loop result, seconds)."""
        from oblivio.config import build_method
        from oblivio.engine.unlearning import run_unlearning
        model = copy.deepcopy(self.wm.base)
        meth = build_method(method, margs)
        train_cfg = dataclasses.replace(self.cfg.unlearn.train, seed=self.seed)
        t = time.perf_counter()
        for cb in callbacks:
            cb.baseline(model)
        model, res = run_unlearning(model, self.wm.tokenizer, self.data, meth, sampler=self.cfg.unlearn.sampler,
                                    train_cfg=train_cfg, callbacks=callbacks)
        for cb in callbacks:
            cb.finish(model, res.steps)
            cb.restore(model)
        return model, res, time.perf_counter() - t

    def evaluate(self, model, name: str):
        from oblivio.eval.evaluate import evaluate_model
        return evaluate_model(model, self.wm.tokenizer, self.ev_data, cfg=self.full, name=name, portion="test")


def _baselines(run: _SeedRun) -> tuple[Any, Any, float, float]:
    """Base and gold reports (full metrics), and the seconds of one cheap and one full evaluation."""
    from oblivio.eval.evaluate import evaluate_model
    wm = run.wm
    t0 = time.perf_counter()
    base_rep = run.evaluate(wm.base, "base")
    gold_rep = run.evaluate(wm.gold, "gold")
    t_eval_full = (time.perf_counter() - t0) / 2
    t0 = time.perf_counter()
    evaluate_model(wm.base, wm.tokenizer, run.ev_data, cfg=run.cheap, name="base", portion="test")
    t_eval_cheap = time.perf_counter() - t0
    print(f"one evaluation: {t_eval_cheap:.1f}s cheap, {t_eval_full:.1f}s with PS-exact/ES", flush=True)
    return base_rep, gold_rep, t_eval_cheap, t_eval_full


def _method_runs(run: _SeedRun, base_rep) -> None:
    """Every method, uncalibrated and calibrated at τ."""
    from oblivio.engine.calibrate import calibrate
    args = run.args
    for name, (method, margs) in METHODS.items():
        model, res, secs = run.unlearn(method, margs)
        t = time.perf_counter()
        unc = run.evaluate(model, name)
        cal = calibrate(run.wm.base, model, run.wm.tokenizer, run.ev_data, tau=args.tau, tol=args.tol,
                        eval_cfg=run.full)     # the search evaluates the base on validation itself
        rec = {"train_seconds": secs, "eval_seconds": time.perf_counter() - t, "stop": res.stop_reason,
               "uncalibrated": row(unc), "alpha": cal.alpha, "calibrated": row(cal.report, cal.test_utility),
               "sweep": cal.sweep, "evaluations": cal.evaluations}
        run.out["runs"][name] = rec
        print(f"{name:<9} trained {secs:5.1f}s; uncalibrated {brief(rec['uncalibrated'])}; "
              f"calibrated α={cal.alpha:.3f} "
              f"{brief(rec['calibrated'])} ({cal.evaluations} evals, {rec['eval_seconds']:.0f}s)", flush=True)
        run.save()


def _capped_runs(run: _SeedRun) -> None:
    """Likelihood capping on GA and GradDiff, uncalibrated."""
    for name, (method, margs) in CAPPED.items():
        model, res, secs = run.unlearn(method, margs)
        unc = run.evaluate(model, name)
        run.out["runs"][name] = {"train_seconds": secs, "uncalibrated": row(unc), "stop": res.stop_reason}
        print(f"{name:<13} trained {secs:5.1f}s; {brief(row(unc))}", flush=True)
        run.save()


def _early_stop_run(run: _SeedRun) -> None:
    """Checkpoint evaluation + early stopping on GA (the method that over-unlearns)."""
    from oblivio.config import ControlConfig
    from oblivio.engine.checkpoint_eval import CheckpointEval
    args = run.args
    cb = CheckpointEval(run.wm.tokenizer, run.data, ControlConfig(eval_every=args.eval_every, eval_items=8,
                                                                  stop_utility_tau=args.tau), eval_cfg=run.cheap)
    model, res, secs = run.unlearn("ga", {}, callbacks=[cb])
    unc = run.evaluate(model, "GA+early stop")
    summ = cb.summary(secs)
    run.out["runs"]["GA early-stop"] = {"train_seconds": secs, "uncalibrated": row(unc), "stop": res.stop_reason,
                                        "selected_step": summ["selected_step"], "eval_share": summ["eval_share"],
                                        "curves": [{k: v for k, v in r.items() if k != "per_role"}
                                                   for r in summ["curves"]]}
    print(f"GA early-stop: {res.steps} steps ({res.stop_reason}); selected step {summ['selected_step']}; "
          f"checkpoint evaluation {summ['eval_share']:.0%} of {secs:.0f}s; curve "
          + ", ".join(f"{r['step']}:{r['utility']:.3f}" for r in summ["curves"]), flush=True)


# the options a per-seed record depends on: a record made with others is not reused
# (record key → option)
SETTINGS = {"preset": "preset", "steps": "steps", "lr": "lr", "items_per_role": "items", "tau": "tau", "tol": "tol"}
COLS = ("utility", "forget_acc", "ps_exact_forget", "es_forget", "ps_exact_retain", "es_retain")


def _stats(vals: list) -> dict:
    from oblivio.metrics.stats import mean_sd  # the aggregate `oblivio compare --seeds` uses
    m, sd, n = mean_sd(vals)
    return {"mean": m, "sd": sd, "n": n, "per_seed": vals}


def aggregate(recs: list[dict], seeds: list[int]) -> dict:
    """Every cell as mean ± sample sd over the seeds (the per-seed values kept)."""
    def cells(get) -> dict:
        return {c: _stats([get(r).get(c) for r in recs]) for c in COLS}
    first = recs[0]
    agg: dict = {k: first[k] for k in SETTINGS}
    agg.update(seeds=seeds, base=cells(lambda r: r["base"]), gold=cells(lambda r: r["gold"]), rows={})
    for name in first["runs"]:
        agg["rows"][name] = cells(lambda r, n=name: r["runs"][n]["uncalibrated"])
        if "alpha" in first["runs"][name]:
            agg["rows"][f"{name} @τ"] = {**cells(lambda r, n=name: r["runs"][n]["calibrated"]),
                                         "alpha": _stats([r["runs"][name]["alpha"] for r in recs])}
        if "selected_step" in first["runs"][name]:
            agg["rows"][name]["selected_step"] = _stats([r["runs"][name]["selected_step"] for r in recs])
    agg["seconds_per_seed"] = [r.get("seconds") for r in recs]
    return agg


def _ms(s: dict) -> str:
    if s["mean"] is None:
        return "–"
    return f"{s['mean']:.3f}" + (f" ± {s['sd']:.3f}" if s["sd"] is not None else " (1 seed)")


def render(agg: dict, args) -> str:
    """The markdown table: mean ± sd over the seeds."""
    lines = ["| model | α | " + " | ".join(COLS) + " |", "|" + "---|" * (len(COLS) + 2)]

    def line(name: str, cells: dict) -> None:
        alpha = _ms(cells["alpha"]) if "alpha" in cells else "0"
        lines.append(f"| {name} | {alpha} | " + " | ".join(_ms(cells[c]) for c in COLS) + " |")
    lines.append("| base | | " + " | ".join(_ms(agg["base"][c]) for c in COLS) + " |")
    lines.append("| gold | | " + " | ".join(_ms(agg["gold"][c]) for c in COLS) + " |")
    order = [*METHODS, *[f"{m} @τ" for m in METHODS], *[n for n in agg["rows"] if n not in METHODS
                                                          and not n.endswith("@τ")]]
    for name in order:
        if name in agg["rows"]:
            label = name.replace("@τ", f"@ τ = {args.tau:g}")
            line(label, agg["rows"][name])
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
