"""Model-scope metrics: across sets, optionally against the retrained (gold) model.

* ``forget_quality`` — TOFU (Maini et al. 2024, arXiv 2401.06121): KS-test p-value between
  the forget-set truth ratios of the unlearned and of the retrained model;
* ``model_utility`` — TOFU: harmonic mean of answer probability, ROUGE-L recall and the
  retain truth-ratio aggregate. On TOFU (its evaluation-only ``real_authors`` /
  ``world_facts`` sets present) exactly TOFU's nine numbers (``aggregate_eval_stat.py``):
  retain rows with perturbed answers (TOFU's ``retain_perturbed``; the ``retain`` and
  ``retain_test`` roles together) — Prob. = mean exp(−NLL), ROUGE, truth ratio — and on
  real authors and world facts the option-normalised probability, ROUGE, truth ratio.
  Elsewhere the three numbers of every retain/test set;
* ``mia_loss``, ``mia_zlib``, ``mia_mink``, ``mia_minkpp`` — MUSE (Shi et al. 2024, arXiv
  2407.06460) with Min-K% (Shi et al. 2023, arXiv 2310.16789) and Min-K%++ (Zhang et al.
  2024, arXiv 2404.02936): ROC AUC of forget items (members) against never-trained holdout
  items (non-members), with the score oriented so that *higher = more likely a member*
  (−loss, −zlib, Min-K%, Min-K%++). 0.5 = indistinguishable; a model that never saw the
  forget set sits near 0.5, so "closer to gold" is what is good;
* ``privleak`` — MUSE, in MUSE's exact convention: (A_g − A)/(1 − A_g) × 100 on ``mia_mink``
  (k = 0.4, as MUSE), A our AUC; MUSE's AUC is 1 − A (see
  :func:`oblivio.metrics.functional.privleak`). Negative = forget items still look like
  members (under-unlearning; a model that memorised them ≈ −100), 0 = like gold.

Min-K% and Min-K%++ score the answer text: the end-of-answer EOS token the encoding appends
is left out (``ItemStats.text_only``), as the papers score a text. Loss and zlib keep it in
the loss (as TOFU/OpenUnlearning's likelihood); zlib's compressed text is the answer.

Per-set values are read from ``m.set_results[role][metric]`` when the evaluator already
computed them, otherwise computed here from ``m.sets[role]``.

An evaluation holds one portion (:mod:`oblivio.roles`): these metrics read the forget,
holdout, retain and evaluation-only sets of that portion — ``forget_test`` against
``holdout_test`` in a reported evaluation, ``forget_val`` against ``holdout_val`` in a
selection (``forget`` / ``holdout`` in an unportioned one).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from oblivio.data.schema import EVAL_ROLES, RETAIN_ROLES
from oblivio.metrics import functional as F
from oblivio.metrics import qa as _qa  # noqa: F401  (registers the set metrics read below)
from oblivio.metrics import stats as S
from oblivio.metrics.base import METRICS, ItemStats, MetricResult, ModelStats, SetStats, register_metric
from oblivio.roles import base_role, find_set

MINK_K = 0.4
NO_GOLD = "no gold (retrained) model given"
NO_HOLDOUT = "no holdout (never-trained) items"
UTILITY_PARTS = ("answer_prob", "rouge_recall", "truth_ratio")
TOFU_EVAL_PARTS = ("option_prob", "rouge_recall", "truth_ratio")
TOFU = "TOFU (Maini et al. 2024, arXiv 2401.06121)"
MUSE = "MUSE (Shi et al. 2024, arXiv 2407.06460)"


def set_metric(m: ModelStats, role: str, name: str) -> MetricResult:
    """The set-scope result ``name`` of ``role``: the stored one, else computed now."""
    stored = m.set_results.get(role, {}).get(name)
    if stored is not None:
        return stored
    if role not in m.sets:
        return MetricResult.skip(f"model '{m.name}' has no '{role}' set")
    return METRICS.get(name).fn(m.sets[role])


@register_metric("forget_quality", scope="model", needs=("perturbed", "gold"), on_forget="higher",
                 on_retain="higher", source=TOFU,
                 description="KS-test p-value between the forget-set truth ratios of this model and "
                             "of the retrained (gold) model, one value per fact (the mean over its "
                             "phrasings); high = no difference shown (not evidence of equivalence).")
def forget_quality(m: ModelStats, gold: ModelStats | None) -> MetricResult:
    """TOFU's KS test, on facts: each fact's truth ratio R is the mean of R over its
    phrasings in the forget set, for this model and for the gold model; items without a fact
    id are each their own fact. ``extra`` keeps the item-level p-value (TOFU's original,
    which counts phrasings of one fact as independent samples) for comparison."""
    if gold is None:
        return MetricResult.skip(NO_GOLD)
    f_m = find_set(m.sets, "forget") or "forget"
    if gold.sets and f_m not in gold.sets:      # compare the same facts, never another portion's
        return MetricResult.skip(f"the gold model was evaluated without this model's set {f_m} "
                                 f"(its sets: {', '.join(gold.sets)})")
    f_g = f_m
    mine, theirs = set_metric(m, f_m, "truth_ratio"), set_metric(gold, f_g, "truth_ratio")
    for who, r in (("this model", mine), ("the gold model", theirs)):
        if r.skipped or not r.per_item:
            return MetricResult.skip(f"truth ratio of the forget set unavailable for {who}: "
                                     f"{r.skipped or 'no per-item values'}")
    assert mine.per_item is not None and theirs.per_item is not None
    facts = [S.item_facts(x.sets[f], r.extra.get("item_ids")) for x, r, f in ((m, mine, f_m), (gold, theirs, f_g))]
    ks, n_f, n_f_gold = S.ks_fact_level(mine.per_item, facts[0], theirs.per_item, facts[1])
    item_p = F.ks_pvalue(mine.per_item, theirs.per_item)
    return MetricResult(value=ks, n_facts={"model": n_f, "gold": n_f_gold},
                        ci_note="a test's p-value: no interval",
                        extra={"n_facts": n_f, "n_facts_gold": n_f_gold, "n_items": len(mine.per_item),
                               "n_items_gold": len(theirs.per_item), "unit": "fact (mean R over its phrasings)",
                               "log10_p": float(np.log10(ks)) if ks > 0 else None,
                               "item_level_p": item_p, "set": f_m})


def _tofu_parts(m: ModelStats) -> list[tuple[str, SetStats | None, tuple[str, ...]]]:
    """TOFU's three utility sets: (name, the set if not one of ``m``'s, its three metrics)."""
    rows = [it for r in m.sets if base_role(r) in RETAIN_ROLES for it in m.sets[r].items
            if it.item.perturbed_answers]
    computed = frozenset.intersection(*(m.sets[r].computed for r in m.sets)) if m.sets else frozenset()
    parts: list[tuple[str, SetStats | None, tuple[str, ...]]] = [
        ("retain", SetStats("retain", rows, computed), UTILITY_PARTS)]
    return parts + [(r, None, TOFU_EVAL_PARTS) for r in m.sets if base_role(r) in EVAL_ROLES]


@register_metric("model_utility", scope="model", needs=("tf", "gen", "perturbed"), on_forget="higher",
                 on_retain="higher", source=TOFU,
                 description="Harmonic mean of answer_prob, rouge_recall and truth_ratio over every "
                             "retain and test set; on TOFU exactly TOFU's 9 numbers (retain rows with "
                             "perturbed answers; real authors and world facts with option_prob).")
def model_utility(m: ModelStats, gold: ModelStats | None = None) -> MetricResult:
    tofu = any(base_role(r) in EVAL_ROLES for r in m.sets)
    parts = _tofu_parts(m) if tofu else [(r, None, UTILITY_PARTS) for r in m.sets
                                         if base_role(r) not in ("forget", "holdout")]
    if not parts:
        return MetricResult.skip("no retain or test set")
    values: list[float] = []
    per_role: dict[str, float] = {}
    components: dict[str, dict[str, float]] = {}
    missing: list[str] = []
    for role, s, names in parts:
        vals = {}
        for name in names:
            r = set_metric(m, role, name) if s is None else METRICS.get(name).fn(s)
            if r.skipped or r.value is None:
                missing.append(f"{role}/{name}: {r.skipped or 'no value'}")
            else:
                vals[name] = float(r.value)
        if vals:
            per_role[role] = F.harmonic_mean(list(vals.values()))
            components[role] = vals
            values.extend(vals.values())
    if not values:
        return MetricResult.skip("no component metric could be computed: " + "; ".join(missing))
    extra: dict[str, object] = {"per_role": per_role, "components": components,
                                "convention": "TOFU (9 numbers)" if tofu else "all retain/test sets",
                                "n_values": len(values)}
    if missing:
        extra["missing"] = missing
    return MetricResult(value=F.harmonic_mean(values), extra=extra)


# --- membership inference ----------------------------------------------------------------

def _loss(it: ItemStats) -> float | None:
    return None if it.n_tokens == 0 else -F.loss_score(it.token_logprobs)  # type: ignore[arg-type]


def _zlib(it: ItemStats) -> float | None:
    if it.n_tokens == 0:
        return None
    # the same text as the loss: the answer (its tokens are what the loss scores)
    return -F.zlib_score(it.token_logprobs, it.item.answer.strip())  # type: ignore[arg-type]


def _mink(it: ItemStats) -> float | None:
    v = it.text_only(it.token_logprobs)      # the text's tokens, not the appended EOS
    return None if v is None else F.mink_score(v, MINK_K)


def _minkpp(it: ItemStats) -> float | None:
    v = it.text_only(it.token_minkpp)
    return None if v is None else F.minkpp_score(v, MINK_K)


def mia(m: ModelStats, score: Callable[[ItemStats], float | None], what: str) -> MetricResult:
    """AUC of forget (members) vs holdout (non-members) under membership score ``score``, each
    side the evaluation's portion of it (``forget_test`` vs ``holdout_test`` when reported)."""
    f_set, h_set = find_set(m.sets, "forget"), find_set(m.sets, "holdout")
    if h_set is None or not m.sets[h_set].items:
        return MetricResult.skip(NO_HOLDOUT)
    if f_set is None or not m.sets[f_set].items:
        return MetricResult.skip(f"model '{m.name}' has no forget set")
    out: dict[str, list[float]] = {}
    ids: dict[str, list[str]] = {}
    for role in (f_set, h_set):
        s = m.sets[role]
        if "tf" not in s.computed:
            return MetricResult.skip(f"'tf' (teacher-forced answer log-probs) was not computed for set '{role}'")
        kept = [(v, it.item.id) for it in s.items if (v := score(it)) is not None]
        if not kept:
            return MetricResult.skip(f"no item of set '{role}' has {what}")
        out[role] = [v for v, _ in kept]
        if len(kept) < len(s.items):   # which items the scores belong to (fact-level bootstrap)
            ids[role] = [i for _, i in kept]
    auc = F.mia_auc(out[f_set], out[h_set])
    extra: dict[str, object] = {"holdout_scores": out[h_set], "score": "higher = member",
                                "n_members": len(out[f_set]), "n_nonmembers": len(out[h_set]),
                                "sets": [f_set, h_set]}
    if ids:
        extra["item_ids"] = ids
    return MetricResult(value=auc, per_item=out[f_set], extra=extra)


