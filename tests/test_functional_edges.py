"""Edge cases of metrics/functional.py that the hand-number tests in test_metrics.py leave open:
empty inputs name the function that rejected them, boundary values (R = 0, one generation,
no n-gram, a non-finite cosine) and documented defaults. Each assertion here killed a
surviving mutant of the mutation run (docs/mutation.md)."""
from __future__ import annotations

import re

import pytest

from oblivio.metrics import functional as F

ARRAY_FNS = [
    ("mean_token_prob", lambda a: F.mean_token_prob(a)),
    ("answer_prob", lambda a: F.answer_prob(a)),
    ("exact_memorisation", lambda a: F.exact_memorisation(a)),
    ("loss_score", lambda a: F.loss_score(a)),
    ("mink_score", lambda a: F.mink_score(a)),
    ("minkpp_score", lambda a: F.minkpp_score(a)),
    ("harmonic_mean", lambda a: F.harmonic_mean(a)),
    ("truth_ratio_value (perturbed_mean_logprobs)", lambda a: F.truth_ratio_value(0.0, a)),
    ("ks_pvalue (a)", lambda a: F.ks_pvalue(a, [1.0])),
    ("ks_pvalue (b)", lambda a: F.ks_pvalue([1.0], a)),
    ("mia_auc (members)", lambda a: F.mia_auc(a, [1.0])),
    ("mia_auc (non-members)", lambda a: F.mia_auc([1.0], a)),
    ("option_normalised_prob (option_mean_logprobs)", lambda a: F.option_normalised_prob(0.0, a)),
]


@pytest.mark.parametrize("what,fn", ARRAY_FNS, ids=[w for w, _ in ARRAY_FNS])
def test_empty_input_names_the_function(what, fn):
    # a metric computed on nothing is an error that says which metric, not a silent nan
    with pytest.raises(ValueError, match="^" + re.escape(what) + ": empty input$"):
        fn([])


def test_qa_perplexity_without_tokens():
    with pytest.raises(ValueError, match="^qa_perplexity: no answer tokens$"):
        F.qa_perplexity([[], []])


def test_truth_ratio_aggregates_at_the_boundary():
    with pytest.raises(ValueError, match=r"^tr_forget_agg: truth ratio must be > 0, got 0\.0$"):
        F.tr_forget_agg(0.0)
    assert F.tr_forget_agg(4.0) == pytest.approx(0.25) and F.tr_forget_agg(0.5) == pytest.approx(0.5)
    assert F.tr_retain_agg(0.25) == pytest.approx(0.75) and F.tr_retain_agg(3.0) == 0.0


def test_answer_contains_edges():
    with pytest.raises(ValueError, match="^answer_contains: empty key$"):
        F.answer_contains("Paris", "  ")
    # case folding is lower(): "ß" stays "ß" (upper() would make it "SS" and match "ss")
    assert not F.answer_contains("Straße", "strasse")
    assert F.answer_contains("STRASSE", "strasse")


def test_distinct_default_order_and_no_ngrams():
    # default n = 2: bigrams ab, bc, ab → 2 unique of 3 (trigrams would give 2 of 2)
    assert F.distinct_n(["a b c a b"]) == pytest.approx(3 / 4)
    assert F.distinct_n(["a b a b"]) == pytest.approx(2 / 3)
    assert F.distinct_n(["Paris", ""]) == 0.0            # no bigram at all


def test_ngram_entropy_without_ngrams_is_zero():
    # one token: no bigram and no trigram → both orders contribute 0
    assert F.ngram_entropy("Paris") == 0.0
    # two tokens: one bigram (entropy 0), no trigram
    assert F.ngram_entropy("Paris France") == 0.0


def test_gibberish_rate_edges():
    with pytest.raises(ValueError, match="^gibberish_rate: no generations$"):
        F.gibberish_rate([])
    assert F.gibberish_rate(["born born born born"]) == 1.0
    assert F.gibberish_rate(["Paris"]) == 0.0


def test_cosine_floor_non_finite():
    assert F.cosine_floor(float("nan")) == 0.0
    assert F.cosine_floor(float("inf")) == 0.0
    assert F.cosine_floor(-0.3) == 0.0 and F.cosine_floor(0.7) == pytest.approx(0.7)


