"""Progress on stderr, results on stdout: the one facility long work reports through.

Two kinds of progress, both on stderr:

* a **phase** (:func:`phase`): one line when it starts ("evaluating base: 12 sets, 340 items
  (test portion) …") and one when it ends ("evaluating base: done in 8.3 s") — a model's
  evaluation, the audit's attacks, a judge's scoring, reveal's search;
* a **bar** (:func:`bar`, tqdm): counts the batches of a pass that lasts longer than
  :data:`BAR_DELAY` seconds (shorter work draws none), and is erased when done.

Lines that are not phases (:func:`say`) go the same way; a multi-process run reports from its
main process only. :func:`silenced` turns all of it off (``--quiet``; ``progress=False`` in the
Python API). Warnings (:func:`warn`) are not progress: they are shown under ``--quiet`` too.
Results — tables, verdict lines, the paths written — are the command line's to print on stdout
(cli.py), never this module's, so ``oblivio eval > table.txt`` keeps only results.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

Log = Callable[[str], None]

#: seconds a pass runs before its bar is drawn: only work a person would wait on shows one
BAR_DELAY = 2.0

_SHOWN: ContextVar[bool] = ContextVar("oblivio_progress_shown", default=True)


def _main_process() -> bool:
    """Rank 0 of a multi-process launch, or a single process: the launcher's variables as
    Accelerate reads them (torchrun, ``accelerate launch``, MPI), read without starting
    Accelerate's process state — progress never decides how a run's processes are set up
    (engine/dist.py does; this module stays below the engine)."""
    from accelerate.utils import get_cpu_distributed_information
    return get_cpu_distributed_information().rank == 0


def shown() -> bool:
    """Whether progress is shown here: not silenced, and on the main process."""
    return _SHOWN.get() and _main_process()


@contextmanager
def silenced(quiet: bool = True) -> Iterator[None]:
    """No progress line or bar inside (``quiet`` False: as it was). Only ever silences: an inner
    ``silenced(False)`` does not bring back what an outer one turned off."""
    if not quiet:
        yield
        return
    token = _SHOWN.set(False)
    try:
        yield
    finally:
        _SHOWN.reset(token)


def say(msg: str) -> None:
    """A progress line on stderr (written above any bar being drawn, which tqdm redraws)."""
    if shown():
        from tqdm import tqdm
        tqdm.write(msg, file=sys.stderr)


def drop(_msg: str) -> None:
    """A log that prints nothing (``log=drop``)."""


def warn(msg: str) -> None:
    """``oblivio: warning: msg`` on stderr, also under ``--quiet`` (it changes how a result reads)."""
    if _main_process():
        print(f"oblivio: warning: {msg}", file=sys.stderr, flush=True)


@contextmanager
def phase(name: str, detail: str = "", log: Log | None = None) -> Iterator[None]:
    """``name: detail …`` now and ``name: done in S s`` when the block ends (not when it
    raises: the error says what happened). ``log``: where the lines go (default :func:`say`)."""
    out = log or say
    out(f"{name}: {detail} …" if detail else f"{name} …")
    t0 = time.perf_counter()
    yield
    out(f"{name}: done in {time.perf_counter() - t0:.1f} s")


def bar(iterable: Iterable[Any] | None = None, *, total: int | None = None, desc: str = "", unit: str = "it",
        delay: float = BAR_DELAY, initial: int = 0, enabled: bool = True) -> Any:
    """A tqdm bar on stderr over ``iterable`` (or ``total`` steps from ``initial``, advanced with
    ``.update``): drawn only after ``delay`` seconds, erased when done; none when progress is not
    shown or the caller's own switch ``enabled`` is off (a training config's ``progress``)."""
    from tqdm.auto import tqdm
    return tqdm(iterable, total=total, initial=initial, desc=desc, unit=unit, delay=delay, leave=False,
                dynamic_ncols=True, file=sys.stderr, disable=not (enabled and shown()))
