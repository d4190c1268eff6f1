"""The run: one object under ``unlearn``, ``demo``, ``reveal``, every ``compare`` cell and the
audit of a finished folder, with fixed stages

    resolve → references → train → post-steps → write

* **resolve** — the config with the given arguments written in (so that config.yaml alone
  reproduces the run), the data, the method and sampler checked before any work, the models
  (one loader: pipeline/models.py ``ModelSource``) and the data cut to their context;
* **references** — gold and base evaluated once, through the on-disk cache (pipeline/references.py);
* **train** — the unlearning run with checkpoint evaluation and selection (pipeline/train.py),
  then the unlearned model's evaluation; skipped with ``unlearn.enabled: false`` (the model is
  post-stepped as given and not saved: ``oblivio reveal``, presets.REVEAL_PRESET);
* **post-steps** — every name in the config's ``post_steps`` (``audit`` too when
  ``audit.enabled``), registered in ``registry.POST_STEPS`` (oblivio/post_steps/, pipeline/post.py);
* **write** — the run folder, once: model, config.yaml, results.json, summary.md, report.html
  (pipeline/write.py).

A preset is a config (and, where a command needs one, a ``Run`` argument), not another pipeline:
``demo`` = the embedded world with presets.DEMO_DEFAULTS and the ``base_recall`` post-step;
``reveal`` = presets.REVEAL_PRESET (no training, no evaluation) with the ``reveal`` post-step.

:meth:`Run.from_folder` loads a finished run folder for post-steps alone (``oblivio audit``):
the folder is rebuilt beside itself with hard links to its files, the post-steps add theirs, and
the new version replaces the old in one step (report/rundir.py), so an interrupted audit leaves
the run as it was.
"""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from oblivio.config import Config, build_method
from oblivio.errors import InputError
from oblivio.eval.evaluate import EvalReport
from oblivio.progress import say
from oblivio.resolve import load_data, main_process

Log = Callable[[str], None]


@dataclass
class UnlearnResult:
    """What a run returns: the unlearned model, its reports, the folder (None without one),
    the training record, the timings, the results table and the checkpoint evaluation."""

    model: Any
    tokenizer: Any
    reports: dict[str, EvalReport]
    run_dir: Path | None
    training: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)
    table: str = ""
    control: dict[str, Any] | None = None   # checkpoint evaluation: curves, selected_step, eval_share
    results: dict[str, Any] = field(default_factory=dict)   # results.json's other keys: post_steps, audit, …
    outputs: dict[str, Any] = field(default_factory=dict)   # post-steps' objects for the caller (RunContext.outputs)

    @property
    def post_steps(self) -> dict[str, Any]:
        """What each post-step returned (results.json ``post_steps``)."""
        return dict(self.results.get("post_steps", {}))


def post_step_names(cfg: Config) -> list[str]:
    """The post-steps a run executes, in order: the config's ``post_steps``, then ``audit`` when
    ``audit.enabled`` asks for it and the list does not name it already."""
    names = list(cfg.post_steps)
    if cfg.audit.enabled and "audit" not in names:
        names.append("audit")
    return names


