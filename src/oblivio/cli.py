"""The ``oblivio`` command line. It parses and validates, then calls ``oblivio.api`` only.

Subcommands: demo, world, learn, unlearn, reveal, eval, calibrate, compare, report, leaderboard, audit, judge,
ls. Heavy
modules are imported inside the subcommands, so ``oblivio --help`` and ``oblivio ls`` answer at once.
Bad input exits with code 2 and one message naming file, line and field; a problem of the machine
(disk full, permissions) or an unexpected error exits 1 with one line (`--debug`: the traceback); a
diverged training run exits 3. Results (tables, verdict lines, the paths written, the audit's one
line) go to stdout; progress (each phase with its time, bars) to stderr, and ``--quiet`` silences
it (oblivio/progress.py).
"""
from __future__ import annotations

import argparse
import errno
import os
import sys
from typing import Any, Sequence

from oblivio.cli_args import CONFIG_DESTS, NON_CONFIG_FLAGS, build_parser, cli_overrides  # noqa: F401 (re-exported)
from oblivio.progress import say  # progress: the log every command hands the API (stderr)


def _config(args: argparse.Namespace, extra: dict[str, Any] | None = None):
    from oblivio.config import load_config, merge, parse_overrides
    over = merge(cli_overrides(args), extra or {})
    over = merge(over, parse_overrides(args.overrides))
    base = None
    if args.cmd == "demo":
        from oblivio.api import DEMO_DEFAULTS
        from oblivio.presets import REAL_DEMOS
        base = DEMO_DEFAULTS
        real = over.get("world", {}).get("preset")
        if real in REAL_DEMOS:       # a real model's demo: its own model, data and recipe
            over["world"].pop("preset")
            return _checked(load_config(args.config, over, base=REAL_DEMOS[real]))
        # another --method drops the default's method arguments in load_config (config._layer)
    return _checked(load_config(args.config, over, base=base))


def _check_outputs(args: argparse.Namespace) -> None:
    """Every output path is checked before any work (nothing is loaded or trained yet)."""
    from oblivio.paths import check_writable
    out = getattr(args, "out", None)
    if out is None:
        return
    if args.cmd == "learn":
        from oblivio.report.rundir import preflight
        check_writable(out, kind="dir")
        preflight(out, overwrite=args.overwrite)   # an oblivio folder of its own, replaced only with --overwrite
    elif args.cmd == "world" or (args.cmd == "reveal" and out.lower().endswith(".jsonl")):
        check_writable(out, kind="file", overwrite=args.overwrite)   # reveal: the run folder beside it too
        if args.cmd == "reveal":
            check_writable(os.path.splitext(out)[0], kind="dir")
    elif args.cmd == "eval":
        check_writable(out, kind="file", parent_must_exist=True, overwrite=args.overwrite)
    else:
        check_writable(out, kind="dir")


def _out(msg: str) -> None:
    """A result (a table, a verdict line, a path written) on stdout, from the main process.
    Progress goes to stderr instead (oblivio/progress.py ``say``), so ``oblivio eval > t.txt``
    keeps only results, and ``--quiet`` leaves them alone."""
    from oblivio.engine.dist import state
    if state().is_main_process:
        print(msg, flush=True)


def cmd_ls() -> None:
    import oblivio.methods  # noqa: F401
    import oblivio.metrics  # noqa: F401
    from oblivio.data.samplers import SAMPLERS
    from oblivio.methods.base import METHODS
    from oblivio.metrics.base import METRICS

    def first(doc: str | None) -> str:
        return (doc or "").strip().splitlines()[0] if doc else ""
    print("methods:")
    for n, cls in METHODS.items():
        print(f"  {n:<22}{first(cls.__doc__)}")
    print("samplers:")
    for n, cls in SAMPLERS.items():
        print(f"  {n:<22}{first(cls.__doc__)}")
    print("metrics (good on forget / on retain):")
    for n, m in METRICS.items():
        print(f"  {n:<22}[{m.scope}; {m.on_forget} / {m.on_retain}] {first(m.description)}")
    from oblivio.attacks import ATTACKS
    print("attacks (oblivio audit):")
    for n, cls in ATTACKS.items():
        print(f"  {n:<22}{first(cls.__doc__)} [{getattr(cls, 'paper', '')}]")
    from oblivio.registry import JUDGES, TEACHERS
    print("teachers (--method tru: --teacher):")
    for n, cls in TEACHERS.items():
        print(f"  {n:<22}{first(cls.__doc__)}")
    print("judges (UQ/RQ: --judge):")
    for n, cls in JUDGES.items():
        print(f"  {n:<22}{first(cls.__doc__)}")


