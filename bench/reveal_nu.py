"""NeuralUCB's exploration weight ν for the reveal search: chosen on validation worlds, reported
on other worlds.

Reveal and Release (Xie et al., Findings of EMNLP 2025, arXiv 2509.14624) searches candidate
instructions with NeuralUCB (Zhou, Li, Gu 2020, arXiv 1911.04462): the next instruction
maximises f + ν·bonus. ν is a setting, so it is chosen the way every setting is (validation
worlds select, other worlds report; a world — its people, targets, values — is the unit):

1. for every world (``WorldConfig.seed``) and task (entity, attribute, capability), every
   instruction of the pool is queried once on the world's base (a query is deterministic for
   a sampling seed, so the table replays any search exactly, as bench/reveal_curve.py does);
2. NeuralUCB is replayed ``--reps`` times per ν of ``--grid`` with ``--budget`` queries; the
   objective is what the reveal step keeps, the best score found within the budget, divided
   by the best of the pool (1 = the search found the best instruction), averaged over tasks,
   replays and worlds;
3. ν = the grid value with the best objective on ``--val-worlds`` (ties: the smaller ν);
   ``--test-worlds`` report it next to every other ν and random search with the same budget.

Usage: python bench/reveal_nu.py [--preset tiny] [--val-worlds 1,2] [--test-worlds 3,4]
       [--grid 0,0.01,0.03,0.1,0.3,1,3] [--budget 12] [--reps 10] [--out FILE]
The base of each world is trained on first use and cached under OBLIVIO_CACHE.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from typing import Any

import torch

from oblivio.config import RevealConfig, load_config
from oblivio.resolve import learn, load_data
from oblivio.reveal.diversity import Diversity, mean_hidden
from oblivio.reveal.neural_ucb import NeuralUCB, random_order
from oblivio.reveal.search import Querier
from oblivio.reveal.tasks import world_task

TASKS = ("entity", "attribute", "capability")


def world_tables(preset: str, world_seed: int) -> dict[str, dict[str, Any]]:
    """Per task: every instruction's score on the world's base and the instructions' features."""
    cfg = load_config(overrides={"world": {"preset": preset, "seed": world_seed}, "seed": 0})
    data = load_data(None, cfg)
    wm = learn(data, config=cfg, progress=False, log=lambda m: print(m, file=sys.stderr))
    out = {}
    for kind in TASKS:
        task = world_task(kind, data.source, target=data.targets[0])
        q = Querier(wm.base, wm.tokenizer, task, Diversity(wm.base, wm.tokenizer), seed=0)
        t0 = time.perf_counter()
        scores = [q(ins).score for ins in task.pool]
        feats = mean_hidden(wm.base, wm.tokenizer, [task.feature_text(i) for i in task.pool])
        out[kind] = {"scores": scores, "features": feats, "seconds": time.perf_counter() - t0}
        print(f"world {world_seed} {kind}: {len(scores)} instructions, best {max(scores):.3f} "
              f"({out[kind]['seconds']:.0f} s)", file=sys.stderr, flush=True)
    return out


def found(order: list[int], scores: list[float]) -> float:
    """The best score among the queried instructions, relative to the pool's best."""
    best = max(scores)
    return max(scores[i] for i in order) / best if best > 0 else 1.0


def ucb_order(feats: torch.Tensor, scores: list[float], nu: float, budget: int, rep: int) -> list[int]:
    b = NeuralUCB(feats, nu=nu, seed=rep)
    order = []
    for _ in range(budget):
        arm = b.select()
        b.update(arm, scores[arm])
        order.append(arm)
    return order


def objective(tables: dict[int, dict[str, dict[str, Any]]], nu: float | None, budget: int,
              reps: int) -> dict[str, float]:
    """Mean found-best ratio per task and overall over worlds and replays (``nu`` None: random),
    with the overall mean's standard error (``se``: over the world × replay means of the tasks)."""
    per: dict[str, list[float]] = {k: [] for k in TASKS}
    for tab in tables.values():
        for kind, t in tab.items():
            for r in range(reps):
                n = len(t["scores"])
                order = (list(random_order(n, r))[:budget] if nu is None
                         else ucb_order(t["features"], t["scores"], nu, min(budget, n), r))
                per[kind].append(found(order, t["scores"]))
    out = {k: round(statistics.mean(v), 4) for k, v in per.items()}
    cells = [statistics.mean(v[i] for v in per.values()) for i in range(len(per[TASKS[0]]))]
    out["mean"] = round(statistics.mean(cells), 4)
    out["se"] = round(statistics.stdev(cells) / len(cells) ** 0.5, 4) if len(cells) > 1 else 0.0
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="tiny")
    ap.add_argument("--val-worlds", default="1,2")
    ap.add_argument("--test-worlds", default="3,4")
    ap.add_argument("--grid", default="0,0.01,0.03,0.1,0.3,1,3")
    ap.add_argument("--budget", type=int, default=RevealConfig().budget)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--out", default=None, help="write the results as JSON here")
    a = ap.parse_args()
    torch.set_num_threads(1)
    grid = [float(x) for x in a.grid.split(",")]
    val = {int(w): world_tables(a.preset, int(w)) for w in a.val_worlds.split(",")}
    test = {int(w): world_tables(a.preset, int(w)) for w in a.test_worlds.split(",")}
    rows: dict[str, Any] = {"val": {}, "test": {}}
    for name, tabs in (("val", val), ("test", test)):
        for nu in [*grid, None]:
            rows[name][str(nu) if nu is not None else "random"] = objective(tabs, nu, a.budget, a.reps)
            print(f"{name} ν={nu}: done", file=sys.stderr, flush=True)
    chosen = max(grid, key=lambda nu: (rows["val"][str(nu)]["mean"], -nu))
    report = {"preset": a.preset, "budget": a.budget, "reps": a.reps, "val_worlds": sorted(val),
              "test_worlds": sorted(test), "chosen_nu": chosen, "objective": "best found / best of pool",
              **rows}
    for name in ("val", "test"):
        for k, v in rows[name].items():
            print(f"{name} ν={k:<7} " + "  ".join(f"{t} {v[t]:.3f}" for t in (*TASKS, "mean")) + f" ± {v['se']:.3f}")
    print(f"chosen ν = {chosen} (validation worlds {sorted(val)}); on test worlds {sorted(test)}: "
          f"{rows['test'][str(chosen)]['mean']:.3f}, random {rows['test']['random']['mean']:.3f}")
    if a.out:
        from oblivio.atomic import write_text
        write_text(a.out, json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
