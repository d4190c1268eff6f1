"""The intervals the verdicts decide on (report/verdict.py), from ``results.json`` alone.

A verdict compares the unlearned model with a reference — the gold model, the holdout floor,
chance, the base model — and decides on the interval of the *difference* (for "kept", of the
*ratio*), never on two points. This module computes that interval, in the first of three ways
the record allows, and says which one it used:

* **paired** — both sides measured on the same items: recomputed from the per-item values
  results.json keeps (``per_item``, the set's ``item_ids`` and each item's fact,
  ``item_facts``) with the fact-level bootstrap of metrics/stats.py, both models resampled
  with the *same* facts (the evaluation's own seed, resample count and per-role stream, so a
  single model's interval here is the one in results.json). Pairing matters: the facts that
  are hard for one model are hard for the other, and the difference of two correlated values
  varies much less than either value;
* **unpaired** — the two sides are different facts (the forget set against the holdout
  floor): each side resampled on its own facts, independently;
* **from the 95% intervals** — a record without per-item values or facts (written before
  they were kept, or with ``eval.bootstrap: 0`` elsewhere): a normal approximation from the
  two stored 95% intervals as if the sides were independent. That ignores the pairing, so it
  is wider than the paired interval: it can only make a verdict harder to reach.

MIA AUCs (members: forget, non-members: holdout) are paired the same way, both sides of the
AUC resampled as in eval/intervals.py. Nonparametric percentile bootstrap (Efron 1979),
resampling clusters (facts; Field & Welsh 2007, JRSS B 69(3)).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from oblivio.metrics import stats as S

Op = Literal["difference", "ratio"]
PAIRED, UNPAIRED, FROM_CI = "paired", "unpaired", "from the 95% intervals, unpaired"


@dataclass(frozen=True)
class Interval:
    """A difference (or ratio) of two values with its interval and the facts behind it."""
    value: float
    lo: float
    hi: float
    level: float         # two-sided coverage of [lo, hi]
    how: str             # PAIRED, UNPAIRED or FROM_CI
    n: int | None        # facts that decide it (the smaller side when there are two)


@dataclass(frozen=True)
class Side:
    """One model's set value as results.json has it, with its per-item values when usable."""
    value: float
    ci: tuple[float, float] | None
    n: int | None
    items: dict[str, float] | None     # item id -> per-item value (None: not recorded, or not usable)
    order: list[str]                   # item ids in the set's order


#: results.json keys whose children are sets: a role split into portions is read in the one the
#: run evaluated (``sets.forget`` → ``sets.forget_test``, or ``forget_val`` for a tuning run;
#: oblivio.roles)
_PORTIONED = ("sets", "item_ids", "item_facts")


def get(rec: Any, path: str) -> Any:
    """The value at a dotted ``path`` of a results record, None where it is absent."""
    node, prev = rec, ""
    for part in path.split("."):
        if isinstance(node, dict) and part not in node and prev in _PORTIONED:
            # a run evaluates one portion: the test one, or the validation one (a tuning run)
            part = next((f"{part}_{p}" for p in ("test", "val") if f"{part}_{p}" in node), part)
        if not isinstance(node, dict) or part not in node:
            return None
        node, prev = node[part], part
    return node


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _pair(v: Any) -> tuple[float, float] | None:
    return (float(v[0]), float(v[1])) if isinstance(v, (list, tuple)) and len(v) == 2 and all(map(_number, v)) \
        else None


def boot_settings(rec: dict[str, Any]) -> tuple[int, int] | None:
    """(resamples, seed) of the run's evaluation; None when it made no intervals."""
    st = get(rec, "models.unlearned.statistics") or {}
    cfg = get(rec, "config.eval") or {}
    n = st.get("bootstrap", cfg.get("bootstrap"))
    seed = st.get("seed", cfg.get("seed", 0))
    return (int(n), int(seed)) if isinstance(n, int) and n > 0 and isinstance(seed, int) else None


def facts_of(rec: dict[str, Any], role: str) -> dict[str, str] | None:
    """item id -> fact for ``role``, from any model that recorded them (the items are the data's)."""
    for m in ("unlearned", "gold", "base"):
        ids, facts = get(rec, f"models.{m}.item_ids.{role}"), get(rec, f"models.{m}.item_facts.{role}")
        if isinstance(ids, list) and isinstance(facts, list) and len(ids) == len(facts) and ids:
            return {str(i): str(f) for i, f in zip(ids, facts)}
    return None


def _ids(rec: dict[str, Any], model: str, role: str, node: dict[str, Any], side: str | None = None) -> Any:
    ids = (node.get("extra") or {}).get("item_ids")
    if side is not None:
        ids = ids.get(side) if isinstance(ids, dict) else None
    return ids if ids is not None else get(rec, f"models.{model}.item_ids.{side or role}")


