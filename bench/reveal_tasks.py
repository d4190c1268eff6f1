"""Reveal and Release on the world's three tasks: self-generated vs true forget data, iterative
vs one-shot, under the same release procedure (Xie et al., Findings of EMNLP 2025, arXiv
2509.14624).

Tasks: ``entity`` (the world's first forget target, from its name alone), ``attribute``
(every birthplace), ``capability`` (the world's sums). Conditions, each from the same base:
``self-iter`` (revealed data, ``--rounds`` rounds), ``self-1shot`` (revealed data, one round,
same total steps), ``true-iter`` (the task's true forget rows released by the same rounds).
Measured (greedy, key in the answer): forget accuracy on the true forget rows' training
phrasings and held-out phrasings (entity: also the share of the target's values that its
trained / held-out instruction families still reveal), and utility per held-out role.
One world (``--world-seed``); ``--seeds`` vary the reveal sampling and LoRA initialisation.
Usage: python bench/reveal_tasks.py [--preset tiny] [--seeds 0] [--steps 30] [--rounds 3] [--audit]
       python bench/reveal_tasks.py --summarize OUT.json [OUT2.json ...]   (mean ± sd over seeds)
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys

import torch

from oblivio.config import load_config
from oblivio.engine.loop import TrainConfig
from oblivio.models.io import load_model
from oblivio.resolve import learn, load_data
from oblivio.reveal.release import ReleaseConfig, release
from oblivio.reveal.respond import respond
from oblivio.reveal.tasks import world_task
from oblivio.world.extras import world_extras


def acc(model, tok, rows, field: str = "question") -> float | None:
    rows = [r for r in rows if getattr(r, field)]
    if not rows:
        return None
    out = respond(model, tok, [getattr(r, field) for r in rows], max_new_tokens=72)
    vals = [r.meta["values"] if r.meta and "values" in r.meta else [r.key] for r in rows]
    return round(sum(sum(v in o[0] for v in vs) / len(vs) for vs, o in zip(vals, out)) / len(rows), 4)


def truth(kind: str, data, ex):
    """(true forget rows, evaluation sets, retain rows) of a task."""
    tgt = data.targets[0]
    tests = {r: data.role(r) for r in ("direct_test", "indirect_test", "general_test") if data.role(r)}
    if kind == "entity":
        ins = [dataclasses.replace(it, role="forget", targets=(tgt,)) for it in ex.base if it.entity == tgt]
        forget = [*(it for it in data.forget if tgt in it.targets), *ins]
        evals = {"forget_qa": [it for it in data.forget if tgt in it.targets], "forget_instr": ins,
                 "forget_instr_heldout": [it for it in ex.probes if it.entity == tgt]}
        return forget, {**evals, **tests}, data.unlearning_retain()
    if kind == "attribute":
        forget = [dataclasses.replace(it, role="forget") for it in data.trained() if it.relation == "birthplace"]
        others = {r: [it for it in rows if it.relation != "birthplace"] for r, rows in tests.items()}
        return forget, {"forget_qa": forget, **others}, [it for it in data.unlearning_retain()
                                                         if it.relation != "birthplace"]
    arith = [it for it in ex.base if it.meta["task"] == "arithmetic"]
    para = {it.fact: it.question for it in ex.probes if it.meta["task"] == "arithmetic"}
    forget = [dataclasses.replace(it, role="forget", paraphrased_question=para[it.fact]) for it in arith]
    return forget, {"forget_qa": forget, **tests}, data.unlearning_retain()


def measure(model, tok, evals) -> dict:
    out = {}
    for name, rows in evals.items():
        out[name] = acc(model, tok, rows)
        if name == "forget_qa":
            out["forget_qa_heldout"] = acc(model, tok, rows, "paraphrased_question")
    return out


def audit(wm, data, model, tok, seed: int) -> dict:
    """Every registered attack (attacks/) on base, gold and the released model, the forget set
    narrowed to the entity's own QA rows (the world's gold model never learned them)."""
    from oblivio.attacks.audit import run_audit
    tgt = data.targets[0]
    view = dataclasses.replace(data, items=[it for it in data.items if it.role != "forget" or tgt in it.targets])
    rec = run_audit({"base": (wm.base, wm.tokenizer), "gold": (wm.gold, wm.tokenizer), "unlearned": (model, tok)},
                    view, seed=seed, log=lambda m: None)
    return {n: {"robust": a.get("robust"), **{m: a.get("models", {}).get(m, {}).get("accuracy")
                                              for m in ("base", "gold", "unlearned")}}
            for n, a in rec["attacks"].items()}


def summarize(paths: list[str]) -> None:
    """Mean ± sd over seeds per task × condition (the files of several --out runs), and per
    condition the attacks the released model was robust to."""
    import statistics as st
    rows = [r for p in paths for r in json.load(open(p))]
    cols = ["forget_qa", "forget_qa_heldout", "forget_instr", "forget_instr_heldout", "direct_test",
            "indirect_test", "general_test"]

    def cell(xs: list) -> str:
        xs = [x for x in xs if x is not None]
        if not xs:
            return ""
        return f"{st.mean(xs):.2f} ± {st.stdev(xs):.2f}" if len(xs) > 1 else f"{xs[0]:.2f}"
    print("| task | condition | n | " + " | ".join(cols) + " | robust (seeds × attacks) |")
    print("|---|---|---|" + "---|" * (len(cols) + 1))
    for task in dict.fromkeys(r["task"] for r in rows):
        for cond in dict.fromkeys(r["condition"] for r in rows if r["task"] == task):
            rs = [r for r in rows if r["task"] == task and r["condition"] == cond]
            aud = [v["robust"] for r in rs for v in r.get("audit", {}).values() if v["robust"] is not None]
            print(f"| {task} | {cond} | {len(rs)} | " + " | ".join(cell([r.get(c) for r in rs]) for c in cols)
                  + f" | {f'{sum(aud)}/{len(aud)}' if aud else ''} |")


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--summarize":
        summarize(sys.argv[2:])
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="tiny")
    ap.add_argument("--world-seed", type=int, default=0)
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--tasks", default="entity,attribute,capability")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--lam-neg", type=float, default=1.0)
    ap.add_argument("--budget", type=int, default=10)
    ap.add_argument("--audit", action="store_true", help="entity task: audit the released models "
                    "(self-generated and true rows, iterative) with every attack")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    torch.set_num_threads(1)
    cfg = load_config(overrides={"world": {"preset": a.preset}, "seed": a.world_seed})
    data = load_data(None, cfg)
    wm = learn(data, config=cfg, progress=False)
    ex = world_extras(data.source)
    rows = []
    for kind in a.tasks.split(","):
        forget, evals, retain = truth(kind, data, ex)
        task = world_task(kind, data.source, target=data.targets[0])
        base = measure(wm.base, wm.tokenizer, evals)
        rows.append({"task": kind, "condition": "base", **base})
        print(json.dumps(rows[-1]), flush=True)
        for seed in [int(s) for s in a.seeds.split(",")]:
            for cond, rounds, given in (("self-iter", a.rounds, None), ("self-1shot", 1, None),
                                        ("true-iter", a.rounds, forget)):
                model, tok = load_model(wm.base_dir)
                tc = TrainConfig(lr=a.lr, max_steps=a.steps, batch_size=8, seed=seed, progress=False)
                rc = ReleaseConfig(rounds=rounds, lam_neg=a.lam_neg, tau=0.0)
                kw = dict(budget=a.budget, top_k=3, n=4, seed=seed)
                model, res, log = release(model, tok, task, retain, cfg=rc, train_cfg=tc, reveal_kw=kw,
                                          log=lambda m: None, given=given)
                m = measure(model, tok, evals)
                rows.append({"task": kind, "condition": cond, "seed": seed, "steps": res.steps,
                             "rounds": [r.get("relevance") for r in log[1:]],
                             "revealed_rows": [r.get("rows") for r in log[1:]], **m})
                if a.audit and kind == "entity" and cond != "self-1shot":
                    rows[-1]["audit"] = audit(wm, data, model, tok, seed)
                print(json.dumps(rows[-1]), flush=True)
    if a.out:
        with open(a.out, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
