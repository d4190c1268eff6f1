"""Base and gold recall on every probe the world trains or holds out: English training and
held-out phrasings, Spanish training and held-out phrasings, reverse questions.

Trains (or reuses from ``$OBLIVIO_CACHE``) the demo's base and gold models of a world preset
with the default ``learn`` recipe — the same cache entry ``oblivio demo`` uses — and scores
exact answer accuracy (the key in the greedy answer) with the evaluator. Base is scored on
everything it learned; gold on the facts it learned (retain) and on the forget facts it never
saw. Then the base model's English held-out accuracy per held-out phrasing (template, the
subject written X) with a 95% interval resampling whole facts, as the audit does.
Usage: OMP_NUM_THREADS=1 python bench/probe_recall.py [--preset default]
"""
from __future__ import annotations

import argparse
import dataclasses
import time

import torch

from oblivio import api
from oblivio.attacks.audit import fact_interval, score
from oblivio.config import load_config
from oblivio.data.probes import reverse_probe_items, xl_probe_items
from oblivio.models.io import load_model


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="default")
    a = ap.parse_args()
    cfg = load_config(overrides={"world": {"preset": a.preset}})
    data = api.load_data(None, cfg)
    t0 = time.perf_counter()
    wm = api.learn(data, config=cfg, progress=False)
    print(f"models ready in {time.perf_counter() - t0:.1f}s (cached: {wm.cached}; learning seconds {wm.seconds}; "
          f"{torch.get_num_threads()} thread(s))")
    gold = load_model(wm.gold_dir)[0]
    trained = data.trained()
    retain = data.trained(without_forget=True)
    rows = {"base (all trained facts)": (wm.base, trained), "gold (its retain facts)": (gold, retain),
            "gold (forget facts, never seen)": (gold, data.forget), "base (forget facts)": (wm.base, data.forget)}
    probes = {
        "English train": lambda its: its,
        "English held-out": lambda its: [dataclasses.replace(it, question=it.paraphrased_question)
                                         for it in its if it.paraphrased_question],
        "Spanish train": lambda its: xl_probe_items(its, heldout=False),
        "Spanish held-out": lambda its: xl_probe_items(its),
        "reverse": reverse_probe_items,
    }
    print(f"{'model (items)':<34}" + "".join(f"{k:>18}" for k in probes))
    for name, (model, items) in rows.items():
        cells = []
        for make in probes.values():
            p = make(items)
            s = score(model, wm.tokenizer, p)
            cells.append(f"{s['accuracy']:.3f} (n={s['n_items']})")
        print(f"{name:<34}" + "".join(f"{c:>18}" for c in cells), flush=True)
    heldout_breakdown(wm.base, wm.tokenizer, trained)


def heldout_breakdown(model, tokenizer, items) -> None:
    """English accuracy of ``model`` on the trained and on the held-out phrasings of ``items``
    (fact-level 95% intervals), then per held-out template."""
    facts = {it.id: it.fact or it.id for it in items}
    para = [dataclasses.replace(it, question=it.paraphrased_question) for it in items if it.paraphrased_question]
    scores = {name: score(model, tokenizer, probe) for name, probe in (("English train", items),
                                                                      ("English held-out", para))}
    for name, s in scores.items():
        lo, hi = fact_interval(s["per_item"], facts) or (float("nan"), float("nan"))
        print(f"base {name}: {s['accuracy']:.3f} [{lo:.3f}, {hi:.3f}] (n={s['n_items']}, "
              f"{len({facts[i] for i in s['per_item']})} facts)")
    per = scores["English held-out"]["per_item"]
    by_template: dict[str, list[float]] = {}
    for it in para:
        if it.id in per:
            by_template.setdefault(it.question.replace(it.entity or "", "X"), []).append(per[it.id])
    for t, v in sorted(by_template.items(), key=lambda kv: sum(kv[1]) / len(kv[1])):
        print(f"  {sum(v) / len(v):.3f}  (n={len(v):>3})  {t}")


if __name__ == "__main__":
    main()
