"""Compare unlearning methods × retain samplers on equal terms: same data, seed and budget.

Bushipaka, Passaro, Cucinotta 2025, "Standard vs. Modular Sampling: Best Practices for
Reliable LLM Unlearning" (arXiv 2509.05316; S0 below): every (method, sampler) cell
unlearns a *fresh* copy of the same reference model (unlearning is in place, so the
reference is re-loaded for every cell), is evaluated by the shared-pass evaluator, and is
summarised by S0's forget efficacy 1 − mean(P̄, R, C) on the forget set and S0's utility
HM(P̄, R, C) on every retain role, reported separately per role (direct / indirect /
general / retain, train and held-out test portions).

Budget. The paper compares regimes at equal *epochs* (``budget="epochs"``): the samplers'
epochs differ in length (1:1 = |D_f| pairs, cyclic = max(|D_f|, |D_r|) …), so the number of
optimiser steps differs and is recorded per cell. ``budget="steps"`` gives every cell the same
number of steps instead. With no budget given anywhere (the config's default leaves it to the
model), ``budget="scale"``: every cell takes the rule of engine/defaults.py on the one
reference model — the default recipe's 240 steps each on a tiny model (equal steps), 5 epochs
each on a pretrained one (equal epochs).

Calibration (optional, ``calibrate=τ``): each unlearned model is mixed with the reference,
θ = α·θ_ref + (1−α)·θ_unlearned, with the smallest α whose utility is ≥ τ × the
reference's (Wang et al. 2024, arXiv 2406.09179), via
:func:`oblivio.engine.calibrate.calibrate`; methods are then compared on forgetting at
equal utility.

Outputs in ``run_dir``: ``runs/<method>__<sampler>[__seed<k>]``, one run folder per cell
(config.yaml, results.json, model/: auditable, reportable, resumable like any run), run by the
one grid runner (pipeline/grid.py ``run_cell``: every cell is a ``report`` cell — the
comparison chooses no setting); ``compare.json`` (every cell, every role, the budget, steps
taken), ``compare.md`` (the table), ``compare.png`` (forget efficacy vs test utility, one panel
per test role) and, when calibrated, ``compare_calibrated.png`` — written by
:func:`oblivio.report.compare_view.write_compare`. The folder is written whole
(``run_dir.partial`` until done); rerunning an interrupted comparison keeps the cell runs it
finished with the same config (pipeline/grid.py ``hold_finished``).
"""
from __future__ import annotations

import contextlib
import copy
import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from oblivio.data.schema import UnlearningData
from oblivio.errors import InputError
from oblivio.experiments.seeds import cell_from_runs, parse_seeds
from oblivio.progress import say
from oblivio.report.compare_view import SHORT, _fmt, calibrated_markdown, markdown_table, write_compare

Log = Callable[[str], None]

# S0's order; other registered samplers follow, sorted
SAMPLER_ORDER = ("one_to_one_sequential", "one_to_one_random", "cyclic", "direct_only",
                 "indirect_only", "balanced", "melu")
#: the metrics a comparison needs (``eval.metrics`` unset = these; set = the user's choice)
COMPARE_METRICS = ("mean_token_prob", "rouge_recall", "embed_cosine", "s0_forget_efficacy", "s0_utility",
                   "accuracy", "answer_prob", "truth_ratio", "qa_perplexity", "distinct_2",
                   "model_utility", "forget_quality", "privleak")


@dataclass
class Cell:
    """One (method, sampler) run: steps actually taken and the summary values."""

    method: str
    sampler: str
    steps: int
    pairs_per_epoch: int
    steps_per_epoch: int
    seconds: dict[str, float]
    stop_reason: str
    values: dict[str, Any]
    report: Any = field(default=None, repr=False)      # EvalReport (of the first seed)
    calibration: dict[str, Any] | None = None
    # --seeds: ``values`` is the mean over seeds, ``sd`` the sample standard deviation and ``n``
    # the number of seeds with a value, leaf by leaf; ``per_seed`` every seed's own run
    seeds: list[int] = field(default_factory=list)
    sd: dict[str, Any] | None = None
    n: dict[str, Any] | None = None
    per_seed: list[dict[str, Any]] = field(default_factory=list)
    audit: dict[str, Any] | None = None   # --audit: the audit record (of the first seed; per_seed has all)
    runs: list[str] = field(default_factory=list)   # its run folders, relative to the comparison's folder

    @property
    def label(self) -> str:
        return f"{self.method}/{SHORT.get(self.sampler, self.sampler)}"

    def to_json(self) -> dict[str, Any]:
        # field by field: dataclasses.asdict would deep-copy the evaluation reports too
        d = {f.name: copy.deepcopy(getattr(self, f.name)) for f in dataclasses.fields(self)
             if f.name not in ("report", "per_seed")}
        if self.report is not None and len(self.per_seed) <= 1:
            d["report"] = self.report.to_json(per_item=False)
        if len(self.per_seed) > 1:
            d["per_seed"] = [{k: (v.to_json(per_item=False) if k == "report" and v is not None else v)
                              for k, v in run.items()} for run in self.per_seed]
        return d


@dataclass
class CompareResult:
    cells: list[Cell]
    reference: dict[str, dict[str, Any]]       # "base" (and "gold") summary values
    budget: dict[str, Any]
    table: str
    calibrated_table: str = ""
    run_dir: Path | None = None
    files: dict[str, Path] = field(default_factory=dict)
    worlds: list[Any] = field(default_factory=list)   # --world-seeds: every world's own CompareResult
    # --world-seeds: per cell label, the four verdict lines over the worlds (report/world_verdict.py)
    verdicts: dict[str, list[str]] = field(default_factory=dict)

    def cell(self, method: str, sampler: str) -> Cell:
        for c in self.cells:
            if c.method == method and c.sampler == sampler:
                return c
        raise KeyError((method, sampler))


# --- names ---------------------------------------------------------------------------------

def _names(x: str | Sequence[str], kind: str) -> list[str]:
    import oblivio.methods  # noqa: F401
    from oblivio.data.samplers import SAMPLERS
    from oblivio.methods.base import METHODS
    reg = SAMPLERS if kind == "sampler" else METHODS
    items = [s.strip() for s in x.split(",")] if isinstance(x, str) else [str(s).strip() for s in x]
    items = [s for s in items if s]
    if items == ["all"]:
        known = reg.names()
        items = [s for s in SAMPLER_ORDER if s in known] if kind == "sampler" else []
        items += [s for s in known if s not in items]
    if not items:
        raise InputError(f"no {kind} given", field=f"{kind}s")
    for s in items:
        reg.get(s, field=f"{kind}s")
    if len(set(items)) != len(items):
        raise InputError(f"a {kind} is listed twice: {', '.join(items)}", field=f"{kind}s")
    return items


# --- summaries -----------------------------------------------------------------------------

