"""Experiment tracking through Accelerate's trackers (``unlearn.train.log_with``).

oblivio writes no tracker code of its own: ``Accelerator(log_with=..., project_dir=...)``
starts the trackers the user names (tensorboard, wandb, mlflow, aim, comet_ml, clearml,
dvclive, …; each needs its own package), and the one loop logs, per optimiser step, the loss
and its parts, the learning rate, and — when checkpoint evaluation ran at that step — the
checkpoint utility and per-role forget metric. Files go to ``<run>/tracking``. Offline by
default: Weights & Biases is put in offline mode unless the user set ``WANDB_MODE``.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def tracker_kwargs(log_with: Sequence[str], run_dir: Path) -> dict[str, Any]:
    """The Accelerator's tracker arguments; an unknown or uninstalled tracker is an InputError."""
    from accelerate.utils import LoggerType, is_tensorboard_available

    from oblivio.errors import InputError
    known = {t.value for t in LoggerType}
    for name in log_with:
        if name not in known:
            raise InputError(f"unknown tracker {name!r} (known: {', '.join(sorted(known))})",
                             field="unlearn.train.log_with")
    if "tensorboard" in log_with and not is_tensorboard_available():
        raise InputError("the tensorboard tracker needs the tensorboard package: "
                         "pip install -c constraints.txt 'oblivio[track]'", field="unlearn.train.log_with")
    if "wandb" in log_with:
        os.environ.setdefault("WANDB_MODE", "offline")     # no network unless the user asks for it
    out = run_dir / "tracking"
    out.mkdir(parents=True, exist_ok=True)
    return {"log_with": list(log_with), "project_dir": str(out)}


def step_values(log: dict[str, float], callbacks: Sequence[Any], step: int) -> dict[str, float]:
    """What one step logs: loss, parts and lr, plus checkpoint metrics evaluated at this step."""
    values = {k: float(v) for k, v in log.items() if k != "step"}
    for cb in callbacks:
        curves = getattr(cb, "curves", None)
        if not curves or curves[-1].get("step") != step:
            continue
        row = curves[-1]
        if isinstance(row.get("utility"), (int, float)):
            values["checkpoint/utility"] = float(row["utility"])
        for role, metrics in (row.get("per_role") or {}).items():
            for name, v in metrics.items():
                if isinstance(v, (int, float)):
                    values[f"checkpoint/{role}/{name}"] = float(v)
    return values
