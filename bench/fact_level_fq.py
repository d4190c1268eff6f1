"""Forget quality before/after the fact-level change (README: Statistics), on the tiny world.

TOFU's forget quality is a KS test between the forget-set truth ratios of a model and of the
gold (retrained) model. Counted per item, the phrasings of one fact enter as independent
samples; oblivio now tests one value per fact (the mean truth ratio over its phrasings).
This prints both p-values for the base model, the gold model (against itself: 1 by
construction) and GradDiff after a few steps, with the 95% bootstrap interval over facts of
the forget truth ratio and of the forget answer probability.

Config: the tests' tiny world of the time (tests/conftest.py TINY_OVERRIDES then: tiny preset, 30
learning epochs; the tests now learn 15; GradDiff 6 steps, lr 1e-3, batch 8, 1:1 random pairing). One unlearning seed by
default (``--seeds 0,1,2`` for more). ``--demo``: the demo instead — the default world, its
cached base and gold models and the default unlearning recipe (``presets.DEFAULT_RECIPE``).

How it runs: one ``report`` cell per seed on the one grid runner (oblivio/pipeline/grid.py), a
full run folder ``<--out>/<tiny|demo>/<name>-s<seed>`` (base and gold evaluated in each run, from
the reference cache after the first); nothing is tuned here (the recipe is fixed above). A second
run keeps every finished cell. Every number printed is read back from the cells' results.json:
base and unlearned rows from ``models.base`` / ``models.unlearned``; the gold row's truth ratio
and answer probability from ``models.gold`` and its two p-values computed here from the gold's
per-item truth ratios against themselves (a run never tests gold against gold).
Two special steps, said here: the world's models are learnt before the grid, and only then is
torch held to one thread (models trained into the shared cache keep the default threads, so that
they are the same models the other benches and the tests find there).

Usage: ``OMP_NUM_THREADS=1 python bench/fact_level_fq.py [--steps 6] [--seeds 0,1,2] [--demo]
[--out runs/fact-level-fq]``
"""
from __future__ import annotations

import argparse
from typing import Any

import torch

from oblivio import api
from oblivio.config import Config, load_config, to_dict
from oblivio.pipeline.grid import Cell, quiet_log, run_grid, stderr_log

TINY = {
    "world": {"preset": "tiny"},
    "learn": {"epochs": 30, "batch_size": 16, "lr": 3e-3, "warmup": 0.05, "schedule": "cosine", "progress": False},
    "unlearn": {"method": "graddiff", "sampler": "one_to_one_random",
                "train": {"max_steps": 6, "batch_size": 8, "lr": 1e-3, "progress": False}},
    "eval": {"batch_size": 64, "max_new_tokens": 16,
             "metrics": ["answer_prob", "truth_ratio", "forget_quality"]},
}


def row(name: str, rep: dict[str, Any], fq: dict[str, Any]) -> str:
    """One line: the two p-values of ``fq`` (a forget_quality record of results.json) and the
    forget truth ratio and answer probability of ``rep`` (a ``models.<name>`` record)."""
    from oblivio.roles import set_record
    tr = set_record(rep["sets"], "forget")["truth_ratio"]
    ap = set_record(rep["sets"], "forget")["answer_prob"]

    def iv(r: dict[str, Any]) -> str:
        ci = r.get("ci")
        return f"{r['value']:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else f"{r['value']:.3f}"
    e = fq["extra"]
    return (f"{name:<16}{e['item_level_p']:>12.2g}{fq['value']:>12.2g}{e['n_items']:>7}{e['n_facts']:>7}"
            f"   {iv(tr):<27}{iv(ap)}")


def gold_vs_itself(gold: dict[str, Any], data: Any) -> dict[str, Any]:
    """Forget quality of the gold model against itself, from its per-item forget truth ratios:
    the item-level and fact-level KS p-values (1 by construction) with the counts."""
    from oblivio.metrics.functional import ks_pvalue
    from oblivio.metrics.stats import fact_of, ks_fact_level
    from oblivio.roles import find_set, set_record
    tr = set_record(gold["sets"], "forget")["truth_ratio"]
    ids = (tr.get("extra") or {}).get("item_ids") or gold["item_ids"][find_set(gold["sets"], "forget") or "forget"]
    by_id = {it.id: fact_of(it) for it in data.items}
    facts = [by_id[i] for i in ids]
    p, n_facts, _ = ks_fact_level(tr["per_item"], facts, tr["per_item"], facts)
    return {"value": p, "extra": {"item_level_p": ks_pvalue(tr["per_item"], tr["per_item"]),
                                  "n_items": len(tr["per_item"]), "n_facts": n_facts}}


def grid_cells(cfg: Config, seeds: list[int], a: argparse.Namespace) -> list[Cell]:
    """One ``report`` cell per unlearning seed; the world stays seed 0."""
    steps = {} if a.demo else {"unlearn": {"train": {"max_steps": a.steps}}}
    name = "demo" if a.demo else f"graddiff-n{a.steps}"
    return [Cell(f"{name}-s{seed}", load_config(overrides={**steps, "seed": seed, "world": {"seed": 0}},
                                                base=to_dict(cfg)),
                 role="report", tags={"seed": seed}) for seed in seeds]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--seeds", default="0", help="comma-separated unlearning seeds (the world stays seed 0)")
    ap.add_argument("--demo", action="store_true", help="the default world and the demo's recipe")
    ap.add_argument("--out", default="runs/fact-level-fq",
                    help="the grid's folder: <out>/<tiny|demo>/ run folders and grid.json (finished cells are kept)")
    args = ap.parse_args()
    if args.demo:
        base = to_dict(api.demo_config("default"))
        over: dict = {"eval": TINY["eval"]}
        label = "demo"
    else:
        base, over, label = {}, TINY, f"graddiff {args.steps}"
    cfg = load_config(overrides=over, base=base)
    data = api.load_data(None, cfg)
    api.learn(data, config=cfg, progress=False, log=lambda m: None)
    torch.set_num_threads(1)   # after learning: models trained into the shared cache keep the default threads
    seeds = [int(s) for s in args.seeds.split(",")]
    cells = grid_cells(cfg, seeds, args)
    done = run_grid(cells, f"{args.out}/{'demo' if args.demo else 'tiny'}", progress=False,
                    log=stderr_log, run_log=quiet_log)
    first = done[cells[0].name]["models"]
    rows = [("base", first["base"], first["base"]["model"]["forget_quality"]),
            ("gold (vs itself)", first["gold"], gold_vs_itself(first["gold"], data))]
    for c in cells:
        unl = done[c.name]["models"]["unlearned"]
        rows.append((f"{label} s{c.tags['seed']}", unl, unl["model"]["forget_quality"]))
    print(f"world '{data.name}': forget {len(data.forget)} items; gold model trained without them")
    print(f"{'model':<16}{'FQ items':>12}{'FQ facts':>12}{'items':>7}{'facts':>7}   "
          f"{'forget truth ratio [95%]':<27}forget answer prob [95%]")
    for name, rep, fq in rows:
        print(row(name, rep, fq))
    print("FQ items: KS on one truth ratio per item (TOFU as published); FQ facts: KS on the mean truth "
          "ratio per fact (oblivio). Intervals: bootstrap over facts, 1000 resamples, seed 0.")


if __name__ == "__main__":
    main()
