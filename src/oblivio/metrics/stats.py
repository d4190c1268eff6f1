"""Fact-level statistics: one value per fact, and bootstrap intervals that resample facts.

Our choice, after the first measurements. The phrasings of one fact are not
independent samples: three phrasings of one fact give nearly the same truth ratio, so a
test or an interval that counts them as independent overstates the evidence
(pseudo-replication). Every test and every interval here works on **facts** (``QAItem.fact``):

* :func:`fact_means` — one value per fact, the mean over its phrasings; forget quality
  (TOFU, Maini et al. 2024, arXiv 2401.06121) is the KS test on these
  (:func:`ks_fact_level`);
* :func:`resample_counts` — the nonparametric bootstrap (Efron 1979) over facts: each of
  ``n_boot`` resamples draws the role's facts with replacement and keeps *all* items of each
  drawn fact (a cluster bootstrap); stored as a (resamples × facts) count matrix so that
  every statistic is a matrix product (vectorised with numpy, no Python loop per resample);
* :class:`Estimator` — a set value written as a function of fact-weighted sums of item-level
  columns (a mean: Σv / Σ1; QA perplexity: exp(ΣNLL / ΣT); a harmonic mean of means …);
* :func:`weighted_auc` — ROC AUC (members vs non-members) under fact counts, the two sides
  resampled separately (MIA, MUSE: Shi et al. 2024, arXiv 2407.06460);
* :func:`percentile_ci` — the 95% percentile interval.

Items without a ``fact`` id (TOFU rows, JSONL rows that omit it) are each their own fact
(:func:`fact_of`): for them the fact-level statistics are the item-level ones.
"""
from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from oblivio.data.schema import QAItem

if TYPE_CHECKING:
    from oblivio.metrics.base import SetStats

#: the interval's coverage (two-sided, percentile method)
LEVEL = 0.95


def fact_of(item: QAItem) -> str:
    """The item's fact id; an item without one is its own fact."""
    return item.fact if item.fact is not None else f"item:{item.id}"


