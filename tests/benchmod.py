"""Load a script of bench/ as a module for a test (bench/ is not a package)."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[1] / "bench"


def load_bench(name: str, bench: Path = BENCH) -> ModuleType:
    """``bench/<name>.py`` executed as module ``name`` (registered in ``sys.modules``: a
    dataclass looks its module up)."""
    spec = importlib.util.spec_from_file_location(name, bench / f"{name}.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod
