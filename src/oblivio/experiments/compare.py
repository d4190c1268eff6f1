"""Compare unlearning methods × retain samplers on equal terms: same data, seed and budget.

Bushipaka, Passaro, Cucinotta 2025, "Standard vs. Modular Sampling: Best Practices for
Reliable LLM Unlearning" (arXiv 2509.05316; S0 below): every (method, sampler) cell
unlearns a *fresh* copy of the same reference model (unlearning is in place, so the
reference is re-loaded for every cell), is evaluated by the shared-pass evaluator, and is
summarised by S0's forget efficacy 1 − mean(P̄, R, C) on the forget set and S0's utility
HM(P̄, R, C) on every retain role, reported separately per role (direct / indirect /
general / retain, train and held-out test portions).

Budget. The paper compares regimes at equal *epochs* (``budget="epochs"``, the default):
the samplers' epochs differ in length (1:1 = |D_f| pairs, cyclic = max(|D_f|, |D_r|) …),
so the number of optimiser steps differs and is recorded per cell. ``budget="steps"``
gives every cell the same number of steps instead.

Calibration (optional, ``calibrate=τ``): each unlearned model is mixed with the reference,
θ = α·θ_ref + (1−α)·θ_unlearned, with the smallest α whose utility is ≥ τ × the
reference's (Wang et al. 2024, arXiv 2406.09179), via
:func:`oblivio.engine.calibrate.calibrate`; methods are then compared on forgetting at
equal utility.

Outputs in ``run_dir``: ``compare.json`` (every cell, every role, the budget, steps taken),
``compare.md`` (the table), ``compare.png`` (forget efficacy vs test utility, one panel
per test role) and, when calibrated, ``compare_calibrated.png`` — written by
:func:`oblivio.report.compare_view.write_compare`.
"""
from __future__ import annotations

import contextlib
import copy
import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from oblivio.data.schema import TEST_ROLES, UnlearningData
from oblivio.errors import InputError
from oblivio.experiments.seeds import cell_from_runs, parse_seeds
from oblivio.report.compare_view import _fmt, calibrated_markdown, markdown_table, write_compare

Log = Callable[[str], None]

# S0's order; other registered samplers follow, sorted
SAMPLER_ORDER = ("one_to_one_sequential", "one_to_one_random", "cyclic", "direct_only",
                 "indirect_only", "balanced", "melu")
SHORT = {"one_to_one_sequential": "1:1 seq", "one_to_one_random": "1:1 rand", "cyclic": "cyclic",
         "direct_only": "direct", "indirect_only": "indirect", "balanced": "balanced", "melu": "MELU"}
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
    """The values a comparison reports: forget efficacy and forget accuracy on the forget set,
    S0 utility per retain role (train and test portions), model utility, forget quality."""
    v: dict[str, Any] = {}
    fe = report.sets.get("forget", {}).get("s0_forget_efficacy")
    v["forget_efficacy"] = None if fe is None else fe.value
    v["forget_components"] = None if fe is None else fe.extra.get("components")
    v["forget_accuracy"] = report.value("accuracy", "forget")
    v["forget_answer_prob"] = report.value("answer_prob", "forget")
    roles = [r for r in data.present_roles() if r not in ("forget", "holdout")]
    v["utility"] = {r: report.value("s0_utility", r) for r in roles}
    v["utility_components"] = {r: (report.sets.get(r, {}).get("s0_utility").extra.get("components")
                                   if report.sets.get(r, {}).get("s0_utility") is not None else None)
                               for r in roles}
    v["accuracy"] = {r: report.value("accuracy", r) for r in roles}
    for m in ("qa_perplexity", "distinct_2"):
        v[m] = {r: report.value(m, r) for r in ["forget", *roles]}
    tests = [r for r in roles if r in TEST_ROLES]
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
    return [r for r in data.present_roles() if r in TEST_ROLES]


# --- the grid ------------------------------------------------------------------------------