def _register_mia(name: str, score: Callable[[ItemStats], float | None], what: str, desc: str,
                  source: str) -> None:
    def fn(m: ModelStats, gold: ModelStats | None = None) -> MetricResult:
        return mia(m, score, what)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"MIA AUC, forget vs holdout, membership score {desc}."
    register_metric(name, scope="model", needs=("tf", "holdout"), on_forget="closer_to_gold",
                    on_retain="closer_to_gold", source=source,
                    description=f"MIA ROC AUC of forget (members) vs holdout (non-members), score "
                                f"{desc}; 0.5 = indistinguishable.")(fn)


_register_mia("mia_loss", _loss, "answer tokens", "−loss (mean answer NLL)", MUSE)
_register_mia("mia_zlib", _zlib, "answer tokens", "−loss / zlib length of the answer",
              "Carlini et al. 2021 (zlib); " + MUSE)
_register_mia("mia_mink", _mink, "answer tokens", f"Min-K% (k={MINK_K})",
              "Min-K% (Shi et al. 2023, arXiv 2310.16789); " + MUSE)
_register_mia("mia_minkpp", _minkpp, "Min-K%++ token scores", f"Min-K%++ (k={MINK_K})",
              "Min-K%++ (Zhang et al. 2024, arXiv 2404.02936)")


