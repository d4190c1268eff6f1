"""Many worlds: one comparison per world seed, reported with the world as the unit of replication.

``oblivio compare --world-seeds 0,1,2 --seeds 0,1,2`` builds three embedded worlds (each its own
people, relation values, forget targets and validation/test split, and its own cached base and
gold models), runs the whole comparison in each (every cell once per training seed), and
reports every value as the mean over worlds with a 95% Student-t interval over them
(:func:`oblivio.experiments.seeds.aggregate_worlds`): within a world, the training seeds are
averaged first, so the spread is that of worlds, the unit a claim about a method generalises
over (docs/explanation/protocol.md). Each world's comparison is a folder of its own,
``<out>/worlds/world-<seed>/`` (compare.json, compare.md, runs/), which ``oblivio report``,
``leaderboard`` and ``audit`` take like any other; ``<out>/compare.json`` holds the
aggregate, ``compare.md`` its table, and, per cell, the four verdicts decided over the worlds
(forgotten, kept, private, robust: each world's seeds averaged, a Student-t interval over the
worlds, the single run's rules; oblivio.report.world_verdict).
"""
from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any, Callable, Sequence

from oblivio.errors import InputError
from oblivio.experiments.seeds import WORLD_LEVEL, aggregate_worlds

Log = Callable[[str], None]


def check_world_data(data: Any, cfg: Any, model: Any, gold: Any) -> None:
    """World seeds make worlds: the data must be the embedded world and the models its own."""
    from oblivio.data.schema import UnlearningData
    from oblivio.data.spec import data_scheme
    spec = data if data is not None else cfg.data.path
    scheme = None if isinstance(spec, UnlearningData) else data_scheme(spec)
    not_world = isinstance(spec, UnlearningData) or (spec is not None and (scheme is None or scheme[0] != "world"))
    if not_world or model is not None or gold is not None or cfg.model.path is not None or cfg.model.gold:
        raise InputError("world seeds build embedded worlds, each with its own base and gold models: give no --data "
                         "(or world:<preset>), no --model and no --gold", field="compare.world_seeds")


def world_cell(cell_cls: Any, cells: Sequence[Any], worlds: Sequence[int]) -> Any:
    """One ``cell_cls`` (compare's Cell) from the same cell of every world: values = mean over
    worlds of each world's value (its mean over training seeds), ``sd`` = the half-width of
    the 95% t-interval over worlds, ``n`` = worlds with a value."""
    c0 = cells[0]
    cell = cell_cls(method=c0.method, sampler=c0.sampler, steps=c0.steps, pairs_per_epoch=c0.pairs_per_epoch,
                    steps_per_epoch=c0.steps_per_epoch,
                    seconds={k: sum(c.seconds.get(k, 0.0) for c in cells) for k in c0.seconds},
                    stop_reason="; ".join(dict.fromkeys(c.stop_reason for c in cells)), values={})
    cell.values, cell.sd, cell.n = aggregate_worlds([c.values for c in cells])
    cell.seeds = list(c0.seeds)
    cell.runs = [f"worlds/world-{w}/{r}" for w, c in zip(worlds, cells) for r in c.runs]
    if all(c.calibration for c in cells):
        keep = ("alpha", "utility", "target", "original_utility", "evaluations", "values")
        mean, half, n = aggregate_worlds([{k: c.calibration[k] for k in keep} for c in cells])
        cell.calibration = {**mean, "sd": half, "n": n, "metric": c0.calibration.get("metric"),
                            "sweep": c0.calibration.get("sweep"), "sweep_world": worlds[0]}
    return cell


def compare_worlds(data: Any, *, world_seeds: Sequence[int], config: Any, run_dir: str | Path | None,
                   overwrite: bool, progress: bool, log: Log, grid: tuple[Callable[..., Any], type, type],
                   **args: Any):
    """The comparison in every world of ``world_seeds`` and its aggregate (module docstring);
    ``grid``: compare's (one-world function, Cell, CompareResult), handed in so that this module
    does not import compare; ``args``: that function's grid arguments."""
    from oblivio.config import load_config, to_dict
    from oblivio.report.rundir import preflight, run_folder
    compare, Cell, CompareResult = grid
    from oblivio.resolve import main_process
    check_world_data(data, config, args.get("model"), args.get("gold"))
    if len(world_seeds) < 2:
        raise InputError("an interval over worlds needs at least 2 world seeds (3 or more to report: --world-seeds "
                         "0,1,2)", field="compare.world_seeds")
    out = Path(run_dir) if run_dir is not None else None
    main = main_process()
    if out is not None and main:
        preflight(out, overwrite=overwrite)
    results: list[Any] = []
    ctx = run_folder(out, main=main, overwrite=overwrite, kind="compare") if out else contextlib.nullcontext()
    t0 = time.perf_counter()
    with ctx as work:
        for k, ws in enumerate(world_seeds, start=1):
            log(f"world {ws} ({k}/{len(world_seeds)})")
            cfg_w = load_config(overrides={"world": {"seed": ws}, "compare": {"world_seeds": None}},
                                base=to_dict(config))
            results.append(compare(data, config=cfg_w, run_dir=work / "worlds" / f"world-{ws}" if work else None,
                                   progress=progress, log=log, **args))
        n_cells = len(results[0].cells)
        cells = [world_cell(Cell, [r.cells[i] for r in results], world_seeds) for i in range(n_cells)]
        verdicts = cell_verdicts(work, cells, world_seeds) if work is not None and main else {}
        roles = list(dict.fromkeys(r for res in results for r in _roles(res)))
        reference = {name: aggregate_worlds([res.reference.get(name, {}) for res in results])[0]
                     for name in results[0].reference}
        table, cal_table, files = _write(work if main else None, config, cells, reference, roles, world_seeds,
                                         results, time.perf_counter() - t0, verdicts)
    if out is not None:
        files = {k: out / p.name for k, p in files.items()}
    res = CompareResult(cells=cells, reference=reference, budget=results[0].budget, table=table,
                        calibrated_table=cal_table, run_dir=out, files=files)
    res.worlds = results
    res.verdicts = verdicts
    return res