def summarize_report(report, data: UnlearningData) -> dict[str, Any]:
    """The values a comparison reports, all on the test portion (``report`` is a test
    evaluation): forget efficacy and forget accuracy on ``forget_test``, S0 utility per
    held-out retain set, model utility, forget quality."""
    from oblivio.roles import base_role
    v: dict[str, Any] = {}
    fe = report.sets.get(report.set_name("forget"), {}).get("s0_forget_efficacy")
    v["forget_efficacy"] = None if fe is None else fe.value
    v["forget_components"] = None if fe is None else fe.extra.get("components")
    v["forget_accuracy"] = report.value("accuracy", "forget")
    v["forget_answer_prob"] = report.value("answer_prob", "forget")
    roles = [r for r in report.sets if base_role(r) not in ("forget", "holdout")]
    v["utility"] = {r: report.value("s0_utility", r) for r in roles}
    v["utility_components"] = {r: (report.sets.get(r, {}).get("s0_utility").extra.get("components")
                                   if report.sets.get(r, {}).get("s0_utility") is not None else None)
                               for r in roles}
    v["accuracy"] = {r: report.value("accuracy", r) for r in roles}
    for m in ("qa_perplexity", "distinct_2"):
        v[m] = {r: report.value(m, r) for r in ["forget", *roles]}
    tests = [r for r in roles if r in held_out_roles(data)]
    tv = [v["utility"][r] for r in tests if v["utility"][r] is not None]
    v["test_utility_mean"] = sum(tv) / len(tv) if tv else None
    for m in ("model_utility", "forget_quality", "privleak"):
        v[m] = report.value(m)
    notes = {r.extra.get("note") for ms in report.sets.values() for r in ms.values() if r.extra.get("note")}
    v["notes"] = sorted(n for n in notes if n)
    # 95% bootstrap intervals over facts, where the evaluation computed them
    v["ci"] = {"forget_efficacy": _ci(report.ci("s0_forget_efficacy", "forget")),
               "forget_accuracy": _ci(report.ci("accuracy", "forget")),
               "forget_answer_prob": _ci(report.ci("answer_prob", "forget")),
               "utility": {r: _ci(report.ci("s0_utility", r)) for r in roles},
               "accuracy": {r: _ci(report.ci("accuracy", r)) for r in roles},
               "model_utility": _ci(report.ci("model_utility")), "privleak": _ci(report.ci("privleak"))}
    return v


def _ci(ci: tuple[float, float] | None) -> list[float] | None:
    return None if ci is None else [ci[0], ci[1]]


def held_out_roles(data: UnlearningData) -> list[str]:
    """The retain sets a comparison reports: the held-out test ones (``direct_test`` …)."""
    from oblivio.data.portions import set_names
    from oblivio.roles import TEST_ROLES
    return [r for r in set_names(data) if r in TEST_ROLES]


# --- the grid ------------------------------------------------------------------------------

def _budget(budget: str | None, epochs: float | None, steps: int | None, tc: Any) -> str:
    """The budget's kind: the one given, else that of the number given here, else of the
    config's (``max_steps`` beats ``epochs``), else "scale" (the module docstring)."""
    if budget:
        return budget
    if steps is not None or (epochs is None and tc.max_steps is not None):
        return "steps"
    return "epochs" if epochs is not None or tc.epochs is not None else "scale"


def _train_cfg(cfg, budget: str, epochs: float | None, steps: int | None, progress: bool):
    from oblivio.presets import BUDGET_BY_SCALE
    tc = dataclasses.replace(cfg.unlearn.train, seed=cfg.seed, progress=progress)
    if budget == "scale":
        return dataclasses.replace(tc, max_steps=None, epochs=None), {"kind": "scale", "rule": BUDGET_BY_SCALE}
    if budget == "steps":
        n = steps if steps is not None else tc.max_steps
        if n is None or n < 1:
            raise InputError("a step budget needs a number of steps ≥ 1 (--steps N)", field="steps")
        return dataclasses.replace(tc, max_steps=int(n)), {"kind": "steps", "steps": int(n)}
    e = epochs if epochs is not None else tc.epochs
    if e is None or not 0 < e < float("inf"):   # also refuses nan
        raise InputError(f"an epoch budget needs finite epochs > 0 (--epochs N), got {e}", field="epochs")
    return dataclasses.replace(tc, max_steps=None, epochs=float(e)), {"kind": "epochs", "epochs": float(e)}


