"""Unlearning methods: one file, one registered loss each (see methods/base.py).

Every module of this package is imported on first lookup of ``METHODS`` (oblivio.registry),
so a new method is one new file; ``NOT_PLUGINS`` are helpers with no method in them.
"""
from oblivio.methods.base import METHODS, USES, LossParts, Method, MethodBase, RunInputs, StepContext, uses_of

NOT_PLUGINS = ("base", "ops", "capping", "alternate", "echoes", "names")

__all__ = ["METHODS", "USES", "LossParts", "Method", "MethodBase", "RunInputs", "StepContext", "uses_of"]
