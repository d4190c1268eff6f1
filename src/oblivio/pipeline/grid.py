"""A grid: runs of runs. Every cell is a named :class:`~oblivio.pipeline.run.Run` of its own
config, written as a run folder ``<out>/<name>`` (config.yaml, results.json, model/ — auditable,
reportable like any run); the grid's index ``<out>/grid.json`` lists the cells, their state and
headline numbers, and says which cells select settings (``tune``) and which are reported
(``report``), so that no reported number chose anything. A ``tune`` cell evaluates the
validation portion of its data (``eval.portion: val``; oblivio.roles), a ``report`` cell the
test portion: a setting is chosen on facts its reported numbers are not measured on.

Resumable by construction, in one place (:func:`run_cell`, which :func:`run_grid` and
``compare`` both run their cells through): running the same grid again skips every cell whose
finished folder holds the same config (read back from its results.json), reruns the cells that
did not finish (an interrupted cell's ``.partial``/``.failed`` folder is replaced), and refuses
a folder that holds a different config (a changed cell needs a new name, or ``overwrite``). A
grid whose own folder is written whole (``compare``: ``<out>.partial`` until its tables are
done) carries the cells an interrupted attempt finished into the new attempt first
(:func:`hold_finished`, :func:`restore_held`). The benches that train (bench/) describe their
grids as Python lists of :class:`Cell` and run them here; ``oblivio compare`` builds its cells
from methods × samplers × seeds (experiments/compare.py).
"""
from __future__ import annotations

import functools
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from oblivio.config import Config, to_dict
from oblivio.errors import InputError
from oblivio.progress import drop, say

Log = Callable[[str], None]
ROLES = ("tune", "report")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._=+-]{0,120}$")
INDEX = "grid.json"


@dataclass
class Cell:
    """One run of a grid: its folder name, its whole config and its role — ``tune`` (a setting is
    chosen by it; its numbers are never reported) or ``report`` (a number to report; chosen by
    nothing). ``model``/``gold``/``data`` are passed to the run besides the config (objects a
    config cannot name); paths belong in the config. ``model`` may be a ModelSource
    (pipeline/models.py) that the grid's cells share: each run loads a fresh copy from it."""

    name: str
    config: Config
    role: str = "report"
    model: Any = None
    tokenizer: Any = None
    gold: Any = None
    data: Any = None
    tags: dict[str, Any] = field(default_factory=dict)     # what the bench groups the cell by (method, lr, …)


def tuning_view(cell: Cell) -> Cell:
    """A ``tune`` cell evaluates the validation portion (its config with ``eval.portion: val``);
    a ``report`` cell is as given (the test portion by default)."""
    import dataclasses

    from oblivio.config import load_config
    if cell.role != "tune" or cell.config.eval.portion == "val":
        return cell
    cfg = load_config(overrides={"eval": {"portion": "val"}}, base=to_dict(cell.config))
    return dataclasses.replace(cell, config=cfg)


#: the logs a bench hands :func:`run_grid`: progress on stderr (results go to stdout), or none
stderr_log, quiet_log = say, drop


def check_cells(cells: Sequence[Cell]) -> None:
    """Names safe as folder names and unique, roles known — before any work."""
    seen: set[str] = set()
    for c in cells:
        if not _NAME.match(c.name) or c.name in (".", ".."):
            raise InputError(f"cell name {c.name!r} is not a plain folder name (letters, digits, . _ = + -)",
                             field="grid.cells")
        if c.name in seen:
            raise InputError(f"cell name {c.name!r} is used twice", field="grid.cells")
        if c.role not in ROLES:
            raise InputError(f"cell {c.name}: unknown role {c.role!r} (known: {', '.join(ROLES)})",
                             field="grid.cells")
        seen.add(c.name)


