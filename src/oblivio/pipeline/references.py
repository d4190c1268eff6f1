"""Pipeline stage 2: the reference models (gold, base) evaluated once, through the on-disk
cache keyed by model + data + eval config (eval/cache.py)."""
from __future__ import annotations

from typing import Any, Callable

from oblivio.config import EvalConfig
from oblivio.data.schema import UnlearningData
from oblivio.progress import say

Log = Callable[[str], None]


def evaluate_references(reports: dict[str, Any], models: dict[str, Any], data: UnlearningData,
                        ecfg: EvalConfig, *, embedder: Any = None, log: Log = say) -> dict[str, str]:
    """Evaluate the reference models into ``reports``: ``"gold"`` first (the others are
    measured against it); a model is a (model, tokenizer) pair or a function that loads one
    just before its evaluation (one model in memory at a time); a None model is skipped.
    Returns ``{name: "hit" | "miss" | "off"}``: loaded from the cache, computed and stored,
    cache switched off."""
    from oblivio.eval.cache import ReferenceEval, evaluate_reference
    gold: ReferenceEval | None = None
    out: dict[str, str] = {}
    for name, pair in sorted(models.items(), key=lambda kv: kv[0] != "gold"):
        m, tok = pair() if callable(pair) else pair
        if m is None:
            continue
        r = evaluate_reference(m, tok, data, cfg=ecfg, name=name, gold=gold, embedder=embedder, log=log,
                               portion=ecfg.portion)
        reports[name] = r.report
        out[name] = "hit" if r.hit else "miss" if r.key else "off"
        if name == "gold":
            gold = r
        del m, pair
    return out
