"""Controls of excessive unlearning on the embedded world (SPEC §1 S1, issue #4).

Runs GA, GradDiff, KL and NPO with one step budget from the world's cached base model and
reports, uncalibrated and calibrated at τ = 0.9 (smallest α with model utility ≥ τ × the
base's, bisection on θ_mix = α·θ_base + (1−α)·θ_unl): model utility, forget accuracy, and
PS-exact / extraction strength (ES) on the forget set and on the retain sets. Then
likelihood capping on/off for GA and GradDiff (δ = 2 and 6), uncalibrated.

    python bench/controls.py                    # default world (~10 min on 2 CPU cores)
    python bench/controls.py --preset small     # quicker
    python bench/controls.py --items 0          # evaluate every item (slower)

Evaluation subset: forget (all items up to --items) and the retain sets unlearning sees
(direct, indirect, general; --items per role, fixed by seed); "retain" PS/ES pool them.
Base and gold models come from ``oblivio.api.learn`` (cached). Writes a JSON record.
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

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

RETAIN = ("direct", "indirect", "general")
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
    ap.add_argument("--out", default="runs/bench-controls.json")
    args = ap.parse_args(argv)

    import torch
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    from oblivio import api
    from oblivio.config import load_config
    from oblivio.data.schema import UnlearningData
    from oblivio.engine.calibrate import calibrate
    from oblivio.engine.unlearning import run_unlearning
    from oblivio.config import build_method
    from oblivio.eval.evaluate import EvalConfig, evaluate_model

    t_all = time.perf_counter()
    cfg = load_config(overrides={"world": {"preset": args.preset},
                                 "unlearn": {"train": {"max_steps": args.steps, "lr": args.lr, "progress": False}}})
    data = api.load_data(None, cfg)
    # learn(None, ...): the cache key is the world spec (the same models as `oblivio learn`)
    wm = api.learn(None, config=cfg, progress=False, log=lambda m: print(m, flush=True))
    ev_data = UnlearningData([it for it in data.items if it.role in ("forget", *RETAIN)], name=data.name,
                             targets=data.targets)
    cheap = EvalConfig(metrics=["model_utility", "accuracy", "answer_prob", "rouge_recall", "truth_ratio"],
                       max_items_per_role=args.items or None, batch_size=64, max_new_tokens=24)
    # PS-exact and ES come from teacher forcing (eval/extraction.py): nearly free
    full = dataclasses.replace(cheap, metrics=cheap.metrics + ["ps_exact", "extraction_strength"])
    print(f"world {data.name}: {len(data.items)} items; evaluating forget + {', '.join(RETAIN)} "
          f"({args.items or 'all'} per role); {args.steps} steps at lr {args.lr} for every method", flush=True)

    t0 = time.perf_counter()
    base_rep = evaluate_model(wm.base, wm.tokenizer, ev_data, cfg=full, name="base")
    gold_rep = evaluate_model(wm.gold, wm.tokenizer, ev_data, cfg=full, name="gold")
    t_eval_full = (time.perf_counter() - t0) / 2
    t0 = time.perf_counter()
    evaluate_model(wm.base, wm.tokenizer, ev_data, cfg=cheap, name="base")
    t_eval_cheap = time.perf_counter() - t0
    print(f"one evaluation: {t_eval_cheap:.1f}s cheap, {t_eval_full:.1f}s with PS-exact/ES", flush=True)

    def save(o):
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(o, indent=1, default=str))

    def brief(r):
        return (f"utility {fmt(r['utility'])}, forget acc {fmt(r['forget_acc'])} PS-exact {fmt(r['ps_exact_forget'])} "
                f"ES {fmt(r['es_forget'])}; retain PS-exact {fmt(r['ps_exact_retain'])} ES {fmt(r['es_retain'])}")
    print(f"base: {brief(row(base_rep))}\ngold: {brief(row(gold_rep))}", flush=True)
    out: dict = {"preset": args.preset, "steps": args.steps, "lr": args.lr, "items_per_role": args.items,
                 "tau": args.tau, "tol": args.tol, "base": row(base_rep), "gold": row(gold_rep),
                 "eval_seconds": {"cheap": t_eval_cheap, "full": t_eval_full}, "runs": {}}

    def unlearn(method: str, margs: dict, callbacks=()):
        model = copy.deepcopy(wm.base)
        meth = build_method(method, margs)
        train_cfg = dataclasses.replace(cfg.unlearn.train, seed=cfg.seed)
        t = time.perf_counter()
        for cb in callbacks:
            cb.baseline(model)
        model, res = run_unlearning(model, wm.tokenizer, data, meth, sampler=cfg.unlearn.sampler,
                                    train_cfg=train_cfg, callbacks=callbacks)
        for cb in callbacks:
            cb.finish(model, res.steps)
            cb.restore(model)
        return model, res, time.perf_counter() - t

    for name, (method, margs) in METHODS.items():
        model, res, secs = unlearn(method, margs)
        t = time.perf_counter()
        unc = evaluate_model(model, wm.tokenizer, ev_data, cfg=full, name=name)
        cal = calibrate(wm.base, model, wm.tokenizer, ev_data, tau=args.tau, tol=args.tol, eval_cfg=full,
                        base_report=base_rep)
        rec = {"train_seconds": secs, "eval_seconds": time.perf_counter() - t, "stop": res.stop_reason,
               "uncalibrated": row(unc), "alpha": cal.alpha, "calibrated": row(cal.report, cal.utility),
               "sweep": cal.sweep, "evaluations": cal.evaluations}
        out["runs"][name] = rec
        print(f"{name:<9} trained {secs:5.1f}s; uncalibrated {brief(rec['uncalibrated'])}; calibrated α={cal.alpha:.3f} "
              f"{brief(rec['calibrated'])} ({cal.evaluations} evals, {rec['eval_seconds']:.0f}s)", flush=True)
        save(out)
    if not args.no_capping:
        for name, (method, margs) in CAPPED.items():
            model, res, secs = unlearn(method, margs)
            unc = evaluate_model(model, wm.tokenizer, ev_data, cfg=full, name=name)
            out["runs"][name] = {"train_seconds": secs, "uncalibrated": row(unc), "stop": res.stop_reason}
            print(f"{name:<13} trained {secs:5.1f}s; {brief(row(unc))}", flush=True)
            save(out)
    if args.eval_every:
        # checkpoint evaluation + early stopping on GA (the method that over-unlearns)
        from oblivio.config import ControlConfig
        from oblivio.engine.checkpoint_eval import CheckpointEval
        cb = CheckpointEval(wm.tokenizer, data, ControlConfig(eval_every=args.eval_every, eval_items=8,
                                                          stop_utility_tau=args.tau), eval_cfg=cheap)
        model, res, secs = unlearn("ga", {}, callbacks=[cb])
        unc = evaluate_model(model, wm.tokenizer, ev_data, cfg=full, name="GA+early stop")
        summ = cb.summary(secs)
        out["runs"]["GA early-stop"] = {"train_seconds": secs, "uncalibrated": row(unc), "stop": res.stop_reason,
                                        "selected_step": summ["selected_step"], "eval_share": summ["eval_share"],
                                        "curves": [{k: v for k, v in r.items() if k != "per_role"}
                                                   for r in summ["curves"]]}
        print(f"GA early-stop: {res.steps} steps ({res.stop_reason}); selected step {summ['selected_step']}; "
              f"checkpoint evaluation {summ['eval_share']:.0%} of {secs:.0f}s; curve "
              + ", ".join(f"{r['step']}:{r['utility']:.3f}" for r in summ["curves"]), flush=True)
    out["seconds"] = time.perf_counter() - t_all

    cols = ("utility", "forget_acc", "ps_exact_forget", "es_forget", "ps_exact_retain", "es_retain")
    head = f"| {'model':<14} | {'α':>5} | " + " | ".join(f"{c:>15}" for c in cols) + " |"
    lines = [head, "|" + "|".join("-" * (len(x)) for x in head.split("|")[1:-1]) + "|"]

    def line(name, r, alpha=""):
        lines.append(f"| {name:<14} | {alpha:>5} | " + " | ".join(f"{fmt(r[c]):>15}" for c in cols) + " |")
    line("base", out["base"])
    line("gold", out["gold"])
    for name in METHODS:
        line(name, out["runs"][name]["uncalibrated"], "0")
    for name in METHODS:
        r = out["runs"][name]
        line(f"{name} @τ={args.tau:g}", r["calibrated"], f"{r['alpha']:.3f}")
    if not args.no_capping:
        for name in ("GA", "GA δ=2", "GA δ=6", "GradDiff", "GradDiff δ=2", "GradDiff δ=6"):
            line(name, out["runs"][name]["uncalibrated"], "0")
    if "GA early-stop" in out["runs"]:
        line("GA early-stop", out["runs"]["GA early-stop"]["uncalibrated"], "0")
    table = "\n".join(lines)
    print(table)
    print(f"total {out['seconds']:.0f}s")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({**out, "table": table}, indent=1, default=str))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