def test_lowest_k_rejects_bad_k():
    with pytest.raises(ValueError, match=r"^mink_score: k must be in \(0, 1\], got 0$"):
        F.mink_score([-1.0], k=0)
    with pytest.raises(ValueError, match=r"^minkpp_score: k must be in \(0, 1\], got 1.5$"):
        F.minkpp_score([-1.0], k=1.5)
    assert F.mink_score([-3.0, -1.0, -2.0], k=1.0) == pytest.approx(-2.0)
    # ⌊0.4·3⌋ = 1 token; k = 0.1 still keeps one token
    assert F.mink_score([-3.0, -1.0, -2.0]) == pytest.approx(-3.0)
    assert F.minkpp_score([0.5, -0.5, 2.0], k=0.1) == pytest.approx(-0.5)
    assert F.minkpp_score([0.5, -0.5, 2.0, 1.0, 3.0]) == pytest.approx(0.0)   # default k = 0.4: 2 of 5


def test_option_normalised_prob_shares_and_log_space():
    # P = exp(mean log-prob): 0.5 against options 0.25 and 0.125 -> 0.5 / 0.875 (TOFU's "Prob.")
    import math
    assert F.option_normalised_prob(math.log(0.5), [math.log(0.25), math.log(0.125)]) == pytest.approx(4 / 7)
    # far below exp's range: the share is still exact (log-sum-exp around the largest value)
    assert F.option_normalised_prob(-1000.0, [-1001.0]) == pytest.approx(1 / (1 + math.exp(-1.0)))
    assert F.option_normalised_prob(-1001.0, [-1000.0, -1000.0]) == pytest.approx(math.exp(-1.0) / (math.exp(-1.0) + 2))


def test_repetition_rate_orders_and_bad_n():
    assert F.repetition_rate("a b a", 1) == pytest.approx(1 / 3)      # n = 1 is allowed: repeated words
    assert F.repetition_rate("a b a b") == pytest.approx(1 / 3)       # default n = 2: ab, ba, ab
    assert F.repetition_rate("a b a b", 3) == 0.0                     # aba, bab
    with pytest.raises(ValueError, match=r"^repetition_rate: n must be >= 1, got 0$"):
        F.repetition_rate("a b", 0)


def test_fluency_score_without_words_and_with_n():
    assert F.fluency_score("") == 0.0 and F.fluency_score("?! ...") == 0.0
    assert F.fluency_score("a b c a b") == pytest.approx(0.75)         # bigrams ab bc ca ab
    assert F.fluency_score("a b c a b c a", 3) == pytest.approx(0.6)   # trigrams: 3 unique of 5 (n = 2: 0.5)


@pytest.mark.parametrize("text,expected", [
    ("in Paris in Paris in Paris", True),    # share 0.5 (not > 0.5) but seq-rep-2 0.6 > 0.5; seq-rep-3 is 0.5
    ("a b a c", False),                      # one word is exactly half of them: not > max_share
    ("a b c a b c a", False),                # seq-rep-2 exactly 0.5: not > max_rep
    ("the the the the", True),               # one word is all of them
])
def test_is_gibberish_thresholds_are_strict_and_use_bigrams(text, expected):
    assert F.is_gibberish(text) is expected


def test_inputs_are_flattened_and_computed_in_float64():
    import numpy as np
    # a column of per-token values (an (n, 1) array, as a model's output sliced by column) is
    # the same sequence as the flat list: Min-K% must sort all of it, not each row
    col = [[-3.0], [-1.0], [-2.0], [-0.5], [-4.0]]
    assert F.mink_score(col, k=0.4) == pytest.approx(-3.5)          # lowest 2: (−4 − 3) / 2
    # float32 log-probabilities (torch's default) are computed in float64: exp(−1e−8) in
    # float32 rounds to exactly 1, which would hide a difference of 1e−8 in probability
    tiny = np.full(4, -1e-8, dtype=np.float32)
    assert 1.0 - F.mean_token_prob(tiny) == pytest.approx(1e-8, rel=1e-3)
    assert 1.0 - F.answer_prob(tiny) == pytest.approx(1e-8, rel=1e-3)


def test_harmonic_mean_rejects_nan_and_names_the_values():
    with pytest.raises(ValueError, match=r"^harmonic_mean: values must be non-negative numbers, got \[0.5, nan\]$"):
        F.harmonic_mean([0.5, float("nan")])


def test_harmonic_mean_with_a_zero_divides_nothing():
    import warnings
    # the zero is caught before 1/v: no division-by-zero warning on the way to 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert F.harmonic_mean([0.0, 1.0]) == 0.0


@pytest.mark.parametrize("gold", [1.0, 1.5, -0.1])
def test_privleak_gold_auc_out_of_range(gold):
    with pytest.raises(ValueError, match=r"^privleak: gold AUC must be in \[0, 1\), got "):
        F.privleak(0.5, gold)


def test_privleak_gold_auc_zero_is_allowed():
    # A_g = 0 (the retrained model ranks every holdout item above every forget item) is defined
    assert F.privleak(0.5, 0.0) == pytest.approx(-50.0)             # (0 − 0.5) / (1 − 0) × 100
