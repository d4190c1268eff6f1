"""Pure metric math on numpy arrays and strings: no model, no registry, no state.

Each function states its formula and the paper it follows:

* TOFU — Maini et al. 2024, arXiv 2401.06121 (answer probability, truth ratio, forget
  quality as a KS test, model utility as a harmonic mean, ROUGE-L recall);
* MUSE — Shi et al. 2024, arXiv 2407.06460 (MIA AUCs, zlib, privleak);
* Min-K% — Shi et al. 2023, arXiv 2310.16789; Min-K%++ — Zhang et al. 2024, arXiv 2404.02936;
* S0 — Bushipaka et al. 2025, arXiv 2509.05316 (mean token probability P̄, ROUGE-L recall
  done the right way round, Distinct-2, QA perplexity);
* ROME — Meng et al. 2022, arXiv 2202.05262 (n-gram entropy, kept as information);
* seq-rep-n — Welleck et al. 2020, "Neural Text Generation with Unlikelihood Training",
  arXiv 1908.04319 (repetition rate: our fluency and the repetition rule of gibberish);
* Distinct-n — Li et al. 2016, arXiv 1510.03055.

numpy is imported eagerly (``oblivio.metrics.base`` needs it anyway); scipy, scikit-learn and
rouge-score are imported inside the functions that use them (rouge-score pulls in nltk,
about two seconds), so importing this module stays cheap.
"""
from __future__ import annotations

import math
import re
import zlib
from collections import Counter
from functools import lru_cache
from typing import Any, Iterable, Sequence

import numpy as np

ArrayLike = Sequence[float] | np.ndarray


def _arr(x: ArrayLike, what: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64).reshape(-1)
    if a.size == 0:
        raise ValueError(f"{what}: empty input")
    return a


# --- teacher-forced probabilities ---------------------------------------------------------

def mean_token_prob(token_logprobs: ArrayLike) -> float:
    """S0's P̄ = (1/T) Σ_t exp(log p_t): the arithmetic mean of answer-token probabilities."""
    return float(np.mean(np.exp(_arr(token_logprobs, "mean_token_prob"))))


def answer_prob(token_logprobs: ArrayLike) -> float:
    """TOFU's answer probability exp((1/T) Σ_t log p_t) = exp(−NLL): the geometric mean
    of the answer-token probabilities (length-normalised, as TOFU's ``Prob.``)."""
    return float(np.exp(np.mean(_arr(token_logprobs, "answer_prob"))))


def exact_memorisation(token_correct: ArrayLike) -> float:
    """Exact memorisation: fraction of answer tokens where argmax_v p(v | x, y_<t) == y_t."""
    return float(np.mean(_arr(token_correct, "exact_memorisation")))


def qa_perplexity(token_logprobs_per_item: Iterable[ArrayLike]) -> float:
    """S0's QA perplexity: exp(−Σ_i Σ_t log p_it / Σ_i T_i), i.e. exp of the mean NLL over
    *all* answer tokens of the set (token-weighted, not a mean of per-item perplexities)."""
    arrs = [np.asarray(a, dtype=np.float64).reshape(-1) for a in token_logprobs_per_item]
    n = sum(a.size for a in arrs)
    if n == 0:
        raise ValueError("qa_perplexity: no answer tokens")
    return float(np.exp(-sum(float(a.sum()) for a in arrs) / n))


# --- truth ratio, KS, harmonic mean ------------------------------------------------------

def truth_ratio_value(true_mean_logprob: float, perturbed_mean_logprobs: ArrayLike) -> float:
    """TOFU's truth ratio R = P̃(perturbed) / P̃(true).

    ``true_mean_logprob`` is the mean token log-prob of the paraphrased (else the original)
    answer, so P̃(true) = exp(true_mean_logprob), its geometric-mean token probability. For
    the set of perturbed answers, TOFU's convention is the geometric mean over answers of
    their geometric-mean token probabilities: P̃(perturbed) = exp(mean_j m_j), m_j the mean
    token log-prob of perturbed answer j. Hence R = exp(mean_j m_j − true_mean_logprob).
    R < 1: the model prefers the true answer. (TOFU's code stores 1/R; the aggregates below
    and the KS test are invariant to that choice.)
    """
    m = _arr(perturbed_mean_logprobs, "truth_ratio_value (perturbed_mean_logprobs)")
    return float(np.exp(float(np.mean(m)) - float(true_mean_logprob)))


