"""The robustness audit: every selected attack on the base, gold and unlearned models.

Each attack (attacks/base.py) gives an attacked model and/or attacked forget items; the one
evaluator scores them (greedy answer ``accuracy`` and ``answer_prob``), next to the same items
without the attack. Per attack (SPEC §4, our verdict rule):

* recovery = (attacked_unlearned − unlearned) / (base − unlearned), accuracies on the scored
  items, ``None`` with a reason when base − unlearned ≤ 0 (nothing was forgotten);
* robust iff the unlearned model's attacked forget accuracy ≤ the gold model's attacked
  accuracy + 0.05 (``None`` without a gold model).

The record is ``{"attacks": {name: {"recovery", "robust", "models": {"base", "gold",
"unlearned"}, "seconds", "note"}}, "seconds"}`` (results.json's ``audit`` key; the report
reads it).
"""
from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Callable, Sequence
from typing import Any

from oblivio.attacks.base import ATTACKS
from oblivio.data.schema import QAItem, UnlearningData
from oblivio.eval.evaluate import EvalConfig
from oblivio.models.format import PromptFormat

MARGIN = 0.05
SCORED = ("accuracy", "answer_prob")


def score(model: Any, tokenizer: Any, items: Sequence[QAItem], *, fmt: PromptFormat | None = None,
          eval_cfg: EvalConfig | None = None) -> dict[str, Any]:
    """Forget accuracy and answer probability of ``items`` through the evaluator."""
    from oblivio.eval.evaluate import evaluate_model
    if not items:
        return {"accuracy": None, "answer_prob": None, "n_items": 0}
    cfg = dataclasses.replace(eval_cfg or EvalConfig(), metrics=list(SCORED), max_items_per_role=None,
                              extraction=False)
    d = UnlearningData(items=[dataclasses.replace(it, role="forget") for it in items], name="audit")
    rep = evaluate_model(model, tokenizer, d, cfg=cfg, fmt=fmt, name="audit")
    return {**{m: rep.value(m, "forget") for m in SCORED}, "n_items": len(items)}


def verdict(models: dict[str, dict[str, Any]]) -> tuple[float | None, bool | None, str]:
    """(recovery, robust, reason for a None) from the per-model records."""
    why = []
    base, unl, gold = models.get("base"), models.get("unlearned"), models.get("gold")
    recovery = None
    if base is None or unl is None or None in (base["clean_accuracy"], unl["clean_accuracy"], unl["accuracy"]):
        why.append("recovery: no base or unlearned score")
    elif base["clean_accuracy"] - unl["clean_accuracy"] <= 0:
        why.append(f"recovery: base accuracy {base['clean_accuracy']:.3f} ≤ unlearned {unl['clean_accuracy']:.3f} "
                   "on the scored items (nothing was forgotten to recover)")
    else:
        recovery = (unl["accuracy"] - unl["clean_accuracy"]) / (base["clean_accuracy"] - unl["clean_accuracy"])
    robust = None
    if gold is None or gold["accuracy"] is None:
        why.append("verdict: no gold model score under this attack")
    elif unl is None or unl["accuracy"] is None:
        why.append("verdict: no unlearned model score under this attack")
    else:
        robust = bool(unl["accuracy"] <= gold["accuracy"] + MARGIN + 1e-12)
    return recovery, robust, "; ".join(why)


def run_audit(models: dict[str, tuple[Any, Any]], data: UnlearningData, *, attacks: Sequence[str] | None = None,
              seed: int = 0, eval_cfg: EvalConfig | None = None,
              log: Callable[[str], None] = print) -> dict[str, Any]:
    """Every attack in ``attacks`` (default: all registered) on every ``name → (model,
    tokenizer)``; returns the ``audit`` record (module docstring). Models are never changed:
    an attack that changes weights gets a copy."""
    names = list(attacks) if attacks else ATTACKS.names()
    classes = {n: ATTACKS.get(n, field="attacks") for n in names}   # unknown names fail before any work
    by_id = {it.id: it for it in data.forget}
    clean: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = {}
    out: dict[str, Any] = {}
    t_all = time.perf_counter()
    for name, cls in classes.items():
        atk = cls()
        t0 = time.perf_counter()
        per: dict[str, dict[str, Any]] = {}
        notes: dict[str, str] = {}
        for mname, (model, tok) in models.items():
            work = copy.deepcopy(model) if atk.modifies_model else model
            res = atk.apply(work, tok, data, seed=seed)
            items = res.items if res.items is not None else data.forget
            ids = tuple(it.id for it in items)
            if (mname, ids) not in clean:   # the same items without the attack, on the untouched model
                clean[(mname, ids)] = score(model, tok, [by_id[i] for i in ids], eval_cfg=eval_cfg)
            c = clean[(mname, ids)]
            att = res.scores if res.scores is not None else score(
                res.model if res.model is not None else work, tok, items, fmt=res.fmt, eval_cfg=eval_cfg)
            per[mname] = {"accuracy": att.get("accuracy"), "answer_prob": att.get("answer_prob"),
                          "clean_accuracy": c["accuracy"], "clean_answer_prob": c["answer_prob"],
                          "n_items": len(items), **res.details}
            notes[mname] = res.note
            del work, res
        recovery, robust, why = verdict(per)
        said = [n for n in dict.fromkeys(notes.values()) if n]   # one note when every model says the same
        note = said if len(said) <= 1 else [f"{m}: {n}" for m, n in notes.items() if n]
        out[name] = {"recovery": recovery, "robust": robust, "models": per,
                     "seconds": round(time.perf_counter() - t0, 3), "note": "; ".join([*note, *([why] if why else [])])}
        u = per.get("unlearned", {})
        log(f"attack {name:<20} unlearned acc {_f(u.get('clean_accuracy'))} → {_f(u.get('accuracy'))}, gold "
            f"{_f(per.get('gold', {}).get('accuracy'))}, recovery {_f(recovery)}, "
            f"robust {'-' if robust is None else ('yes' if robust else 'NO')} ({out[name]['seconds']:.1f}s)")
    return {"attacks": out, "seconds": round(time.perf_counter() - t_all, 3)}


def _f(v: float | None) -> str:
    return "-" if v is None else f"{v:.3f}"
