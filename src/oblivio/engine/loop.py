"""The one training loop, on Accelerate: learning a world and every unlearning method.

Accelerate provides devices, DDP/FSDP/DeepSpeed (via ``accelerate launch``), mixed
precision and gradient accumulation, so there is no distributed code of our own. The loop
adds what the field needs around it: AdamW with warm-up and a schedule, gradient clipping,
periodic safetensors checkpoints, a progress bar with the loss parts, callbacks (for
checkpoint evaluation / early stopping) and a guard that stops cleanly on a non-finite
loss and names the step.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import torch

from oblivio.data.collate import IGNORE, Encoded
from oblivio.errors import TrainingDiverged
from oblivio.methods.base import StepContext


@dataclass
class TrainConfig:
    lr: float = 1e-4
    max_steps: int | None = None        # if set, overrides epochs
    epochs: float = 1.0
    batch_size: int = 8                 # per side (forget and retain) and per process
    grad_accum: int = 1
    warmup: float = 0.0                 # < 1: fraction of steps; ≥ 1: number of steps
    schedule: str = "linear"            # linear | cosine | constant
    weight_decay: float = 0.0
    max_grad_norm: float | None = 1.0
    mixed_precision: str = "no"         # no | bf16 | fp16
    checkpoint_every: int = 0           # 0 = no intermediate checkpoints
    seed: int = 0
    progress: bool = True


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


class _Rows:
    """Encoded items kept as token rows and batched with one tensor per field.

    Gives exactly ``data.collate.collate``'s right-padded batch (answer-only labels), plus
    ``index``. ``collate`` builds a tensor per row; on a small model that per-row work was
    most of the loop's own per-step cost (bench/loop_overhead.py).
    """

    def __init__(self, encs: Sequence[Encoded]) -> None:
        self.seqs = [list(e.prompt) + list(e.answer) for e in encs]
        self.starts = [len(e.prompt) for e in encs]

    def batch(self, idx: list[int], pad_id: int) -> dict[str, torch.Tensor]:
        seqs = [self.seqs[i] for i in idx]
        width = max(len(s) for s in seqs)
        ids, mask, labels = [], [], []
        for i, s in zip(idx, seqs):
            fill = width - len(s)
            st = self.starts[i]
            ids.append(s + [pad_id] * fill)
            mask.append([1] * len(s) + [0] * fill)
            labels.append([IGNORE] * st + s[st:] + [IGNORE] * fill)
        return {"input_ids": torch.tensor(ids, dtype=torch.long),
                "attention_mask": torch.tensor(mask, dtype=torch.long),
                "labels": torch.tensor(labels, dtype=torch.long),
                "index": torch.tensor(idx, dtype=torch.long)}


def make_collate(forget: Sequence[Encoded], retain: Sequence[Encoded], pad_id: int,
                 *, use_forget: bool, use_retain: bool):
    f_rows, r_rows = _Rows(forget if use_forget else []), _Rows(retain if use_retain else [])

    def fn(pairs: list[tuple[int, int]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        fi = [f for f, _ in pairs if f >= 0]
        ri = [r for _, r in pairs if r >= 0]
        if use_forget and fi:
            out["forget"] = f_rows.batch(fi, pad_id)
        if use_retain and ri:
            out["retain"] = r_rows.batch(ri, pad_id)
        return out
    return fn


@dataclass
class LoopResult:
    steps: int
    seconds: float
    history: list[dict[str, float]] = field(default_factory=list)
    stop_reason: str = "max_steps"
    checkpoints: list[str] = field(default_factory=list)
    examples: int = 0
    model: Any = None                  # the trained model, unwrapped from any DDP wrapper
    processes: int = 1                 # Accelerate processes; each saw its own shard of every epoch


def total_steps(cfg: TrainConfig, batches_per_epoch: int) -> int:
    if cfg.max_steps is not None:
        return int(cfg.max_steps)
    return max(1, math.ceil(cfg.epochs * batches_per_epoch / cfg.grad_accum))


def train(model, method, source: PairSource, collate_fn, cfg: TrainConfig, *, reference=None,
          run_dir: str | Path | None = None, callbacks: Sequence[Callable[[int, Any], str | None]] = (),
          accelerator=None, desc: str = "unlearn") -> LoopResult:
    """Run ``method`` on ``model`` for the configured steps. Returns the loss history.

    ``callbacks`` are called after every optimiser step with (step, unwrapped model); a
    callback returning a string stops training with that string as the reason.
    """
    from accelerate.utils import set_seed
    from tqdm.auto import tqdm

    from oblivio.engine.dist import accelerator as make_accelerator
    acc = accelerator or make_accelerator(mixed_precision=cfg.mixed_precision,
                                     gradient_accumulation_steps=cfg.grad_accum)
    set_seed(cfg.seed)
    dl = torch.utils.data.DataLoader(source, batch_size=cfg.batch_size, shuffle=False,
                                     collate_fn=collate_fn)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    model, opt, dl = acc.prepare(model, opt, dl)
    n_steps = total_steps(cfg, len(dl))
    warm = int(cfg.warmup * n_steps) if cfg.warmup < 1 else int(cfg.warmup)
    step_opt = _direct_optimizer(acc, opt)
    # the scheduler is not handed to Accelerate: it would step it once per process
    sched = lr_schedule(step_opt, cfg.schedule, warm, n_steps)
    if reference is not None:
        reference.bind(model)
    model.train()
    ctx = StepContext(model=model, reference=reference, step=0, max_steps=n_steps)
    res = LoopResult(steps=0, seconds=0.0)
    bar = tqdm(total=n_steps, desc=desc, disable=not (cfg.progress and acc.is_main_process),
               dynamic_ncols=True, leave=False)
    plain = acc.unwrap_model(model) if callbacks else None
    multi = acc.num_processes > 1
    t0 = time.perf_counter()
    epoch, step, stop = 0, 0, None
    while step < n_steps and stop is None:
        source.set_epoch(epoch)
        for batch in dl:
            with acc.accumulate(model):
                parts = method.loss(ctx, batch)
                # the total and its parts leave the device together, once per micro-step (one
                # sync, not one per value), averaged over processes only when there are several
                vals = torch.stack([v.detach().float().reshape(())
                                    for v in (parts.total, *parts.parts.values())])
                if multi:
                    vals = acc.reduce(vals, "mean")
                vals = vals.tolist()
                if not math.isfinite(vals[0]):
                    bar.close()
                    raise TrainingDiverged(step + 1, dict(zip(parts.parts, vals[1:])))
                acc.backward(parts.total)
                if acc.sync_gradients:
                    if cfg.max_grad_norm:
                        acc.clip_grad_norm_(params, cfg.max_grad_norm)
                    step_opt.step()
                    sched.step()
                    step_opt.zero_grad(set_to_none=True)
            res.examples += len(batch.get("forget", batch.get("retain", {})).get("input_ids", []))
            if not acc.sync_gradients:
                continue
            step += 1
            ctx.step = step
            log = {"step": step, "loss": vals[0], "lr": sched.get_last_lr()[0]}
            log.update(zip(parts.parts, vals[1:]))
            res.history.append(log)
            bar.set_postfix({k: f"{v:.3g}" for k, v in log.items() if k not in ("step", "lr")}, refresh=False)
            bar.update(1)
            if run_dir and cfg.checkpoint_every and step % cfg.checkpoint_every == 0 and step < n_steps:
                res.checkpoints.append(_checkpoint(acc, model, Path(run_dir), step))
            for cb in callbacks:
                stop = cb(step, plain) or stop
            if stop is not None or step >= n_steps:
                break
        epoch += 1
    bar.close()
    res.steps, res.seconds = step, time.perf_counter() - t0
    res.processes = acc.num_processes
    res.stop_reason = stop or "max_steps"
    res.model = acc.unwrap_model(model)
    res.model.eval()
    return res


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


def _checkpoint(acc, model, run_dir: Path, step: int) -> str:
    path = run_dir / "checkpoints" / f"step-{step}"
    acc.wait_for_everyone()
    if acc.is_main_process:
        from oblivio.models.io import save_model
        path.parent.mkdir(parents=True, exist_ok=True)
        save_model(acc.unwrap_model(model), None, path)
    return str(path)