def _train_cfg(cfg, budget: str, epochs: float | None, steps: int | None, progress: bool):
    tc = dataclasses.replace(cfg.unlearn.train, seed=cfg.seed, progress=progress)
    if budget == "steps":
        n = steps if steps is not None else tc.max_steps
        if n is None or n < 1:
            raise InputError("a step budget needs a number of steps ≥ 1 (--steps N)", field="steps")
        return dataclasses.replace(tc, max_steps=int(n)), {"kind": "steps", "steps": int(n)}
    e = epochs if epochs is not None else tc.epochs
    if e is None or not 0 < e < float("inf"):   # also refuses nan
        raise InputError(f"an epoch budget needs finite epochs > 0 (--epochs N), got {e}", field="epochs")
    return dataclasses.replace(tc, max_steps=None, epochs=float(e)), {"kind": "epochs", "epochs": float(e)}


def compare(data: Any = None, *, methods: str | Sequence[str] = ("graddiff", "npo"),
            samplers: str | Sequence[str] = "all", config=None, model: Any = None, tokenizer: Any = None,
            gold: Any = None, run_dir: str | Path | None = None, calibrate: float | None = None,
            calibrate_metric: str = "model_utility", calibrate_tol: float = 0.01, budget: str | None = None,
            epochs: float | None = None, steps: int | None = None, method_args: dict[str, dict[str, Any]] | None = None,
            seeds: str | Sequence[int] | None = None, overwrite: bool = False, progress: bool = True,
            log: Log = print) -> CompareResult:
    """Run every method × sampler cell with the same seed and budget; see the module docstring.

    ``data``: as :func:`oblivio.resolve.load_data` (None = the embedded world). ``model``: the
    reference model — a local HF directory (re-loaded for every cell) or a loaded model with
    ``tokenizer`` (deep-copied for every cell); None with world data = the world's cached
    base model (its gold model then gives forget quality). ``gold``: a retrained model
    (directory or (model, tokenizer)). ``budget``: "epochs" (default; ``epochs`` or the
    config's ``unlearn.train.epochs``) or "steps" (``steps`` or ``unlearn.train.max_steps``);
    when unset it is "steps" if ``steps`` is given, else "epochs". ``method_args``: per-method
    arguments, e.g. ``{"npo": {"beta": 0.1}}``; the config's ``unlearn.args`` apply to
    ``unlearn.method`` only. ``seeds`` (``"0,1,2"`` or a list): every cell is unlearned once
    per seed (the training and pairing seed; the data and the reference and gold models stay
    those of ``config.seed``) and reported as mean ± sample sd over seeds.
    """
    from oblivio.config import Config, build_method
    from oblivio.data.neighbours import check_sampler
    from oblivio.data.samplers import get_sampler
    from oblivio.engine.unlearning import run_unlearning
    from oblivio.eval.embed import embedder_for
    from oblivio.eval.evaluate import EvalConfig, evaluate_model
    from oblivio.pipeline.models import check_sources, fresh, model_sources
    from oblivio.pipeline.references import evaluate_references
    from oblivio.pipeline.train import lora_spec
    from oblivio.report.rundir import preflight, run_folder
    from oblivio.resolve import load_data, main_process

    cfg = config or Config()
    if cfg.eval.metrics is None:
        cfg = dataclasses.replace(cfg, eval=dataclasses.replace(cfg.eval, metrics=list(COMPARE_METRICS)))
    if steps is not None and epochs is not None:
        raise InputError("give either epochs or steps as the budget, not both", field="budget")
    budget = budget or ("steps" if steps is not None else "epochs")
    if budget not in ("epochs", "steps"):
        raise InputError(f"unknown budget {budget!r} (known: epochs, steps)", field="budget")
    if calibrate is not None and not 0 < calibrate <= 1:
        raise InputError(f"calibration τ must be in (0, 1], got {calibrate}", field="calibrate")
    methods = _names(methods, "method")
    samplers = _names(samplers, "sampler")
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
    cal_fn: Callable[..., Any] | None = None
    if calibrate is not None:
        try:
            from oblivio.engine.calibrate import calibrate as _cal
            cal_fn = _cal
        except ImportError as e:
            raise InputError(f"calibration is not available in this version ({e}); run without "
                             "--calibrate", field="calibrate") from None

    t_all = time.perf_counter()
    source, gold_source, timings = model_sources(cfg, d, model=model, tokenizer=tokenizer, gold=gold,
                                                 progress=progress, log=log)
    # broken model folders are named before any evaluation; over-long items are cut once, for
    # every cell alike (data/context.py)
    d = check_sources(d, source, gold_source, cfg, log)

    main = main_process()
    ecfg: EvalConfig = cfg.eval
    emb = embedder_for(ecfg) if main else None
    c_note = None
    if main and emb is None and "embed_cosine" in (ecfg.metrics or ()):
        from oblivio.metrics.qa import EMBED_MISSING
        c_note = f"C skipped: {EMBED_MISSING} (pip install 'oblivio[embed]'); S0 values use P̄ and R only"
        log(c_note)
    roles = held_out_roles(d)
    reference: dict[str, dict[str, Any]] = {}
    reports: dict[str, Any] = {}
    out = Path(run_dir) if run_dir else None
    ctx = run_folder(out, main=main, overwrite=overwrite, kind="compare") if out else contextlib.nullcontext()
    cells: list[Cell] = []
    lora = lora_spec(cfg)
    with ctx as work:
        if main:   # the references, from the cache when evaluated before (eval/cache.py)
            t0 = time.perf_counter()
            evaluate_references(reports, {"gold": (lambda: fresh(gold_source, cfg)) if gold_source is not None
                                          else (None, None), "base": lambda: fresh(source, cfg)},
                                d, ecfg, embedder=emb, log=log)
            timings["eval_reference"] = time.perf_counter() - t0
            reference = {"base": summarize_report(reports["base"], d)}
            if "gold" in reports:
                reference["gold"] = summarize_report(reports["gold"], d)
        # --audit: every cell's unlearned model under every attack; base and gold once per seed
        audit_refs = _audit_refs(source, gold_source, cfg) if main and cfg.audit.enabled else None
        memos: dict[int, dict[Any, Any]] = {}
        n = len(methods) * len(samplers)
        for k, (m, s) in enumerate(((m, s) for m in methods for s in samplers), start=1):
            runs: list[dict[str, Any]] = []
            for sd in run_seeds:
                meth = build_method(m, margs[m])
                tc = dataclasses.replace(train_cfg, seed=sd)
                model_k, tok = fresh(source, cfg)
                pairs = len(get_sampler(s).epoch_pairs(d.forget, d.unlearning_retain(), epoch=0, seed=sd))
                t0 = time.perf_counter()
                model_k, res = run_unlearning(model_k, tok, d, meth, sampler=s, train_cfg=tc, lora=lora,
                                              options={"teacher": cfg.unlearn.teacher})
                secs = {"unlearn": time.perf_counter() - t0}
                run: dict[str, Any] = {"seed": sd, "steps": res.steps, "pairs_per_epoch": pairs, "seconds": secs,
                                       "stop_reason": res.stop_reason, "values": {}, "report": None,
                                       "calibration": None}
                if main:
                    t0 = time.perf_counter()
                    rep = evaluate_model(model_k, tok, d, cfg=ecfg, gold=reports.get("gold"), name=f"{m}/{s}",
                                         embedder=emb)
                    secs["eval"] = time.perf_counter() - t0
                    run["report"], run["values"] = rep, summarize_report(rep, d)
                    if cal_fn is not None and calibrate is not None:
                        t0 = time.perf_counter()
                        ref_model, _ = fresh(source, cfg)
                        cr = cal_fn(ref_model, model_k, tok, d, tau=float(calibrate), utility_metric=calibrate_metric,
                                    tol=calibrate_tol, eval_cfg=ecfg, base_report=reports["base"],
                                    gold=reports.get("gold"))
                        # the search evaluates without embeddings; the chosen model is re-evaluated with
                        # them, so its row is comparable with the uncalibrated table
                        cal_rep = cr.report if emb is None else evaluate_model(
                            cr.model, tok, d, cfg=ecfg, gold=reports.get("gold"), name=f"{m}/{s}@calibrated",
                            embedder=emb)
                        secs["calibrate"] = time.perf_counter() - t0
                        run["calibration"] = {"alpha": cr.alpha, "utility": cr.utility, "target": cr.target,
                                              "original_utility": cr.original_utility, "sweep": _plain(cr.sweep),
                                              "evaluations": cr.evaluations, "values": summarize_report(cal_rep, d),
                                              "metric": calibrate_metric}
                        del ref_model, cr, cal_rep
                    if audit_refs is not None:
                        t0 = time.perf_counter()
                        run["audit"] = _audit_cell(audit_refs, model_k, tok, d, cfg, sd, memos.setdefault(sd, {}), log)
                        run["values"]["audit"] = _audit_values(run["audit"])
                        secs["audit"] = time.perf_counter() - t0
                    v, cal = run["values"], run["calibration"]
                    log(f"[{k}/{n}] {m} × {s}" + (f" (seed {sd})" if seed_list else "")
                        + f": {res.steps} steps ({pairs} pairs/epoch) in {secs['unlearn']:.1f}s; "
                        f"forget efficacy {_fmt(v['forget_efficacy'])}, test utility "
                        + ", ".join(f"{r} {_fmt(v['utility'].get(r))}" for r in roles)
                        + (f"; calibrated α {_fmt(cal['alpha'])}, forget efficacy "
                           f"{_fmt(cal['values']['forget_efficacy'])}" if cal else ""))
                runs.append(run)
                del model_k
            cells.append(cell_from_runs(Cell, m, s, runs, train_cfg, multi=seed_list is not None))
            if work is not None and main:
                write_compare(work, d, cfg, cells, reference, budget_info, methods, samplers, roles, timings,
                              c_note, calibrate, final=False, seeds=seed_list)
        timings["total"] = time.perf_counter() - t_all
        table = markdown_table(cells, reference, roles, ci=ecfg.show_ci) if main else ""
        cal_table = (calibrated_markdown(cells, roles, float(calibrate))
                     if (main and cal_fn is not None and calibrate is not None) else "")
        files: dict[str, Path] = {}
        if work is not None and main:
            files = write_compare(work, d, cfg, cells, reference, budget_info, methods, samplers, roles, timings,
                                  c_note, calibrate, final=True, table=table, cal_table=cal_table, seeds=seed_list)
    if out is not None:
        files = {k: out / p.name for k, p in files.items()}
    return CompareResult(cells=cells, reference=reference, budget=budget_info, table=table,
                         calibrated_table=cal_table, run_dir=out, files=files)


