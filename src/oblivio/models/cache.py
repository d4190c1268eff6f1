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
    root = Path(env) if env else Path.home() / ".cache" / "oblivio"
    anc = root
    while not anc.exists() and anc != anc.parent:
        anc = anc.parent
    if not anc.is_dir():
        from oblivio.errors import InputError
        raise InputError(f"the model and evaluation cache must be a folder, and {anc} is a file: point "
                         "OBLIVIO_CACHE at a folder (or unset it for ~/.cache/oblivio)",
                         field="OBLIVIO_CACHE" if env else None, file=str(root))
    return root


def cache_key(spec: dict[str, Any]) -> str:
    blob = json.dumps({"format": CACHE_FORMAT, **spec}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
