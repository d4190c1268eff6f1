"""Unlearning methods: one file, one registered loss each (see methods/base.py)."""
from oblivio.methods import finetune, ga, grad_diff, kl, npo  # noqa: F401  (registration)
from oblivio.methods.base import METHODS, LossParts, StepContext

__all__ = ["METHODS", "LossParts", "StepContext"]
