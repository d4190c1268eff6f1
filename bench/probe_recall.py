"""Base and gold recall on every probe the world trains or holds out: English training and
held-out phrasings, Spanish training and held-out phrasings, reverse questions.

Trains (or reuses from ``$OBLIVIO_CACHE``) the demo's base and gold models of a world preset
with the default ``learn`` recipe — the same cache entry ``oblivio demo`` uses — and scores
exact answer accuracy (the key in the greedy answer) with the evaluator. Base is scored on
everything it learned; gold on the facts it learned (retain) and on the forget facts it never
saw. Then the base model's English held-out accuracy per held-out phrasing (template, the
subject written X) with a 95% interval resampling whole facts, as the audit does.
saw. Then the logit lens on the forget facts (attacks/logit_lens.py): base and gold ranked
among each answer's type, next to chance and to the old top-5-at-any-layer containment of the
answer's first token, which a model that never saw the facts passes by knowing the type.
Usage: OMP_NUM_THREADS=1 python bench/probe_recall.py [--preset default]
"""
from __future__ import annotations

import argparse
import dataclasses
import time

import torch

from oblivio import api
from oblivio.attacks.audit import fact_interval, score
from oblivio.attacks.logit_lens import LogitLens, value_context
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
    lens(data, {"base": wm.base, "gold": gold}, wm.tokenizer)


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


def top5_any_layer(model, tok, items) -> float:
    """The old probe: the answer's first token in the top 5 of the vocabulary at some layer."""
    from oblivio.models.format import format_of
    fmt, hits = format_of(tok), 0
    with torch.no_grad():
        for it in items:
            ctx, val = value_context(tok, fmt, it, it.key)
            out = model(torch.tensor([ctx]), output_hidden_states=True)
            head, norm = model.get_output_embeddings(), model.base_model.norm
            lg = torch.cat([*(head(norm(h[:, -1])) for h in out.hidden_states[:-1]), out.logits[:, -1]])
            hits += int(((lg > lg[:, val[0]: val[0] + 1]).sum(-1) < 5).any())
    return hits / len(items)


def lens(data, models, tok) -> None:
    print("logit lens on the forget facts: rank among the type (chance = mean 1/|candidates|) vs old top-5")
    for name, m in models.items():
        r = LogitLens().apply(m, tok, data)
        d = r.details
        print(f"{name:<6} lens {r.scores['accuracy']:.3f} (output layer {r.clean_scores['accuracy']:.3f}, "
              f"chance {d['chance']:.3f}, layers {d['fold_layers']}, per layer {d['layer_accuracy']}, "
              f"{d['candidates_mean']:.1f} candidates, n={len(r.items)}); old top-5 any layer "
              f"{top5_any_layer(m, tok, [it for it in data.forget if it.key]):.3f}", flush=True)


if __name__ == "__main__":
    main()
