"""The metric contract: a metric is one registered function with metadata.

The evaluator (``oblivio.eval``) computes the *shared* per-item statistics once per set —
one teacher-forced pass over question+answer, one over the paraphrased/perturbed answers,
one greedy generation per prompt — and hands them to every metric. A metric never runs the
model itself; that is how forward passes are shared between metrics.

Two scopes:

* ``set``: ``fn(s: SetStats) -> MetricResult`` — one value per QA set (and per-item values);
* ``model``: ``fn(m: ModelStats, gold: ModelStats | None) -> MetricResult`` — across sets
  (forget quality, model utility, MIA, privleak).

Each metric states which direction is good on forget sets and on retain sets, and which
inputs it needs; a missing input yields ``MetricResult.skip(reason)``, never a silent null.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal

import numpy as np

from oblivio.data.schema import QAItem
from oblivio.registry import METRICS as _METRICS
from oblivio.registry import Registry

Direction = Literal["higher", "lower", "closer_to_gold", "info"]
# Inputs the evaluator can provide. A metric lists what it needs; the evaluator computes
# the union of needs of the selected metrics, and nothing more.
# "extraction": the prefix-extraction searches of eval/extraction.py (PS series, ES) — extra
# generation rounds, so the metrics that need it are ``expensive`` (off unless asked for).
# "judge": the TRU judge's verdicts on each generation (eval/judging.py; eval.judge).
NEEDS = ("tf", "gen", "para_gen", "perturbed", "key", "holdout", "gold", "embed", "extraction", "judge")


@dataclass
class ItemStats:
    """Everything the evaluator measured for one item (arrays are per answer token)."""

    item: QAItem
    token_logprobs: np.ndarray | None = None     # log p(y_t | x, y_<t), teacher forcing ("tf")
    token_correct: np.ndarray | None = None      # argmax == y_t ("tf")
    token_minkpp: np.ndarray | None = None       # (log p - mu_t) / sigma_t of the next-token dist. ("tf")
    generation: str | None = None                # greedy answer to the question ("gen")
    para_generation: str | None = None           # greedy answer to the paraphrased question ("para_gen")
    true_mean_logprob: float | None = None       # mean token logprob of paraphrased answer (else answer) ("perturbed")
    perturbed_mean_logprobs: list[float] = field(default_factory=list)  # one per perturbed answer ("perturbed")
    gen_embedding_cos: float | None = None       # cosine(emb(generation), emb(answer)) ("embed")
    ps_exact_s: float | None = None              # PS-exact s = k/n, share of answer words given ("extraction")
    ps_similar_s: float | None = None            # PS-similar s ("extraction")
    ps_perturb_s: float | None = None            # PS-perturb s, paraphrased question ("extraction")
    es: float | None = None                      # extraction strength 1 − (m − l)/(r − l) ("extraction")
    # the last answer token is the end-of-answer EOS the encoding appends ("tf"): part of the
    # likelihood (TOFU/OpenUnlearning score it), not of the text (exact memorisation, Min-K%,
    # Min-K%++ score the text only, as their papers)
    eos_last: bool = False
    gen_truncated: bool | None = None            # the generation hit its token limit before ending ("gen")
    # the judge's criterion → 0–10 scores ("judge"); None with ``judged`` = an unparseable verdict
    judge_scores: dict[str, float] | None = None
    judged: bool = False
    judged_response: str | None = None           # the response the judge saw (longer limit, eval/judging.py)

    @property
    def n_tokens(self) -> int:
        return 0 if self.token_logprobs is None else int(len(self.token_logprobs))

    def text_only(self, per_token: np.ndarray | None) -> np.ndarray | None:
        """``per_token`` (one value per answer token) without the end-of-answer EOS; None if
        nothing is left."""
        if per_token is None:
            return None
        v = per_token[:-1] if self.eos_last else per_token
        return v if len(v) > 0 else None


@dataclass
class SetStats:
    """The shared statistics of one QA set (one role) for one model."""

    role: str
    items: list[ItemStats]
    computed: frozenset[str] = frozenset()       # which NEEDS were computed
    gen_max_new_tokens: int | None = None        # the token limit of its greedy generations ("gen")

    def __len__(self) -> int:
        return len(self.items)


@dataclass
class ModelStats:
    """All sets of one model, plus the per-set metric results already computed."""

    name: str
    sets: dict[str, SetStats]
    set_results: dict[str, dict[str, MetricResult]] = field(default_factory=dict)


@dataclass
class MetricResult:
    value: float | None
    per_item: list[float] | None = None
    skipped: str | None = None                   # reason, when the metric could not be computed
    extra: dict[str, Any] = field(default_factory=dict)
    # fact-level bootstrap (metrics/stats.py, eval/intervals.py): the 95% interval, the number
    # of facts it resampled (per side for an AUC), or why a value has no interval
    ci: tuple[float, float] | None = None
    n_facts: int | dict[str, int] | None = None
    ci_note: str | None = None
    boot: Any = field(default=None, repr=False, compare=False)   # the resampled values (not saved)

    @classmethod
    def skip(cls, reason: str) -> MetricResult:
        return cls(value=None, skipped=reason)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> MetricResult:
        """The result :meth:`to_json` wrote (the resampled values are not saved)."""
        ci = d.get("ci")
        return cls(value=d.get("value"), per_item=d.get("per_item"), skipped=d.get("skipped"),
                   extra=dict(d.get("extra") or {}), ci=(float(ci[0]), float(ci[1])) if ci else None,
                   n_facts=d.get("n_facts"), ci_note=d.get("ci_note"))

    def to_json(self, *, per_item: bool = True) -> dict[str, Any]:
        d: dict[str, Any] = {"value": self.value}
        if self.skipped:
            d["skipped"] = self.skipped
        if per_item and self.per_item is not None:
            d["per_item"] = self.per_item
        if self.ci is not None:
            d["ci"] = [self.ci[0], self.ci[1]]
        if self.n_facts is not None:
            d["n_facts"] = self.n_facts
        if self.ci_note:
            d["ci_note"] = self.ci_note
        if self.extra:
            d["extra"] = self.extra
        return d


@dataclass(frozen=True)
class Metric:
    name: str
    fn: Callable[..., MetricResult]
    scope: Literal["set", "model"]
    needs: tuple[str, ...]
    on_forget: Direction                          # what is good on forget sets
    on_retain: Direction                          # what is good on retain / test sets
    description: str
    source: str = ""                              # paper the metric comes from
    expensive: bool = False                       # extra model passes: not in the default metric list

    def direction(self, role: str) -> Direction:
        """What is good on the set ``role``: the forget direction on forget sets, the retain one
        on retain and evaluation sets, none ("info") on the holdout: no model was taught those
        facts, so their value is a floor to read the others against, not a score to raise."""
        from oblivio.roles import base_role
        b = base_role(role)
        return self.on_forget if b == "forget" else "info" if b == "holdout" else self.on_retain


#: every metric: the modules of ``oblivio.metrics``, entry points ``oblivio.metrics``, dotted paths
METRICS: Registry[Metric] = _METRICS


def _adapt(obj: Any, name: str) -> Metric:
    """What a dotted path or entry point names → its Metric: a ``Metric``, or a function
    decorated with :func:`register_metric` (importing its module registered it)."""
    if isinstance(obj, Metric):
        return obj
    for m in METRICS._items.values():
        if m.fn is obj:
            return m
    raise TypeError("expected a function decorated with @register_metric (oblivio.metrics.base)")


METRICS.adapt = _adapt


def register_metric(name: str, *, scope: Literal["set", "model"] = "set", needs: tuple[str, ...] = ("tf",),
                    on_forget: Direction, on_retain: Direction, description: str,
                    source: str = "", expensive: bool = False,
                    ) -> Callable[[Callable[..., MetricResult]], Callable[..., MetricResult]]:
    """Register ``fn`` as metric ``name`` with its metadata (see module docstring)."""
    unknown = set(needs) - set(NEEDS)
    if unknown:
        raise ValueError(f"metric {name}: unknown needs {unknown}")

    def deco(fn: Callable[..., MetricResult]) -> Callable[..., MetricResult]:
        METRICS.add(name, Metric(name, fn, scope, tuple(needs), on_forget, on_retain, description, source,
                                  expensive))
        return fn
    return deco