@register_metric("privleak", scope="model", needs=("tf", "holdout", "gold"), on_forget="closer_to_gold",
                 on_retain="closer_to_gold", source=MUSE,
                 description="MUSE's PrivLeak (AUC'−AUC'_gold)/AUC'_gold × 100 with MUSE's AUC' = 1 − AUC "
                             "of the Min-K% (k=0.4) MIA, i.e. (AUC_gold − AUC)/(1 − AUC_gold) × 100; 0 = "
                             "like the retrained model, negative = forget items still look trained.")
def privleak(m: ModelStats, gold: ModelStats | None) -> MetricResult:
    if gold is None:
        return MetricResult.skip(NO_GOLD)
    mine, theirs = mia(m, _mink, "answer tokens"), mia(gold, _mink, "answer tokens")
    if not mine.skipped and not theirs.skipped and mine.extra.get("sets") != theirs.extra.get("sets"):
        return MetricResult.skip(f"the gold model's MIA read {theirs.extra.get('sets')}, this model's "
                                 f"{mine.extra.get('sets')}: not the same facts")
    for who, r in (("this model", mine), ("the gold model", theirs)):
        if r.skipped or r.value is None:
            return MetricResult.skip(f"MIA AUC unavailable for {who}: {r.skipped}")
    assert mine.value is not None and theirs.value is not None
    if theirs.value >= 1:
        return MetricResult.skip("gold model's MIA AUC is 1 (MUSE's AUC' = 0); privleak is undefined")
    return MetricResult(value=F.privleak(mine.value, theirs.value),
                        extra={"auc": mine.value, "auc_gold": theirs.value, "mia": "mia_mink", "k": MINK_K,
                               "convention": "MUSE: AUC' = 1 − auc; (AUC' − AUC'_gold)/AUC'_gold × 100"})