def run_grid(cells: Sequence[Cell], out: str | Path, *, overwrite: bool = False, progress: bool = True,
             log: Log = say, run_log: Log | None = None,
             on_result: Callable[[Cell, dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Every cell as a run into ``<out>/<name>`` (see the module docstring); returns
    ``{name: results.json}``. ``log`` gets the grid's line per cell, ``run_log`` the runs' own
    messages (default: ``log``; ``quiet_log`` drops them). ``on_result`` sees each cell's
    results as it is done (or found done)."""
    from oblivio.report.results import read_results
    check_cells(cells)
    cells = [tuning_view(c) for c in cells]
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    shared: dict[str, Any] = {}             # post-steps' memo across the grid (the audit's base results)
    done: dict[str, Any] = {}
    index = _read_index(root)
    for k, cell in enumerate(cells, start=1):
        t0 = time.perf_counter()
        tag = f"[{k}/{len(cells)}] {cell.name}"
        _, kept = run_cell(cell, root, overwrite=overwrite, progress=progress, log=log if run_log is None else run_log,
                           shared=shared, announce=functools.partial(log, f"{tag} ({cell.role})"))
        if kept:
            log(f"{tag}: finished before, kept")
        else:
            index.setdefault("seconds", {})[cell.name] = round(time.perf_counter() - t0, 3)
        results = read_results(root / cell.name / "results.json")
        done[cell.name] = results
        index["cells"] = {**index.get("cells", {}), cell.name: _entry(cell, results)}
        _write_index(root, index)
        if on_result is not None:
            on_result(cell, results)
    return done


def run_cell(cell: Cell, root: Path | None, *, overwrite: bool = False, progress: bool = True, log: Log = say,
             shared: dict[str, Any] | None = None, references: dict[str, Any] | None = None,
             announce: Callable[[], None] | None = None) -> tuple[Any, bool]:
    """One cell as a run into ``<root>/<name>`` (None: no folder), or its finished folder kept
    when it holds the same config (see the module docstring); returns (UnlearnResult, kept) —
    a kept cell's result read back from its results.json (no model loaded). ``shared``: the
    grid's post-step memo; ``references``: base and gold evaluations the grid made once (on
    this cell's data and eval config); ``announce`` is called before a cell is run."""
    from oblivio.pipeline.run import Run
    folder = root / cell.name if root is not None else None
    state = _state(folder, cell, overwrite) if folder is not None else "new"
    if state == "done":
        assert folder is not None
        return finished_result(folder), True
    if announce is not None:
        announce()
    run = Run.from_args(cell.model, cell.data, tokenizer=cell.tokenizer, gold=cell.gold, config=cell.config,
                        run_dir=folder, overwrite=overwrite or state == "stale", progress=progress, log=log,
                        shared={} if shared is None else shared, references=references)
    return run.execute(), False


def finished_result(folder: Path) -> Any:
    """A finished run folder read back from its results.json, as the run's UnlearnResult
    (reports, training, timings, post-steps and audit; no model)."""
    from oblivio.eval.evaluate import EvalReport
    from oblivio.pipeline.run import UnlearnResult
    from oblivio.report.results import read_results
    rec = read_results(folder / "results.json")
    reports = {n: EvalReport.from_json(n, r) for n, r in rec.get("models", {}).items()}
    keep: dict[str, Any] = {k: rec[k] for k in ("post_steps", "audit") if k in rec}
    return UnlearnResult(None, None, reports, folder, rec.get("training", {}), rec.get("timings", {}), results=keep)


def hold_finished(cells: Sequence[Cell], out: Path, *, sub: str = "", log: Log = say) -> Path | None:
    """Resuming a grid whose folder ``out`` is written whole (``<out>.partial`` until done): the
    cell runs its interrupted attempt (``<out>.partial``/``.failed``, cells under ``<sub>/``)
    finished with the same config are moved aside — starting over deletes the attempt — to be
    put into the new attempt by :func:`restore_held`, where :func:`run_cell` keeps them. Returns
    the folder holding them, or None. A cell with another config is left to be deleted."""
    import tempfile

    from oblivio.report.rundir import is_run_folder, preflight
    preflight(out, overwrite=True)              # refuses a folder a live run holds
    held: Path | None = None
    for attempt in (out.with_name(out.name + ".partial"), out.with_name(out.name + ".failed")):
        for cell in cells:
            folder = attempt / sub / cell.name
            if (held is not None and (held / cell.name).exists()) or not (folder / "results.json").is_file() \
                    or not is_run_folder(folder) or not same_config(folder, cell):
                continue
            held = held or Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".cells"))
            folder.rename(held / cell.name)
    if held is not None:
        log(f"resuming {out}: {len(list(held.iterdir()))} finished cell run(s) kept")
    return held


def restore_held(held: Path, dest: Path) -> None:
    """The cells :func:`hold_finished` moved aside, moved into ``dest`` (the new attempt's)."""
    dest.mkdir(parents=True, exist_ok=True)
    for cell in held.iterdir():
        cell.rename(dest / cell.name)
    held.rmdir()


def _state(folder: Path, cell: Cell, overwrite: bool) -> str:
    """``done`` (finished, same config), ``new`` (nothing there), ``stale`` (an interrupted
    attempt only); a finished folder with another config is refused unless ``overwrite``."""
    from oblivio.report.rundir import is_run_folder
    if not (folder / "results.json").is_file():
        partial = [folder.with_name(folder.name + s) for s in (".partial", ".failed")]
        return "stale" if any(p.exists() for p in partial) else "new"
    if overwrite:
        return "stale"
    if not is_run_folder(folder):
        raise InputError("is not an oblivio run folder; a grid never writes into it", file=str(folder))
    if not same_config(folder, cell):
        raise InputError(f"holds a run of another config than grid cell {cell.name!r}; give the changed cell a new "
                         "name, or overwrite", file=str(folder))
    return "done"


def same_config(folder: Path, cell: Cell) -> bool:
    """Whether the finished run folder ``folder`` ran ``cell``'s config, key by key, as the run
    saves it (paths made absolute; keys a config file never carries left out)."""
    from oblivio.config import load_config
    from oblivio.pipeline.models import named_inputs
    from oblivio.pipeline.resume import run_config
    saved = to_dict(load_config(folder / "config.yaml", {"allow_plugins": cell.config.allow_plugins}))
    model, gold = named_inputs(cell.model, cell.gold)
    wanted = run_config(cell.config, model=model, data=cell.data, gold=gold, evaluate_models=None,
                        method=None, method_args=None, sampler=None)
    return _without_command_line(saved) == _without_command_line(to_dict(wanted))


def _without_command_line(d: dict[str, Any]) -> dict[str, Any]:
    """``d`` without the keys a config file never carries (config.COMMAND_LINE_ONLY)."""
    import copy

    from oblivio.config import COMMAND_LINE_ONLY
    d = copy.deepcopy(d)
    for dotted in COMMAND_LINE_ONLY:
        *parents, leaf = dotted.split(".")
        node: Any = d
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(leaf, None)
    return d


def headline(results: dict[str, Any]) -> dict[str, Any]:
    """The numbers a grid's index shows per cell: forget accuracy, model utility, forget
    quality and steps (None where the run did not measure them)."""
    u = results.get("models", {}).get("unlearned", {})

    def val(role: str | None, metric: str) -> Any:
        from oblivio.roles import set_record
        node = set_record(u.get("sets", {}), role) if role else u.get("model", {})
        return (node.get(metric) or {}).get("value")
    return {"forget_accuracy": val("forget", "accuracy"), "model_utility": val(None, "model_utility"),
            "forget_quality": val(None, "forget_quality"), "steps": results.get("training", {}).get("steps")}


def _entry(cell: Cell, results: dict[str, Any]) -> dict[str, Any]:
    return {"role": cell.role, "run": cell.name, "tags": cell.tags, **headline(results)}


def _read_index(root: Path) -> dict[str, Any]:
    import json
    p = root / INDEX
    if not p.is_file():
        return {"oblivio_grid": 1, "roles": {"tune": "chooses settings; never reported",
                                             "report": "reported; chose nothing"}}
    try:
        rec = json.loads(p.read_text())
    except ValueError as e:
        raise InputError(f"unreadable ({e})", file=str(p)) from None
    if not isinstance(rec, dict) or rec.get("oblivio_grid") != 1:
        raise InputError("not an oblivio grid index", file=str(p))
    return rec


def _write_index(root: Path, index: dict[str, Any]) -> None:
    from oblivio.report.results import write_json
    write_json(root / INDEX, index)