@dataclass
class Run:
    """One run of ``cfg`` (see the module docstring). ``model``/``tokenizer``/``gold``/``data``
    are objects or paths given besides the config (None: the config's); ``model`` may be a
    :class:`~oblivio.pipeline.models.ModelSource` that a grid shares between its runs (each run
    loads a fresh copy from it); ``data`` None with a config that names none is the embedded
    world, except for a run that neither trains nor evaluates and has a model of its own, which
    needs none (``oblivio reveal --model M --keywords …``). ``out`` the run folder (None:
    nothing written); ``saved`` the inputs.json of a run being resumed; ``shared`` a dict that
    lives as long as a grid of runs (post-steps memoise the reference models' results there);
    ``references`` the base and gold evaluations when a grid made them already (on this data and
    eval config); ``kind`` the run folder's marker kind."""

    cfg: Config
    model: Any = None
    tokenizer: Any = None
    gold: Any = None
    data: Any = None
    out: Path | None = None
    overwrite: bool = False
    resume: bool = False
    saved: dict[str, Any] | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    callbacks: Sequence[Any] = ()
    progress: bool = True
    log: Log = say
    shared: dict[str, Any] = field(default_factory=dict)
    references: dict[str, EvalReport] | None = None
    kind: str = "unlearn"

    @classmethod
    def from_args(cls, model: Any = None, data: Any = None, *, tokenizer: Any = None, gold: Any = None,
                  method: str | None = None, method_args: dict[str, Any] | None = None, sampler: str | None = None,
                  config: Config | None = None, run_dir: str | Path | None = None,
                  evaluate_models: bool | None = None, resume: str | Path | None = None,
                  allow_plugins: bool = False, **kw: Any) -> Run:
        """A run from ``api.unlearn``'s arguments: written into the config, or (``resume``) the
        interrupted run's own config.yaml and inputs. ``model`` may be a ModelSource (a grid's):
        the config then names its folders."""
        from oblivio.pipeline import resume as R
        from oblivio.pipeline.models import named_inputs
        saved: dict[str, Any] | None = None
        if resume is not None:
            model, data, gold, config, run_dir, evaluate_models, saved = R.resume_inputs(
                resume, model, data, gold, config, run_dir, evaluate_models, allow_plugins=allow_plugins)
        named, named_gold = named_inputs(model, gold)      # what config.yaml and inputs.json say of them
        cfg = R.run_config(config or Config(), model=named, data=data, gold=named_gold,
                           evaluate_models=evaluate_models, method=method, method_args=method_args, sampler=sampler)
        return cls(cfg, model=model, tokenizer=tokenizer, gold=gold, data=data,
                   out=Path(run_dir) if run_dir is not None else None, resume=resume is not None, saved=saved,
                   inputs=R.run_inputs(named, data, named_gold, evaluate_models), **kw)

    # --- the stages -------------------------------------------------------------------------

    def execute(self) -> UnlearnResult:
        """Every stage in order; the run folder appears complete at the end or not at all."""
        from oblivio.progress import silenced
        st = _State(t_all=time.perf_counter())
        with silenced(not self.progress):
            return self._execute(st)

    def _execute(self, st: _State) -> UnlearnResult:
        self._check(st)
        self._resolve(st)
        ctx = (self._folder() if self.out is not None else contextlib.nullcontext())
        with ctx as work:
            st.work = work
            resume_from = self._start(st)
            self._references(st)
            self._train(st, resume_from)
            self._post_steps(st)
            self._write(st)
        return UnlearnResult(st.model, st.tokenizer, st.reports, self.out, st.trained.training, st.timings,
                             st.table, st.trained.control, st.extra, st.outputs)

    def _check(self, st: _State) -> None:
        """Everything that can be refused before a model is loaded or a folder made."""
        from oblivio.data.neighbours import check_sampler, choose_sampler
        from oblivio.pipeline import resume as R
        from oblivio.pipeline.post import check_post_steps
        from oblivio.report.rundir import preflight
        cfg = self.cfg
        if self.resume and cfg.control.evaluates():
            raise InputError("a run with checkpoint evaluation (control.eval_every) cannot be resumed: its "
                             "curves and kept weights are not in the checkpoints", field="--resume")
        if self.resume and _num_processes() > 1:
            raise InputError("resume an interrupted run in a single process", field="--resume")
        if self.out is not None and main_process():   # the output folder before any work (also '')
            preflight(self.out, overwrite=self.overwrite, resume=self.resume)
        st.data = self._data()
        if st.data is not None:
            R.record_data(self.inputs, st.data, self.saved, cfg)       # a resume refuses changed data
        if cfg.unlearn.enabled:
            st.method = build_method(cfg.unlearn.method, cfg.unlearn.args)
            sampler, rule = choose_sampler(st.data, cfg.unlearn.sampler)
            if cfg.unlearn.sampler is None:     # left to the data: which one, and why
                self.log(f"sampler: {sampler} ({rule})")
            check_sampler(st.data, sampler, seed=cfg.seed)   # missing roles fail before any work
            self.log(f"forget targets: {', '.join(st.data.targets) or '-'}"
                     + (f" ({st.data.targets_rule})" if st.data.targets_rule else ""))
        check_post_steps(post_step_names(cfg))

    def _data(self) -> Any:
        """The run's data (see the class docstring): given, else the config's."""
        cfg = self.cfg
        if self.data is None and cfg.data.path is None and not (cfg.unlearn.enabled or cfg.eval.enabled) \
                and (self.model is not None or cfg.model.path is not None):
            return None
        return load_data(self.data if self.data is not None else cfg.data.path, cfg)

    def _resolve(self, st: _State) -> None:
        """The models (a fresh copy from the run's ModelSource), and the data cut to their context.
        The gold model is loaded when something uses it: a folder given for it, or the world's
        when the run evaluates (without a grid's references), stops at gold or is audited."""
        from oblivio.engine.efficiency import n_parameters
        from oblivio.pipeline.models import ModelSource, fit
        cfg = self.cfg
        src = self.model
        if not isinstance(src, ModelSource):
            src = ModelSource.resolve(cfg, st.data, model=self.model, tokenizer=self.tokenizer, gold=self.gold,
                                      progress=self.progress, log=self.log)
            st.timings.update(src.timings)       # a grid's source learned its models once, for all runs
        st.source = src
        st.model, st.tokenizer = src.load()
        need_gold = (cfg.eval.enabled and self.references is None) or cfg.control.stop_at_gold \
            or "audit" in post_step_names(cfg)
        if need_gold or not src.world_gold:
            st.gold, st.gold_tokenizer = src.gold()
        if st.data is not None:
            st.data, st.cut = fit(st.data, st.model, st.tokenizer)
        st.n_params = n_parameters(st.model)

    def _folder(self):
        from oblivio.report.rundir import run_folder
        assert self.out is not None
        return run_folder(self.out, main=main_process(), overwrite=self.overwrite, resume=self.resume,
                          kind=self.kind)

    def _start(self, st: _State) -> Path | None:
        """What a resume needs, written first (config.yaml, inputs.json); a resumed run's checkpoint."""
        from oblivio.pipeline import resume as R
        if st.work is None or not main_process():
            return None
        return R.start_run(st.work, self.cfg, self.inputs, self.resume)

    def _references(self, st: _State) -> None:
        """Gold and base evaluated (from the cache when evaluated before)."""
        from oblivio.engine.efficiency import count_tokens
        from oblivio.eval.embed import embedder_for
        from oblivio.pipeline.references import evaluate_references
        if not (self.cfg.eval.enabled and main_process()):
            return
        st.embedder = embedder_for(self.cfg.eval)
        if self.references is not None:          # a grid evaluated them once for all its runs
            st.reports.update(self.references)
            st.extra["reference_cache"] = {k: "given" for k in self.references}
            return
        t0 = time.perf_counter()
        with count_tokens(st.model, st.gold) as counted:   # a cache hit feeds the models no tokens
            st.extra["reference_cache"] = evaluate_references(
                st.reports, {"gold": (st.gold, st.gold_tokenizer), "base": (st.model, st.tokenizer)}, st.data,
                self.cfg.eval, embedder=st.embedder, log=self.log)
        st.tokens += counted.tokens
        st.timings["eval_before"] = time.perf_counter() - t0

    def _train(self, st: _State, resume_from: Path | None) -> None:
        """Unlearning (with checkpoint evaluation and selection when asked for), then the
        unlearned model's evaluation; nothing with ``unlearn.enabled: false``."""
        from oblivio.engine.efficiency import count_tokens
        from oblivio.eval.evaluate import evaluate_model
        from oblivio.pipeline.train import Trained, unlearn_model
        if not self.cfg.unlearn.enabled:
            st.trained = Trained(st.model, None, {"steps": 0, "skipped": "unlearn.enabled is false: the model "
                                                  "is unchanged"}, None, 0.0)
            return
        st.trained = unlearn_model(self.cfg, st.model, st.tokenizer, st.data, st.method, gold=st.gold,
                                   gold_tokenizer=st.gold_tokenizer, work=st.work, callbacks=self.callbacks,
                                   resume_from=resume_from, progress=self.progress, log=self.log)
        st.model = st.trained.model
        st.timings["unlearn"] = st.trained.seconds
        if main_process() and self.cfg.eval.enabled:
            t0 = time.perf_counter()
            with count_tokens(st.model) as counted:
                st.reports["unlearned"] = evaluate_model(st.model, st.tokenizer, st.data, cfg=self.cfg.eval,
                                                         gold=st.reports.get("gold"), name="unlearned",
                                                         embedder=st.embedder, portion=self.cfg.eval.portion,
                                                         log=self.log)
            st.tokens += counted.tokens
            st.timings["eval_after"] = time.perf_counter() - t0

    def _post_steps(self, st: _State) -> None:
        """The post-steps the config names, on the main process."""
        from oblivio.pipeline.post import RunContext, run_post_steps
        names = post_step_names(self.cfg)
        if not (main_process() and names):
            return
        ctx = RunContext(self.cfg, st.data, st.model, st.tokenizer, st.reports, st.work, st.gold,
                         st.gold_tokenizer, reference=st.source.reference, log=self.log, extra=st.extra,
                         timings=st.timings, shared=self.shared, progress=self.progress, outputs=st.outputs)
        st.extra["post_steps"] = run_post_steps(ctx, names)
        st.tokens += ctx.tokens

    def _write(self, st: _State) -> None:
        """results.json and the rest of the run folder, once."""
        from oblivio.engine.efficiency import efficiency_record
        from oblivio.pipeline.train import peak_memory
        from oblivio.pipeline.write import write_unlearn_run
        from oblivio.report.results import table
        st.timings["total"] = time.perf_counter() - st.t_all
        st.extra["efficiency"] = efficiency_record(n_params=st.n_params, timings=st.timings,
                                                   training=st.trained.training, inference_tokens=st.tokens,
                                                   memory=peak_memory())
        st.table = table(st.reports, ci=self.cfg.eval.show_ci) if st.reports else ""
        if st.work is not None and main_process():
            write_unlearn_run(st.work, self.out, cfg=self.cfg, model=st.model, tokenizer=st.tokenizer,
                              reports=st.reports, timings=st.timings, data=st.data, cut=st.cut,
                              training=st.trained.training, control=st.trained.control, extra=st.extra)


