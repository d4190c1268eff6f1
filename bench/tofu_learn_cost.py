"""What fine-tuning a pretrained model on TOFU costs here: a few measured steps, and the cost model.

TOFU's recipe (Maini et al. 2024, arXiv 2401.06121; the ``finetune`` config section) takes 5
epochs at an effective batch of 32 rows, for the base model (all 4,000 rows of ``full``) and
for each gold model (retain99/95/90: 3,960 / 3,800 / 3,600 rows). This script times ``--steps``
optimiser steps of exactly that recipe (same code as ``oblivio learn --model``:
engine/learning.py ``learn_items`` through the model's chat template) on the first rows of
TOFU (the first step's one-time costs included: a step of 32 rows dwarfs them on a CPU), and
prints seconds per step, tokens per step and the steps and hours each model of the protocol
takes at that rate (steps from engine/finetuning.py ``planned_steps``; ``--seconds-per-step S``
prints that table for a rate measured before). Nothing is saved. On a shared CPU the rate
depends on the other load: the machine's load average is printed with it.

    PYTHONPATH=src python bench/tofu_learn_cost.py --model smollm2-135m-instruct --steps 2
    python bench/tofu_learn_cost.py --seconds-per-step 424.2 --authors 2     # the table alone
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path


def measure(args: argparse.Namespace) -> dict:
    import torch

    from oblivio.config import load_config
    from oblivio.data.tofu import learning_sets
    from oblivio.engine.learning import learn_items
    from oblivio.resolve import bind_prompt, resolve_model
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = load_config()
    rows = learning_sets("full", gold_split="retain99", n_retain_authors=args.authors).sets["base"]
    model, tok = resolve_model(args.model, None, cfg)
    for p in model.parameters():
        p.requires_grad_(True)
    fmt = bind_prompt(tok, cfg)
    tcfg = dataclasses.replace(cfg.finetune, progress=False)
    t0 = time.perf_counter()
    res = learn_items(model, tok, rows, dataclasses.replace(tcfg, max_steps=args.steps), fmt=fmt)
    secs = time.perf_counter() - t0
    return {"seconds_per_step": secs / res.steps, "tokens_per_step": res.tokens / res.steps, "steps": res.steps,
            "rows_per_step": tcfg.batch_size * tcfg.grad_accum, "threads": torch.get_num_threads(),
            "load": os.getloadavg()[0]}


def cost_table(seconds_per_step: float, authors: int) -> str:
    """Steps and hours of each model of the full protocol, and of ``--subset authors`` on forget01."""
    from oblivio.config import load_config
    from oblivio.engine.finetuning import planned_steps
    recipe = load_config().finetune
    lines = ["| model | rows | steps | hours at the rate |", "|---|---:|---:|---:|"]
    total = 0.0
    for name, n in (("base (tofu:full)", 4000), ("gold retain99", 3960), ("gold retain95", 3800),
                    ("gold retain90", 3600), (f"base, --subset {authors} (forget01)", 20 * (authors + 2)),
                    (f"gold retain99, --subset {authors}", 20 * authors)):
        steps = planned_steps(n, recipe)
        hours = steps * seconds_per_step / 3600
        total += hours if n >= 3600 else 0.0
        lines.append(f"| {name} | {n} | {steps} | {hours:.2f} |")
        if n == 3600:
            lines.append(f"| the full protocol (base + three golds) | | | {total:.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2-135m-instruct", help="a folder, .gguf file or registered name")
    ap.add_argument("--steps", type=int, default=2, help="timed optimiser steps (32 rows each)")
    ap.add_argument("--authors", type=int, default=2, help="retain authors in the rows stepped over (with forget01's)")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--seconds-per-step", type=float, default=0.0,
                    help="skip the measurement: the cost table at this rate (e.g. one measured before)")
    args = ap.parse_args(argv)
    if args.seconds_per_step > 0:
        print(cost_table(args.seconds_per_step, args.authors))
        return {"seconds_per_step": args.seconds_per_step}
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from tofu_small import use_shared_tofu
    use_shared_tofu()
    m = measure(args)
    print(f"{args.model}: {m['seconds_per_step']:.1f} s per step of {m['rows_per_step']} rows "
          f"({m['tokens_per_step']:.0f} tokens, {1000 * m['seconds_per_step'] / m['tokens_per_step']:.0f} ms per "
          f"token), {m['steps']} timed steps, {m['threads']} threads, load average {m['load']:.1f}")
    print(cost_table(m["seconds_per_step"], args.authors))
    return m


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    main()