def compare(data: Any = None, *, methods: str | Sequence[str] | None = None,
            samplers: str | Sequence[str] | None = None, config=None, model: Any = None, tokenizer: Any = None,
            gold: Any = None, run_dir: str | Path | None = None, calibrate: float | None = None,
            calibrate_metric: str | None = None, calibrate_tol: float | None = None, budget: str | None = None,
            epochs: float | None = None, steps: int | None = None, method_args: dict[str, dict[str, Any]] | None = None,
            seeds: str | Sequence[int] | None = None, overwrite: bool = False, progress: bool = True,
            log: Log = say, world_seeds: str | Sequence[int] | None = None) -> CompareResult:
    """Run every method × sampler cell with the same seed and budget; see the module docstring.

    ``data``: as :func:`oblivio.resolve.load_data` (None = the embedded world). ``model``: the
    reference model — a local HF directory (re-loaded for every cell) or a loaded model with
    ``tokenizer`` (deep-copied for every cell); None with world data = the world's cached
    base model (its gold model then gives forget quality). ``gold``: a retrained model
    (directory or (model, tokenizer)). ``budget``: "epochs" (``epochs`` or the config's
    ``unlearn.train.epochs``), "steps" (``steps`` or ``unlearn.train.max_steps``) or "scale" (the
    module docstring); unset, that of ``steps`` or ``epochs`` given, else the config's
    (:func:`_budget`). ``method_args``: per-method
    arguments, e.g. ``{"npo": {"beta": 0.1}}``; the config's ``unlearn.args`` apply to
    ``unlearn.method`` only. ``seeds`` (``"0,1,2"`` or a list): every cell is unlearned once
    per seed (the training and pairing seed; the data and the reference and gold models stay
    those of the world, ``world.seed``) and reported as mean ± sample sd over seeds. Unset, ``methods``,
    ``samplers`` (then every sampler), ``calibrate`` and ``seeds`` are the config's ``compare.*``,
    ``calibrate_metric`` and ``calibrate_tol`` its ``calibrate.metric`` and ``calibrate.tol``.
    ``world_seeds`` (unset: ``compare.world_seeds``): the whole comparison once per embedded
    world, reported with the world as the unit of replication (:mod:`oblivio.experiments.worlds`).

    Every cell (and seed) is a run of its own (pipeline/run.py): with ``run_dir`` it is a run
    folder ``<run_dir>/runs/<method>__<sampler>[__seed<k>]`` (config.yaml, results.json, model/),
    which ``oblivio audit`` / ``report`` / ``calibrate`` take like any other; calibration and
    the audit are those runs' post-steps.
    """
    from oblivio.config import Config
    from oblivio.pipeline.grid import hold_finished, restore_held
    from oblivio.pipeline.models import ModelSource
    from oblivio.report.rundir import run_folder
    from oblivio.resolve import main_process
    ws = parse_seeds(world_seeds if world_seeds is not None else (config or Config()).compare.world_seeds)
    if ws is not None:
        from oblivio.experiments.worlds import compare_worlds
        return compare_worlds(data, world_seeds=ws, config=config or Config(), run_dir=run_dir, overwrite=overwrite,
                              progress=progress, log=log, grid=(compare, Cell, CompareResult), methods=methods,
                              samplers=samplers, model=model, tokenizer=tokenizer, gold=gold, calibrate=calibrate,
                              calibrate_metric=calibrate_metric, calibrate_tol=calibrate_tol, budget=budget,
                              epochs=epochs, steps=steps, method_args=method_args, seeds=seeds)
    plan = _plan(data, methods, samplers, config, (calibrate, calibrate_metric, calibrate_tol), budget, epochs, steps,
                 method_args, seeds, run_dir, overwrite, progress)
    t_all = time.perf_counter()
    # one source for every cell: a folder loaded, a model in memory copied (the caller's is never
    # touched), or the world's cached models; broken folders named before any evaluation
    source = ModelSource.resolve(plan.cfg, plan.data, model=model, tokenizer=tokenizer, gold=gold, copy=True,
                                 progress=progress, log=log)
    plan.data = source.check(plan.data, log)
    grid = _Grid(plan, source, progress=progress, log=log)
    out = Path(run_dir) if run_dir else None
    main = main_process()
    held = (hold_finished(grid.grid_cells(), out, sub="runs", log=log) if out is not None and main
            else None)                                   # before the stale attempt goes
    ctx = run_folder(out, main=main, overwrite=overwrite, kind="compare") if out else contextlib.nullcontext()
    with ctx as work:
        if held is not None and work is not None:
            restore_held(held, work / "runs")
        if main:
            grid.references()
        n = len(plan.methods) * len(plan.samplers)
        for k, (m, s) in enumerate(((m, s) for m in plan.methods for s in plan.samplers), start=1):
            runs = [grid.cell_run(m, s, sd, work, f"[{k}/{n}] ") for sd in plan.run_seeds]
            cell = cell_from_runs(Cell, m, s, runs, plan.train_cfg, multi=plan.seed_list is not None)
            cell.runs = [r["run"] for r in runs if r.get("run")]
            grid.cells.append(cell)
            if work is not None and main:
                grid.write(work, final=False)
        grid.timings["total"] = time.perf_counter() - t_all
        table = markdown_table(grid.cells, grid.reference, grid.roles, ci=plan.cfg.eval.show_ci) if main else ""
        tau = plan.calibrate
        cal_table = calibrated_markdown(grid.cells, grid.roles, float(tau)) if main and tau is not None else ""
        files = grid.write(work, final=True, table=table, cal_table=cal_table) if work is not None and main else {}
    if out is not None:
        files = {k: out / p.name for k, p in files.items()}
    return CompareResult(cells=grid.cells, reference=grid.reference, budget=plan.budget_info, table=table,
                         calibrated_table=cal_table, run_dir=out, files=files)