@dataclass
class _State:
    """What the stages of one run hand each other."""

    t_all: float
    data: Any = None
    method: Any = None
    source: Any = None           # pipeline.models.ModelSource
    model: Any = None
    tokenizer: Any = None
    gold: Any = None
    gold_tokenizer: Any = None
    cut: Any = None
    n_params: int = 0
    embedder: Any = None
    work: Path | None = None
    trained: Any = None          # pipeline.train.Trained
    reports: dict[str, EvalReport] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    tokens: int = 0
    table: str = ""


def _num_processes() -> int:
    from oblivio.engine.dist import state
    return state().num_processes


def apply_post_steps(run: str | Path, names: Sequence[str], *, config: Config | None = None, gold: Any = None,
                     progress: bool = True, log: Log = say) -> dict[str, Any]:
    """Post-steps on a finished ``unlearn`` run folder (``oblivio audit RUN``): its saved
    config (``config``: that config with the command line's changes), its unlearned ``model/``,
    its base model (``model.path`` or the world's cached base: a fresh copy for every
    ``ctx.reference()``) and gold (``gold``, ``model.gold`` or the world's). The new version of
    the folder is built beside it — hard links to every file the post-steps do not rewrite — and
    replaces it in one step (report/rundir.py ``new_version``); a failure leaves the folder as it
    was. Returns results.json as written. ``progress=False``: no progress line or bar."""
    from oblivio.progress import silenced
    with silenced(not progress):
        return _apply_post_steps(Path(run), names, config=config, gold=gold, progress=progress, log=log)


