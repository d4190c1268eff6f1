"""Step time of ``sam_npo`` (NPO+SAM, methods/sam_npo.py) vs ``npo`` in the one training loop.

Both methods unlearn the cached base model of the ``tiny`` world (the model of
``oblivio unlearn --set world.preset=tiny``) through ``engine.unlearning.run_unlearning``
with the same sampler, batch size and steps; each step is timed from one loop callback to the
next (data loading, loss, backward, optimiser step). The first ``--warmup`` steps are not
timed (the reference caches its forget log-likelihoods then). The two methods alternate, one
short run each per round, so both see the same machine load; the median step of each run and
the median over rounds of the sam_npo/npo ratio are printed.

    python bench/sam_step_time.py [--steps 30] [--warmup 5] [--rounds 3] [--threads 1] [--lora-r 0]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time


def one_run(method: str, steps: int, warmup: int, lora_r: int) -> float:
    """Median step time (ms) of ``steps`` steps of ``method`` on a fresh copy of the base model."""
    from oblivio import api
    from oblivio.config import build_method, load_config
    from oblivio.engine.loop import TrainConfig
    from oblivio.engine.unlearning import LoraSpec, run_unlearning
    from oblivio.models.io import load_model

    cfg = load_config(overrides={"world": {"preset": "tiny"}})
    data = api.load_data(None, cfg)
    wm = api.learn(data, config=cfg, progress=False, log=lambda m: None)
    model, tok = load_model(wm.base_dir)
    stamps: list[float] = []

    def tick(step, _model):
        stamps.append(time.perf_counter())
    run_unlearning(model, tok, data, build_method(method, {}), sampler="one_to_one_random",
                   train_cfg=TrainConfig(lr=1e-3, max_steps=steps, batch_size=8, progress=False),
                   lora=LoraSpec(r=lora_r) if lora_r else None, callbacks=[tick])
    dts = [b - a for a, b in zip(stamps, stamps[1:])][warmup:]
    return 1000 * statistics.median(dts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5, help="steps not timed at the start of a run")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (0 = torch's default)")
    ap.add_argument("--lora-r", type=int, default=0, help="train a LoRA adapter of this rank (0: full)")
    a = ap.parse_args()
    import torch
    if a.threads:
        torch.set_num_threads(a.threads)
    runs: dict[str, list[float]] = {"npo": [], "sam_npo": []}
    for r in range(a.rounds):
        # alternate which goes first, so neither always follows the other's warm caches
        for m in (("npo", "sam_npo") if r % 2 == 0 else ("sam_npo", "npo")):
            runs[m].append(one_run(m, a.steps, a.warmup, a.lora_r))
            print(f"round {r + 1}: {m} {runs[m][-1]:.1f} ms/step", file=sys.stderr)
    ratios = [s / n for s, n in zip(runs["sam_npo"], runs["npo"])]
    print(json.dumps({"npo_ms": [round(x, 2) for x in runs["npo"]],
                      "sam_npo_ms": [round(x, 2) for x in runs["sam_npo"]],
                      "ratio_per_round": [round(x, 3) for x in ratios],
                      "median_ratio": round(statistics.median(ratios), 3),
                      "steps": a.steps, "warmup": a.warmup, "threads": a.threads, "lora_r": a.lora_r}))


if __name__ == "__main__":
    main()
