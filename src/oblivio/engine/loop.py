"""The one training loop, on Accelerate: learning a world and every unlearning method.

Accelerate provides devices, DDP/FSDP/DeepSpeed (via ``accelerate launch``), mixed
precision and gradient accumulation, so there is no distributed code of our own. The loop
adds what the field needs around it: AdamW with warm-up and a schedule, gradient clipping,
periodic resumable checkpoints (safetensors weights + optimizer, scheduler, sampler position,
RNG; engine/checkpoint.py), a progress bar with the loss parts, callbacks (for
checkpoint evaluation / early stopping) and a guard that stops cleanly on a non-finite
loss and names the step.
"""
from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

import torch

from oblivio.config import TrainConfig
from oblivio.engine.contract import StepContext
from oblivio.errors import InputError, TrainingDiverged


class StepCallback(Protocol):
    """Called after every optimiser step with (step, unwrapped model); a string it returns
    stops training with that reason. A plain function is one.

    A callback object may declare ``evaluates_checkpoints = True``: it evaluates (and may
    select) the weights between steps, so they must be the unlearned model at every step, and
    run_unlearning refuses a method that ``builds_model_at_finish``
    (engine/checkpoint_eval.py's CheckpointEval declares it)."""

    def __call__(self, step: int, model: Any) -> str | None: ...


def evaluates_checkpoints(callback: StepCallback) -> bool:
    """The callback's declared ``evaluates_checkpoints`` (False for a plain function, which
    cannot declare it)."""
    return getattr(callback, "evaluates_checkpoints", False) is True


class PairSource(torch.utils.data.Dataset):
    """Per-epoch (forget index, retain index) pairs; -1 means "no item on this side".

    ``make_pairs(epoch)`` is deterministic, so every process computes the same list and
    Accelerate's sharding gives each process its own batches.
    """

    def __init__(self, make_pairs: Callable[[int], list[tuple[int, int]]]) -> None:
        self.make_pairs = make_pairs
        self.pairs = make_pairs(0)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        if epoch != self.epoch:
            self.epoch = epoch
            self.pairs = self.make_pairs(epoch)

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, i: int) -> tuple[int, int]:
        return self.pairs[i]


@dataclass
class LoopResult:
    steps: int
    seconds: float
    history: list[dict[str, float]] = field(default_factory=list)
    stop_reason: str = "max_steps"
    checkpoints: list[str] = field(default_factory=list)
    examples: int = 0
    tokens: int = 0                    # non-padding tokens this process trained on (forget + retain)
    model: Any = None                  # the trained model, unwrapped from any DDP wrapper
    processes: int = 1                 # Accelerate processes; each saw its own shard of every epoch
    lr: float | None = None            # the learning rate used (engine/defaults.py when the config had none)
    lr_rule: str = ""                  # how it was chosen: "given", or the scale rule in words
    budget_rule: str = ""              # how the budget was chosen: "given", or the scale rule in words


def total_steps(cfg: TrainConfig, batches_per_epoch: int) -> int:
    if cfg.max_steps is not None:
        return int(cfg.max_steps)
    if cfg.epochs is None:      # None only before run_unlearning sets it by model scale (engine/defaults.py)
        raise ValueError("the training loop needs a budget (TrainConfig.max_steps and epochs are None)")
    return max(1, math.ceil(cfg.epochs * batches_per_epoch / cfg.grad_accum))


def train(model, method, source: PairSource, collate_fn, cfg: TrainConfig, *, reference=None,
          run_dir: str | Path | None = None, callbacks: Sequence[StepCallback] = (),
          accelerator=None, desc: str = "unlearn", tokenizer=None,
          resume_from: str | Path | None = None) -> LoopResult:
    """Run ``method`` on ``model`` for the configured steps. Returns the loss history.

    ``callbacks`` (:class:`StepCallback`) are called after every optimiser step with (step,
    unwrapped model); a callback returning a string stops training with that string as the reason.
    ``resume_from``: a checkpoint folder of this run (``run_dir/checkpoints/step-K``); the
    loop continues exactly where it was written (same data order, RNG and optimizer state).
    """
    from oblivio.progress import bar as progress_bar

    run = _setup(model, method, source, collate_fn, cfg, reference=reference, run_dir=run_dir,
                 callbacks=callbacks, accelerator=accelerator, tokenizer=tokenizer)
    res = LoopResult(steps=0, seconds=0.0)
    at = _Position() if resume_from is None else _resume(run, Path(resume_from), res)
    ctx = StepContext(model=run.model, reference=reference, step=at.step, max_steps=run.n_steps)
    bar = progress_bar(total=run.n_steps, initial=at.step, desc=desc, unit="step", delay=0,
                       enabled=cfg.progress and run.acc.is_main_process)
    t0 = time.perf_counter()
    tokens, stop = _run_epochs(run, source, ctx, at, res, bar)
    bar.close()
    return _finish(run, res, at, tokens, stop, time.perf_counter() - t0)