@dataclass
class _Plan:
    """A comparison checked before any work: config, data, names, per-method arguments, seeds, budget."""

    cfg: Any
    data: UnlearningData
    methods: list[str]
    samplers: list[str]
    margs: dict[str, dict[str, Any]]
    seed_list: list[int] | None
    run_seeds: list[int]
    train_cfg: Any
    budget_info: dict[str, Any]
    calibrate: float | None
    calibrate_metric: str
    calibrate_tol: float


def _plan(data, methods, samplers, config, calibration, budget, epochs, steps, method_args, seeds, run_dir, overwrite,
          progress) -> _Plan:
    """Everything that can be refused, refused before a model is loaded or a folder made;
    ``calibration``: (τ or None, utility metric, tolerance)."""
    from oblivio.config import Config, build_method
    from oblivio.data.neighbours import check_sampler
    from oblivio.report.rundir import preflight
    from oblivio.resolve import load_data, main_process
    cfg = config or Config()
    calibrate, calibrate_metric, calibrate_tol = calibration
    cc = cfg.compare      # unset arguments are the config's: it is the one source of defaults
    calibrate = cc.calibrate if calibrate is None else calibrate
    calibrate_metric = cfg.calibrate.metric if calibrate_metric is None else calibrate_metric
    calibrate_tol = cfg.calibrate.tol if calibrate_tol is None else calibrate_tol
    methods = cc.methods if methods is None else methods
    samplers = (cc.samplers or "all") if samplers is None else samplers
    seeds = cc.seeds if seeds is None else seeds
    if cfg.eval.metrics is None:
        cfg = dataclasses.replace(cfg, eval=dataclasses.replace(cfg.eval, metrics=list(COMPARE_METRICS)))
    if steps is not None and epochs is not None:
        raise InputError("give either epochs or steps as the budget, not both", field="budget")
    budget = _budget(budget, epochs, steps, cfg.unlearn.train)
    if budget not in ("epochs", "steps", "scale"):
        raise InputError(f"unknown budget {budget!r} (known: epochs, steps, scale)", field="budget")
    if calibrate is not None and not 0 < calibrate <= 1:
        raise InputError(f"calibration τ must be in (0, 1], got {calibrate}", field="calibrate")
    methods, samplers = _names(methods, "method"), _names(samplers, "sampler")
    seed_list = parse_seeds(seeds)
    run_seeds = seed_list if seed_list is not None else [cfg.seed]
    d = load_data(data if data is not None else cfg.data.path, cfg)
    # every cell's arguments and roles are checked before anything is trained
    margs = {m: dict((method_args or {}).get(m, cfg.unlearn.args if m == cfg.unlearn.method else {}))
             for m in methods}
    for m in methods:
        build_method(m, margs[m])
    for s in samplers:
        for sd in run_seeds:
            check_sampler(d, s, seed=sd)
    train_cfg, budget_info = _train_cfg(cfg, budget, epochs, steps, progress)
    if run_dir is not None and main_process():   # marker, lock and writability (report/rundir.py)
        preflight(run_dir, overwrite=overwrite)
    return _Plan(cfg, d, methods, samplers, margs, seed_list, run_seeds, train_cfg, budget_info, calibrate,
                 calibrate_metric, calibrate_tol)


