"""oblivio: machine unlearning for causal language models.

Forget a person's facts, a text or a capability; keep everything else; and get a report
that proves both, also under attack. The heavy modules (torch, transformers) are imported
lazily so that ``import oblivio`` and ``oblivio --help`` are instant.
"""
from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["unlearn", "evaluate", "learn", "build_world", "demo", "compare", "calibrate", "__version__"]


def __getattr__(name: str) -> Any:
    if name in ("unlearn", "evaluate", "learn", "demo", "compare", "calibrate"):
        from oblivio import api
        return getattr(api, name)
    if name == "build_world":
        from oblivio.world import build_world
        return build_world
    raise AttributeError(name)
