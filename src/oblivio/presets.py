"""Tiny-model size presets (models/tiny.py builds them; config.py validates ``model.size``).

Kept at the bottom of the package, importing nothing, so the config can check a size name
without importing the model layer.
"""
from __future__ import annotations

from typing import Any

MODEL_SIZES: dict[str, dict[str, Any]] = {
    "nano": dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=172),
    "tiny": dict(hidden_size=128, num_hidden_layers=2, num_attention_heads=4, intermediate_size=344),
    "small": dict(hidden_size=192, num_hidden_layers=3, num_attention_heads=4, intermediate_size=512),
    "base": dict(hidden_size=256, num_hidden_layers=4, num_attention_heads=4, intermediate_size=688),
    "medium": dict(hidden_size=512, num_hidden_layers=8, num_attention_heads=8, intermediate_size=1376),
}


# The demo's defaults (bench/zoo.py measures them; docs/results/demo.md reports the
# numbers): ME+GD (maximum entropy on forget + retain NLL, weight 1) with MELU pairing, the
# one candidate of the zoo's search that kept every held-out neighbour role ≥ 95% of base
# with forget accuracy ≤ gold + 0.05 on seeds 0-2 (bench/results/zoo/cands.md); NPO with
# retain weight 3 (the earlier default) resists more attacks but met that on 2 seeds of 3.
DEMO_DEFAULTS: dict[str, Any] = {
    "world": {"preset": "default"},
    "unlearn": {"method": "npo_me", "args": {"mix": 0.5, "alpha": 1.0}, "sampler": "melu",
                "train": {"lr": 5e-4, "max_steps": 120, "batch_size": 8}},
}


# Real-model demos (``oblivio demo --preset NAME``): a pretrained model, a shipped real-knowledge
# set (``--data real``, data/real/) and the recipe chosen on that set's validation portion by
# bench/real/tune.py (bench/results/real/tune.json; the test portion is what it reports).
REAL_DEMOS: dict[str, dict[str, Any]] = {
    "smollm2": {
        "model": {"path": "smollm2-135m-instruct", "lora_r": 8},
        "data": {"path": "real"},
        "unlearn": {"method": "npo", "sampler": "one_to_one_random", "train": {"lr": 3e-5}},
    },
}


# `oblivio reveal` / ``api.reveal``: a run that unlearns nothing and evaluates nothing; its
# ``reveal`` post-step (post_steps/reveal.py) writes the self-generated forget rows into the run
# folder. The model is unchanged, so no model/ is saved.
REVEAL_PRESET: dict[str, Any] = {
    "unlearn": {"enabled": False},
    "eval": {"enabled": False},
}