class _Grid:
    """The cells of a comparison, each a grid cell (pipeline/grid.py) run on a fresh copy from
    the one ModelSource, with the references evaluated once and handed to every run."""

    def __init__(self, plan: _Plan, source: Any, *, progress: bool, log: Log) -> None:
        self.plan, self.source, self.timings = plan, source, dict(source.timings)
        self.progress, self.log = progress, log
        self.reports: dict[str, Any] = {}
        self.reference: dict[str, dict[str, Any]] = {}
        self.cells: list[Cell] = []
        self.shared: dict[str, Any] = {}       # the audit's memo of base and gold results, per seed
        self.roles = held_out_roles(plan.data)
        self.c_note: str | None = None
        self._cells: list[Any] | None = None     # grid_cells(), made once

    def references(self) -> None:
        """Base and gold evaluated once (from the cache when evaluated before, eval/cache.py)."""
        from oblivio.eval.embed import embedder_for
        from oblivio.pipeline.references import evaluate_references
        cfg, d = self.plan.cfg, self.plan.data
        emb = embedder_for(cfg.eval)
        if emb is None and "embed_cosine" in (cfg.eval.metrics or ()):
            from oblivio.metrics.qa import EMBED_MISSING
            self.c_note = f"C skipped: {EMBED_MISSING} (pip install 'oblivio[embed]'); S0 values use P̄ and R only"
            self.log(self.c_note)
        t0 = time.perf_counter()
        models = {"gold": self.source.gold, "base": self.source.load}      # loaded one at a time
        evaluate_references(self.reports, models, d, cfg.eval, embedder=emb, log=self.log)
        self.timings["eval_reference"] = time.perf_counter() - t0
        self.reference = {name: summarize_report(r, d) for name, r in self.reports.items()}

    def grid_cells(self) -> list[Any]:
        """Every (method, sampler, seed) as a grid cell ``<method>__<sampler>[__seed<k>]`` on the
        comparison's data and model source; all ``report`` cells (a comparison chooses nothing)."""
        from oblivio.pipeline.grid import Cell as GridCell
        if self._cells is None:
            p = self.plan
            multi = p.seed_list is not None
            self._cells = [GridCell(f"{m}__{s}" + (f"__seed{sd}" if multi else ""), self._config(m, s, sd),
                                    model=self.source, data=p.data, tags={"method": m, "sampler": s, "seed": sd})
                           for m in p.methods for s in p.samplers for sd in p.run_seeds]
        return self._cells

    def cell_run(self, m: str, s: str, seed: int, work: Path | None, tag: str) -> dict[str, Any]:
        """One cell at one seed through the grid runner; its record for :func:`cell_from_runs`."""
        from oblivio.data.samplers import get_sampler
        from oblivio.pipeline.grid import run_cell
        from oblivio.resolve import main_process
        p, d = self.plan, self.plan.data
        multi = p.seed_list is not None
        cell = next(c for c in self.grid_cells() if c.tags == {"method": m, "sampler": s, "seed": seed})
        name = cell.name
        res, kept = run_cell(cell, work / "runs" if work is not None else None, progress=self.progress, log=self.log,
                             shared=self.shared, references=self.reports or None)
        if kept:
            self.log(f"{tag}{m} × {s}" + (f" (seed {seed})" if multi else "") + ": finished before, kept")
        pairs = len(get_sampler(s).epoch_pairs(d.forget, d.unlearning_retain(), epoch=0, seed=seed))
        rec = (_cell_record(res, d, seed, pairs, p.calibrate_metric) if main_process()
               else _bare_record(res, seed, pairs))
        rec["run"] = f"runs/{name}" if work is not None else None
        v, cal = rec["values"], rec["calibration"]
        if main_process():
            self.log(f"{tag}{m} × {s}" + (f" (seed {seed})" if multi else "")
                     + f": {rec['steps']} steps ({pairs} pairs/epoch) in {rec['seconds']['unlearn']:.1f}s; "
                     f"forget efficacy {_fmt(v['forget_efficacy'])}, test utility "
                     + ", ".join(f"{r} {_fmt(v['utility'].get(r))}" for r in self.roles)
                     + (f"; calibrated α {_fmt(cal['alpha'])}, forget efficacy "
                        f"{_fmt(cal['values']['forget_efficacy'])}" if cal else ""))
        return rec

    def _config(self, m: str, s: str, seed: int):
        """The cell's config: the method, its arguments, the sampler, the seed and the budget
        written in, the world's seed pinned (the data stay those of the comparison's world), and
        calibration as a post-step when asked for."""
        from oblivio.config import load_config, to_dict
        p = self.plan
        tc = p.train_cfg
        over: dict[str, Any] = {
            "seed": seed,
            "unlearn": {"method": m, "args": p.margs[m], "sampler": s,
                        "train": {"max_steps": tc.max_steps, "epochs": tc.epochs}}}
        if p.cfg.data.path is None:
            over["world"] = {"seed": p.cfg.world.get("seed", 0)}
        if p.calibrate is not None:
            over["post_steps"] = [*p.cfg.post_steps, "calibrate"]
            over["calibrate"] = {"tau": p.calibrate, "metric": p.calibrate_metric, "tol": p.calibrate_tol}
        return load_config(overrides=over, base=to_dict(p.cfg))

    def write(self, work: Path, *, final: bool, table: str = "", cal_table: str = "") -> dict[str, Path]:
        p = self.plan
        return write_compare(work, p.data, p.cfg, self.cells, self.reference, p.budget_info, p.methods, p.samplers,
                             self.roles, self.timings, self.c_note, p.calibrate, final=final, table=table,
                             cal_table=cal_table, seeds=p.seed_list)


