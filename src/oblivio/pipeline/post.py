"""Pipeline stage 4: the post-steps, work done after training on the finished models (the
robustness audit, calibration, the base model's recall, anything registered).

A post-step is a class registered in ``registry.POST_STEPS`` (a module of ``oblivio.post_steps``,
an entry point in group ``oblivio.post_steps``, or a dotted path ``pkg.module:Class``) with
``run(ctx: RunContext) -> dict``: what it returns is stored in results.json under
``post_steps.<name>`` (JSON values only). The config's ``post_steps`` names the ones a run
executes, in order, on the main process (pipeline/run.py adds ``audit`` when
``audit.enabled``). A post-step may also add top-level results.json keys (``ctx.extra``, as the
audit does with ``audit``), files in the run folder (``ctx.work``), phase timings
(``ctx.timings``) and the tokens its models read (``ctx.tokens``), which join the run's
efficiency record. Checkpoint selection is part of training (pipeline/train.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

from oblivio.config import Config
from oblivio.data.schema import UnlearningData
from oblivio.progress import say

Log = Callable[[str], None]


@dataclass
class RunContext:
    """What a post-step sees: the run's config and data, the unlearned model, the evaluation
    reports so far (``base``, ``gold``, ``unlearned``), the run folder being written (None
    without ``--out``), and ``reference()``: the model before unlearning as (model, tokenizer),
    a fresh copy the step may change ((None, None) or None when the run started from an object
    it cannot reload). ``data`` is None only in a run that neither trains nor evaluates and was
    given none (``oblivio reveal --model M --keywords …``). ``outputs``: objects a step hands the
    run's caller in memory, never written (``UnlearnResult.outputs``; the reveal step's rows)."""

    cfg: Config
    data: UnlearningData | None
    model: Any
    tokenizer: Any
    reports: dict[str, Any]
    work: Path | None = None
    gold: Any = None
    gold_tokenizer: Any = None
    reference: Callable[[], Any] = field(default=lambda: None)
    log: Log = say
    extra: dict[str, Any] = field(default_factory=dict)      # top-level results.json keys
    timings: dict[str, float] = field(default_factory=dict)  # the run's phases (efficiency record)
    shared: dict[str, Any] = field(default_factory=dict)     # lives as long as a grid of runs
    progress: bool = True
    tokens: int = 0                                          # inference tokens the post-steps fed models
    outputs: dict[str, Any] = field(default_factory=dict)    # for the caller, in memory


    def dataset(self, step: str) -> UnlearningData:
        """The run's data; an InputError naming ``step`` in a run that has none."""
        if self.data is None:
            from oblivio.errors import InputError
            raise InputError(f"the {step} post-step needs the run's data (--data, or the embedded world)",
                             field="post_steps")
        return self.data


class PostStep(Protocol):
    """The post-step contract (a class with no constructor arguments)."""

    def run(self, ctx: RunContext) -> dict[str, Any]: ...


def check_post_steps(names: list[str]) -> None:
    """Unknown names fail before any work (did-you-mean from the registry)."""
    from oblivio.registry import POST_STEPS
    for n in names:
        POST_STEPS.get(n, field="post_steps")


def run_post_steps(ctx: RunContext, names: list[str]) -> dict[str, Any]:
    """Every named post-step on ``ctx``; returns ``{name: results}``."""
    import time

    from oblivio.registry import POST_STEPS
    out: dict[str, Any] = {}
    for name in names:
        t0 = time.perf_counter()
        step: PostStep = POST_STEPS.get(name, field="post_steps")()
        res = step.run(ctx)
        out[name] = {**(res or {}), "seconds": round(time.perf_counter() - t0, 3)}
        ctx.log(f"post-step {name}: done in {out[name]['seconds']:.1f} s")
    return out