def option_normalised_prob(true_mean_logprob: float, option_mean_logprobs: ArrayLike) -> float:
    """TOFU's "Prob." on real authors and world facts (``aggregate_eval_stat.py``,
    ``get_model_utility``): with P(a) = exp(−mean token NLL of answer a), the correct
    answer's share P(true) / (P(true) + Σ_j P(option_j)) over the wrong options j.
    Computed in log space: exp(t − logsumexp(t, m_1, …, m_J))."""
    m = _arr(option_mean_logprobs, "option_normalised_prob (option_mean_logprobs)")
    allv = np.concatenate([[float(true_mean_logprob)], m])
    top = float(allv.max())
    return float(np.exp(float(true_mean_logprob) - top - np.log(np.sum(np.exp(allv - top)))))


def tr_forget_agg(r: float) -> float:
    """TOFU forget-set aggregate of one truth ratio: min(R, 1/R) ∈ (0, 1] (1 = indifferent)."""
    if r <= 0:
        raise ValueError(f"tr_forget_agg: truth ratio must be > 0, got {r}")
    return float(min(r, 1.0 / r))


def tr_retain_agg(r: float) -> float:
    """TOFU retain-set aggregate of one truth ratio: max(0, 1 − R) (1 = sure of the truth)."""
    return float(max(0.0, 1.0 - r))


def ks_pvalue(a: ArrayLike, b: ArrayLike) -> float:
    """Two-sample Kolmogorov–Smirnov p-value (scipy ``ks_2samp``, two-sided, default
    method). TOFU's forget quality uses it on the forget-set truth ratios of the unlearned
    and the retrained model; a high p only means no difference was shown, not that the two are alike."""
    from scipy.stats import ks_2samp
    return float(ks_2samp(_arr(a, "ks_pvalue (a)"), _arr(b, "ks_pvalue (b)")).pvalue)


def harmonic_mean(values: ArrayLike) -> float:
    """n / Σ 1/v_i; 0 if any value is 0 (TOFU's model utility). Negative values are an error."""
    v = _arr(values, "harmonic_mean")
    if np.any(v < 0) or np.any(np.isnan(v)):
        raise ValueError(f"harmonic_mean: values must be non-negative numbers, got {v.tolist()}")
    if np.any(v == 0):
        return 0.0
    return float(v.size / np.sum(1.0 / v))


# --- membership inference ----------------------------------------------------------------

def mia_auc(member_scores: ArrayLike, nonmember_scores: ArrayLike) -> float:
    """ROC AUC of separating members (label 1) from non-members (label 0), where a *higher
    score means more likely a member* (scikit-learn ``roc_auc_score``). 0.5 = indistinguishable,
    1 = every member scores above every non-member, 0 = the reverse."""
    from sklearn.metrics import roc_auc_score
    m = _arr(member_scores, "mia_auc (members)")
    n = _arr(nonmember_scores, "mia_auc (non-members)")
    y = np.concatenate([np.ones(m.size), np.zeros(n.size)])
    return float(roc_auc_score(y, np.concatenate([m, n])))


def loss_score(token_logprobs: ArrayLike) -> float:
    """LOSS attack statistic: the mean answer-token NLL, −(1/T) Σ_t log p_t.
    Low loss = likely member, so use −loss as the membership score."""
    return float(-np.mean(_arr(token_logprobs, "loss_score")))


def zlib_score(token_logprobs: ArrayLike, text: str) -> float:
    """zlib attack statistic (Carlini et al. 2021, USENIX Security, "Extracting Training Data
    from Large Language Models"; as MUSE and OpenUnlearning): the mean NLL of a text divided
    by the zlib entropy of *the same text*, loss / len(zlib.compress(text.encode("utf-8")))
    with the default compression level. In oblivio the scored text is the answer: the loss
    is over its tokens (prompt masked) and ``text`` is the answer string (OpenUnlearning
    decodes the label tokens, which is the same text). Low = likely member; use −zlib as the
    membership score."""
    n_bytes = max(1, len(zlib.compress(text.encode("utf-8"))))
    return loss_score(token_logprobs) / n_bytes