def run(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run its subcommand (one handler per subcommand, :data:`COMMANDS`)."""
    ap = build_parser()
    args = ap.parse_args(argv)
    if args.version:
        from oblivio import __version__
        print(__version__)
        return 0
    if args.cmd is None:
        ap.print_help()
        return 0
    if args.cmd == "ls":
        cmd_ls()
        return 0
    if getattr(args, "out", None) is not None and not args.out.strip():
        from oblivio.errors import InputError
        raise InputError("must not be empty", field="--out")
    from oblivio.progress import silenced
    quiet = bool(getattr(args, "quiet", False))
    with silenced(quiet):       # --quiet: no progress line or bar of ours (results still on stdout)
        if args.cmd in ("report", "leaderboard", "judge"):   # no model is loaded (judge: quiets them if it loads one)
            return COMMANDS[args.cmd](args, False)
        if quiet:               # other libraries' bars (read when tqdm is first imported)
            os.environ.setdefault("TQDM_DISABLE", "1")
        _quiet_libraries()
        _check_outputs(args)
        handler = COMMANDS.get(args.cmd)
        if handler is None:
            ap.error(f"unknown command {args.cmd}")   # exits (status 2)
        return handler(args, not quiet)


def _report(args: argparse.Namespace, progress: bool) -> int:
    from oblivio.report.html import write_report
    dest = args.out or (os.path.join(args.runs[0], "report.html") if len(args.runs) == 1 else "report.html")
    path = write_report(args.runs, dest, title=args.title, overwrite=args.overwrite)
    print(f"report: {path}")
    return 0


def _leaderboard(args: argparse.Namespace, progress: bool) -> int:
    """The table to stdout, or to --out (then its path to stderr); the format: --format, else
    the --out file's extension when it names one, else Markdown."""
    from oblivio import api
    from oblivio.report.leaderboard import FORMATS
    ext = os.path.splitext(args.out or "")[1].lower().lstrip(".")
    fmt = args.format or {"htm": "html", "markdown": "md"}.get(ext, ext if ext in FORMATS else "md")
    text = api.leaderboard(args.runs, fmt=fmt, out=args.out, sort=args.sort, overwrite=args.overwrite)
    if args.out:
        print(f"leaderboard: {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _reveal(args: argparse.Namespace, progress: bool) -> int:
    """A run with the ``reveal`` post-step and no training (reveal/command.py)."""
    from oblivio import api
    cfg = _config(args)
    res = api.reveal(config=cfg, out=args.out or _shared_run_dir("reveal"), overwrite=args.overwrite,
                     progress=progress, log=say)
    _out(f"best instruction: {res.search.best().instruction.text!r} (score {res.search.best().score:.3f}); "
         f"{len(res.search.queries)} queries; diversity by {res.search.diversity_backend} embeddings")
    if res.run_dir is not None:
        _out(f"run folder: {res.run_dir} (revealed.jsonl: {len(res.rows)} forget rows; results.json, config.yaml)")
        _track(cfg, res.run_dir, "reveal")
    return 0


def _world(args: argparse.Namespace, progress: bool) -> int:
    from oblivio import api
    from oblivio.data.schema import summarize, write_jsonl
    data = api.load_data("world", _config(args))   # data.path is not the world: never read here
    write_jsonl(data.items, args.out)
    print(f"wrote {len(data.items)} items to {args.out}: {summarize(data.items)}; "
          f"targets: {', '.join(data.targets)}")
    return 0


def _demo(args: argparse.Namespace, progress: bool) -> int:
    from oblivio import api
    res = api.demo(config=_config(args), run_dir=args.out, progress=progress, overwrite=args.overwrite, log=say)
    _finish(res)
    return 0


def _unlearn(args: argparse.Namespace, progress: bool) -> int:
    """Everything comes from the config (flags are config keys): config.yaml alone reproduces the
    run; ``--audit`` is the run's ``audit`` post-step (audit.enabled)."""
    from oblivio import api
    if args.resume is not None:
        return _resume(args, progress)
    cfg = _config(args)
    out = args.out or _shared_run_dir("unlearn")
    res = api.unlearn(cfg.model.path, cfg.data.path, gold=cfg.model.gold, config=cfg, run_dir=out,
                      overwrite=args.overwrite, progress=progress, log=say)
    _finish(res)
    return 0


def _saved_config(args: argparse.Namespace):
    """A finished run's config.yaml with the command line's changes (``audit``, ``calibrate``)."""
    from pathlib import Path

    from oblivio.config import load_config, merge, parse_overrides
    from oblivio.errors import InputError
    if args.run is None:
        raise InputError(f"name the run folder: oblivio {args.cmd} RUN", field="RUN")
    cfg_file = Path(args.run) / "config.yaml"
    if not cfg_file.is_file():
        raise InputError("not a finished unlearn run folder (no config.yaml)", file=args.run)
    return _checked(load_config(cfg_file, merge(cli_overrides(args), parse_overrides(args.overrides))))


def _checked(cfg: Any) -> Any:
    """``cfg``, its trackers (``--log-with``) checked before any work: a typo fails at once."""
    if cfg.unlearn.train.log_with:
        from oblivio.engine.tracking import check_trackers
        check_trackers(cfg.unlearn.train.log_with)
    return cfg


def _audit(args: argparse.Namespace, progress: bool) -> int:
    from pathlib import Path

    from oblivio import api
    cfg = _saved_config(args)
    api.audit(args.run, config=cfg, progress=progress, log=say)
    _out(f"audit: {Path(args.run) / 'audit.json'} (and results.json's 'audit' key, report.html)")
    _track(cfg, Path(args.run), "audit")
    _verdict(args.run)        # ends with the audit's one-line summary
    return 0


def _calibrate(args: argparse.Namespace, progress: bool) -> int:
    from oblivio import api
    cfg = _saved_config(args)
    res = api.calibrate(args.run, config=cfg, out=args.out, overwrite=args.overwrite, progress=progress,
                        log=say)   # τ, tolerance and metric: cfg.calibrate
    _out(res.table)
    _out("α sweep: " + ", ".join(f"α={r['alpha']:.3f} utility {r['utility']:.3f}" for r in res.sweep))
    if res.run_dir is not None:
        _out(f"calibrated model: {res.run_dir} (model/, results.json)")
        _track(cfg, res.run_dir, "calibrate")
    return 0


def _compare(args: argparse.Namespace, progress: bool) -> int:
    from oblivio import api
    from oblivio.data.spec import data_scheme
    cfg = _config(args)
    spec: str | None = cfg.data.path
    if data_scheme(spec) == ("world", ""):     # bare world: the config's world, as no data
        spec = None
    out = args.out or _shared_run_dir("compare")
    # the budget is the config's: max_steps set = equal steps, epochs set = equal epochs, neither =
    # by the model's scale (experiments/compare.py)
    res = api.compare(spec, config=cfg, model=cfg.model.path, gold=cfg.model.gold, run_dir=out,
                      overwrite=args.overwrite, progress=progress, log=say)   # the grid: cfg.compare
    _out(res.table)
    for label, lines in res.verdicts.items():       # --world-seeds: verdicts over the worlds
        _out(f"{label}, verdicts over worlds:\n" + "\n".join("  " + ln for ln in lines))
    if res.calibrated_table:
        _out(f"calibrated (τ = {cfg.compare.calibrate:g}):\n" + res.calibrated_table)
    _out(f"compare folder: {res.run_dir} (" + ", ".join(p.name for p in res.files.values())
         + ", runs/: one run folder per cell)")
    return 0


def _eval(args: argparse.Namespace, progress: bool) -> int:
    from pathlib import Path

    from oblivio import api
    from oblivio.config import to_dict
    from oblivio.report.results import model_source, table, write_json
    from oblivio.report.verdict import eval_record, verdict_lines
    cfg = _config(args)
    if cfg.unlearn.train.log_with and not args.out:
        from oblivio.errors import InputError
        raise InputError("--log-with writes beside the evaluation: give --out FILE (the trackers go to its "
                         "folder's tracking/)", field="--log-with")
    refs: dict[str, Any] = {}
    rep = api.evaluate(cfg.model.path, cfg.data.path, gold=cfg.model.gold, config=cfg, name="model",
                       references=refs, log=say)
    print(table({"model": rep}, ci=cfg.eval.show_ci))
    if args.out:
        src = model_source(to_dict(cfg))     # the GGUF file a converted model came from
        write_json(Path(args.out), {**rep.to_json(), **({"model_source": src} if src else {})})
        print(f"wrote {args.out}")
        _track(cfg, Path(args.out).resolve().parent, Path(args.out).stem, rep.to_json(per_item=False))
    # the verdicts of what was evaluated: the model in the unlearned model's place, against the
    # gold model when one was given (no base: "kept" says why it is not available)
    gold = refs.get("gold")
    for line in verdict_lines(eval_record(rep.to_json(), gold.to_json() if gold is not None else None,
                                          to_dict(cfg))):
        print(line)
    return 0


def _judge(args: argparse.Namespace, progress: bool) -> int:
    """UQ and RQ of one answer, each with its three criteria, on stdout."""
    from oblivio import api
    from oblivio.judges.base import FORGET_CRITERIA, RETAIN_CRITERIA
    cfg = _config(args)
    if cfg.eval.judge.kind != "rule":     # an LLM judge loads a model or a client library
        if args.quiet:
            os.environ.setdefault("TQDM_DISABLE", "1")
        _quiet_libraries()
    res = api.judge(args.question, args.answer, truth=args.truth, subject=args.subject, kind=args.kind, config=cfg)
    if not (args.truth or "").strip():
        print("no --truth: nothing can leak (rejection) and nothing is specific (specificity)", file=sys.stderr)
    for name, crit in (("uq", FORGET_CRITERIA), ("rq", RETAIN_CRITERIA)):
        if name not in res:
            continue
        v = res[name]
        if v is None:
            print(f"{name.upper()} –  (the {cfg.eval.judge.kind} judge's verdict did not parse)")
        else:
            print(f"{name.upper()} {v[name]:.2f}  (" + ", ".join(f"{c} {v[c]:.2f}" for c in crit) + ")")
    return 0


# what a resumed run may be given besides --resume: everything else comes from its config.yaml
# (--allow-plugins is the permission, not a setting: the plugins that config.yaml names need it)
_RESUME_KEEPS = {"cmd", "version", "resume", "quiet", "out", "overrides", "allow_plugins"}


def _learn(args: argparse.Namespace, progress: bool) -> int:
    """`oblivio learn`: the cached base and gold models (tiny ones trained from scratch, or
    ``--model`` fine-tuned), copied into ``--out`` when given."""
    from oblivio import api
    cfg = _config(args)
    if cfg.data.path and getattr(args, "world.preset", None):
        from oblivio.errors import InputError
        raise InputError(f"--preset sizes the embedded world; it does not apply to --data/data.path "
                         f"({cfg.data.path})", field="--preset")
    from oblivio.engine.finetuning import LearnedModels, scale_table
    res = api.learn(None, config=cfg, progress=progress, log=say)
    found = {n: d for n, d in (("base", res.base_dir), ("gold", res.gold_dir)) if d is not None}
    # fine-tuned models (--model): the scale each was learned at; tiny models: whether the base
    # answers the rows it was trained on (engine/learning.py base_recall; a warning when not)
    records, cached = (res.records, res.cached) if isinstance(res, LearnedModels) else (None, None)
    recall = None if isinstance(res, LearnedModels) else res.recall
    if recall is not None and records is None:
        records, cached = {"base": {"base_recall": recall}}, {"base": res.cached, "gold": res.cached}
    if args.out:
        import json
        import shutil

        from oblivio.config import to_dict
        from oblivio.report.rundir import run_folder
        # an output folder of its own (marker, atomic, --overwrite only of an oblivio folder):
        # never model files mixed into a folder the user made
        with run_folder(args.out, overwrite=args.overwrite, kind="learn") as work:
            for name, src in found.items():
                shutil.copytree(src, work / name)
            if records:
                (work / "results.json").write_text(json.dumps(
                    {"oblivio_learn": 1, "models": records, "cached": cached, "config": to_dict(cfg)},
                    indent=1, default=str) + "\n", encoding="utf-8")
    if isinstance(res, LearnedModels) and records:
        _out(scale_table(records, cached))
    for name, d in found.items():
        print(f"{name} model: {os.path.join(args.out, name) if args.out else d}")
    if recall is not None and recall.get("accuracy") is not None:
        print(f"base model recall: {recall['accuracy']:.3f} (greedy answer accuracy on {recall['n_items']} of the "
              f"{recall['trained_rows']} rows it was trained on)")
    return 0


def _resume(args: argparse.Namespace, progress: bool) -> int:
    from oblivio import api
    from oblivio.errors import InputError
    sub = build_parser()._subparsers._group_actions[0].choices["unlearn"]  # type: ignore[union-attr,index]
    given = [k for k, v in vars(args).items() if k not in _RESUME_KEEPS and v != sub.get_default(k)]
    if given or args.overrides:
        flag = {a.dest: a.option_strings[0] for a in sub._actions if a.option_strings}
        flags = ", ".join(flag.get(k, k) for k in given + (["overrides"] if args.overrides else []))
        raise InputError(f"--resume continues a run with its saved config.yaml and inputs; drop {flags}",
                         field="--resume")
    res = api.unlearn(resume=args.resume, run_dir=args.out, progress=progress, log=say,
                      allow_plugins=bool(getattr(args, "allow_plugins", None)))
    _finish(res)
    return 0


def _shared_run_dir(kind: str) -> str:
    """One run folder name for every process of a multi-process run."""
    from accelerate.utils import broadcast_object_list

    from oblivio.engine.dist import state as _state
    from oblivio.report.rundir import default_run_dir
    state = _state()
    name = [str(default_run_dir(kind))]
    if state.num_processes > 1:
        broadcast_object_list(name)
    return name[0]


def _finish(res) -> None:
    if res.table:
        _out(res.table)
    if res.run_dir is not None:
        _out(f"run folder: {res.run_dir} (results.json, summary.md, config.yaml, model/)")
        if (res.run_dir / "report.html").is_file():
            _out(f"report: {res.run_dir / 'report.html'}")
        _verdict(res.run_dir)


def _track(cfg: Any, folder: Any, name: str, record: dict[str, Any] | None = None) -> None:
    """``--log-with``: a command that trains nothing logs its results (``record``, else the
    folder's results.json) once to the trackers, under ``folder/tracking/<name>`` (engine/tracking.py)."""
    from pathlib import Path

    from oblivio.engine.dist import state
    log_with = cfg.unlearn.train.log_with
    if not log_with or not state().is_main_process:
        return
    from oblivio.config import to_dict
    from oblivio.engine.tracking import log_results
    from oblivio.report.results import read_results
    rec = record if record is not None else read_results(Path(folder) / "results.json")
    where = log_results(log_with, Path(folder), rec, name=name, config=to_dict(cfg))
    say(f"tracking: {', '.join(log_with)} under {where / name}")


def _verdict(run_dir: Any) -> None:
    """A command that changed a run's evidence ends with the run's four verdict lines
    (report/verdict.py; rules: docs/reference/report.md), read back from its results.json, and
    an audited run with the audit's one line ("audit: robust on K of N attacks; fails: …",
    attacks/audit.py ``audit_summary``)."""
    from pathlib import Path

    from oblivio.attacks.audit import audit_summary
    from oblivio.report.results import read_results
    from oblivio.report.verdict import checked_verdicts
    f = Path(run_dir) / "results.json"
    if f.is_file():
        rec = read_results(f)
        for v in checked_verdicts(rec, f):
            _out(v.line)
        if isinstance(rec.get("audit"), dict):
            _out(audit_summary(rec["audit"]))


#: one handler per subcommand: (parsed arguments, show progress) -> exit status
COMMANDS = {"report": _report, "leaderboard": _leaderboard, "reveal": _reveal, "world": _world, "learn": _learn,
            "demo": _demo, "unlearn": _unlearn, "audit": _audit, "calibrate": _calibrate, "compare": _compare,
            "eval": _eval, "judge": _judge}


def _quiet_libraries() -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    import warnings
    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    from transformers.utils import logging as hf_logging
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def main(argv: Sequence[str] | None = None) -> None:
    from oblivio.errors import InputError, OutputProblem, TrainingDiverged
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv or os.environ.get("OBLIVIO_DEBUG", "") not in ("", "0")
    try:
        code = run(argv)
    except InputError as e:
        print(f"oblivio: error: {e}", file=sys.stderr)
        code = 2
    except (OutputProblem, OSError, MemoryError) as e:
        # the environment, not the input: a full disk, a name too long, permissions, memory
        if debug:
            raise
        msg = (e if isinstance(e, OutputProblem) else "out of memory" if isinstance(e, MemoryError) else
               OutputProblem.from_os(e, verb="read or write"))
        print(f"oblivio: error: {msg} (--debug shows the traceback)", file=sys.stderr)
        # a name too long is the user's input (a path given on the command line), not the machine
        code = 2 if isinstance(e, OSError) and e.errno == errno.ENAMETOOLONG else 1
    except TrainingDiverged as e:
        print(f"oblivio: training stopped: {e}", file=sys.stderr)
        code = 3
    except KeyboardInterrupt as e:
        from oblivio.report.rundir import Terminated
        term = isinstance(e, Terminated)
        print("oblivio: terminated (SIGTERM)" if term else "oblivio: interrupted", file=sys.stderr)
        code = 143 if term else 130
    except Exception as e:   # noqa: BLE001 - one line instead of a traceback; --debug shows it
        if debug:
            raise
        first = (str(e).strip().splitlines() or [""])[0][:300]
        print(f"oblivio: error: {type(e).__name__}: {first} (an unexpected error; rerun with --debug for the "
              "traceback and report it)", file=sys.stderr)
        code = 1
    sys.exit(code)


if __name__ == "__main__":
    main()