def fact_codes(facts: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Integer code per entry (in order of first appearance) and the distinct facts."""
    labels = list(dict.fromkeys(facts))
    index = {f: i for i, f in enumerate(labels)}
    return np.fromiter((index[f] for f in facts), dtype=np.int64, count=len(facts)), labels


def fact_means(values: Sequence[float] | np.ndarray, facts: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """One value per fact: the mean of ``values`` over the entries of each fact."""
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    if v.size != len(facts):
        raise ValueError(f"fact_means: {v.size} values but {len(facts)} fact ids")
    codes, labels = fact_codes(facts)
    sums = np.bincount(codes, weights=v, minlength=len(labels))
    return sums / np.bincount(codes, minlength=len(labels)), labels


def ks_fact_level(a: Sequence[float], facts_a: Sequence[str], b: Sequence[float],
                  facts_b: Sequence[str]) -> tuple[float, int, int]:
    """KS-test p-value (scipy ``ks_2samp``) between the per-fact means of ``a`` and of ``b``;
    returns (p, number of facts of a, number of facts of b)."""
    from oblivio.metrics.functional import ks_pvalue
    ma, _ = fact_means(a, facts_a)
    mb, _ = fact_means(b, facts_b)
    return ks_pvalue(ma, mb), int(ma.size), int(mb.size)


def resample_counts(n_facts: int, n_boot: int, seed: int, stream: str) -> np.ndarray:
    """(n_boot, n_facts) bootstrap counts: row b says how often each fact is drawn in
    resample b (n_facts draws with replacement, i.e. a multinomial with equal weights).

    The generator is seeded by (``seed``, ``stream``): the same role of the same data gets the
    same resamples in every model's evaluation, so that paired quantities (a model's AUC and
    the gold model's; the components of model utility) are resampled together.
    """
    if n_facts < 1 or n_boot < 1:
        raise ValueError(f"resample_counts: need ≥ 1 fact and ≥ 1 resample, got {n_facts}, {n_boot}")
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, zlib.crc32(stream.encode("utf-8"))])
    return rng.multinomial(n_facts, np.full(n_facts, 1.0 / n_facts), size=n_boot).astype(np.float64)


@dataclass
class Estimator:
    """A set statistic as ``combine(Σ_items w_i · columns_i)``, w_i the count of item i's fact.

    ``columns``: (items × k) item-level terms; ``codes``: each item's fact index in the role's
    fact list; ``combine``: (resamples × k) weighted column sums → (resamples,) values.
    """

    columns: np.ndarray
    codes: np.ndarray
    combine: Callable[[np.ndarray], np.ndarray]

    def fact_sums(self, n_facts: int) -> np.ndarray:
        out = np.zeros((n_facts, self.columns.shape[1]))
        np.add.at(out, self.codes, self.columns)
        return out

    def point(self, n_facts: int) -> float:
        """The statistic on the sample itself (every fact once)."""
        return float(self.combine(np.ones((1, n_facts)) @ self.fact_sums(n_facts))[0])

    def resampled(self, counts: np.ndarray) -> np.ndarray:
        """The statistic on every resample of ``counts`` (resamples × facts)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(self.combine(counts @ self.fact_sums(counts.shape[1])), dtype=np.float64)


def _ratio(s: np.ndarray) -> np.ndarray:
    return s[:, 0] / s[:, 1]


def mean_estimator(values: Sequence[float], codes: np.ndarray) -> Estimator:
    """The item mean Σ w_i v_i / Σ w_i (all items of every drawn fact)."""
    v = np.asarray(values, dtype=np.float64)
    return Estimator(np.stack([v, np.ones_like(v)], axis=1), codes, _ratio)


def ratio_exp_estimator(numerators: Sequence[float], denominators: Sequence[float],
                        codes: np.ndarray) -> Estimator:
    """exp(Σ w_i a_i / Σ w_i b_i) — e.g. QA perplexity, exp(total NLL / total tokens)."""
    cols = np.stack([np.asarray(numerators, float), np.asarray(denominators, float)], axis=1)
    return Estimator(cols, codes, lambda s: np.exp(s[:, 0] / s[:, 1]))


def harmonic_mean_rows(means: np.ndarray) -> np.ndarray:
    """Row-wise harmonic mean of (resamples × k) non-negative values; 0 where one is 0
    (as :func:`oblivio.metrics.functional.harmonic_mean`)."""
    m = np.asarray(means, dtype=np.float64)
    zero = np.any(m <= 0, axis=1)
    with np.errstate(divide="ignore"):
        hm = m.shape[1] / np.sum(1.0 / np.where(m > 0, m, 1.0), axis=1)
    return np.where(zero, 0.0, hm)


def hm_of_means_estimator(components: Sequence[Sequence[float]], codes: np.ndarray) -> Estimator:
    """Harmonic mean of the item means of several components (Bushipaka et al.'s utility HM(P̄, R, C))."""
    comp = np.asarray(components, dtype=np.float64).T           # items × k
    cols = np.concatenate([comp, np.ones((comp.shape[0], 1))], axis=1)
    return Estimator(cols, codes, lambda s: harmonic_mean_rows(s[:, :-1] / s[:, -1:]))


def weighted_auc(members: Sequence[float], member_codes: np.ndarray, nonmembers: Sequence[float],
                 nonmember_codes: np.ndarray, counts_m: np.ndarray, counts_n: np.ndarray) -> np.ndarray:
    """ROC AUC (higher score = member; ties count ½) of every resample: member item i weighs
    the count of its fact in ``counts_m`` (resamples × member facts), non-member j likewise in
    ``counts_n``. Equals scikit-learn's ``roc_auc_score`` when every count is 1."""
    sm = np.asarray(members, dtype=np.float64)
    sn = np.asarray(nonmembers, dtype=np.float64)
    cmp = 0.5 * (np.sign(sm[:, None] - sn[None, :]) + 1.0)         # 1 / ½ / 0 per pair
    fm, fn = counts_m.shape[1], counts_n.shape[1]
    # pairs summed per (member fact, non-member fact): one-hot(members)ᵀ · cmp · one-hot(non-members)
    per_fact = np.zeros((fm, sn.size))
    np.add.at(per_fact, member_codes, cmp)
    pair = np.zeros((fm, fn))
    np.add.at(pair.T, nonmember_codes, per_fact.T)
    n_m = np.bincount(member_codes, minlength=fm).astype(float)
    n_n = np.bincount(nonmember_codes, minlength=fn).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sum((counts_m @ pair) * counts_n, axis=1) / ((counts_m @ n_m) * (counts_n @ n_n))


def percentile_ci(resampled: np.ndarray, level: float = LEVEL) -> tuple[float, float] | None:
    """The percentile interval of the finite resampled values (None if there are none: a
    resample can miss every item that has the metric's input, and is then left out)."""
    r = np.asarray(resampled, dtype=np.float64)
    r = r[np.isfinite(r)]
    if r.size == 0:
        return None
    a = (1.0 - level) / 2.0
    lo, hi = np.quantile(r, [a, 1.0 - a])
    return float(lo), float(hi)


def mean_sd(values: Sequence[float | None]) -> tuple[float | None, float | None, int]:
    """Mean, sample standard deviation (n − 1; None for fewer than 2) and n of the non-None
    values — the aggregate over seeds of ``oblivio compare --seeds``."""
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], dtype=np.float64)
    if v.size == 0:
        return None, None, 0
    return float(v.mean()), (float(v.std(ddof=1)) if v.size > 1 else None), int(v.size)


def item_facts(s: SetStats, per_item_ids: Sequence[str] | None = None) -> list[str]:
    """Fact ids aligned with a set metric's ``per_item`` values: the ids in
    ``extra["item_ids"]`` when some items were left out, else every item of ``s`` in order."""
    if per_item_ids is None:
        return [fact_of(it.item) for it in s.items]
    by_id = {it.item.id: fact_of(it.item) for it in s.items}
    return [by_id[i] for i in per_item_ids]
