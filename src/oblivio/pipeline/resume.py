"""What an ``unlearn`` run records before it trains (config.yaml, inputs.json), so that
``--resume`` continues an interrupted run from its last checkpoint (report/rundir.py), and the
checks that a resume continues the same run: its own config (plugins it names need
``allow_plugins``, as any config file) and the same data (a content hash in inputs.json)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from oblivio.config import Config, load_config, to_dict
from oblivio.data.schema import UnlearningData
from oblivio.errors import InputError

RESUME_INPUTS = "inputs.json"


def run_config(cfg: Config, *, model: Any, data: Any, gold: Any, evaluate_models: bool | None,
               method: str | None, method_args: dict[str, Any] | None, sampler: str | None) -> Config:
    """``cfg`` with the arguments given to ``unlearn`` written in, so that the saved config.yaml
    alone reproduces the run (and `oblivio calibrate RUN` finds model and data)."""
    over: dict[str, Any] = {}
    if method is not None:
        over["method"] = method
    if method_args is not None:
        over["args"] = method_args
    if sampler is not None:
        over["sampler"] = sampler
    top: dict[str, Any] = {"unlearn": over} if over else {}
    model = model if isinstance(model, (str, Path)) else cfg.model.path
    gold = gold if isinstance(gold, (str, Path)) else cfg.model.gold
    data = data if isinstance(data, (str, Path)) else cfg.data.path
    # every path absolute, so that the saved config.yaml reproduces the run from any folder
    for section, key, value in (("model", "path", model), ("model", "gold", gold), ("data", "path", data)):
        if value is not None:
            top.setdefault(section, {})[key] = _absolute(value)
    # always files or folders (a map named "world" or a folder named "tofu" is no data scheme)
    for key, value in (("neighbour_map", cfg.data.neighbour_map), ("tofu_dir", cfg.data.tofu_dir)):
        if value is not None:
            top.setdefault("data", {})[key] = str(Path(value).expanduser().resolve())
    if evaluate_models is not None:
        top["eval"] = {"enabled": bool(evaluate_models)}
    return load_config(overrides=top, base=to_dict(cfg)) if top else cfg


def _absolute(value: str | Path) -> str:
    """A path as an absolute path; a data scheme (``world:tiny``) or a registered model name
    (``smollm2-135m-instruct``) unchanged."""
    from oblivio.data.spec import data_scheme
    from oblivio.models.resolve import NAMED_MODELS
    if data_scheme(value) is not None or str(value) in NAMED_MODELS:
        return str(value)
    return str(Path(value).resolve())


def run_inputs(model: Any, data: Any, gold: Any, evaluate_models: bool | None) -> dict[str, Any]:
    """How each input was given (inputs.json): a resume must be handed the same objects again."""
    return {"model": "path" if isinstance(model, (str, Path)) else "object" if model is not None else "config",
            # a generated world is rebuilt from the saved config; other data objects are not
            "data": "path" if isinstance(data, (str, Path)) else
                    "object" if data is not None and getattr(data, "source", None) is None else "config",
            "gold": str(Path(gold).resolve()) if isinstance(gold, (str, Path)) else None,
            "gold_object": gold is not None and not isinstance(gold, (str, Path)),
            "evaluate_models": evaluate_models}


def start_run(work: Path, cfg: Config, inputs: dict[str, Any], resume: bool) -> Path | None:
    """A fresh run writes what a resume needs first (config.yaml, inputs.json); a resumed one
    returns its latest checkpoint."""
    import yaml

    if resume:
        from oblivio.engine.checkpoint import latest_usable
        return latest_usable(work)
    (work / "config.yaml").write_text(yaml.safe_dump(to_dict(cfg), sort_keys=False))
    (work / RESUME_INPUTS).write_text(json.dumps(inputs, indent=1) + "\n")
    return None


def resume_inputs(resume: str | Path, model: Any, data: Any, gold: Any, config: Config | None,
                  run_dir: str | Path | None, evaluate_models: bool | None, *, allow_plugins: bool = False):
    """Model, data, gold, config, run folder, evaluation flag and saved inputs.json of the run
    to resume: its saved config.yaml and inputs.json; objects (not paths) it was started with
    must be passed again. The folder may come from someone else: a ``module:Name`` plugin its
    config.yaml names is imported only with ``allow_plugins`` (config.load_config)."""
    from oblivio.report.rundir import resolve_resume
    final, src = resolve_resume(resume)
    if run_dir is not None and Path(run_dir).absolute() != final.absolute():
        raise InputError(f"--out {run_dir} is not the run being resumed ({final})", field="--out")
    if config is not None:
        raise InputError("a resumed run uses its own config.yaml; do not pass a config", field="config")
    if not (src / "config.yaml").is_file() or not (src / RESUME_INPUTS).is_file():
        raise InputError(f"not a resumable unlearn run (no config.yaml or {RESUME_INPUTS})", file=str(src))
    cfg = load_config(src / "config.yaml", {"allow_plugins": True} if allow_plugins else None)
    try:
        inputs = json.loads((src / RESUME_INPUTS).read_text())
    except ValueError as e:
        raise InputError(f"unreadable ({e})", file=str(src / RESUME_INPUTS)) from None
    if not isinstance(inputs, dict):
        raise InputError("unreadable (not a JSON object)", file=str(src / RESUME_INPUTS))
    for name, given in (("model", model), ("data", data)):
        if inputs.get(name) == "object" and given is None:
            raise InputError(f"this run was started with a {name} object; pass the same {name}=... to resume it",
                             field=name)
    if inputs.get("gold_object") and gold is None:
        raise InputError("this run was started with a gold model object; pass the same gold=... to resume it",
                         field="gold")
    # the gold model's path and eval.enabled are in config.yaml (model.gold, eval.enabled)
    return model, data, gold, cfg, final, evaluate_models, inputs


def data_sha256(data: UnlearningData) -> str:
    """SHA-256 of the resolved data a run trains and evaluates on: every item with all its
    fields, in order, and the forget targets (so a changed file, neighbour map or target list
    all count)."""
    import hashlib
    rows = [it.to_json() for it in data.items]
    text = json.dumps([rows, list(data.targets)], ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def record_data(inputs: dict[str, Any], data: UnlearningData, saved: dict[str, Any] | None, cfg: Config) -> None:
    """Write the data's hash into ``inputs`` (inputs.json); resuming (``saved``: the run's
    inputs.json), refuse data that is not what the run started on: its checkpoints were trained
    on that data, and a silent switch would mix two data sets in one model."""
    inputs["data_sha256"] = now = data_sha256(data)
    then = (saved or {}).get("data_sha256")
    if then is None or then == now:      # a fresh run, or a run from before hashes were recorded
        return
    spec = cfg.data.path or "the embedded world"
    also = f" (or its neighbour map {cfg.data.neighbour_map})" if cfg.data.neighbour_map else ""
    raise InputError(f"the data changed since this run started{also}: sha256 {then[:12]}… then, {now[:12]}… now; "
                     "its checkpoints were trained on the old data. Start a new run or restore the file",
                     file=spec, field="--resume")