def _items(ids: Any, values: Any) -> dict[str, float] | None:
    if not (isinstance(ids, list) and isinstance(values, list) and len(ids) == len(values) and ids):
        return None
    if not all(_number(v) for v in values):
        return None
    return {str(i): float(v) for i, v in zip(ids, values)}


def side(rec: dict[str, Any], model: str, role: str, metric: str) -> Side | None:
    """``models.<model>.sets.<role>.<metric>`` as a :class:`Side` (None without a value)."""
    node = get(rec, f"models.{model}.sets.{role}.{metric}")
    if not isinstance(node, dict) or not _number(node.get("value")):
        return None
    ids = _ids(rec, model, role, node)
    items = _items(ids, node.get("per_item"))
    if items is not None and abs(float(np.mean(list(items.values()))) - float(node["value"])) > 1e-9:
        items = None      # the value is not the mean of its per-item values: no estimator for it here
    n = node.get("n_facts")
    return Side(float(node["value"]), _pair(node.get("ci")), n if isinstance(n, int) else None, items,
                [str(i) for i in ids] if items is not None else [])


def _resampled_mean(values: Sequence[float], facts: Sequence[str], boot: tuple[int, int], stream: str) -> np.ndarray:
    """The item mean on every resample of the facts (metrics/stats.py; the evaluation's stream
    is the role's name, so the same facts in the same order give the evaluation's resamples)."""
    codes, labels = S.fact_codes(list(facts))
    counts = S.resample_counts(len(labels), boot[0], boot[1], stream)
    return S.mean_estimator(list(values), codes).resampled(counts)


def _combine(a: Any, b: Any, op: Op) -> Any:
    with np.errstate(divide="ignore", invalid="ignore"):
        return a - b if op == "difference" else a / b


def _finish(value: float, boot: np.ndarray, level: float, how: str, n: int | None) -> Interval | None:
    ci = S.percentile_ci(boot, level)
    if ci is None or not math.isfinite(value):
        return None
    return Interval(value, ci[0], ci[1], level, how, n)


def compare(rec: dict[str, Any], a: Side, b: Side, *, roles: tuple[str, str], op: Op,
            level: float) -> Interval | None:
    """The interval of ``a − b`` (or ``a / b``) at ``level``. ``roles``: the roles of ``a`` and
    ``b`` — the same role: paired; two roles: unpaired."""
    boot = boot_settings(rec)
    if boot is not None and a.items is not None and b.items is not None:
        fa, fb = facts_of(rec, roles[0]), facts_of(rec, roles[1])
        if fa is not None and fb is not None:
            if roles[0] == roles[1]:
                got = _paired(a, b, fa, roles[0], op, level, boot)
            else:
                got = _unpaired(a, b, fa, fb, roles, op, level, boot)
            if got is not None:
                return got
    return _from_ci(a, b, op, level)


def _paired(a: Side, b: Side, facts: dict[str, str], role: str, op: Op, level: float,
            boot: tuple[int, int]) -> Interval | None:
    assert a.items is not None and b.items is not None
    ids = [i for i in a.order if i in b.items and i in facts]
    if not ids:
        return None
    fs = [facts[i] for i in ids]
    ra = _resampled_mean([a.items[i] for i in ids], fs, boot, role)
    rb = _resampled_mean([b.items[i] for i in ids], fs, boot, role)     # the same facts: the same resamples
    va, vb = float(np.mean([a.items[i] for i in ids])), float(np.mean([b.items[i] for i in ids]))
    return _finish(float(_combine(va, vb, op)) if vb or op == "difference" else math.nan,
                   _combine(ra, rb, op), level, PAIRED, len(set(fs)))


def _unpaired(a: Side, b: Side, fa: dict[str, str], fb: dict[str, str], roles: tuple[str, str], op: Op,
              level: float, boot: tuple[int, int]) -> Interval | None:
    assert a.items is not None and b.items is not None
    ia, ib = [i for i in a.order if i in fa], [i for i in b.order if i in fb]
    if not ia or not ib:
        return None
    ra = _resampled_mean([a.items[i] for i in ia], [fa[i] for i in ia], boot, roles[0])
    rb = _resampled_mean([b.items[i] for i in ib], [fb[i] for i in ib], boot, roles[1])   # its own stream
    n = min(len({fa[i] for i in ia}), len({fb[i] for i in ib}))
    return _finish(float(_combine(a.value, b.value, op)) if b.value or op == "difference" else math.nan,
                   _combine(ra, rb, op), level, UNPAIRED, n)


def _z(level: float) -> float:
    from scipy.stats import norm
    return float(norm.ppf(0.5 + level / 2))


