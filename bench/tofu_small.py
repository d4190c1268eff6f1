"""A small TOFU run on CPU: forget01 with a few retain authors, a tiny model trained from scratch.

TOFU (Maini et al. 2024, arXiv 2401.06121) is meant for fine-tuned 7B chat models; no such
weights are available offline here, so this trains a tiny Llama (models/tiny.py) from scratch
on a TOFU configuration — tokenizer trained on its text, *base* on every trained item, *gold*
on the same without the forget authors (the retrained model of TOFU's forget quality) — then
unlearns with GradDiff and NPO through ``oblivio.api.compare`` (fresh base per cell, same
seed and epoch budget) and prints the table. Models are cached (OBLIVIO_CACHE).

TOFU has no entity graph, so retain is one role (``retain``, with the held-out authors as
``retain_test``) plus TOFU's general sets (real authors, world facts); the samplers used are
the role-free ones. Give ``--neighbour-map FILE`` to assign direct/indirect roles to retain
authors and use the neighbour-aware samplers.

    python bench/tofu_small.py                         # forget01, 8 retain authors, unlearning seeds 0-2
    python bench/tofu_small.py --retain-authors 2 --learn-epochs 10 --epochs 1   # a smoke run

The grid: every (method, sampler, seed) is a cell of ``api.compare``, which runs its cells on
the one grid runner (oblivio/pipeline/grid.py ``run_cell``), a run folder each under
``<out>/runs/``. Tuning/reporting split: all cells are ``report`` cells; nothing is chosen
here — learning rate, epochs and sizes are the flags' values, fixed before the run.

Equivalent CLI once the models exist (the script prints their directories):
    oblivio compare --data tofu:forget01 --model BASE --gold GOLD --methods graddiff,npo \
        --samplers one_to_one_random,cyclic --set data.tofu_retain_authors=8 --epochs 5
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path


def use_shared_tofu() -> None:
    """TOFU's JSONL copy beside the repository (``../shared/data/tofu``) when OBLIVIO_TOFU_DIR is
    unset and the copy exists: oblivio itself never searches for it (data/tofu_source.py)."""
    shared = Path(__file__).resolve().parents[2] / "shared" / "data" / "tofu"
    if "OBLIVIO_TOFU_DIR" not in os.environ and (shared / "forget.jsonl").is_file():
        os.environ["OBLIVIO_TOFU_DIR"] = str(shared)


def build_config(args: argparse.Namespace):
    from oblivio.config import load_config
    data: dict = {"tofu_retain_authors": args.retain_authors, "tofu_general": not args.no_general}
    if args.neighbour_map:
        data["neighbour_map"] = args.neighbour_map
    ev: dict = {"max_new_tokens": args.max_new_tokens}
    if args.max_items_per_role:
        ev["max_items_per_role"] = args.max_items_per_role
    return load_config(overrides={
        "seed": args.seed,
        "data": data,
        "model": {"size": args.size, "vocab_size": args.vocab},
        "learn": {"epochs": args.learn_epochs, "progress": False},
        "unlearn": {"train": {"lr": args.lr, "epochs": args.epochs, "batch_size": args.batch_size,
                              "progress": False}},
        "eval": ev,
    })


def run(args: argparse.Namespace):
    from oblivio import api
    from oblivio.data.schema import summarize

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    use_shared_tofu()
    cfg = build_config(args)
    t0 = time.perf_counter()
    data = api.load_data(f"tofu:{args.split}", cfg)
    print(f"TOFU {args.split}: {len(data.items)} items ("
          + ", ".join(f"{k} {v}" for k, v in summarize(data.items).items())
          + f"); forget authors: {', '.join(data.targets)}", flush=True)
    wm = api.learn(data, config=cfg, progress=False, log=lambda m: print(m, flush=True))
    learn_s = time.perf_counter() - t0
    print(f"base model: {wm.base_dir}\ngold model: {wm.gold_dir}\n"
          f"models {'reused from cache' if wm.cached else f'trained in {learn_s:.0f}s'}", flush=True)
    t1 = time.perf_counter()
    res = api.compare(data, methods=args.methods, samplers=args.samplers, config=cfg, model=wm.base_dir,
                      gold=wm.gold_dir, run_dir=args.out, epochs=args.epochs, overwrite=True, progress=False,
                      seeds=[int(x) for x in args.seeds.split(",")] if "," in args.seeds else None,
                      log=lambda m: print(m, flush=True))
    print(f"\n{res.table}\n\ncompare: {time.perf_counter() - t1:.0f}s; total {time.perf_counter() - t0:.0f}s; "
          f"files in {res.run_dir}", flush=True)
    return res


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", default="forget01", choices=["forget01", "forget05", "forget10"])
    ap.add_argument("--retain-authors", type=int, default=8, help="retain authors kept (default 8)")
    ap.add_argument("--no-general", action="store_true", help="leave out real_authors / world_facts")
    ap.add_argument("--neighbour-map", help="JSON target → direct/indirect authors (enables neighbour roles)")
    ap.add_argument("--size", default="tiny", help="tiny-model preset (models/tiny.py)")
    ap.add_argument("--vocab", type=int, default=1024)
    ap.add_argument("--learn-epochs", type=float, default=40)
    ap.add_argument("--methods", default="graddiff,npo")
    ap.add_argument("--samplers", default="one_to_one_random,cyclic")
    ap.add_argument("--epochs", type=float, default=5, help="unlearning epochs per cell (equal-epoch budget)")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--max-new-tokens", type=int, default=48, help="TOFU answers are sentences")
    ap.add_argument("--max-items-per-role", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0, help="world/model seed (the data and base/gold models)")
    ap.add_argument("--seeds", default="0,1,2", help="unlearning seeds: every cell once per seed, mean ± sd")
    ap.add_argument("--out", default="runs/tofu-small")
    return ap


def main(argv: list[str] | None = None):
    args = parser().parse_args(argv)
    args.out = str(Path(args.out))
    return run(args)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    main()
