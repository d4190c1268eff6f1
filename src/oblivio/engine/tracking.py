"""Experiment tracking through Accelerate's trackers (``unlearn.train.log_with``).

oblivio writes no tracker code of its own: ``Accelerator(log_with=..., project_dir=...)``
starts the trackers the user names (tensorboard, wandb, mlflow, aim, comet_ml, clearml,
dvclive, …; each needs its own package), and the one loop logs, per optimiser step, the loss
and its parts, the learning rate, and — when checkpoint evaluation ran at that step — the
checkpoint utility and per-role forget metric. Files go to ``<run>/tracking``. Offline by
default: Weights & Biases is put in offline mode unless the user set ``WANDB_MODE``.

The commands that train nothing (``eval``, ``audit``, ``calibrate``, ``reveal``) log their
results once, at step 0, with :func:`log_results`: every number a results.json (or ``eval
--out`` file) holds per model, set and metric, per attack, the calibration's α and utility and
the reveal's relevance and recall, under ``<folder>/tracking/<command>`` (lm-evaluation-harness
logs its results the same way).
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def tracker_kwargs(log_with: Sequence[str], run_dir: Path) -> dict[str, Any]:
    """The Accelerator's tracker arguments; an unknown or uninstalled tracker is an InputError."""
    check_trackers(log_with)
    if "wandb" in log_with:
        os.environ.setdefault("WANDB_MODE", "offline")     # no network unless the user asks for it
    out = run_dir / "tracking"
    out.mkdir(parents=True, exist_ok=True)
    return {"log_with": list(log_with), "project_dir": str(out)}


def check_trackers(log_with: Sequence[str]) -> None:
    """An unknown tracker, or TensorBoard without its package, is an InputError (before any work)."""
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


def result_values(record: dict[str, Any]) -> dict[str, float]:
    """The numbers of a results.json record (or of one evaluation, ``eval --out``: the model
    ``model``) by name: ``<model>/<set>/<metric>`` and ``<model>/<metric>`` for each metric's
    value, ``audit/…``, ``calibration/…`` and ``reveal/…`` for every number of those records (lists, texts,
    per-item values and the skipped metrics' None are left out)."""
    if "sets" in record and "models" not in record:
        record = {"models": {"model": record}}
    out: dict[str, float] = {}
    for name, rep in (record.get("models") or {}).items():
        if not isinstance(rep, dict):
            continue
        _number(rep.get("seconds"), f"{name}/seconds", out)
        for s, metrics in (rep.get("sets") or {}).items():
            for m, r in (metrics or {}).items():
                _number((r or {}).get("value"), f"{name}/{s}/{m}", out)
        for m, r in (rep.get("model") or {}).items():
            _number((r or {}).get("value"), f"{name}/{m}", out)
    for section in ("audit", "calibration", "reveal"):
        _numbers(record.get(section), section, out)
    return out


def _number(v: Any, name: str, out: dict[str, float]) -> None:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        out[name] = float(v)


def _numbers(node: Any, prefix: str, out: dict[str, float]) -> None:
    """Every number under ``node``, by its path (lists are left out: sweeps, intervals)."""
    if isinstance(node, dict):
        for k, v in node.items():
            _numbers(v, f"{prefix}/{k}", out)
    else:
        _number(node, prefix, out)


def log_results(log_with: Sequence[str], folder: Path, record: dict[str, Any], *, name: str,
                config: dict[str, Any] | None = None) -> Path:
    """Log ``record``'s numbers (:func:`result_values`) once, at step 0, to the trackers
    ``log_with`` names, under ``folder/tracking`` (run ``name``: the command), with the scalar
    settings of ``config`` as the run's hyperparameters. Returns the tracking folder."""
    from accelerate.tracking import LOGGER_TYPE_TO_CLASS

    from oblivio.errors import InputError
    kw = tracker_kwargs(log_with, folder)
    trackers = []
    for t in kw["log_with"]:
        cls = LOGGER_TYPE_TO_CLASS.get(t)
        if cls is None:
            raise InputError(f"tracker {t!r} cannot log a finished command's results (name the trackers)",
                             field="unlearn.train.log_with")
        tracker = cls(name, kw["project_dir"]) if cls.requires_logging_directory else cls(name)
        tracker.start()
        trackers.append(tracker)
    flat = _flat_settings(config or {})
    values = result_values(record)
    for tracker in trackers:
        tracker.store_init_configuration(flat)
        tracker.log(values, step=0)
        tracker.finish()
    return Path(kw["project_dir"])


def _flat_settings(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A config's scalar settings by dotted key (what a tracker takes as hyperparameters)."""
    out: dict[str, Any] = {}
    for k, v in config.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, dict):
            out.update(_flat_settings(v, key))
        elif isinstance(v, (int, float, str, bool)):
            out[key] = v
    return out