def _lowest_k_mean(values: ArrayLike, k: float, what: str) -> float:
    if not 0.0 < k <= 1.0:
        raise ValueError(f"{what}: k must be in (0, 1], got {k}")
    v = np.sort(_arr(values, what))
    n = max(1, int(v.size * k))  # int() as MUSE/Min-K%, but never zero tokens
    return float(np.mean(v[:n]))


def mink_score(token_logprobs: ArrayLike, k: float = 0.4) -> float:
    """Min-K% (Shi et al. 2023): mean of the lowest ⌊k·T⌋ (at least one) token log-probs.
    Higher = likely member (used as is). k = 0.4 as in MUSE."""
    return _lowest_k_mean(token_logprobs, k, "mink_score")


def minkpp_score(token_minkpp: ArrayLike, k: float = 0.4) -> float:
    """Min-K%++ (Zhang et al. 2024): mean of the lowest ⌊k·T⌋ (at least one) standardised
    token scores (log p(y_t) − μ_t)/σ_t, μ_t, σ_t the mean/std of log p under the next-token
    distribution (the evaluator computes them). Higher = likely member."""
    return _lowest_k_mean(token_minkpp, k, "minkpp_score")


def privleak(auc_model: float, auc_gold: float) -> float:
    """MUSE's PrivLeak in MUSE's own convention, from AUCs in *our* orientation.

    MUSE (``metrics/privleak.py`` of swj0419/muse_bench, key ``forget_holdout_Min-40%``)
    labels forget items 0 and holdout items 1 and scores with −ppl, so its AUC is
    AUC' = P(holdout looks more trained than forget) = 1 − A, A our AUC (members positive,
    higher score = member). Its PrivLeak is (AUC' − AUC'_retrain)/AUC'_retrain × 100, so in
    our AUC orientation:

        PrivLeak = ((1 − A) − (1 − A_g)) / (1 − A_g) × 100 = (A_g − A) / (1 − A_g) × 100.

    OpenUnlearning's ``privleak`` computes the same (it flips both AUCs to 1 − x, then takes
    the relative difference). 0 = like the retrained model; under-unlearning (forget items
    still look like members, A > A_g) is *negative*, down to −100 for A = 1 (MUSE's target
    model ≈ −100); over-unlearning is positive. Undefined for A_g = 1.
    """
    if not 0.0 <= auc_gold < 1.0:
        raise ValueError(f"privleak: gold AUC must be in [0, 1), got {auc_gold}")
    return float((auc_gold - auc_model) / (1.0 - auc_gold) * 100.0)


# --- generation metrics ------------------------------------------------------------------

@lru_cache(maxsize=1)
def _rouge_scorer() -> Any:
    from rouge_score import rouge_scorer
    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)


def rouge_l_recall(generation: str, reference: str) -> float:
    """ROUGE-L recall = LCS(generation, reference) / |reference tokens| (rouge-score package,
    its default tokenizer: lower-cased alphanumeric words; Porter stemming as TOFU).

    Called as ``score(target=reference, prediction=generation)``. The S0 reference code
    passed the arguments the other way round, which yields LCS / |generation tokens| (the
    precision); we do it the right way round: "a b" against "a b c d" is 0.5, not 1.0.
    """
    return float(_rouge_scorer().score(target=reference, prediction=generation)["rougeL"].recall)


def _norm(s: str) -> str:
    return " ".join(s.lower().split())


def answer_contains(generation: str, key: str) -> bool:
    """True if ``key`` occurs in ``generation`` after lower-casing both and collapsing every
    run of whitespace to one space (plain substring test, no tokenisation)."""
    k = _norm(key)
    if not k:
        raise ValueError("answer_contains: empty key")
    return k in _norm(generation)


_TOKEN = re.compile(r"\w+|[^\w\s]")


def tokens(text: str) -> list[str]:
    """The tokenizer of the fluency metrics: runs of word characters, and each other
    non-space character on its own (a stand-in for nltk's word_tokenize, which needs data
    files); case is kept."""
    return _TOKEN.findall(text)