@dataclass
class _Run:
    """What stays fixed for one call of ``train`` once Accelerate has prepared it."""
    acc: Any
    model: Any                         # as prepared (possibly DDP-wrapped)
    opt: Any                           # as prepared: what a checkpoint saves
    step_opt: Any                      # what is stepped (``_direct_optimizer``)
    sched: Any
    dl: Any
    params: list[Any]
    n_steps: int
    cfg: TrainConfig
    method: Any
    reference: Any
    track: bool                        # log to the configured trackers (``cfg.log_with``)
    run_dir: Path | None               # where checkpoints go (None: none are written)
    tokenizer: Any
    callbacks: Sequence[Callable[[int, Any], str | None]]
    plain: Any                         # the unwrapped model handed to callbacks (None without any)


@dataclass
class _Position:
    """Where the loop stands: a fresh run starts at zero, a resumed one where its checkpoint was."""
    epoch: int = 0
    step: int = 0                      # optimiser steps done
    skip: int = 0                      # batches of this epoch already trained on before a resume
    rng: Any = None                    # RNG state to set once the resumed epoch's loader has started


def _accelerator(cfg: TrainConfig, run_dir: Path | None, given) -> tuple[Any, bool]:
    """The Accelerator to train with, and whether it logs to trackers (only one made here can)."""
    from oblivio.engine.dist import accelerator as make_accelerator
    if given is None and cfg.log_with and run_dir is not None:
        from oblivio.engine.tracking import tracker_kwargs
        acc = make_accelerator(mixed_precision=cfg.mixed_precision, gradient_accumulation_steps=cfg.grad_accum,
                               **tracker_kwargs(cfg.log_with, run_dir))
        acc.init_trackers("oblivio", config={k: v for k, v in dataclasses.asdict(cfg).items()
                                             if isinstance(v, (int, float, str, bool))})
        return acc, True
    return given or make_accelerator(mixed_precision=cfg.mixed_precision,
                                     gradient_accumulation_steps=cfg.grad_accum), False


def _setup(model, method, source: PairSource, collate_fn, cfg: TrainConfig, *, reference, run_dir,
           callbacks, accelerator, tokenizer) -> _Run:
    """Seed, loader, AdamW and its schedule, all prepared by Accelerate; the model in train mode."""
    from accelerate.utils import set_seed
    acc, track = _accelerator(cfg, Path(run_dir) if run_dir is not None else None, accelerator)
    set_seed(cfg.seed)
    dl = torch.utils.data.DataLoader(source, batch_size=cfg.batch_size, shuffle=False,
                                     collate_fn=collate_fn)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=_rate(cfg), weight_decay=cfg.weight_decay)
    model, opt, dl = acc.prepare(model, opt, dl)
    n_steps = total_steps(cfg, len(dl))
    warm = int(cfg.warmup * n_steps) if cfg.warmup < 1 else int(cfg.warmup)
    step_opt = _direct_optimizer(acc, opt)
    # the scheduler is not handed to Accelerate: it would step it once per process
    sched = lr_schedule(step_opt, cfg.schedule, warm, n_steps)
    if reference is not None:
        reference.bind(model)
    model.train()
    return _Run(acc=acc, model=model, opt=opt, step_opt=step_opt, sched=sched, dl=dl, params=params,
                n_steps=n_steps, cfg=cfg, method=method, reference=reference, track=track,
                run_dir=Path(run_dir) if run_dir else None, tokenizer=tokenizer, callbacks=callbacks,
                plain=acc.unwrap_model(model) if callbacks else None)


def _resume(run: _Run, path: Path, res: LoopResult) -> _Position:
    """Load a checkpoint of this run into the model, optimizer, scheduler, method and ``res``."""
    from oblivio.engine.checkpoint import load_checkpoint, set_method_state
    got = load_checkpoint(path, model=run.acc.unwrap_model(run.model), optimizer=run.opt, scheduler=run.sched,
                          reference=run.reference)
    if got["n_steps"] != run.n_steps:
        raise InputError(f"the checkpoint was written for {got['n_steps']} steps, this run has {run.n_steps}: "
                         "resume with the run's own config.yaml", file=str(path))
    run.acc.step = got["acc_step"]
    set_method_state(run.method, got.get("method_state", {}))
    res.history, res.examples, res.checkpoints = got["history"], got["examples"], got["checkpoints"]
    res.tokens = int(got.get("tokens", 0))
    return _Position(epoch=got["epoch"], step=got["step"], skip=got["position"], rng=got["rng"])


