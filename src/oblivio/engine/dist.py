"""Process state for single- and multi-process runs, via Accelerate (no distributed code
of our own).

Accelerate chooses its multi-CPU (gloo) backend only when told the run is on CPU; on a
machine without an accelerator we say so, so that ``accelerate launch`` (with MPI) or any
torchrun-style launcher (``accelerate launch --multi_gpu``, ``torchrun``) gives real
data-parallel training on CPU instead of N independent copies.
"""
from __future__ import annotations

import functools


@functools.lru_cache(maxsize=1)
def on_cpu() -> bool:
    import torch
    return not (torch.cuda.is_available() or getattr(torch, "xpu", None) and torch.xpu.is_available())


def state():
    """The (singleton) ``accelerate.PartialState`` of this process."""
    from accelerate import PartialState
    return PartialState(cpu=on_cpu())


def accelerator(**kw):
    from accelerate import Accelerator
    return Accelerator(cpu=on_cpu(), **kw)