def _audit_refs(source: Any, gold_source: Any, cfg) -> dict[str, tuple[Any, Any]]:
    from oblivio.pipeline.models import fresh
    refs = {"base": fresh(source, cfg)}
    if gold_source is not None:
        refs["gold"] = fresh(gold_source, cfg)
    return refs


def _audit_cell(refs: dict[str, tuple[Any, Any]], model: Any, tok: Any, d: UnlearningData, cfg, seed: int,
                memo: dict[Any, Any], log) -> dict[str, Any]:
    """The audit record of one cell (attacks/audit.py); base and gold results come from ``memo``
    after the first cell of a seed."""
    from oblivio.attacks.audit import run_audit
    return run_audit({**refs, "unlearned": (model, tok)}, d, attacks=cfg.audit.attacks or None, seed=seed,
                     eval_cfg=cfg.eval, memo=memo, memo_models=tuple(refs), log=log)


def _audit_values(rec: dict[str, Any]) -> dict[str, Any]:
    from oblivio.attacks.audit import audit_values
    return audit_values(rec)


def _plain(x: Any) -> Any:
    """JSON-friendly copy of a calibration sweep (floats, strings, lists, dicts)."""
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items() if not hasattr(v, "parameters")}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, (int, float, str, bool)) or x is None:
        return x
    if hasattr(x, "item"):
        return x.item()
    return str(x)