def _apply_post_steps(run_path: Path, names: Sequence[str], *, config: Config | None, gold: Any, progress: bool,
                      log: Log) -> dict[str, Any]:
    from oblivio.engine.efficiency import efficiency_record, n_parameters
    from oblivio.pipeline.models import ModelSource, finished_run, fit
    from oblivio.pipeline.post import RunContext, check_post_steps, run_post_steps
    from oblivio.pipeline.train import peak_memory
    from oblivio.pipeline.write import run_report
    from oblivio.report.results import read_results, refresh_summary, write_json
    from oblivio.report.rundir import is_run_folder, new_version
    cfg, _ = finished_run(run_path, config, load_unlearned=False)
    check_post_steps(list(names))            # a typo fails before any model is loaded
    if not (run_path / "results.json").is_file() or not is_run_folder(run_path):
        raise InputError("not a finished oblivio unlearn run folder (no results.json or marker)", file=str(run_path))
    results = read_results(run_path / "results.json")
    d = load_data(cfg.data.path, cfg)
    _, (unlearned, tokenizer) = finished_run(run_path, cfg)
    source = ModelSource.resolve(cfg, d, gold=gold, progress=progress, log=log)   # model.path, or the world's
    gold_model, gold_tok = source.gold()
    # the same items as the run's evaluation: the unlearned model was saved from the base, with
    # its context and tokenizer
    d, _ = fit(d, unlearned, tokenizer)
    with new_version(run_path) as work:
        timings: dict[str, float] = {}
        ctx = RunContext(cfg, d, unlearned, tokenizer, {}, work, gold_model, gold_tok, reference=source.reference,
                         log=log, extra=results, timings=timings, progress=progress)
        done = run_post_steps(ctx, list(names))
        results["post_steps"] = {**results.get("post_steps", {}), **done}
        results["efficiency"] = efficiency_record(n_params=n_parameters(unlearned), timings=timings, training={},
                                                  inference_tokens=ctx.tokens, memory=peak_memory(),
                                                  previous=results.get("efficiency"))
        write_json(work / "results.json", results)
        refresh_summary(work, results)
        run_report(work, run_path)
    return results
