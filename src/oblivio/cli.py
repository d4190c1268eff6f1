"""The ``oblivio`` command line. It parses and validates, then calls ``oblivio.api`` only.

Subcommands: demo, world, learn, unlearn, eval, calibrate, compare, report, ls. Heavy modules are imported inside the
subcommands, so ``oblivio --help`` and ``oblivio ls`` answer at once. Bad input exits with
code 2 and one message naming file, line and field; a diverged training run exits 3.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Sequence


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="YAML config file (see README: Configuration)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key, e.g. --set unlearn.train.lr=1e-4 (repeatable)")
    p.add_argument("--seed", type=int, help="global seed (default 0)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def _ci(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ci", action="store_true",
                   help="tables show each value's 95%% bootstrap interval over facts, "
                        "value [lo, hi] (eval.show_ci; resamples: eval.bootstrap)")


def _unlearn_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--method", help="unlearning method (see `oblivio ls`)")
    p.add_argument("--sampler", help="retain sampler (see `oblivio ls`)")
    p.add_argument("--steps", type=int, help="number of unlearning steps")
    p.add_argument("--lr", type=float, help="unlearning learning rate")
    p.add_argument("--lora-r", type=int, help="unlearn a LoRA adapter of this rank (0 = full model)")
    p.add_argument("--out", help="run folder (default runs/<command>-<time>)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing run folder")
    g = p.add_argument_group("controlling unlearning (capping: --set unlearn.args.cap_delta=2)")
    g.add_argument("--eval-every", type=int, help="evaluate a fixed subset every K steps (control.eval_every)")
    g.add_argument("--eval-items", type=int, help="items per role in that subset (control.eval_items, default 16)")
    g.add_argument("--stop-utility", type=float, metavar="TAU",
                   help="early stop when utility < TAU × original; keep the last checkpoint above it")
    g.add_argument("--stop-at-gold", action="store_true",
                   help="early stop when forget accuracy reaches the gold model's level")
    p.add_argument("--extraction", action="store_true",
                   help="also the PS series and extraction strength (extra generation passes)")


_TARGETS_HELP = ("comma-separated forget targets (data.targets); default: the --neighbour-map keys, else per "
                 "forget row the entity that the most forget rows name")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="oblivio", description="Machine unlearning for causal language models: "
                                 "forget, keep the rest, and prove both.")
    ap.add_argument("--version", action="store_true", help="print the version")
    sub = ap.add_subparsers(dest="cmd")
    p = sub.add_parser("demo", help="the whole offline pipeline on the embedded fictional world")
    p.add_argument("--preset", default=None, help="world size: tiny | small | default | large")
    _common(p)
    _ci(p)
    _unlearn_args(p)
    p = sub.add_parser("world", help="build the fictional world and write its items as JSONL")
    p.add_argument("--preset", default="default")
    p.add_argument("--out", required=True, help="output JSONL file")
    _common(p)
    p = sub.add_parser("learn", help="train (or reuse cached) tiny base and gold models of the world or of --data")
    p.add_argument("--preset", default=None, help="world size (the embedded world only)")
    p.add_argument("--data", help="JSONL file (or tofu:forget01|05|10) to learn instead of the world (data.path)")
    p.add_argument("--out", help="copy the base/ and gold/ model directories here")
    _common(p)
    p = sub.add_parser("unlearn", help="unlearn the forget set of --data from --model")
    p.add_argument("--model", help="local HF model directory (default: the world's base model)")
    p.add_argument("--data", help="JSONL file, tofu:forget01|05|10, or world:<preset> (default: world)")
    p.add_argument("--gold", help="a model retrained without the forget set (enables forget quality, privleak)")
    p.add_argument("--neighbour-map", help="JSON map target → direct/indirect entities (retain roles)")
    p.add_argument("--targets", help=_TARGETS_HELP)
    p.add_argument("--no-eval", action="store_true",
                   help="train and save only: no evaluation of the base, gold or unlearned model")
    _common(p)
    _ci(p)
    _unlearn_args(p)
    p = sub.add_parser("eval", help="evaluate a model on every set of --data")
    p.add_argument("--model", required=True)
    p.add_argument("--data", help="JSONL file, tofu:..., or world:<preset> (default: world)")
    p.add_argument("--gold", help="gold (retrained) model directory")
    p.add_argument("--out", help="write the evaluation JSON here")
    p.add_argument("--extraction", action="store_true",
                   help="also the PS series and extraction strength (extra generation passes)")
    _common(p)
    _ci(p)
    p = sub.add_parser("calibrate", help="mix an unlearned run's model with its base until utility ≥ τ × original")
    p.add_argument("--run", required=True, help="a finished `oblivio unlearn` run folder")
    p.add_argument("--tau", type=float, default=0.9, help="utility target as a fraction of the original (0.9)")
    p.add_argument("--tol", type=float, default=0.01, help="bisection tolerance on α (0.01)")
    p.add_argument("--utility", default="model_utility", help="utility metric: a model metric or role/metric")
    p.add_argument("--extraction", action="store_true",
                   help="also the PS series and extraction strength at the chosen α")
    p.add_argument("--out", help="output folder (default RUN/calibrated-<tau>)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a key of the run's config, e.g. --set eval.batch_size=32")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p = sub.add_parser("compare", help="methods × retain samplers, same seed and budget: table and plot")
    p.add_argument("--methods", default="graddiff,npo", help="comma-separated methods (default graddiff,npo)")
    p.add_argument("--samplers", default="all", help="comma-separated samplers, or 'all' (default)")
    p.add_argument("--data", help="world | world:<preset> | tofu:forget01|05|10 | a JSONL file (default: world)")
    p.add_argument("--preset", default=None, help="world size: tiny | small | default | large")
    p.add_argument("--model", help="reference model directory, re-loaded for every cell (default: the world's base)")
    p.add_argument("--gold", help="a model retrained without the forget set (enables forget quality)")
    p.add_argument("--neighbour-map", help="JSON map target → direct/indirect entities (retain roles)")
    p.add_argument("--targets", help=_TARGETS_HELP)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--epochs", type=float, help="budget: this many epochs per cell (default: unlearn.train.epochs)")
    g.add_argument("--steps", type=int, help="budget: this many steps per cell instead of equal epochs")
    p.add_argument("--lr", type=float, help="unlearning learning rate")
    p.add_argument("--lora-r", type=int, help="unlearn a LoRA adapter of this rank (0 = full model)")
    p.add_argument("--calibrate", type=float, metavar="TAU",
                   help="also calibrate every cell to utility ≥ TAU × original by model mixing")
    p.add_argument("--calibrate-metric", default="model_utility", help="utility metric for --calibrate")
    p.add_argument("--seeds", help="comma-separated unlearning seeds, e.g. 0,1,2: every cell once per seed, "
                                   "reported as mean ± sd (data and reference models stay those of --seed)")
    p.add_argument("--out", help="output folder (default runs/compare-<time>)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    _common(p)
    _ci(p)
    p = sub.add_parser("report", help="one self-contained HTML page for one or several run (or compare) folders")
    p.add_argument("runs", nargs="+", help="run folders (results.json) or compare folders (compare.json)")
    p.add_argument("--out", help="HTML file (default RUN/report.html for one run, ./report.html for several)")
    p.add_argument("--title", help="page title")
    p.add_argument("--overwrite", action="store_true", help="replace an existing file that oblivio did not write")
    sub.add_parser("ls", help="list methods, samplers and metrics")
    return ap


def _config(args: argparse.Namespace, extra: dict[str, Any] | None = None):
    from oblivio.config import load_config, merge, parse_overrides
    over: dict[str, Any] = {}
    if getattr(args, "seed", None) is not None:
        over["seed"] = args.seed
    if getattr(args, "preset", None):
        over["world"] = {"preset": args.preset}
    u: dict[str, Any] = {}
    if getattr(args, "method", None):
        u["method"] = args.method
    if getattr(args, "sampler", None):
        u["sampler"] = args.sampler
    if getattr(args, "steps", None) is not None:
        u.setdefault("train", {})["max_steps"] = args.steps
    if getattr(args, "lr", None) is not None:
        u.setdefault("train", {})["lr"] = args.lr
    if u:
        over["unlearn"] = u
    ctl = {k: v for k, v in (("eval_every", getattr(args, "eval_every", None)),
                             ("eval_items", getattr(args, "eval_items", None)),
                             ("stop_utility_tau", getattr(args, "stop_utility", None)),
                             ("stop_at_gold", getattr(args, "stop_at_gold", None) or None)) if v is not None}
    if ctl:
        over["control"] = ctl
    if getattr(args, "extraction", False):
        over["eval"] = {"extraction": True}
    if getattr(args, "ci", False):
        over.setdefault("eval", {})["show_ci"] = True
    if getattr(args, "lora_r", None) is not None:
        over["model"] = {"lora_r": args.lora_r}
    d: dict[str, Any] = {}
    if getattr(args, "data", None):
        d["path"] = args.data
    if getattr(args, "targets", None):
        d["targets"] = [t.strip() for t in args.targets.split(",") if t.strip()]
    if d:
        over["data"] = d
    over = merge(over, extra or {})
    over = merge(over, parse_overrides(args.overrides))
    base = None
    if args.cmd == "demo":
        import copy

        from oblivio.api import DEMO_DEFAULTS
        base = DEMO_DEFAULTS
        if u.get("method") not in (None, base["unlearn"]["method"]):
            # the default's method arguments (NPO's retain weight) belong to its method
            base = copy.deepcopy(base)
            base["unlearn"].pop("args", None)
    return load_config(args.config, over, base=base)


def _log(msg: str) -> None:
    from oblivio.engine.dist import state
    if state().is_main_process:
        print(msg, flush=True)


def cmd_ls() -> None:
    import oblivio.methods  # noqa: F401
    import oblivio.metrics  # noqa: F401
    from oblivio.data.samplers import SAMPLERS
    from oblivio.metrics.base import METRICS
    from oblivio.methods.base import METHODS

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


def run(argv: Sequence[str] | None = None) -> int:
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
    if args.cmd == "report":
        from oblivio.report.html import write_report
        dest = args.out or (os.path.join(args.runs[0], "report.html") if len(args.runs) == 1 else "report.html")
        path = write_report(args.runs, dest, title=args.title, overwrite=args.overwrite)
        print(f"report: {path}")
        return 0
    if getattr(args, "quiet", False):
        os.environ.setdefault("TQDM_DISABLE", "1")
    _quiet_libraries()
    from oblivio import api
    progress = not getattr(args, "quiet", False)
    if args.cmd == "world":
        from oblivio.data.schema import summarize, write_jsonl
        cfg = _config(args)
        data = api.load_data("world", cfg)   # data.path is not the world: never read here
        write_jsonl(data.items, args.out)
        print(f"wrote {len(data.items)} items to {args.out}: {summarize(data.items)}; targets: {', '.join(data.targets)}")
        return 0
    if args.cmd == "learn":
        cfg = _config(args)
        if cfg.data.path and args.preset:
            from oblivio.errors import InputError
            raise InputError(f"--preset sizes the embedded world; it does not apply to --data/data.path "
                             f"({cfg.data.path})", field="--preset")
        wm = api.learn(None, config=cfg, progress=progress, log=_log)
        if args.out:
            import shutil
            for name, src in (("base", wm.base_dir), ("gold", wm.gold_dir)):
                shutil.copytree(src, os.path.join(args.out, name), dirs_exist_ok=True)
        where = {n: os.path.join(args.out, n) if args.out else d for n, d in (("base", wm.base_dir),
                                                                               ("gold", wm.gold_dir))}
        print(f"base model: {where['base']}\ngold model: {where['gold']}")
        return 0
    if args.cmd == "demo":
        cfg = _config(args)
        res = api.demo(config=cfg, run_dir=args.out, progress=progress, overwrite=args.overwrite, log=_log)
        _finish(res)
        return 0
    if args.cmd == "unlearn":
        extra: dict[str, Any] = {"data": {}}
        if args.neighbour_map:
            extra["data"]["neighbour_map"] = args.neighbour_map
        cfg = _config(args, extra)
        out = args.out or _shared_run_dir("unlearn")
        res = api.unlearn(args.model, args.data or cfg.data.path, gold=args.gold, config=cfg, run_dir=out,
                          evaluate_models=not args.no_eval, overwrite=args.overwrite, progress=progress, log=_log)
        _finish(res)
        return 0
    if args.cmd == "calibrate":
        from pathlib import Path

        from oblivio.config import load_config, parse_overrides
        from oblivio.errors import InputError
        cfg_file = Path(args.run) / "config.yaml"
        if not cfg_file.is_file():
            raise InputError("not a finished unlearn run folder (no config.yaml)", file=args.run)
        over = parse_overrides(args.overrides)
        if args.extraction:
            over.setdefault("eval", {})["extraction"] = True
        cfg = load_config(cfg_file, over)
        res = api.calibrate(args.run, tau=args.tau, tol=args.tol, utility_metric=args.utility, config=cfg,
                            out=args.out, overwrite=args.overwrite, progress=progress, log=_log)
        _log(res.table)
        _log("α sweep: " + ", ".join(f"α={r['alpha']:.3f} utility {r['utility']:.3f}" for r in res.sweep))
        if res.run_dir is not None:
            _log(f"calibrated model: {res.run_dir} (model/, results.json)")
        return 0
    if args.cmd == "compare":
        extra = {"data": {"neighbour_map": args.neighbour_map}} if args.neighbour_map else {}
        cfg = _config(args, extra)
        data = args.data or cfg.data.path
        if data == "world":
            data = None
        out = args.out or _shared_run_dir("compare")
        res = api.compare(data, methods=args.methods, samplers=args.samplers, config=cfg, model=args.model,
                          gold=args.gold, run_dir=out, calibrate=args.calibrate,
                          calibrate_metric=args.calibrate_metric, epochs=args.epochs, steps=args.steps,
                          seeds=args.seeds, overwrite=args.overwrite, progress=progress, log=_log)
        _log(res.table)
        if res.calibrated_table:
            _log(f"calibrated (τ = {args.calibrate:g}):\n" + res.calibrated_table)
        _log(f"compare folder: {res.run_dir} (" + ", ".join(p.name for p in res.files.values()) + ")")
        return 0
    if args.cmd == "eval":
        cfg = _config(args)
        rep = api.evaluate(args.model, args.data or cfg.data.path, gold=args.gold, config=cfg, name="model")
        from oblivio.report.results import table, write_json
        print(table({"model": rep}, ci=cfg.eval.show_ci))
        if args.out:
            from pathlib import Path
            write_json(Path(args.out), rep.to_json())
            print(f"wrote {args.out}")
        return 0
    ap.error(f"unknown command {args.cmd}")
    return 2


def _shared_run_dir(kind: str) -> str:
    """One run folder name for every process of a multi-process run."""
    from accelerate.utils import broadcast_object_list

    from oblivio.report.rundir import default_run_dir
    from oblivio.engine.dist import state as _state
    state = _state()
    name = [str(default_run_dir(kind))]
    if state.num_processes > 1:
        broadcast_object_list(name)
    return name[0]


def _finish(res) -> None:
    verdict = ""
    if res.run_dir is not None and (res.run_dir / "results.json").is_file():
        from oblivio.report.html import short_verdict
        verdict = short_verdict(res.run_dir)
    if verdict:
        _log("verdict (rules: README, The report):\n" + verdict)
    if res.table:
        _log(res.table)
    if res.run_dir is not None:
        _log(f"run folder: {res.run_dir} (results.json, summary.md, config.yaml, model/)")
        if (res.run_dir / "report.html").is_file():
            _log(f"report: {res.run_dir / 'report.html'}")


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
    from oblivio.errors import InputError, TrainingDiverged
    try:
        code = run(argv)
    except InputError as e:
        print(f"oblivio: error: {e}", file=sys.stderr)
        code = 2
    except TrainingDiverged as e:
        print(f"oblivio: training stopped: {e}", file=sys.stderr)
        code = 3
    except KeyboardInterrupt:
        print("oblivio: interrupted", file=sys.stderr)
        code = 130
    sys.exit(code)


if __name__ == "__main__":
    main()
