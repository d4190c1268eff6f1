"""The shared evaluation passes against a hand computation from the model's own logits.

eval/passes.py (teacher forcing: token log-probs, argmax hits, Min-K%++ scores of Zhang et
al. 2024, arXiv 2404.02936) and the paraphrased/perturbed pass of eval/evaluate.py (TOFU's
truth ratio, Maini et al. 2024) are run on a tiny random Llama with sequences of unequal
length in several sorted, padded batches; the expected values come from each sequence run
alone and unpadded through the same model (tests/handcalc.py), not from precomputed numbers.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from handcalc import hand_logsoftmax, tiny_llama
from oblivio.data.collate import Encoded
from oblivio.eval.passes import teacher_forced
from oblivio.metrics import functional as F

PAD = 0
# (prompt, answer) token lists of unequal lengths, listed out of length order
BASE = [Encoded([5, 9, 11, 3], [7, 8, 30, 2]), Encoded([4, 6], [12, 2]), Encoded([1, 13, 17, 19, 21, 23], [9]),
        Encoded([3, 3], [25, 26, 27, 28, 29, 2]), Encoded([8, 14, 6], [31, 5, 2])]


def hand_stats(model, enc: Encoded) -> tuple[list[float], list[bool], list[float]]:
    """Per answer token: log p(y_t), argmax == y_t, and (log p(y_t) − μ_t)/σ_t with
    μ_t = E_{v∼p}[log p(v)], σ_t² = E_{v∼p}[(log p(v) − μ_t)²] (Min-K%++)."""
    ids = enc.prompt + enc.answer
    ls = hand_logsoftmax(model, ids)
    lps, hits, zs = [], [], []
    for t in range(len(enc.prompt), len(ids)):
        row = ls[t - 1]
        p = row.exp()
        mu = float((p * row).sum())
        sigma = math.sqrt(float((p * (row - mu) ** 2).sum()))
        lp = float(row[ids[t]])
        lps.append(lp)
        hits.append(int(row.argmax()) == ids[t])
        zs.append((lp - mu) / sigma)
    return lps, hits, zs


@pytest.fixture(scope="module")
def model():
    return tiny_llama(5)


@pytest.fixture(scope="module")
def encs(model) -> list[Encoded]:
    """BASE with the first answer token of every other sequence set to the model's own
    argmax, so that the fixture has argmax hits as well as misses."""
    out = []
    for k, e in enumerate(BASE):
        first = int(hand_logsoftmax(model, e.prompt)[-1].argmax()) if k % 2 == 0 else e.answer[0]
        out.append(Encoded(e.prompt, [first, *e.answer[1:]]))
    return out


@pytest.mark.parametrize("batch_size", [2, 64])
def test_teacher_forced_matches_hand_computation(model, encs, batch_size):
    outs = teacher_forced(model, encs, PAD, batch_size=batch_size)
    assert len(outs) == len(encs)
    n_hits = 0
    for enc, o in zip(encs, outs):
        lps, hits, zs = hand_stats(model, enc)
        assert len(o.logprobs) == len(enc.answer)
        np.testing.assert_allclose(o.logprobs, lps, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(o.minkpp, zs, rtol=1e-4, atol=1e-4)
        assert [bool(c) for c in o.correct] == hits
        n_hits += sum(hits)
    # the fixture is informative: some argmax hits and some misses, scores of both signs
    assert 0 < n_hits < sum(len(e.answer) for e in encs)
    allz = np.concatenate([o.minkpp for o in outs])
    assert allz.min() < 0 < allz.max()


def test_teacher_forced_logprobs_only(model, encs):
    outs = teacher_forced(model, encs, PAD, batch_size=3, full=False)
    for enc, o in zip(encs, outs):
        assert o.correct is None and o.minkpp is None
        np.testing.assert_allclose(o.logprobs, hand_stats(model, enc)[0], rtol=1e-4, atol=1e-5)


def test_minkpp_score_from_the_pass(model, encs):
    # Min-K%++ of one sequence: mean of the lowest ⌊k·T⌋ standardised scores
    enc = encs[3]
    (o,) = teacher_forced(model, [enc], PAD)
    zs = sorted(hand_stats(model, enc)[2])
    assert F.minkpp_score(o.minkpp, k=0.5) == pytest.approx(sum(zs[:3]) / 3, rel=1e-4)
    assert F.mink_score(o.logprobs, k=0.5) == pytest.approx(
        sum(sorted(hand_stats(model, enc)[0])[:3]) / 3, rel=1e-4)


# --- the paraphrased/perturbed pass (truth ratio) ----------------------------------------

@pytest.fixture(scope="module")
def tok_and_model():
    from oblivio.models.tokenizer import train_tokenizer
    texts = ["Where was Ana born? Ana was born in Lisbon.", "Ana comes from Lisbon.",
             "Ana was born in Paris.", "Ana was born in Rome.", "What does Bo do? Bo is a pilot.",
             "Bo flies planes.", "Bo is a baker.", "Bo is a poet."]
    tok = train_tokenizer(texts * 4, vocab_size=300)
    return tok, tiny_llama(6, vocab=len(tok))


def test_perturbed_pass_matches_hand_computation(tok_and_model):
    from oblivio.data.collate import encode_pair
    from oblivio.data.schema import QAItem
    from oblivio.eval.evaluate import EvalConfig, compute_stats
    from oblivio.models.format import PromptFormat
    tok, model = tok_and_model
    fmt = PromptFormat()
    items = [QAItem("a", "Where was Ana born?", "Ana was born in Lisbon.", "forget",
                    paraphrased_answer="Ana comes from Lisbon.",
                    perturbed_answers=("Ana was born in Paris.", "Ana was born in Rome.")),
             QAItem("b", "What does Bo do?", "Bo is a pilot.", "forget",
                    perturbed_answers=("Bo is a baker.", "Bo is a poet.", "Bo flies planes."))]
    stats = compute_stats(model, tok, {"forget": items}, {"tf", "perturbed"},
                          cfg=EvalConfig(batch_size=2), fmt=fmt)["forget"].items

    def mean_lp(q: str, a: str) -> float:
        return float(np.mean(hand_stats(model, encode_pair(tok, fmt, q, a))[0]))

    for it, s in zip(items, stats):
        true = it.paraphrased_answer or it.answer      # no paraphrase: the answer itself
        assert s.true_mean_logprob == pytest.approx(mean_lp(it.question, true), rel=1e-4)
        want = [mean_lp(it.question, p) for p in it.perturbed_answers]
        assert s.perturbed_mean_logprobs == pytest.approx(want, rel=1e-4)
        # TOFU's R = P̃(perturbed)/P̃(true), geometric means of token probabilities
        r = math.exp(sum(want) / len(want)) / math.exp(mean_lp(it.question, true))
        assert F.truth_ratio_value(s.true_mean_logprob, s.perturbed_mean_logprobs) == pytest.approx(r, rel=1e-4)
    assert abs(stats[0].true_mean_logprob - mean_lp(items[0].question, items[0].answer)) > 1e-3


def test_batches_group_sequences_of_similar_length():
    # sorted by total length so that a batch carries little padding (lengths 8, 4, 7, 12, 6)
    from oblivio.eval.passes import _batches
    encs = [Encoded([1] * 4, [2] * 4), Encoded([1] * 3, [2]), Encoded([1], [2] * 6), Encoded([1] * 6, [2] * 6),
            Encoded([1] * 5, [2])]
    assert list(_batches(encs, 2)) == [[1, 4], [2, 0], [3]]
