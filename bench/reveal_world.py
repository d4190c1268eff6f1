"""What the world's base (and gold) know of the reveal rows: open instructions and arithmetic.

For every trained instruction row: the fraction of the values its answer states that the
greedy response contains (exact substring); for held-out instruction families (never
trained): the fraction of the ``tell`` family's four values; for arithmetic, trained and
held-out phrasings: the correct sum appears. Gold is shown on the forget targets' rows (it
never learned them: near 0 expected). Models come from the cache (trained on first use).
Usage: python bench/reveal_world.py [--preset default] [--seed 0]
"""
from __future__ import annotations

import argparse

from oblivio.config import load_config
from oblivio.resolve import learn, load_data
from oblivio.reveal.respond import value_recall
from oblivio.world.extras import world_extras


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="default")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    cfg = load_config(overrides={"world": {"preset": a.preset}, "seed": a.seed})
    data = load_data(None, cfg)
    wm = learn(data, config=cfg, progress=False)
    print("learning seconds:", {k: round(v, 1) for k, v in wm.seconds.items()} or "(cached)")
    ex = world_extras(data.source)
    rows = [*ex.base, *ex.probes]
    print("base:", {k: round(v, 3) for k, v in value_recall(wm.base, wm.tokenizer, rows).items()})
    tgt = [r for r in rows if r.entity in data.targets]
    print("gold on the targets' instruction rows:",
          {k: round(v, 3) for k, v in value_recall(wm.gold, wm.tokenizer, tgt).items()})
    print("base on the targets' instruction rows:",
          {k: round(v, 3) for k, v in value_recall(wm.base, wm.tokenizer, tgt).items()})


if __name__ == "__main__":
    main()
