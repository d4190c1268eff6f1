"""Pipeline stage 3: the unlearning run, with checkpoint evaluation and selection (config
``control``; engine/checkpoint_eval.py) when asked for."""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from oblivio.config import Config
from oblivio.data.schema import UnlearningData
from oblivio.progress import say

Log = Callable[[str], None]


@dataclass
class Trained:
    """The unlearned model, what training did (results.json ``training``), the checkpoint
    evaluation's record (curves, selected step) and the wall time of it all."""

    model: Any
    result: Any                      # engine.loop.LoopResult
    training: dict[str, Any]
    control: dict[str, Any] | None
    seconds: float


def lora_spec(cfg: Config):
    from oblivio.engine.unlearning import LoraSpec
    return LoraSpec(cfg.model.lora_r, cfg.model.lora_alpha, cfg.model.lora_targets) if cfg.model.lora_r else None


def unlearn_model(cfg: Config, model: Any, tokenizer: Any, data: UnlearningData, method: Any, *,
                  gold: Any = None, gold_tokenizer: Any = None, work: Path | None = None,
                  callbacks: Sequence[Any] = (), resume_from: Path | None = None, progress: bool = True,
                  log: Log = say) -> Trained:
    """Unlearn ``model`` in place with ``method`` and ``cfg.unlearn`` (sampler, training)."""
    from oblivio.data.neighbours import choose_sampler
    from oblivio.engine.unlearning import run_unlearning
    lora = lora_spec(cfg)
    sampler, sampler_rule = choose_sampler(data, cfg.unlearn.sampler)   # run.py's check said which
    train_cfg = dataclasses.replace(cfg.unlearn.train, seed=cfg.seed, progress=progress)
    t0 = time.perf_counter()
    ctl = control_callback(cfg, tokenizer, data, lora=lora is not None, log=log)
    if ctl is not None:   # checkpoint evaluation (config `control`); step 0 = the original
        ctl.baseline(model, gold if cfg.control.stop_at_gold else None, gold_tokenizer)
    model, res = run_unlearning(model, tokenizer, data, method, sampler=sampler, train_cfg=train_cfg,
                                lora=lora, run_dir=work, callbacks=[*callbacks, *([ctl] if ctl else [])],
                                merge_lora=ctl is None, resume_from=resume_from,
                                options={"teacher": cfg.unlearn.teacher})
    if resume_from is not None:
        log(f"resumed from {resume_from.name} of {work}")
    control = None
    if ctl is not None:
        ctl.finish(model, res.steps)
        restored = ctl.restore(model)
        if lora is not None:
            model = model.merge_and_unload()
        control = ctl.summary(time.perf_counter() - t0)
        log(f"checkpoint evaluation: {len(ctl.curves)} evaluations, {control['eval_share']:.1%} of the "
            f"unlearning wall time; selected step {ctl.selected_step} ({cfg.control.select}"
            + (", weights restored)" if restored else ")"))
    seconds = time.perf_counter() - t0
    log(f"unlearned with {cfg.unlearn.method} ({sampler}): {res.steps} steps in "
        f"{res.seconds:.1f}s, stop: {res.stop_reason}"
        + ("" if res.budget_rule in ("given", "") else f" (budget: {res.budget_rule})") + f"; lr {res.lr:g}"
        + ("" if res.lr_rule == "given" else f" ({res.lr_rule})"))
    training = {"steps": res.steps, "seconds": res.seconds, "stop_reason": res.stop_reason,
                "lr": res.lr, "lr_rule": res.lr_rule, "budget_rule": res.budget_rule,
                "sampler": sampler, "sampler_rule": sampler_rule,
                "processes": res.processes, "examples_per_process": res.examples,
                "tokens_per_process": res.tokens, **peak_memory(),
                "history": res.history, "checkpoints": res.checkpoints,
                "resumed_from": resume_from.name if resume_from is not None else None}
    if control is not None:
        training["selected_step"] = control["selected_step"]
    for key, value in method.record().items():    # TRU's method_report, reveal_release's release rounds
        training.setdefault(key, value)            # the loop's own entries win
    return Trained(model, res, training, control, seconds)


def control_callback(cfg: Config, tokenizer: Any, data: UnlearningData, *, lora: bool, log: Log):
    """The checkpoint-evaluation callback of ``cfg.control`` (None when ``eval_every`` is 0)."""
    c = cfg.control
    if not c.evaluates():
        return None
    from oblivio.engine.checkpoint_eval import CheckpointEval
    return CheckpointEval(tokenizer, data, c, eval_cfg=cfg.eval, lora=lora, log=log)


def peak_memory() -> dict[str, float]:
    """Peak resident memory of this process so far (and CUDA's peak allocation when present)."""
    import resource
    import sys
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out = {"peak_rss_mb": round(rss / (2**20 if sys.platform == "darwin" else 2**10), 1)}  # bytes on macOS
    import torch
    if torch.cuda.is_available():
        out["peak_cuda_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return out
