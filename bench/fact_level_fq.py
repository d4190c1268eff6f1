"""Forget quality before/after the fact-level change (README: Statistics), on the tiny world.

TOFU's forget quality is a KS test between the forget-set truth ratios of a model and of the
gold (retrained) model. Counted per item, the phrasings of one fact enter as independent
samples; oblivio now tests one value per fact (the mean truth ratio over its phrasings).
This prints both p-values for the base model, the gold model (against itself: 1 by
construction) and GradDiff after a few steps, with the 95% bootstrap interval over facts of
the forget truth ratio and of the forget answer probability.

Config: the tests' tiny world (tests/conftest.py TINY_OVERRIDES: tiny preset, 30 learning
epochs; GradDiff 6 steps, lr 1e-3, batch 8, 1:1 random pairing). One unlearning seed by
default (``--seeds 0,1,2`` for more). Set ``OBLIVIO_CACHE=/work/testcache`` to reuse the
tests' cached models. ``--demo``: the demo instead — the default world, its cached base and
gold models and the demo's unlearning recipe (``api.DEMO_DEFAULTS``).
Usage: ``OMP_NUM_THREADS=1 python bench/fact_level_fq.py [--steps 6] [--seeds 0,1,2] [--demo]``
"""
from __future__ import annotations

import argparse

import torch

from oblivio import api
from oblivio.config import load_config, to_dict
from oblivio.eval.evaluate import EvalReport, evaluate_model

TINY = {
    "world": {"preset": "tiny"},
    "learn": {"epochs": 30, "batch_size": 16, "lr": 3e-3, "warmup": 0.05, "schedule": "cosine", "progress": False},
    "unlearn": {"method": "graddiff", "sampler": "one_to_one_random",
                "train": {"max_steps": 6, "batch_size": 8, "lr": 1e-3, "progress": False}},
    "eval": {"batch_size": 64, "max_new_tokens": 16,
             "metrics": ["answer_prob", "truth_ratio", "forget_quality"]},
}


def row(name: str, rep: EvalReport) -> str:
    fq = rep.model["forget_quality"]
    tr = rep.sets["forget"]["truth_ratio"]
    ap = rep.sets["forget"]["answer_prob"]

    def iv(r) -> str:
        return f"{r.value:.3f} [{r.ci[0]:.3f}, {r.ci[1]:.3f}]" if r.ci else f"{r.value:.3f}"
    e = fq.extra
    return (f"{name:<16}{e['item_level_p']:>12.2g}{fq.value:>12.2g}{e['n_items']:>7}{e['n_facts']:>7}"
            f"   {iv(tr):<27}{iv(ap)}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--seeds", default="0", help="comma-separated unlearning seeds (the world stays seed 0)")
    ap.add_argument("--demo", action="store_true", help="the default world and the demo's recipe")
    args = ap.parse_args()
    if args.demo:
        base = to_dict(api.demo_config("default"))
        over: dict = {"eval": TINY["eval"]}
        label = "demo"
    else:
        base, over, label = {}, TINY, f"graddiff {args.steps}"
    cfg = load_config(overrides=over, base=base)
    data = api.load_data(None, cfg)
    wm = api.learn(data, config=cfg, progress=False, log=lambda m: None)
    torch.set_num_threads(1)   # after learning: models trained into the shared cache keep the default threads
    gold = evaluate_model(wm.gold, wm.tokenizer, data, cfg=cfg.eval, name="gold")
    rows = [("base", evaluate_model(wm.base, wm.tokenizer, data, cfg=cfg.eval, gold=gold, name="base")),
            ("gold (vs itself)", evaluate_model(wm.gold, wm.tokenizer, data, cfg=cfg.eval, gold=gold, name="g"))]
    for seed in (int(s) for s in args.seeds.split(",")):
        from oblivio.models.io import load_model
        model, tok = load_model(wm.base_dir)
        steps = {} if args.demo else {"unlearn": {"train": {"max_steps": args.steps}}}
        c = load_config(overrides={**steps, "seed": seed, "world": {"seed": 0}}, base=to_dict(cfg))
        res = api.unlearn(model, data, tokenizer=tok, config=c, evaluate_models=False, progress=False,
                          log=lambda m: None)
        rows.append((f"{label} s{seed}",
                     evaluate_model(res.model, tok, data, cfg=cfg.eval, gold=gold, name="unlearned")))
    print(f"world '{data.name}': forget {len(data.forget)} items; gold model trained without them")
    print(f"{'model':<16}{'FQ items':>12}{'FQ facts':>12}{'items':>7}{'facts':>7}   "
          f"{'forget truth ratio [95%]':<27}forget answer prob [95%]")
    for name, rep in rows:
        print(row(name, rep))
    print("FQ items: KS on one truth ratio per item (TOFU as published); FQ facts: KS on the mean truth "
          "ratio per fact (oblivio). Intervals: bootstrap over facts, 1000 resamples, seed 0.")


if __name__ == "__main__":
    main()
