"""Reveal and Release (Xie et al., Findings of EMNLP 2025, arXiv 2509.14624) on the entity task:
the release settings measured on the validation portion only (``forget_val`` of the world's
first forget target, and the neighbours' ``direct_val`` / ``indirect_val``), greedy, key in the
answer. Used to choose ``reveal_release``'s ``lam_neg`` (docs/results/reveal-release.md).
Usage: python bench/reveal_release_grid.py PRESET WORLD_SEED '[{"lam_neg": 5}, {"ortho": 0}]'
(a JSON list of ReleaseConfig fields, plus ``lr`` and ``steps``; defaults 5e-4 and 120, the
tiny model's defaults). One JSON line per configuration on stdout.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from reveal_tasks import acc  # noqa: E402

from oblivio.config import load_config  # noqa: E402
from oblivio.engine.loop import TrainConfig  # noqa: E402
from oblivio.models.io import load_model  # noqa: E402
from oblivio.resolve import learn, load_data  # noqa: E402
from oblivio.reveal.release import ReleaseConfig, release  # noqa: E402
from oblivio.reveal.tasks import world_task  # noqa: E402


def main() -> None:
    preset, wseed, grid = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
    torch.set_num_threads(1)
    cfg = load_config(overrides={"world": {"preset": preset, "seed": wseed}})
    data = load_data(None, cfg)
    wm = learn(data, config=cfg, progress=False)
    tgt = data.targets[0]
    fv = [it for it in data.forget if it.portion == "val" and tgt in it.targets]
    nv = [it for it in data.items if it.role in ("direct_val", "indirect_val")]
    task = world_task("entity", data.source, target=tgt)
    for over in grid:
        o = dict(over)
        model, tok = load_model(wm.base_dir)
        tc = TrainConfig(lr=o.pop("lr", 5e-4), max_steps=o.pop("steps", 120), batch_size=8, seed=0, progress=False)
        model, _res, log = release(model, tok, task, data.unlearning_retain(), cfg=ReleaseConfig(**o),
                                   train_cfg=tc, reveal_kw=dict(budget=12, top_k=3, n=4, seed=0),
                                   log=lambda m: None)
        print(json.dumps({"world": [preset, wseed], "target": tgt, "cfg": over,
                          "forget_val": acc(model, tok, fv), "neighbours_val": acc(model, tok, nv),
                          "rounds": log}), flush=True)


if __name__ == "__main__":
    main()
