"""Several seeds per comparison cell: parse ``--seeds``, run each cell once per seed, and
aggregate every reported value as mean ± sample standard deviation (and n) over the seeds;
and several worlds (``--world-seeds``), the unit of replication.

Our choice: comparisons of methods are made over ≥ 3 seeds; a claim made on one
seed says so. A seed here is the unlearning run's seed (parameter initialisation of any new
module, retain pairing, data order); the data and the reference and gold models stay fixed,
so the spread is the spread of unlearning itself, not of the world or the base model.

**Worlds** (:func:`aggregate_worlds`). A world — its people, relation values, forget targets,
and its own base and gold models — is the unit of replication: training seeds nest inside
worlds. Each world contributes one value per leaf, the mean over its training seeds; the
report is the mean over worlds with a 95% Student-t interval over them (n − 1 degrees of
freedom; n = worlds), so a world run with more seeds weighs no more than another.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from oblivio.errors import InputError


def parse_seeds(seeds: str | int | Sequence[int] | None) -> list[int] | None:
    """``"0,1,2"`` / ``[0, 1, 2]`` → [0, 1, 2]; None → None (one run with the config's seed)."""
    if seeds is None:
        return None
    items: list[Any] = [x.strip() for x in seeds.split(",")] if isinstance(seeds, str) else (
        [seeds] if isinstance(seeds, int) else list(seeds))
    out: list[int] = []
    for x in items:
        if x == "":
            continue
        try:
            if isinstance(x, bool) or (isinstance(x, float) and not x.is_integer()):
                raise ValueError
            out.append(int(x))
        except (TypeError, ValueError):
            raise InputError(f"seeds must be integers, got {x!r}", field="seeds") from None
    if not out:
        raise InputError("no seed given", field="seeds")
    if len(set(out)) != len(out):
        raise InputError(f"a seed is listed twice: {seeds}", field="seeds")
    return out


def aggregate(runs: Sequence[Any]) -> tuple[Any, Any, Any]:
    """Mean, sample sd and n over seeds of every numeric leaf of the runs' value trees (dicts
    of numbers); a leaf that is not a number keeps the first run's value (sd, n: None).
    Intervals (``ci``) are per run and are not averaged."""
    from oblivio.metrics.stats import mean_sd
    first = runs[0]
    if isinstance(first, dict):
        keys = list(dict.fromkeys(k for r in runs if isinstance(r, dict) for k in r if k != "ci"))
        parts = {k: aggregate([r.get(k) if isinstance(r, dict) else None for r in runs]) for k in keys}
        return ({k: p[0] for k, p in parts.items()}, {k: p[1] for k, p in parts.items()},
                {k: p[2] for k, p in parts.items()})
    nums = [r for r in runs if r is None or (isinstance(r, (int, float)) and not isinstance(r, bool))]
    if len(nums) == len(runs) and any(r is not None for r in runs):
        return mean_sd(nums)
    return first, None, None


def cell_from_runs(cell_cls: Any, method: str, sampler: str, runs: list[dict[str, Any]], train_cfg: Any, *,
                   multi: bool):
    """One ``cell_cls`` (compare's :class:`~oblivio.experiments.compare.Cell`, passed in so this
    module does not import compare) from its runs (one per seed): one run is the cell as
    before; several give the mean values, their sd and n, and every run."""
    Cell = cell_cls
    r0 = runs[0]
    per_step = max(1, math.ceil(r0["pairs_per_epoch"] / (train_cfg.batch_size * train_cfg.grad_accum)))
    cell = Cell(method=method, sampler=sampler, steps=r0["steps"], pairs_per_epoch=r0["pairs_per_epoch"],
                steps_per_epoch=per_step, seconds=dict(r0["seconds"]), stop_reason=r0["stop_reason"],
                values=r0["values"], report=r0["report"], calibration=r0["calibration"])
    cell.audit = r0.get("audit")      # --audit: the (first) seed's full audit record
    if not multi:
        return cell
    cell.seeds = [r["seed"] for r in runs]
    cell.per_seed = runs
    cell.values, cell.sd, cell.n = aggregate([r["values"] for r in runs])
    cell.seconds = {k: sum(r["seconds"].get(k, 0.0) for r in runs) for k in r0["seconds"]}
    reasons = list(dict.fromkeys(r["stop_reason"] for r in runs))
    cell.stop_reason = reasons[0] if len(reasons) == 1 else "; ".join(reasons)
    if all(r["calibration"] for r in runs):
        cals = [r["calibration"] for r in runs]
        keep = ("alpha", "utility", "target", "original_utility", "evaluations", "values")
        mean, sd, n = aggregate([{k: c[k] for k in keep} for c in cals])
        cell.calibration = {**mean, "sd": sd, "n": n, "metric": cals[0]["metric"],
                            "sweep": cals[0]["sweep"], "sweep_seed": runs[0]["seed"]}
    return cell


#: two-sided confidence level of the interval over worlds
WORLD_LEVEL = 0.95


def t_interval(values: Sequence[float | None]) -> dict[str, Any]:
    """Mean, sample sd, n and the 95% Student-t interval ``[lo, hi]`` (``half``: its half-width)
    of the non-None values; fewer than 2 values: no interval."""
    from scipy import stats

    from oblivio.metrics.stats import mean_sd
    mean, sd, n = mean_sd(values)
    if mean is None or sd is None:
        return {"mean": mean, "sd": sd, "n": n, "half": None, "ci": None}
    half = float(stats.t.ppf(0.5 + WORLD_LEVEL / 2, n - 1) * sd / math.sqrt(n))
    return {"mean": mean, "sd": sd, "n": n, "half": half, "ci": [mean - half, mean + half]}


def aggregate_worlds(per_world: Sequence[Any]) -> tuple[Any, Any, Any]:
    """Mean, 95% t-interval half-width and n over worlds of every numeric leaf of the worlds'
    value trees (each world's tree: its mean over training seeds). A leaf that is not a number
    keeps the first world's value (half-width, n: None); intervals over facts (``ci``) are
    per world and are not carried."""
    first = per_world[0]
    if isinstance(first, dict):
        keys = list(dict.fromkeys(k for w in per_world if isinstance(w, dict) for k in w if k != "ci"))
        parts = {k: aggregate_worlds([w.get(k) if isinstance(w, dict) else None for w in per_world]) for k in keys}
        return ({k: p[0] for k, p in parts.items()}, {k: p[1] for k, p in parts.items()},
                {k: p[2] for k, p in parts.items()})
    nums = [w for w in per_world if w is None or (isinstance(w, (int, float)) and not isinstance(w, bool))]
    if len(nums) == len(per_world) and any(w is not None for w in per_world):
        t = t_interval(nums)
        return t["mean"], t["half"], t["n"]
    return first, None, None
