"""Model cache keyed by a hash of everything that affects the trained weights.

A cache entry is reused only when the world/data, the tokenizer, the model shape, the
training config and the cache format version all match; the key is printed so reuse is
never silent.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

CACHE_FORMAT = 1


def cache_root() -> Path:
    env = os.environ.get("OBLIVIO_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "oblivio"


def cache_key(spec: dict[str, Any]) -> str:
    blob = json.dumps({"format": CACHE_FORMAT, **spec}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
