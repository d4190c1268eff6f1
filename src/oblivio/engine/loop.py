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

from oblivio.data.collate import Encoded, collate
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


def make_collate(forget: Sequence[Encoded], retain: Sequence[Encoded], pad_id: int,
                 *, use_forget: bool, use_retain: bool):
    def fn(pairs: list[tuple[int, int]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        fi = [f for f, _ in pairs if f >= 0]
        ri = [r for _, r in pairs if r >= 0]
        if use_forget and fi:
            out["forget"] = collate([forget[i] for i in fi], pad_id)
            out["forget"]["index"] = torch.tensor(fi)
        if use_retain and ri:
            out["retain"] = collate([retain[i] for i in ri], pad_id)
            out["retain"]["index"] = torch.tensor(ri)
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
    from transformers import get_scheduler

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
    # the scheduler is not handed to Accelerate: it would step it once per process
    sched = get_scheduler(cfg.schedule, opt, num_warmup_steps=warm, num_training_steps=n_steps)
    if reference is not None:
        reference.bind(model)
    model.train()
    ctx = StepContext(model=model, reference=reference, step=0, max_steps=n_steps)
    res = LoopResult(steps=0, seconds=0.0)
    bar = tqdm(total=n_steps, desc=desc, disable=not (cfg.progress and acc.is_main_process),
               dynamic_ncols=True, leave=False)
    t0 = time.perf_counter()
    epoch, step, stop = 0, 0, None
    while step < n_steps and stop is None:
        source.set_epoch(epoch)
        for batch in dl:
            with acc.accumulate(model):
                parts = method.loss(ctx, batch)
                total = acc.reduce(parts.total.detach(), "mean")
                if not torch.isfinite(total):
                    bar.close()
                    raise TrainingDiverged(step + 1, {k: float(v.detach()) for k, v in parts.parts.items()})
                acc.backward(parts.total)
                if acc.sync_gradients:
                    if cfg.max_grad_norm:
                        acc.clip_grad_norm_(params, cfg.max_grad_norm)
                    opt.step()
                    sched.step()
                    opt.zero_grad(set_to_none=True)
            res.examples += len(batch.get("forget", batch.get("retain", {})).get("input_ids", []))
            if not acc.sync_gradients:
                continue
            step += 1
            ctx.step = step
            log = {"step": step, "loss": float(total), "lr": sched.get_last_lr()[0]}
            log.update({k: float(v.detach()) for k, v in parts.parts.items()})
            res.history.append(log)
            bar.set_postfix({k: f"{v:.3g}" for k, v in log.items() if k not in ("step", "lr")}, refresh=False)
            bar.update(1)
            if run_dir and cfg.checkpoint_every and step % cfg.checkpoint_every == 0 and step < n_steps:
                res.checkpoints.append(_checkpoint(acc, model, Path(run_dir), step))
            for cb in callbacks:
                stop = cb(step, acc.unwrap_model(model)) or stop
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


def _checkpoint(acc, model, run_dir: Path, step: int) -> str:
    path = run_dir / "checkpoints" / f"step-{step}"
    acc.wait_for_everyone()
    if acc.is_main_process:
        from oblivio.models.io import save_model
        path.parent.mkdir(parents=True, exist_ok=True)
        save_model(acc.unwrap_model(model), None, path)
    return str(path)
