"""What the reveal rows (open instructions, sums; world/extras.py) cost the world's base model.

Trains the base twice from the same tokenizer and seed, with one torch thread: on the
world's items alone (as before the rows existed, unbucketed batches) and on the items plus
the extras (length-bucketed batches, as learning does now). Prints wall and CPU seconds per
training (CPU time is the fair number on a shared machine) and the second base's recall of
the new rows (bench/reveal_world.py's measure). The cold demo trains base and gold, so its
learning share grows by about the same ratio.
Usage: python bench/reveal_learn_cost.py [--preset default] [--seed 0]
"""
from __future__ import annotations

import argparse
import dataclasses
import time

import torch

from oblivio.config import load_config
from oblivio.engine.learning import learn_items, world_texts
from oblivio.models.tiny import tiny_llama
from oblivio.models.tokenizer import train_tokenizer
from oblivio.resolve import load_data
from oblivio.reveal.respond import value_recall
from oblivio.world.extras import world_extras


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="default")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(1)
    cfg = load_config(overrides={"world": {"preset": a.preset}, "seed": a.seed})
    data = load_data(None, cfg)
    ex = world_extras(data.source)
    tok = train_tokenizer(world_texts(data) + ex.texts(), vocab_size=cfg.model.vocab_size)
    learn = cfg.learn
    out = {}
    for name, items, bucket in (("before", data.trained(), False), ("after", data.trained() + list(ex.base), True)):
        model = tiny_llama(len(tok), cfg.model.size, seed=learn.seed, bos_token_id=tok.bos_token_id,
                           eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
        w0, c0 = time.perf_counter(), time.process_time()
        res = learn_items(model, tok, items, dataclasses.replace(learn, progress=False), bucket=bucket)
        out[name] = (time.perf_counter() - w0, time.process_time() - c0, len(items), res.steps)
        print(f"{name}: {len(items)} rows, {res.steps} steps, wall {out[name][0]:.1f}s, CPU {out[name][1]:.1f}s, "
              f"final loss {res.history[-1]['loss']:.4f}", flush=True)
        if name == "after":
            rows = [*ex.base, *ex.probes]
            print("base recall of the new rows:",
                  {k: round(v, 3) for k, v in value_recall(model, tok, rows).items()})
    print(f"CPU ratio after/before: {out['after'][1] / out['before'][1]:.2f}")


if __name__ == "__main__":
    main()
