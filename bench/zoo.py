"""The method zoo on the default world: a stated tuning search, then one table over 3 seeds.

Issue #14. Every registered unlearning method, with the MELU sampler (the demo's), full
fine-tuning, method arguments at the paper defaults stated in each method's docstring. Two
stages, each a pool of worker processes (``--jobs``; one torch thread each):

* ``tune`` (seed 100, never a reported seed; the **validation** portion of the world, never a
  test row — oblivio.roles): per method, one run per learning rate in ``--lrs`` for
  ``max(--checkpoints)`` steps; at every step in ``--checkpoints`` the *unfinished* run is
  evaluated on ``forget_val`` and the ``*_val`` retain sets (accuracy and held-out-phrasing
  accuracy), inside ``oblivio.roles.selecting``. The chosen (lr, steps) per method: the cheapest
  that meets the demo's targets on validation — forget accuracy and held-out-phrasing forget
  accuracy ≤ gold + 0.05 each, ``direct_val``/``indirect_val``/``general_val`` accuracy ≥ 95% of
  base each — with the best worst ratio; when none meets them, the one with the smallest total
  violation. Writes ``--out``/tuned.json.
* ``table`` (seeds 0,1,2): the chosen setting per method; each run is evaluated on the test
  portion (bootstrap intervals off: the table's spread is over seeds), then calibrated by model
  mixing to τ = 0.9 of the base's model utility (α chosen on validation) and evaluated again on test. Wall time of the
  unlearning, peak RSS of the worker (the base model, the unlearning, its evaluation — before
  calibration loads a second copy), and with ``--lora R`` a LoRA run of seed 0 for the
  memory/time comparison. Writes ``--out``/table.json and prints mean ± sd.

Base and gold models come from the world's cache (trained on first use); their evaluations
are computed once and shared with the workers. Usage:
  python bench/zoo.py tune  [--jobs 2] [--methods a,b] [--lrs 5e-5,1e-4,2e-4,5e-4,1e-3,2e-3]
                            [--checkpoints 10,20,40,60,80,120,160]
  python bench/zoo.py cands --cands '[{"label": "a5", "method": "npo", "args": {"alpha": 5}, "lr": 5e-4, "steps": 9}]'
      (a candidate may also give "train": {"batch_size": 16, ...} and "sampler": "cyclic"; the label
      names the run, so a changed candidate needs a new label)
  python bench/zoo.py table [--jobs 2] [--seeds 0,1,2] [--lora 8 [--lora-methods a,b]] [--audit a,b,demo]
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import pickle
import resource
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from statistics import mean, stdev
from typing import Any

BASES = ("direct", "indirect", "general")
TEST_ROLES = tuple(f"{r}_test" for r in BASES)
FULL_METRICS = ["accuracy", "para_accuracy", "answer_prob", "truth_ratio", "forget_quality", "model_utility",
                "privleak", "mia_loss", "gibberish_rate", "fluency"]


def setup(preset: str):
    from oblivio import api
    cfg = api.demo_config(preset)
    data = api.load_data(None, cfg)
    wm = api.learn(data, config=cfg, progress=False, log=lambda m: None)
    return cfg, data, wm


def eval_cfg(cfg, metrics, bootstrap=0):
    from oblivio.config import load_config, to_dict
    return load_config(overrides={"eval": {"metrics": metrics, "bootstrap": bootstrap}}, base=to_dict(cfg)).eval


def references(out: Path, preset: str) -> dict[str, Any]:
    """Base and gold evaluations of the test portion (``gold``, ``base``) and of the validation
    portion (``gold_val``, ``base_val``: what tuning compares with), computed once, pickled for
    the workers."""
    path = out / "references-portions.pkl"
    if path.exists():
        return pickle.loads(path.read_bytes())
    from oblivio.eval.evaluate import evaluate_model
    cfg, data, wm = setup(preset)
    ecfg = eval_cfg(cfg, FULL_METRICS)
    refs = {}
    for suffix, portion in (("", "test"), ("_val", "val")):
        gold = evaluate_model(wm.gold, wm.tokenizer, data, cfg=ecfg, name="gold", portion=portion)
        refs["gold" + suffix] = gold
        refs["base" + suffix] = evaluate_model(wm.base, wm.tokenizer, data, cfg=ecfg, gold=gold, name="base",
                                               portion=portion)
    path.write_bytes(pickle.dumps(refs))
    return refs


def targets(rep, base, gold) -> dict[str, Any]:
    """The demo's targets on what unlearning never saw (issue #10 item 6), in ``rep``'s portion
    (``base`` and ``gold``: the same portion's reports); keys name the test roles either way."""
    f, pf = rep.value("accuracy", "forget"), rep.value("para_accuracy", "forget")
    gf, gpf = gold.value("accuracy", "forget"), gold.value("para_accuracy", "forget")
    p = rep.portion or "test"
    ratios = {f"{r}_test": rep.value("accuracy", f"{r}_{p}") / base.value("accuracy", f"{r}_{p}") for r in BASES}
    viol = max(0.0, f - gf - 0.05) + max(0.0, pf - gpf - 0.05) + sum(max(0.0, 0.95 - v) for v in ratios.values())
    return {"forget": f, "para_forget": pf, **{f"{r}_ratio": v for r, v in ratios.items()},
            "min_ratio": min(ratios.values()), "violation": viol, "ok": viol == 0.0}


# --- one run (a worker process) ---------------------------------------------------------------
def worker(spec: dict[str, Any]) -> dict[str, Any]:
    import torch
    torch.set_num_threads(1)
    from oblivio.eval.evaluate import evaluate_model
    from oblivio.models.io import load_model
    out = Path(spec["out"])
    refs = pickle.loads((out / "references-portions.pkl").read_bytes())
    cfg0, data, wm = setup(spec["preset"])
    model, tok = load_model(wm.base_dir)
    import dataclasses

    from oblivio.config import build_method
    from oblivio.engine.unlearning import LoraSpec, run_unlearning
    meth = build_method(spec["method"], spec.get("args", {}))
    # a candidate may change the batch, warm-up, schedule… ("train") and the pairing ("sampler")
    train_cfg = dataclasses.replace(cfg0.unlearn.train, seed=spec["seed"], lr=spec["lr"], max_steps=spec["steps"],
                                    progress=False, **spec.get("train", {}))
    lora = LoraSpec(r=spec["lora"]) if spec.get("lora") else None
    quick = eval_cfg(cfg0, ["accuracy", "para_accuracy"])
    sub = data.__class__([it for it in data.items if it.role in ("forget", *(f"{r}_val" for r in BASES))],
                         name=data.name, targets=data.targets)
    curve: list[dict[str, Any]] = []
    checkpoints = set(spec.get("checkpoints", []))

    def at_checkpoint(step: int, m) -> None:
        """The unfinished run at a tuning checkpoint (a finishing method: on a finished copy)."""
        if step not in checkpoints:
            return None
        ev = m
        if meth.builds_model_at_finish:
            ev = copy.deepcopy(m)
            meth.finish(ev)
        from oblivio.roles import selecting
        with selecting("the zoo's tuning search"):      # validation only: a test row here is an error
            rep = evaluate_model(ev, tok, sub, cfg=quick, name=f"step{step}", portion="val")
        curve.append({"step": step, **targets(rep, refs["base_val"], refs["gold_val"])})
        return None

    import torch as _t
    _t.manual_seed(spec["seed"])
    rss_load = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0, c0 = time.perf_counter(), time.process_time()
    model, res = run_unlearning(model, tok, data, meth, sampler=spec.get("sampler", "melu"), train_cfg=train_cfg,
                                lora=lora,
                                callbacks=[at_checkpoint] if checkpoints else [])
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    rec: dict[str, Any] = {**{k: v for k, v in spec.items() if k != "out"}, "wall_s": wall,
                           # one torch thread: CPU time is the idle machine's wall time, whatever the load
                           "cpu_s": cpu, "steps_done": res.steps, "curve": curve, "rss_load_mb": rss_load,
                           # peak RSS is monotonic: read right after training, before any evaluation
                           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if spec.get("full"):
        full = eval_cfg(cfg0, FULL_METRICS)
        rep = evaluate_model(model, tok, data, cfg=full, gold=refs["gold"], name="unlearned", portion="test")
        rec["uncal"] = summary(rep, refs)
        if spec.get("calibrate"):
            from oblivio.engine.calibrate import calibrate
            ref, _ = load_model(wm.base_dir)
            cal = calibrate(ref, model, tok, data, tau=0.9, eval_cfg=full, base_report=refs["base_val"],
                            gold=refs["gold"])
            rec["cal"] = {"alpha": cal.alpha, **summary(cal.report, refs)}
        if spec.get("audit"):
            rec["audit"] = audit(model, tok, data, wm, spec["seed"], full)
    return rec


def audit(model, tok, data, wm, seed: int, ecfg) -> dict[str, Any]:
    """Every registered attack on base, gold and this unlearned model (attacks/audit.py)."""
    from oblivio.attacks.audit import run_audit
    from oblivio.models.io import load_model
    base, _ = load_model(wm.base_dir)
    gold, _ = load_model(wm.gold_dir)
    t0 = time.process_time()
    rec = run_audit({"base": (base, tok), "gold": (gold, tok), "unlearned": (model, tok)}, data, seed=seed,
                    eval_cfg=ecfg, log=lambda m: None)
    out = {name: {"robust": a["robust"], "recovery": a["recovery"], "note": a.get("note", ""),
                  **{f"{m}_acc": a["models"].get(m, {}).get("accuracy") for m in ("base", "gold", "unlearned")},
                  "unlearned_clean": a["models"].get("unlearned", {}).get("clean_accuracy"),
                  **({"ci": a["ci"]} if "ci" in a else {}),
                  # the audit's paired interval, the retain side under the same attack, a skip reason
                  "excess_ci": a.get("excess_ci"), "skipped": a.get("skipped"),
                  **{f"{m}_retain": a["models"].get(m, {}).get("retain_accuracy")
                     for m in ("base", "gold", "unlearned")}}
           for name, a in rec["attacks"].items()}
    return {"attacks": out, "cpu_s": time.process_time() - t0}


def summary(rep, refs) -> dict[str, Any]:
    s = targets(rep, refs["base"], refs["gold"])
    for m in ("forget_quality", "model_utility", "privleak", "mia_loss"):
        s[m] = rep.value(m)
    s["gibberish_forget"] = rep.value("gibberish_rate", "forget")
    s["gibberish_test"] = mean(rep.value("gibberish_rate", r) for r in TEST_ROLES)
    return s


# --- the pool -------------------------------------------------------------------------------------
def run_key(spec: dict[str, Any]) -> str:
    """A run's file name from what it is (not its position in the list): a finished run is
    reused when the search or the method list changes, and redone when its setting does."""
    name = spec.get("label", spec["method"])
    if not name.startswith(spec["method"]):
        # a label that does not say the method ("demo") gets it, so a changed default reruns
        name += f"-{spec['method']}"
    key = f"{name}-lr{spec['lr']:g}-n{spec['steps']}-s{spec['seed']}"
    if spec.get("args") and "label" not in spec:
        key += "-" + "_".join(f"{k}{v}" for k, v in sorted(spec["args"].items()))
    if spec.get("checkpoints"):
        key += "-c" + "_".join(map(str, spec["checkpoints"]))
    if spec.get("lora"):
        key += f"-lora{spec['lora']}"
    if spec.get("audit"):
        key += "-audit"
    return key


def run_pool(specs: list[dict[str, Any]], jobs: int, out: Path, tag: str) -> list[dict[str, Any]]:
    done: list[dict[str, Any]] = []
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

    def one(i_spec):
        _, spec = i_spec
        f = out / f"{tag}-{run_key(spec)}.json"
        if f.exists():                      # resume: a finished run is not redone
            return json.loads(f.read_text())
        spec_f = out / f"{tag}-{run_key(spec)}.spec.json"
        spec_f.write_text(json.dumps({**spec, "out": str(out)}))
        r = subprocess.run([sys.executable, __file__, "worker", str(spec_f), str(f)], env=env,
                           capture_output=True, text=True)
        if r.returncode != 0:
            print(f"FAILED {spec}: {r.stderr[-2000:]}", flush=True)
            return None
        rec = json.loads(f.read_text())
        print(f"  done {tag} {spec['method']} lr={spec['lr']} seed={spec['seed']} ({rec['wall_s']:.0f}s)", flush=True)
        return rec
    order = list(enumerate(specs))
    if os.environ.get("ZOO_REVERSE"):     # a second process on the same --out works from the end
        order.reverse()
    with ThreadPoolExecutor(jobs) as ex:
        for rec in ex.map(one, order):
            if rec is not None:
                done.append(rec)
    return done


def methods_list(arg: str | None) -> list[str]:
    import oblivio.methods  # noqa: F401
    from oblivio.registry import METHODS
    names = [n for n in METHODS.names() if n != "finetune"]
    return arg.split(",") if arg else names


def choose(curve_runs: list[dict[str, Any]]) -> dict[str, Any]:
    pts = [((r["lr"], r.get("args") or {}), p) for r in curve_runs for p in r["curve"]]
    ok = [(s, p) for s, p in pts if p["ok"]]
    if ok:
        (lr, args), p = max(ok, key=lambda x: (x[1]["min_ratio"], -x[1]["step"]))
    else:
        (lr, args), p = min(pts, key=lambda x: (x[1]["violation"], x[1]["step"]))
    return {"lr": lr, "steps": p["step"], **({"args": args} if args else {}), "tuning_point": p}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        spec = json.loads(Path(sys.argv[2]).read_text())
        Path(sys.argv[3]).write_text(json.dumps(worker(spec)))
        return
    a = _parser().parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    refs = references(out, a.preset)
    gold, base = refs["gold"], refs["base"]
    print(f"gold forget accuracy {gold.value('accuracy', 'forget'):.3f} (held-out phrasings "
          f"{gold.value('para_accuracy', 'forget'):.3f}); base test accuracy "
          + ", ".join(f"{r} {base.value('accuracy', r):.3f}" for r in TEST_ROLES), flush=True)
    names = methods_list(a.methods)
    if a.stage == "tune":
        _tune(a, out, names)
        return
    seeds = [int(s) for s in a.seeds.split(",")]
    if a.stage == "cands":
        _cands(a, out, seeds)
        return
    _table(a, out, names, seeds)


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser()
    ap.add_argument("stage", choices=["tune", "table", "cands"])
    ap.add_argument("--cands", default="", help="cands: JSON list of {label, method, args, lr, steps}; "
                    "each is run on --seeds like a table row (the demo default's candidates)")
    ap.add_argument("--preset", default="default")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--methods")
    ap.add_argument("--lrs", default="5e-5,1e-4,2e-4,5e-4,1e-3,2e-3")
    ap.add_argument("--checkpoints", default="10,20,40,60,80,120,160")
    ap.add_argument("--args", default="", help="tune: method-argument settings searched too, JSON objects "
                    "separated by ';' (e.g. RMU's '{\"alpha\": 1};{\"alpha\": 100}')")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--lora", type=int, default=0, help="table: also a LoRA run of rank R (seed 0)")
    ap.add_argument("--lora-methods", default="", help="table: the methods of the LoRA runs (default all)")
    ap.add_argument("--audit", default="", help="methods audited on every seed (comma list; 'demo' = the "
                    "demo default); with any, every other method is audited on the first seed")
    ap.add_argument("--out", default="bench/results/zoo")
    return ap


def _tune(a: argparse.Namespace, out: Path, names: list[str]) -> None:
    """The tuning search: every method x learning rate (x argument setting); writes tuned.json."""
    cps = [int(x) for x in a.checkpoints.split(",")]
    grid = [json.loads(g) for g in a.args.split(";")] if a.args else [{}]
    specs = [{"preset": a.preset, "method": m, "lr": float(lr), "steps": max(cps), "seed": 100,
              "checkpoints": cps, **({"args": g} if g else {})}
             for m in names for lr in a.lrs.split(",") for g in grid]
    run_pool(specs, a.jobs, out, "tune")
    # the choice is over every learning rate searched so far for the method (earlier
    # invocations' runs included: a second search adds learning rates, it does not replace)
    runs = [json.loads(f.read_text()) for f in sorted(out.glob("tune-*.json")) if not f.name.endswith(".spec.json")]
    # a method whose training loop fires no step callback (reveal_release: its rounds train
    # their own LoRAs) has no tuning curve; it is said, not chosen
    tuned = {m: choose([r for r in runs if r["method"] == m]) for m in names
             if any(r["method"] == m and r["curve"] for r in runs)}
    for m in names:
        if m not in tuned:
            print(f"{m:<12} no tuning curve (no checkpoint evaluations ran): not in the table")
    prev = json.loads((out / "tuned.json").read_text()) if (out / "tuned.json").exists() else {}
    (out / "tuned.json").write_text(json.dumps({**prev, **tuned}, indent=1))
    for m, t in tuned.items():
        p = t["tuning_point"]
        verdict = "meets targets" if p["ok"] else f"violation {p['violation']:.3f}"
        print(f"{m:<12} lr {t['lr']:.0e} steps {t['steps']:>4}  forget {p['forget']:.3f} "
              f"para {p['para_forget']:.3f} min test ratio {p['min_ratio']:.3f}  {verdict}")


def _cands(a: argparse.Namespace, out: Path, seeds: list[int]) -> None:
    """Candidate settings (``--cands``), each run like a table row on every seed."""
    cands = json.loads(a.cands)
    audited = set(a.audit.split(",")) if a.audit else set()
    specs = [{"preset": a.preset, "label": c["label"], "method": c["method"], "args": c.get("args", {}),
              "lr": c["lr"], "steps": c["steps"], "seed": s, "full": True, "calibrate": True,
              **{k: c[k] for k in ("train", "sampler") if k in c},
              "audit": c["label"] in audited} for c in cands for s in seeds]
    runs = run_pool(specs, a.jobs, out, "cand")
    print_table(runs, [c["label"] for c in cands])


def _table(a: argparse.Namespace, out: Path, names: list[str], seeds: list[int]) -> None:
    """Every tuned method and the demo default on every seed (and the LoRA runs); writes table.json."""
    tuned = json.loads((out / "tuned.json").read_text())
    audited = set(a.audit.split(",")) if a.audit else set()
    specs = [{"preset": a.preset, "method": m, "lr": tuned[m]["lr"], "steps": tuned[m]["steps"], "seed": s,
              **({"args": tuned[m]["args"]} if tuned[m].get("args") else {}),
              "full": True, "calibrate": True, "audit": m in audited or (bool(audited) and s == seeds[0])}
             for m in names if m in tuned for s in seeds]
    # the demo's default (api.DEMO_DEFAULTS: method, arguments, lr, steps; MELU) as its own row
    from oblivio.api import DEMO_DEFAULTS
    d = DEMO_DEFAULTS["unlearn"]
    specs += [{"preset": a.preset, "label": "demo", "method": d["method"], "args": d["args"], "lr": d["train"]["lr"],
               "steps": d["train"]["max_steps"], "seed": s, "full": True, "calibrate": True,
               "audit": bool(audited)} for s in seeds]
    names = [*names, "demo"]
    if a.lora:
        lora_names = a.lora_methods.split(",") if a.lora_methods else names
        specs += [{"preset": a.preset, "method": m, "lr": tuned[m]["lr"], "steps": tuned[m]["steps"],
                   **({"args": tuned[m]["args"]} if tuned[m].get("args") else {}),
                   "seed": seeds[0], "full": True, "lora": a.lora} for m in lora_names if m in tuned]
    runs = run_pool(specs, a.jobs, out, "table")
    (out / "table.json").write_text(json.dumps(runs, indent=1))
    print_table(runs, names)


def _ms(xs: list[float], fmt: str = ".3f") -> str:
    xs = [x for x in xs if x is not None]
    if not xs:
        return "–"
    return f"{mean(xs):{fmt}} ± {stdev(xs):{fmt}}" if len(xs) > 1 else f"{xs[0]:{fmt}} (1 seed)"


def print_table(runs: list[dict[str, Any]], names: list[str]) -> None:
    cols = [("forget", "forget"), ("para_forget", "para"), ("direct_test_ratio", "d_test%"),
            ("indirect_test_ratio", "i_test%"), ("general_test_ratio", "g_test%"),
            ("forget_quality", "FQ"), ("privleak", "privleak"), ("gibberish_forget", "gib_f")]
    for key in ("uncal", "cal"):
        print(f"\n## {'uncalibrated' if key == 'uncal' else 'calibrated to τ = 0.9 (model mixing)'}")
        print("| method | lr | steps | " + " | ".join(c for _, c in cols) + " | meets | " +
              ("α |" if key == "cal" else "train CPU s | ΔRSS MB |"))
        print("|" + "---|" * (len(cols) + 5 + (0 if key == "cal" else 1)))
        for m in names:
            rs = [r for r in runs if r.get("label", r["method"]) == m and not r.get("lora") and key in r]
            if not rs:
                continue
            cells = [_ms([r[key][k] for r in rs], ".2g" if k in ("forget_quality",) else
                         ".1f" if k == "privleak" else ".3f") for k, _ in cols]
            meets = f"{sum(r[key]['ok'] for r in rs)}/{len(rs)}"
            tail = (_ms([r["cal"]["alpha"] for r in rs], ".2f") if key == "cal" else
                    f"{_ms([r['cpu_s'] for r in rs], '.0f')} | "
                    f"{_ms([r['peak_rss_mb'] - r['rss_load_mb'] for r in rs], '.0f')}")
            print(f"| {m} | {rs[0]['lr']:.0e} | {rs[0]['steps']} | " + " | ".join(cells) + f" | {meets} | {tail} |")
    print_audit(runs, names)
    lora = [r for r in runs if r.get("lora")]
    if lora:
        print("\n## LoRA vs full (seed 0): unlearning wall time and peak RSS")
        print("| method | full CPU s | LoRA CPU s | full ΔRSS MB | LoRA ΔRSS MB | LoRA forget | LoRA min test ratio |")
        print("|---|---|---|---|---|---|---|")
        for r in lora:
            f = next((x for x in runs if x.get("label", x["method"]) == r["method"] and not x.get("lora")
                      and x["seed"] == r["seed"]),
                     None)
            if f:
                # the training's addition to the process's peak RSS (after loading the base model)
                print(f"| {r['method']} | {f['cpu_s']:.0f} | {r['cpu_s']:.0f} | "
                      f"{f['peak_rss_mb'] - f['rss_load_mb']:.0f} | {r['peak_rss_mb'] - r['rss_load_mb']:.0f} | "
                      f"{r['uncal']['forget']:.3f} | {r['uncal']['min_ratio']:.3f} |")


def print_audit(runs: list[dict[str, Any]], names: list[str]) -> None:
    """Per attack: attacked forget accuracy of the unlearned model (mean ± sd over the audited
    seeds), the gold model's, and how many seeds were robust."""
    aud = [r for r in runs if isinstance(r.get("audit"), dict) and not r.get("lora")]
    if not aud:
        return
    attacks = list(dict.fromkeys(k for r in aud for k in r["audit"]["attacks"]))
    print("\n## Robustness audit: attacked forget accuracy, unlearned (gold) [robust seeds]")
    print("| model | " + " | ".join(attacks) + " | audit CPU s |")
    print("|" + "---|" * (len(attacks) + 2))
    for ref in ("base", "gold"):
        cells = [_ms([r["audit"]["attacks"][k][f"{ref}_acc"] for r in aud if k in r["audit"]["attacks"]], ".2f")
                 for k in attacks]
        print(f"| {ref} (all audited runs) | " + " | ".join(cells) + " | |")
    for m in names:
        rs = [r for r in aud if r.get("label", r["method"]) == m]
        if not rs:
            continue
        cells = []
        for k in attacks:
            xs = [r["audit"]["attacks"][k] for r in rs if k in r["audit"]["attacks"]]
            rob = [x["robust"] for x in xs if x["robust"] is not None]
            cells.append(f"{_ms([x['unlearned_acc'] for x in xs], '.2f')} [{sum(rob)}/{len(rob)}]")
        print(f"| {m} | " + " | ".join(cells) + f" | {_ms([r['audit']['cpu_s'] for r in rs], '.0f')} |")


if __name__ == "__main__":
    main()