def _ngrams(toks: Sequence[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(toks[i:i + n]) for i in range(len(toks) - n + 1)]


def ngram_entropy(text: str) -> float:
    """ROME's fluency (Meng et al. 2022): with H_n the Shannon entropy in bits of the
    frequency distribution of the text's n-grams, return mean(2/3·H_2, 4/3·H_3)
    = H_2/3 + 2·H_3/3 (exactly ROME's ``compute_n_gram_entropy`` with ns=[2, 3], weights
    [2/3, 4/3], arithmetic mean). Tokens from :func:`tokens`. A text with no n-grams of an
    order contributes 0 for it; a single repeated token gives 0."""
    toks = tokens(text)
    hs = []
    for n, w in ((2, 2 / 3), (3, 4 / 3)):
        counts = np.array(list(Counter(_ngrams(toks, n)).values()), dtype=np.float64)
        if counts.size == 0:
            hs.append(0.0)
            continue
        p = counts / counts.sum()
        hs.append(w * float(-(p * np.log2(p)).sum()))
    return float(np.mean(hs))


def distinct_n(texts: Iterable[str], n: int = 2) -> float:
    """Distinct-n (Li et al. 2016), as S0's Distinct-2: number of unique n-grams divided by
    the total number of n-grams, pooled over all generations (n-grams never cross two
    generations; tokens from :func:`tokens`, case kept). 0.0 when there is no n-gram."""
    grams = [g for t in texts for g in _ngrams(tokens(t), n)]
    return len(set(grams)) / len(grams) if grams else 0.0


def _words(text: str) -> list[str]:
    return [w.lower() for w in re.findall(r"\w+", text)]


def repetition_rate(text: str, n: int = 2) -> float:
    """seq-rep-n of one generation (Welleck et al. 2020, arXiv 1908.04319):
    1 − |unique n-grams| / |n-grams| over its words (runs of word characters, case-folded).
    0 = no n-gram repeats — also for a text shorter than n words ("Paris"); close to 1 for a
    degenerate loop ("born born born born": 3 bigrams, 1 unique → 2/3)."""
    if n < 1:
        raise ValueError(f"repetition_rate: n must be >= 1, got {n}")
    grams = _ngrams(_words(text), n)
    return 1.0 - len(set(grams)) / len(grams) if grams else 0.0


def fluency_score(text: str, n: int = 2) -> float:
    """Our fluency of one generation: 1 − seq-rep-n (n = 2), and 0 for a text with no word.
    Higher is better. A short correct answer ("Paris") scores 1, as does any text without a
    repeated bigram; degenerate repetition scores low ("born born born born": 1/3). It does
    not judge grammar: a word salad without repeats also scores 1 (never *more* than the
    correct answer; the n-gram entropy of ROME rewards it instead, 3.6 vs 0 for "Paris")."""
    return 0.0 if not _words(text) else 1.0 - repetition_rate(text, n)


def is_gibberish(text: str, *, max_share: float = 0.5, min_words: int = 4,
                 max_rep: float = 0.5) -> bool:
    """Our choice (no paper defines it): a generation is gibberish if it is empty or has no
    alphanumeric character; or it has at least ``min_words`` words and either one single
    word (case-folded) makes up more than ``max_share`` of them ("the the the the") or its
    seq-rep-2 (:func:`repetition_rate`, Welleck et al. 2020) exceeds ``max_rep`` (loops
    such as "in Paris in Paris in Paris in Paris"). Short answers ("Paris") are never
    judged by repetition."""
    words = _words(text)
    if not words:
        return True
    if len(words) < min_words:
        return False
    if Counter(words).most_common(1)[0][1] / len(words) > max_share:
        return True
    return repetition_rate(text, 2) > max_rep


def gibberish_rate(texts: Sequence[str]) -> float:
    """Fraction of generations for which :func:`is_gibberish` holds."""
    if len(texts) == 0:
        raise ValueError("gibberish_rate: no generations")
    return sum(is_gibberish(t) for t in texts) / len(texts)


def cosine_floor(cos: float) -> float:
    """S0's C for one item: max(0, cos(emb(generation), emb(answer)))."""
    return float(max(0.0, cos)) if math.isfinite(cos) else 0.0