def _run_epochs(run: _Run, source: PairSource, ctx: StepContext, at: _Position, res: LoopResult,
                bar) -> tuple[Any, str | None]:
    """Train until the step budget is spent or a callback stops it.

    Returns the non-padding tokens trained on (a device tensor, or 0 when nothing was
    trained: summed on the device and read once at the end, no per-step synchronisation)
    and the stop reason a callback gave, if any.
    """
    dl, n_steps, multi = run.dl, run.n_steps, run.acc.num_processes > 1
    tokens: Any = 0
    stop = None
    while at.step < n_steps and stop is None:
        _start_epoch(dl, source, at)
        pos = 0
        for batch in dl:
            pos += 1
            if at.skip:
                # resumed mid-epoch: pass over the batches already trained on; the loader
                # consumed RNG when it started, so the saved state is set only now
                at.skip -= 1
                if at.skip == 0 and at.rng is not None:
                    _set_rng(at.rng)
                    at.rng = None
                continue
            log = _micro_step(run, ctx, batch, multi, bar)
            res.examples += len(batch.get("forget", batch.get("retain", {})).get("input_ids", []))
            # summed on the device, read once at the end: no per-step synchronisation
            tokens = tokens + sum(b["attention_mask"].sum() for b in batch.values() if isinstance(b, dict))
            if log is None:
                continue
            at.step += 1
            ctx.step = at.step
            stop = _after_step(run, res, log, at, pos, tokens, bar)
            if stop is not None or at.step >= n_steps:
                break
        at.epoch += 1
    return tokens, stop


def _start_epoch(dl, source: PairSource, at: _Position) -> None:
    if hasattr(dl, "set_epoch"):
        # Accelerate's loader passes its own count of passes to the dataset's set_epoch when
        # it starts a pass; a resumed run starts counting at the saved epoch, not at 0
        dl.set_epoch(at.epoch)
    source.set_epoch(at.epoch)
    if at.rng is not None and at.skip == 0:
        # resumed at an epoch boundary: RNG as it was before this epoch's loader started
        _set_rng(at.rng)
        at.rng = None


def _micro_step(run: _Run, ctx: StepContext, batch, multi: bool, bar) -> dict[str, float] | None:
    """Loss, NaN guard, backward and (at the end of an accumulation) the optimiser step.

    Returns the step's log entry (step, loss, lr, loss parts) after an optimiser step, None
    after a micro-step that only accumulated gradients.
    """
    acc = run.acc
    with acc.accumulate(run.model):
        parts = run.method.loss(ctx, batch)
        # the total and its parts leave the device together, once per micro-step (one
        # sync, not one per value), averaged over processes only when there are several
        vals = torch.stack([v.detach().float().reshape(()) for v in (parts.total, *parts.parts.values())])
        if multi:
            vals = acc.reduce(vals, "mean")
        vals = vals.tolist()  # type: ignore[assignment]  # now a list of floats
        if not math.isfinite(vals[0]):
            bar.close()
            raise TrainingDiverged(ctx.step + 1, dict(zip(parts.parts, vals[1:])))
        acc.backward(parts.total)
        if acc.sync_gradients:
            if run.cfg.max_grad_norm:
                acc.clip_grad_norm_(run.params, run.cfg.max_grad_norm)
            run.step_opt.step()
            run.sched.step()
            run.step_opt.zero_grad(set_to_none=True)
    if not acc.sync_gradients:
        return None
    log = {"step": ctx.step + 1, "loss": vals[0], "lr": run.sched.get_last_lr()[0]}
    log.update(zip(parts.parts, vals[1:]))
    return log


def _after_step(run: _Run, res: LoopResult, log: dict[str, float], at: _Position, pos: int, tokens: Any,
                bar) -> str | None:
    """History, progress bar, periodic checkpoint, callbacks and trackers after an optimiser
    step. Returns the reason a callback gave to stop, if any."""
    step, cfg = at.step, run.cfg
    res.history.append(log)
    bar.set_postfix({k: f"{v:.3g}" for k, v in log.items() if k not in ("step", "lr")}, refresh=False)
    bar.update(1)
    if run.run_dir and cfg.checkpoint_every and step % cfg.checkpoint_every == 0 and step < run.n_steps:
        _save_progress(run, run.run_dir, res, at, pos, tokens)
    stop = None
    for cb in run.callbacks:
        stop = cb(step, run.plain) or stop
    if run.track:
        from oblivio.engine.tracking import step_values
        run.acc.log(step_values(log, run.callbacks, step), step=step)
    return stop


