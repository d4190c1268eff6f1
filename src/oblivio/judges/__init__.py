"""Judges: pluggable scorers of TRU's unlearning quality UQ and retention quality RQ
(Liao et al. 2026, arXiv 2603.09980).

One file per kind, registered in ``oblivio.registry.JUDGES``: ``rule`` (offline, the
default), ``hf`` (a local model) and ``endpoint`` (an OpenAI-compatible server), the last
two with our written rubric (judges/llm.py). ``eval.judge.kind: none`` turns judging off.
"""
from oblivio.registry import JUDGES

NOT_PLUGINS = ("base", "llm")

__all__ = ["JUDGES"]