def _cell_record(res: Any, d: UnlearningData, seed: int, pairs: int, metric: str) -> dict[str, Any]:
    """A cell run's record (what :func:`cell_from_runs` aggregates over seeds)."""
    rec = _bare_record(res, seed, pairs)
    rec["report"] = rep = res.reports.get("unlearned")
    rec["values"] = summarize_report(rep, d) if rep is not None else {}
    steps = res.post_steps
    if "eval_after" in res.timings:
        rec["seconds"]["eval"] = res.timings["eval_after"]
    if "calibrate" in steps and "calibrated" in res.reports:
        c = steps["calibrate"]
        rec["seconds"]["calibrate"] = c["seconds"]
        rec["calibration"] = {**{k: c[k] for k in ("alpha", "utility", "target", "original_utility", "sweep",
                                                   "evaluations")},
                              "values": summarize_report(res.reports["calibrated"], d), "metric": metric}
    if "audit" in res.results:
        from oblivio.attacks.audit import audit_values
        rec["seconds"]["audit"] = steps.get("audit", {}).get("seconds", 0.0)
        rec["audit"] = res.results["audit"]
        rec["values"]["audit"] = audit_values(rec["audit"])
    return rec


def _bare_record(res: Any, seed: int, pairs: int) -> dict[str, Any]:
    t = res.training
    return {"seed": seed, "steps": t["steps"], "pairs_per_epoch": pairs, "seconds": {"unlearn": t["seconds"]},
            "stop_reason": t["stop_reason"], "values": {}, "report": None, "calibration": None}
