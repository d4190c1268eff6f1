"""Attacks on unlearning (SPEC §4): one file, one registered attack each (see attacks/base.py);
the audit runner is attacks/audit.py."""
from oblivio.attacks import (  # noqa: F401  (registration)
    affirmative_prefix,
    few_shot,
    logit_lens,
    paraphrase,
    prefix_injection,
    quantize,
    relearn,
    roleplay,
)
from oblivio.attacks.base import ATTACKS, Attacked

__all__ = ["ATTACKS", "Attacked"]
