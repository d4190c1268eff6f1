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


# The demo's defaults (bench/demo_quality.py and bench/zoo.py measure them; README reports the
# numbers): NPO (retain weight 3) with MELU pairing, chosen on the 3-phrasing world where it met
# the targets on seeds 0-2; on today's world bench/zoo.py's 3-seed table re-checks it.
DEMO_DEFAULTS: dict[str, Any] = {
    "world": {"preset": "default"},
    "unlearn": {"method": "npo", "args": {"alpha": 3.0}, "sampler": "melu",
                "train": {"lr": 5e-4, "max_steps": 120, "batch_size": 8}},
}
