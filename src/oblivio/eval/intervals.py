"""95% bootstrap intervals over facts for every set value and every AUC of one evaluation.

The unit of resampling is the fact (``QAItem.fact``; an item without one is its own
fact), never the item — the phrasings of a fact are not independent. For each role, one
(resamples × facts) count matrix (:func:`oblivio.metrics.stats.resample_counts`, seeded by
``eval.seed`` and the role's name) is shared by every metric of that role and by every model
evaluated on the same data, so paired quantities are resampled together:

* set metrics whose value is the mean of their ``per_item`` values — an item mean over the
  drawn facts (all items of each drawn fact); the truth ratio (mean of min(R, 1/R) on forget,
  max(0, 1 − R) elsewhere), QA perplexity (exp of total NLL over total tokens) and Bushipaka et al.'s
  utility (harmonic mean of the item means of P̄, R, C) by their own formulas. A value that
  none of these reproduces on the sample itself (a formula changed, a pooled statistic such as
  Distinct-2) gets no interval and a ``ci_note`` saying why — never a wrong interval;
* MIA AUCs — members (forget) and non-members (holdout) resampled separately;
* model utility — the harmonic mean of its component set values, each resample combining the
  components of the same resample (roles resampled independently of one another);
* privleak — its formula applied to the resampled AUC and the gold model's AUC on the *same*
  resamples (paired);
* forget quality is a test's p-value: no interval.

Nonparametric percentile bootstrap (Efron 1979); cluster resampling as in Field & Welsh 2007
("Bootstrapping clustered data", JRSS B 69(3)).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from oblivio.metrics import stats as S
from oblivio.metrics.base import MetricResult, ModelStats, SetStats

#: how close an estimator's value on the sample must be to the metric's value to be trusted
TOL = 1e-9


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= TOL * max(1.0, abs(a), abs(b))


class Resampler:
    """The count matrices of one evaluation, one per role (built on first use)."""

    def __init__(self, sets: dict[str, SetStats], n_boot: int, seed: int) -> None:
        self.n_boot, self.seed = n_boot, seed
        self.codes: dict[str, dict[str, int]] = {}
        self.facts: dict[str, list[str]] = {}
        for role, s in sets.items():
            facts = [S.fact_of(it.item) for it in s.items]
            labels = list(dict.fromkeys(facts))
            self.facts[role] = labels
            self.codes[role] = {f: i for i, f in enumerate(labels)}
        self._counts: dict[str, np.ndarray] = {}

    def counts(self, role: str) -> np.ndarray:
        if role not in self._counts:
            self._counts[role] = S.resample_counts(len(self.facts[role]), self.n_boot, self.seed, role)
        return self._counts[role]

    def item_codes(self, role: str, facts: list[str]) -> np.ndarray:
        idx = self.codes[role]
        return np.fromiter((idx[f] for f in facts), dtype=np.int64, count=len(facts))


# --- set metrics -------------------------------------------------------------------------

def _ids(r: MetricResult) -> list[str] | None:
    ids = r.extra.get("item_ids")
    return list(ids) if isinstance(ids, list) else None


def _truth_ratio(s: SetStats, r: MetricResult, codes: np.ndarray) -> S.Estimator:
    from oblivio.metrics import functional as F
    from oblivio.roles import base_role
    agg = F.tr_forget_agg if base_role(s.role) == "forget" else F.tr_retain_agg
    return S.mean_estimator([agg(x) for x in r.per_item or []], codes)


def _qa_perplexity(s: SetStats, r: MetricResult, codes: np.ndarray) -> S.Estimator:
    ids = _ids(r)
    by_id = {it.item.id: it for it in s.items}
    items = [by_id[i] for i in ids] if ids is not None else list(s.items)
    # total NLL and token count per item, in float64 as the set value (functional.qa_perplexity)
    nll = [-float(np.asarray(it.token_logprobs, dtype=np.float64).sum()) for it in items]
    return S.ratio_exp_estimator(nll, [it.n_tokens for it in items], codes)


def _s0_utility(s: SetStats, r: MetricResult, codes: np.ndarray) -> S.Estimator:
    from oblivio.metrics.qa import _s0_parts
    got = _s0_parts(s)
    if isinstance(got, MetricResult):
        raise ValueError(got.skipped)  # noqa: TRY004  (caught below as "no interval")
    parts, _, _ = got
    return S.hm_of_means_estimator(list(parts.values()), codes)


#: set values that are not a plain mean of ``per_item`` (``per_item`` holds something else)
OWN_FORMULA: dict[str, Callable[[SetStats, MetricResult, np.ndarray], S.Estimator]] = {
    "truth_ratio": _truth_ratio, "qa_perplexity": _qa_perplexity, "s0_utility": _s0_utility}


def set_interval(name: str, s: SetStats, r: MetricResult, rs: Resampler) -> None:
    """Attach ``ci``, ``n_facts`` and ``boot`` (or ``ci_note``) to one set result."""
    if r.skipped or r.value is None:
        return
    if not r.per_item:
        r.ci_note = "pooled over the set (no per-item values to resample)"
        return
    facts = S.item_facts(s, _ids(r))
    if len(facts) != len(r.per_item):
        r.ci_note = "per-item values do not match the set's items"
        return
    codes = rs.item_codes(s.role, facts)
    r.n_facts = len(set(facts))
    try:
        est = OWN_FORMULA[name](s, r, codes) if name in OWN_FORMULA else S.mean_estimator(r.per_item, codes)
        n_f = len(rs.facts[s.role])
        if not _close(est.point(n_f), float(r.value)):
            r.ci_note = "the set value is not a mean over items (no fact-level estimator for it)"
            return
    except (ValueError, FloatingPointError, KeyError) as e:
        r.ci_note = f"no interval: {e}"
        return
    _finish(r, est.resampled(rs.counts(s.role)), r.n_facts)


def _finish(r: MetricResult, boot: np.ndarray, n_facts: Any) -> None:
    r.n_facts = n_facts
    if (min(n_facts.values(), default=0) if isinstance(n_facts, dict) else n_facts) < 2:
        r.ci_note = "fewer than 2 facts: no interval"
        return
    ci = S.percentile_ci(boot)
    if ci is None:
        r.ci_note = "no resample had a value"
        return
    r.ci, r.boot = ci, boot


# --- model metrics -----------------------------------------------------------------------

def _mia(m: ModelStats, r: MetricResult, rs: Resampler) -> None:
    if r.value is None:
        return
    ids = r.extra.get("item_ids") or {}
    sides = {}
    members, nonmembers = r.extra.get("sets") or ("forget", "holdout")
    for role, scores in ((members, r.per_item or []), (nonmembers, r.extra.get("holdout_scores") or [])):
        facts = S.item_facts(m.sets[role], ids.get(role))
        if len(facts) != len(scores):
            r.ci_note = f"{role} scores do not match the set's items"
            return
        sides[role] = (scores, rs.item_codes(role, facts), len(set(facts)))
    (sm, cm, fm), (sn, cn, fn) = sides[members], sides[nonmembers]
    ones_m, ones_n = np.ones((1, len(rs.facts[members]))), np.ones((1, len(rs.facts[nonmembers])))
    if not _close(float(S.weighted_auc(sm, cm, sn, cn, ones_m, ones_n)[0]), float(r.value)):
        r.ci_note = "the AUC does not match its scores (no fact-level estimator for it)"
        return
    boot = S.weighted_auc(sm, cm, sn, cn, rs.counts(members), rs.counts(nonmembers))
    _finish(r, boot, {"members": fm, "nonmembers": fn})


def _utility(m: ModelStats, r: MetricResult) -> None:
    if r.value is None:
        return
    # ``components``: {role: {metric: value}} — the set values the harmonic mean combined
    comps = r.extra.get("components") or {}
    if not isinstance(comps, dict):
        comps = {role: dict.fromkeys(comps) for role in r.extra.get("per_role") or {}}
    boots, points = [], []
    n: dict[str, int] = {}
    for role, names in comps.items():
        for name in names:
            c = m.set_results.get(role, {}).get(name)
            if c is None or c.value is None:
                continue
            if c.boot is None:
                r.ci_note = f"{role}/{name} has no interval ({c.ci_note or 'not resampled'})"
                return
            boots.append(c.boot)
            points.append(float(c.value))
            if isinstance(c.n_facts, int):
                n.setdefault(role, c.n_facts)
    if not boots or not _close(float(S.harmonic_mean_rows(np.array([points]))[0]), float(r.value)):
        r.ci_note = "model utility is not the harmonic mean of its set values (no estimator for it)"
        return
    _finish(r, S.harmonic_mean_rows(np.stack(boots, axis=1)), n)


def _auc_with_interval(m: ModelStats, name: str, rs: Resampler,
                       results: dict[str, MetricResult] | None = None) -> MetricResult:
    """The MIA metric ``name`` of ``m`` with its interval: the stored result, else computed now."""
    from oblivio.metrics.base import METRICS
    r = (results or {}).get(name)
    if r is None or r.boot is None:
        r = METRICS.get(name).fn(m, None)
        if not r.skipped and r.value is not None:
            _mia(m, r, rs)
    return r


def _privleak(ms: ModelStats, r: MetricResult, results: dict[str, MetricResult], rs: Resampler,
              gold: ModelStats | None) -> None:
    from oblivio.metrics import functional as F
    name, auc, auc_gold = r.extra.get("mia"), r.extra.get("auc"), r.extra.get("auc_gold")
    if gold is None or not isinstance(name, str) or auc is None or auc_gold is None:
        r.ci_note = "needs the gold model's statistics and the AUCs privleak was computed from"
        return
    mine = _auc_with_interval(ms, name, rs, results)
    # the gold model is evaluated on the same items: its resampler draws the same facts
    theirs = _auc_with_interval(gold, name, Resampler(gold.sets, rs.n_boot, rs.seed))
    if mine.boot is None or theirs.boot is None or mine.n_facts != theirs.n_facts:
        r.ci_note = "the two models' AUCs have no intervals on the same resamples"
        return
    try:
        if not _close(F.privleak(float(auc), float(auc_gold)), float(r.value)):   # type: ignore[arg-type]
            r.ci_note = "privleak does not follow from its AUCs (no estimator for it)"
            return
        boot = np.array([F.privleak(float(a), float(g)) if np.isfinite(a) and np.isfinite(g) and 0 <= g < 1
                         else np.nan for a, g in zip(mine.boot, theirs.boot)])
    except (TypeError, ValueError, ZeroDivisionError) as e:
        r.ci_note = f"no interval: {e}"
        return
    _finish(r, boot, mine.n_facts)


def attach_intervals(ms: ModelStats, model_results: dict[str, MetricResult], *, n_boot: int, seed: int,
                     gold: ModelStats | None = None) -> None:
    """Fact-level bootstrap intervals for every set result of ``ms`` and every model result
    (see module docstring); ``gold``: the gold model's statistics (privleak, paired)."""
    if n_boot <= 0:
        return
    rs = Resampler(ms.sets, n_boot, seed)
    for role, res in ms.set_results.items():
        for name, r in res.items():
            set_interval(name, ms.sets[role], r, rs)
    for name, r in model_results.items():
        if r.skipped or r.value is None or r.ci_note:
            continue
        if name.startswith("mia_") and "holdout_scores" in r.extra:
            _mia(ms, r, rs)
    for name, r in model_results.items():
        if r.skipped or r.value is None or r.ci_note or r.ci is not None:
            continue
        if name == "forget_quality":
            continue    # a test: its p-value gets no interval (its note says so)
        if name == "model_utility":
            _utility(ms, r)
        elif name == "privleak":
            _privleak(ms, r, model_results, rs, gold)
        else:
            r.ci_note = "no fact-level estimator for this model-level value"


def describe(sets: dict[str, SetStats], n_boot: int, seed: int, *, limit: int | None = None) -> dict[str, Any]:
    """The statistics block of ``results.json``: the resampling unit, facts per role, how
    many items had no fact id (each counted as its own fact), and ``limit``: the most facts
    evaluated per set (``eval.limit``; None: every fact)."""
    without = sum(1 for s in sets.values() for it in s.items if it.item.fact is None)
    return {"unit": "fact", "bootstrap": n_boot, "seed": seed, "level": S.LEVEL,
            "interval": "percentile, resampling facts with replacement (all items of each drawn fact); "
                        "MIA: members and non-members resampled separately",
            "facts_per_role": {r: len({S.fact_of(it.item) for it in s.items}) for r, s in sets.items()},
            "items_without_fact": without, "limit": limit,
            **({"note": f"{without} items have no fact id: each is its own fact"} if without else {})}
