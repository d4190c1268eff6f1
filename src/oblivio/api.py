"""The Python API. The CLI calls only these functions, so both say the same thing.

``unlearn``  — make a model forget the forget set of some data, evaluate, save;
``evaluate`` — every metric on every set for one model (optionally vs a gold model);
``learn``    — train base (and gold) models on a data set: the embedded world by default;
``demo``     — the whole offline pipeline on the embedded world.
Data can be an ``UnlearningData``, a JSONL path, ``"tofu:forget01"`` or ``"world:<preset>"``;
a model can be a local HF directory or a loaded model (with its tokenizer).
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from oblivio.config import Config, build_method, load_config, to_dict
from oblivio.data.schema import UnlearningData, summarize
from oblivio.errors import InputError
from oblivio.eval.evaluate import EvalConfig, EvalReport

Log = Callable[[str], None]


def _main_process() -> bool:
    from accelerate import PartialState
    return PartialState().is_main_process


def load_data(spec: str | Path | UnlearningData | None, cfg: Config | None = None) -> UnlearningData:
    """Resolve a data spec (see module docstring) into validated items."""
    cfg = cfg or Config()
    if isinstance(spec, UnlearningData):
        return spec
    if spec is None or str(spec).startswith("world"):
        from oblivio.world import build_world, world_config
        w = dict(cfg.world)
        if spec is not None and ":" in str(spec):
            w["preset"] = str(spec).split(":", 1)[1]
        w.setdefault("seed", cfg.seed)
        return build_world(world_config(**w))
    s = str(spec)
    if s.startswith("tofu"):
        from oblivio.data.tofu import load_tofu
        split = s.split(":", 1)[1] if ":" in s else "forget01"
        return load_tofu(split, n_retain_authors=cfg.data.tofu_retain_authors,
                         holdout_authors=cfg.data.tofu_holdout_authors, include_general=cfg.data.tofu_general,
                         seed=cfg.seed, neighbour_map=cfg.data.neighbour_map)
    from oblivio.data.schema import read_jsonl
    data = UnlearningData(read_jsonl(s), name=s, neighbour_roles=False)
    if cfg.data.neighbour_map:
        from oblivio.data.tofu import apply_neighbour_map
        data = apply_neighbour_map(data, cfg.data.neighbour_map)
    data.neighbour_roles = any(r in ("direct", "indirect") for r in data.present_roles())
    return data


def _world_spec(cfg: Config) -> dict[str, Any]:
    from oblivio.world import world_config
    w = dict(cfg.world)
    w.setdefault("seed", cfg.seed)
    return dataclasses.asdict(world_config(**w))


def learn(data: Any = None, *, config: Config | None = None, progress: bool = True, log: Log = print):
    """Base and gold tiny models for the embedded world (cached). Returns ``WorldModels``."""
    from oblivio.engine.learning import world_models
    cfg = config or Config()
    d = load_data(data, cfg)
    spec = _world_spec(cfg) if (data is None or str(data).startswith("world")) else {"data": d.name, "items": [it.id for it in d.items]}
    return world_models(d, model_size=cfg.model.size, vocab_size=cfg.model.vocab_size, learn=cfg.learn,
                        world_spec=spec, progress=progress, log=log)


def evaluate(model: Any, data: Any = None, *, tokenizer: Any = None, gold: EvalReport | Any | None = None,
             config: Config | EvalConfig | None = None, name: str = "model") -> EvalReport:
    """Evaluate ``model`` on every set of ``data``. ``gold`` may be a report or a model/dir."""
    from oblivio.eval.evaluate import evaluate_model
    cfg = config if isinstance(config, Config) else Config()
    ecfg = config if isinstance(config, EvalConfig) else cfg.eval
    model, tokenizer = _resolve_model(model, tokenizer, cfg)
    d = load_data(data, cfg)
    if gold is not None and not isinstance(gold, EvalReport):
        gm, gt = _resolve_model(gold, None, cfg)
        gold = evaluate_model(gm, gt, d, cfg=ecfg, name="gold")
    return evaluate_model(model, tokenizer, d, cfg=ecfg, gold=gold, name=name)


def _resolve_model(model: Any, tokenizer: Any, cfg: Config):
    if isinstance(model, (str, Path)):
        from oblivio.models.io import load_model
        return load_model(model, dtype=cfg.model.dtype, trust_remote_code=cfg.model.trust_remote_code)
    if tokenizer is None:
        raise InputError("a loaded model needs its tokenizer (tokenizer=...)", field="tokenizer")
    return model, tokenizer


@dataclass
class UnlearnResult:
    model: Any
    tokenizer: Any
    reports: dict[str, EvalReport]
    run_dir: Path | None
    training: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)
    table: str = ""


def unlearn(model: Any = None, data: Any = None, *, tokenizer: Any = None, gold: Any = None,
            method: str | None = None, method_args: dict[str, Any] | None = None, sampler: str | None = None,
            config: Config | None = None, run_dir: str | Path | None = None, evaluate_models: bool = True,
            overwrite: bool = False, progress: bool = True, log: Log = print, callbacks=()) -> UnlearnResult:
    """Unlearn ``data``'s forget set from ``model`` and evaluate base, gold and unlearned.

    ``model=None`` with world data uses the cached base model of the embedded world (and
    its gold model). Writes ``results.json``, ``summary.md``, ``config.yaml`` and the
    unlearned model (HF directory, safetensors) into ``run_dir`` when given.
    """
    from oblivio.engine.unlearning import LoraSpec, run_unlearning
    from oblivio.eval.evaluate import evaluate_model
    from oblivio.report.results import results_record, summary_text, table, write_json
    from oblivio.report.rundir import run_folder

    cfg = config or Config()
    over: dict[str, Any] = {}
    if method is not None:
        over["method"] = method
    if method_args is not None:
        over["args"] = method_args
    if sampler is not None:
        over["sampler"] = sampler
    if over:
        cfg = load_config(overrides={"unlearn": over}, base=to_dict(cfg))
    timings: dict[str, float] = {}
    t_all = time.perf_counter()
    data = load_data(data if data is not None else cfg.data.path, cfg)
    meth = build_method(cfg.unlearn.method, cfg.unlearn.args)
    gold_model = gold_tok = None
    if model is None and cfg.model.path is None:
        if data.name.startswith("world"):
            wm = learn(data, config=cfg, progress=progress, log=log)
            model, tokenizer, gold_model, gold_tok = wm.base, wm.tokenizer, wm.gold, wm.tokenizer
            timings.update({f"learn_{k}": v for k, v in wm.seconds.items()})
        else:
            raise InputError("no model given: pass --model DIR (a local HF model directory)", field="model")
    else:
        model, tokenizer = _resolve_model(model if model is not None else cfg.model.path, tokenizer, cfg)
    if gold is not None:
        gold_model, gold_tok = _resolve_model(gold, None, cfg)
    main = _main_process()
    reports: dict[str, EvalReport] = {}
    out = Path(run_dir) if run_dir else None
    ctx = run_folder(out, main=main, overwrite=overwrite) if out else _null_folder()
    with ctx as work:
        if evaluate_models and main:
            t0 = time.perf_counter()
            if gold_model is not None:
                reports["gold"] = evaluate_model(gold_model, gold_tok, data, cfg=cfg.eval, name="gold")
            g = reports.get("gold")
            reports["base"] = evaluate_model(model, tokenizer, data, cfg=cfg.eval, gold=g, name="base")
            timings["eval_before"] = time.perf_counter() - t0
        lora = LoraSpec(cfg.model.lora_r, cfg.model.lora_alpha, cfg.model.lora_targets) if cfg.model.lora_r else None
        train_cfg = dataclasses.replace(cfg.unlearn.train, seed=cfg.seed, progress=progress)
        t0 = time.perf_counter()
        model, res = run_unlearning(model, tokenizer, data, meth, sampler=cfg.unlearn.sampler, train_cfg=train_cfg,
                                    lora=lora, run_dir=work, callbacks=callbacks)
        timings["unlearn"] = time.perf_counter() - t0
        log(f"unlearned with {cfg.unlearn.method} ({cfg.unlearn.sampler}): {res.steps} steps in "
            f"{res.seconds:.1f}s, stop: {res.stop_reason}")
        training = {"steps": res.steps, "seconds": res.seconds, "stop_reason": res.stop_reason,
                    "history": res.history, "checkpoints": res.checkpoints}
        if main and evaluate_models:
            t0 = time.perf_counter()
            reports["unlearned"] = evaluate_model(model, tokenizer, data, cfg=cfg.eval, gold=reports.get("gold"),
                                                  name="unlearned")
            timings["eval_after"] = time.perf_counter() - t0
        timings["total"] = time.perf_counter() - t_all
        tab = table(reports) if reports else ""
        if work is not None and main:
            from oblivio.models.io import save_model
            import yaml
            save_model(model, tokenizer, work / "model")
            (work / "config.yaml").write_text(yaml.safe_dump(to_dict(cfg), sort_keys=False))
            write_json(work / "results.json", results_record(
                config=to_dict(cfg), seed=cfg.seed, timings=timings, reports=reports,
                data_info={"name": data.name, "counts": summarize(data.items), "targets": list(data.targets)},
                training=training))
            notes = [f"data: {data.name}, targets: {', '.join(data.targets) or '-'}",
                     f"method: {cfg.unlearn.method} {cfg.unlearn.args or ''}, sampler: {cfg.unlearn.sampler}, "
                     f"{res.steps} steps",
                     f"timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items())]
            (work / "summary.md").write_text(summary_text(title="oblivio unlearning run", reports=reports, notes=notes))
    final = out
    return UnlearnResult(model, tokenizer, reports, final, training, timings, tab)


class _null_folder:
    def __enter__(self):
        return None

    def __exit__(self, *a):
        return False


def demo(*, preset: str = "default", config: Config | None = None, run_dir: str | Path | None = None,
         progress: bool = True, overwrite: bool = False, log: Log = print) -> UnlearnResult:
    """The embedded default: world → base and gold models (cached) → unlearn → evaluate → report."""
    from oblivio.report.rundir import default_run_dir
    cfg = config or demo_config(preset)
    data = load_data(None, cfg)
    log(f"world '{data.name}': {len(data.items)} items ("
        + ", ".join(f"{k} {v}" for k, v in summarize(data.items).items()) + f"); targets: {', '.join(data.targets)}")
    res = unlearn(None, data, config=cfg, run_dir=run_dir or default_run_dir("demo"), progress=progress,
                  overwrite=overwrite, log=log)
    base = res.reports.get("base")
    if base is not None:
        rec = base_recall(base, data)
        log(f"base model recall: {rec['train']:.1%} of training facts exactly (greedy answer contains the "
            f"object), {rec['heldout']:.1%} on held-out phrasings")
        res.training["base_recall"] = rec
    return res


def base_recall(report: EvalReport, data: UnlearningData) -> dict[str, float]:
    """Item-weighted accuracy over every trained set, on training and on held-out phrasings."""
    tot = {"train": [0.0, 0], "heldout": [0.0, 0]}
    for role, ms in report.sets.items():
        if role == "holdout":
            continue
        n = len(report.item_ids.get(role, []))
        for key, metric in (("train", "accuracy"), ("heldout", "para_accuracy")):
            r = ms.get(metric)
            if r is not None and r.value is not None:
                tot[key][0] += r.value * n
                tot[key][1] += n
    return {k: (v / n if n else float("nan")) for k, (v, n) in tot.items()}


# The demo's tuned defaults (bench/demo_quality.py measures them; README reports the numbers).
DEMO_DEFAULTS: dict[str, Any] = {
    "world": {"preset": "default"},
}


def demo_config(preset: str = "default") -> Config:
    return load_config(overrides={"world": {"preset": preset}}, base=DEMO_DEFAULTS)