def _save_progress(run: _Run, run_dir: Path, res: LoopResult, at: _Position, pos: int, tokens: Any) -> None:
    """A resumable checkpoint after optimiser step ``at.step``, ``pos`` batches into the epoch."""
    from oblivio.engine.checkpoint import method_state
    step, at_end = at.step, pos >= len(run.dl)
    res.checkpoints.append(str(run_dir / "checkpoints" / f"step-{step}"))
    _checkpoint(run.acc, run.model, run_dir, step, tokenizer=run.tokenizer, opt=run.opt, sched=run.sched,
                reference=run.reference, progress={
                    "step": step, "n_steps": run.n_steps, "epoch": at.epoch + at_end,
                    "position": 0 if at_end else pos, "acc_step": run.acc.step,
                    "history": res.history, "examples": res.examples,
                    "tokens": res.tokens + int(tokens),
                    "checkpoints": res.checkpoints, "seed": run.cfg.seed,
                    "method_state": method_state(run.method)})


def _finish(run: _Run, res: LoopResult, at: _Position, tokens: Any, stop: str | None,
            seconds: float) -> LoopResult:
    if run.track:
        run.acc.end_training()
    res.tokens += int(tokens)
    res.steps, res.seconds = at.step, seconds
    res.processes = run.acc.num_processes
    res.stop_reason = stop or "max_steps"
    res.model = run.acc.unwrap_model(run.model)
    res.model.eval()
    return res


def _rate(cfg: TrainConfig) -> float:
    """The learning rate; None only before run_unlearning sets it by model scale (engine/defaults.py)."""
    if cfg.lr is None:
        raise ValueError("the training loop needs a learning rate (TrainConfig.lr is None)")
    return cfg.lr


def lr_schedule(opt, name: str, warmup: int, n_steps: int):
    """A ``LambdaLR`` with the formulas of ``transformers.get_scheduler`` (linear, cosine with
    half a cycle, constant, constant_with_warmup); built here because importing
    ``transformers.optimization`` pulls in the Trainer's utilities (about a second)."""
    def warm(s: int) -> float | None:
        return float(s) / float(max(1, warmup)) if s < warmup else None

    def linear(s: int) -> float:
        w = warm(s)
        return w if w is not None else max(0.0, float(n_steps - s) / float(max(1, n_steps - warmup)))

    def cosine(s: int) -> float:
        w = warm(s)
        if w is not None:
            return w
        progress = float(s - warmup) / float(max(1, n_steps - warmup))
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * 0.5 * 2.0 * progress)))

    fns = {"linear": linear, "cosine": cosine, "constant": lambda s: 1.0,
           "constant_with_warmup": lambda s: w if (w := warm(s)) is not None else 1.0}
    if name not in fns:
        raise ValueError(f"unknown schedule {name!r} (known: {', '.join(fns)})")
    return torch.optim.lr_scheduler.LambdaLR(opt, fns[name])


def _direct_optimizer(acc, opt):
    """The optimizer to step: the wrapped one when Accelerate's wrapper adds nothing.

    ``AcceleratedOptimizer.step`` looks for optional packages (``importlib`` lookups) and
    ``zero_grad`` inspects a signature on every call: a measurable share of a small model's
    step. Without a gradient scaler, and outside DeepSpeed/Megatron (their own wrapper
    classes) and XLA, the wrapper's step and zero_grad are exactly the inner optimizer's.
    """
    from accelerate.optimizer import AcceleratedOptimizer
    from accelerate.utils import DistributedType
    if (type(opt) is AcceleratedOptimizer and getattr(opt, "scaler", None) is None
            and acc.distributed_type != DistributedType.XLA):
        return opt.optimizer
    return opt


def _set_rng(st) -> None:
    from oblivio.engine.checkpoint import set_rng_state
    set_rng_state(st)


def _checkpoint(acc, model, run_dir: Path, step: int, *, tokenizer, opt, sched, reference,
                progress: dict[str, Any]) -> str:
    path = run_dir / "checkpoints" / f"step-{step}"
    acc.wait_for_everyone()
    if acc.is_main_process:
        from oblivio.engine.checkpoint import save_checkpoint
        save_checkpoint(path, model=acc.unwrap_model(model), tokenizer=tokenizer, optimizer=opt,
                        scheduler=sched, progress=progress, reference=reference)
    return str(path)
