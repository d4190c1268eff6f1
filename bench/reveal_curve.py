"""Sample-efficiency curve of the reveal search: NeuralUCB vs random search, same budget.

Reveal and Release (Xie et al., Findings of EMNLP 2025, arXiv 2509.14624) claims NeuralUCB
reaches a better instruction than random search within the same query budget. For each task
(entity, attribute, capability) on the world's base model, every instruction of the pool is
queried once (``best_of_pool``: the ceiling, and a lookup table: a query is deterministic
for a seed, so replaying a strategy against the table is the same as running it); then
NeuralUCB (features: the model's mean hidden states of the instructions) and random search are replayed
with ``--reps`` different seeds each, and the best score found after k queries is averaged.
Usage: python bench/reveal_curve.py [--preset tiny] [--seed 0] [--budget 12] [--reps 10]
"""
from __future__ import annotations

import argparse
import json
import time

import torch

from oblivio.config import load_config
from oblivio.resolve import learn, load_data
from oblivio.reveal.diversity import Diversity, mean_hidden
from oblivio.reveal.neural_ucb import NU, NeuralUCB, random_order
from oblivio.reveal.search import Querier
from oblivio.reveal.tasks import world_task


def curve(order: list[int], scores: list[float]) -> list[float]:
    out, b = [], 0.0
    for i in order:
        b = max(b, scores[i])
        out.append(b)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="tiny")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--budget", type=int, default=12)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--out", default=None, help="write the curves as JSON here")
    a = ap.parse_args()
    torch.set_num_threads(1)
    cfg = load_config(overrides={"world": {"preset": a.preset}, "seed": a.seed})
    data = load_data(None, cfg)
    wm = learn(data, config=cfg, progress=False)
    report = {}
    for kind in ("entity", "attribute", "capability"):
        task = world_task(kind, data.source, target=data.targets[0])
        div = Diversity(wm.base, wm.tokenizer)
        q = Querier(wm.base, wm.tokenizer, task, div, seed=a.seed)
        t0 = time.perf_counter()
        scores = [q(ins).score for ins in task.pool]
        secs = time.perf_counter() - t0
        feats = mean_hidden(wm.base, wm.tokenizer, [task.feature_text(i) for i in task.pool])
        ucb, rnd = [], []
        for r in range(a.reps):
            b = NeuralUCB(feats, seed=r, nu=NU)
            order = []
            for _ in range(a.budget):
                arm = b.select()
                b.update(arm, scores[arm])
                order.append(arm)
            ucb.append(curve(order, scores))
            rnd.append(curve(list(random_order(len(scores), r))[:a.budget], scores))
        mean = lambda cs: [round(sum(c[k] for c in cs) / len(cs), 4) for k in range(a.budget)]  # noqa: E731
        best = max(scores)
        hit = lambda cs, best=best: sum(c[-1] >= best - 1e-9 for c in cs) / len(cs)  # noqa: E731
        report[kind] = {"pool": len(scores), "best_of_pool": round(best, 4), "neural_ucb": mean(ucb),
                        "random": mean(rnd), "hit_best_ucb": hit(ucb), "hit_best_random": hit(rnd),
                        "seconds_per_query": round(secs / len(scores), 3), "diversity": div.backend,
                        "best_instruction": task.pool[scores.index(best)].text}
        print(kind, json.dumps(report[kind]), flush=True)
    if a.out:
        with open(a.out, "w") as fh:
            json.dump(report, fh, indent=1)


if __name__ == "__main__":
    main()
