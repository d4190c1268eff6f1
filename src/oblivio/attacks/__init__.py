"""Attacks on unlearning: one file, one registered attack each (see attacks/base.py);
the audit runner is attacks/audit.py.

Every module of this package is imported on first lookup of ``ATTACKS`` (oblivio.registry),
so a new attack is one new file; ``NOT_PLUGINS`` are helpers with no attack in them.
"""
from oblivio.attacks.base import ATTACKS, Attacked

NOT_PLUGINS = ("base", "audit")

__all__ = ["ATTACKS", "Attacked"]