def _se(s: Side) -> float | None:
    """Standard error read back from a stored 95% interval (normal approximation)."""
    return None if s.ci is None else (s.ci[1] - s.ci[0]) / (2 * _z(S.LEVEL))


def _from_ci(a: Side, b: Side, op: Op, level: float) -> Interval | None:
    sa, sb = _se(a), _se(b)
    if sa is None or sb is None:
        return None
    if op == "difference":
        v, se = a.value - b.value, math.hypot(sa, sb)
    else:
        if b.value <= 0 or a.value < 0:
            return None
        v = a.value / b.value
        se = v * math.hypot(sa / a.value if a.value else 0.0, sb / b.value) if a.value else sa / b.value
    ns = [x for x in (a.n, b.n) if x is not None]
    z = _z(level)
    lo, hi = v - z * se, v + z * se
    if op == "difference":      # two values in [0, 1] (accuracies, probabilities, AUCs) differ by at most 1
        lo, hi = max(lo, -1.0), min(hi, 1.0)
    return Interval(v, lo, hi, level, FROM_CI, min(ns) if ns else None)


def _constant_from_ci(a: Side, c: float, level: float) -> Interval | None:
    se = _se(a)
    if se is None:
        return None
    z = _z(level)
    return Interval(a.value - c, a.value - c - z * se, a.value - c + z * se, level, FROM_CI, a.n)


# --- MIA AUC (forget = members, holdout = non-members) --------------------------------------

@dataclass(frozen=True)
class Auc:
    """One model's MIA AUC as results.json has it, with its scores when usable."""
    value: float
    ci: tuple[float, float] | None
    n: int | None                              # the smaller side's facts
    members: dict[str, float] | None           # forget item id -> score
    nonmembers: dict[str, float] | None        # holdout item id -> score

    def side(self) -> Side:
        return Side(self.value, self.ci, self.n, None, [])


def auc(rec: dict[str, Any], model: str, name: str) -> Auc | None:
    """``models.<model>.model.<name>`` (an MIA AUC) as an :class:`Auc` (None without a value)."""
    node = get(rec, f"models.{model}.model.{name}")
    if not isinstance(node, dict) or not _number(node.get("value")):
        return None
    extra = node.get("extra") or {}
    nf = node.get("n_facts")
    n = min(nf.values()) if isinstance(nf, dict) and nf and all(isinstance(x, int) for x in nf.values()) else None
    return Auc(float(node["value"]), _pair(node.get("ci")), n,
               _items(_ids(rec, model, "forget", node, "forget"), node.get("per_item")),
               _items(_ids(rec, model, "holdout", node, "holdout"), extra.get("holdout_scores")))


def compare_auc(rec: dict[str, Any], a: Auc, b: Auc | float, *, level: float) -> Interval | None:
    """The interval of AUC ``a`` − AUC ``b`` (paired: the same member and non-member facts
    resampled for both), or − the constant ``b`` (chance, 0.5)."""
    boot = boot_settings(rec)
    fm, fn = facts_of(rec, "forget"), facts_of(rec, "holdout")
    ref, vb = (b, b.value) if isinstance(b, Auc) else (None, float(b))
    if boot is not None and fm is not None and fn is not None:
        got = _resampled_auc_difference(a, ref, vb, (fm, fn), boot, level)
        if got is not None:
            return got
    if ref is None:
        return _constant_from_ci(a.side(), vb, level)
    return _from_ci(a.side(), ref.side(), "difference", level)


def _resampled_auc_difference(a: Auc, ref: Auc | None, vb: float, facts: tuple[dict[str, str], dict[str, str]],
                              boot: tuple[int, int], level: float) -> Interval | None:
    fm, fn = facts
    scored = [a] if ref is None else [a, ref]
    mems, nons = [x.members for x in scored], [x.nonmembers for x in scored]
    if any(x is None for x in (*mems, *nons)):
        return None
    mem = [i for i in mems[0] or {} if i in fm and all(i in (x or {}) for x in mems)]
    non = [i for i in nons[0] or {} if i in fn and all(i in (x or {}) for x in nons)]
    cm, lm = S.fact_codes([fm[i] for i in mem])
    cn, ln = S.fact_codes([fn[i] for i in non])
    if len(lm) < 2 or len(ln) < 2:
        return None
    counts = (S.resample_counts(len(lm), boot[0], boot[1], "forget"),
              S.resample_counts(len(ln), boot[0], boot[1], "holdout"))

    def resampled(x: Auc) -> np.ndarray:
        return S.weighted_auc([(x.members or {})[i] for i in mem], cm, [(x.nonmembers or {})[i] for i in non], cn,
                              *counts)
    rb = vb if ref is None else resampled(ref)
    return _finish(a.value - vb, resampled(a) - rb, level, UNPAIRED if ref is None else PAIRED, min(len(lm), len(ln)))
