"""Unlearning methods: one file, one registered loss each (see methods/base.py)."""
from oblivio.methods import (  # noqa: F401  (registration)
    ceu,
    finetune,
    ga,
    grad_diff,
    kl,
    me_gd,
    npo,
    pdu,
    rmu,
    satimp,
    simnpo,
    task_vector,
    undial,
    wga,
)
from oblivio.methods.base import METHODS, LossParts, StepContext

__all__ = ["METHODS", "LossParts", "StepContext"]