def cell_verdicts(work: Path, cells: Sequence[Any], world_seeds: Sequence[int]) -> dict[str, list[str]]:
    """Per cell, the four verdicts over the worlds (report/world_verdict.py) from its run
    folders' results.json: each world's training seeds averaged, a Student-t interval over the
    worlds."""
    import json

    from oblivio.report.world_verdict import world_verdict_lines
    out: dict[str, list[str]] = {}
    for cell in cells:
        runs = []
        for rel in cell.runs:           # worlds/world-<seed>/runs/<name>
            f = work / rel / "results.json"
            if f.is_file():
                runs.append((int(Path(rel).parts[1].removeprefix("world-")), json.loads(f.read_text("utf-8"))))
        if runs:
            out[cell.label] = world_verdict_lines(runs)
    return out


def _roles(res: Any) -> list[str]:
    return [r for c in res.cells for r in (c.values.get("utility") or {})]


def notes(config: Any, world_seeds: Sequence[int], seeds: Sequence[int] | None) -> list[str]:
    """The lines under the aggregate table that say what it is."""
    n = len(world_seeds)
    return [f"worlds {', '.join(map(str, world_seeds))} (--world-seeds; preset {config.world.get('preset')}): each its "
            "own people, values, targets, validation/test split and base and gold models",
            "each cell: the mean over worlds of each world's mean over training seeds "
            + (f"({', '.join(map(str, seeds))})" if seeds else f"(one seed, {config.seed})")
            + f" ± the half-width of the {WORLD_LEVEL:.0%} Student-t interval over worlds ({n - 1} degrees of "
            f"freedom); n = worlds with a value (n = {n}); every number on the test portion",
            "per world: worlds/world-<seed>/compare.md"]


def _write(work: Path | None, config: Any, cells: list[Any], reference: dict[str, Any], roles: list[str],
           world_seeds: Sequence[int], results: list[Any], seconds: float,
           verdicts: dict[str, list[str]]) -> tuple[str, str, dict[str, Path]]:
    from oblivio.report.compare_view import calibrated_markdown, markdown_table, plot_grid
    from oblivio.report.results import versions, write_json
    table = markdown_table(cells, reference, roles)
    tau = config.compare.calibrate
    cal_table = calibrated_markdown(cells, roles, float(tau)) if tau is not None else ""
    if work is None:
        return table, cal_table, {}
    seeds = config.compare.seeds
    lines = notes(config, world_seeds, seeds)
    write_json(work / "compare.json", {
        "oblivio_compare": 1, "complete": True, "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "worlds": list(world_seeds), "seeds": list(seeds) if seeds else None, "seed": config.seed,
        "aggregate": "values: mean over worlds of each world's mean over training seeds; sd: half-width of the "
                     f"{WORLD_LEVEL:.0%} Student-t interval over worlds; n: worlds with a value",
        "versions": versions(), "config": {"world_seeds": list(world_seeds), "preset": config.world.get("preset")},
        "budget": results[0].budget, "test_roles": roles, "notes": lines, "seconds": round(seconds, 3),
        "reference": reference, "cells": [c.to_json() for c in cells], "verdicts": verdicts,
        "per_world": {str(w): str(Path("worlds") / f"world-{w}" / "compare.json") for w in world_seeds}})
    md = ["# oblivio compare over worlds", "", *[f"- {x}" for x in lines], "", table, ""]
    if verdicts:
        md += ["## Verdicts over worlds", "", "Each world's training seeds averaged, then a Student-t interval over "
               "the worlds; n = forget facts summed over the worlds.", ""]
        for label, lines in verdicts.items():
            md += [f"**{label}**", "", *[f"- {ln}" for ln in lines], ""]
    if cal_table:
        md += [f"## Calibrated to equal utility (τ = {tau:g}, model mixing)", "", cal_table, ""]
    (work / "compare.md").write_text("\n".join(md), encoding="utf-8")
    files = {"json": work / "compare.json", "md": work / "compare.md"}
    files["png"] = plot_grid(cells, reference, roles, work / "compare.png",
                             title=f"{len(world_seeds)} worlds: mean ± 95% t-interval half-width")
    return table, cal_table, files
