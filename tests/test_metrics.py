"""Metrics: hand-derived numbers for the formulas, skip reasons, and registry metadata."""
from __future__ import annotations

import json
import math
import subprocess
import sys
import zlib

import numpy as np
import pytest

from oblivio.data.schema import QAItem
from oblivio.metrics import METRICS, NEEDS, ItemStats, MetricResult, ModelStats, SetStats
from oblivio.metrics import functional as F
from oblivio.metrics.qa import EMBED_MISSING

L = math.log
ALL = frozenset(NEEDS)


def item(i: int, role: str = "retain", answer: str = "a b c d", **kw: object) -> QAItem:
    return QAItem(id=f"{role}{i}", question=f"q{i}?", answer=answer, role=role, **kw)  # type: ignore[arg-type]


def stats(i: int, role: str = "retain", lp: list[float] | None = None, gen: str | None = None,
          qa_kw: dict | None = None, **kw: object) -> ItemStats:
    return ItemStats(item=item(i, role, **(qa_kw or {})),
                     token_logprobs=None if lp is None else np.array(lp), generation=gen, **kw)  # type: ignore[arg-type]


# --- functional ---------------------------------------------------------------------------

def test_token_probabilities() -> None:
    lp = [L(0.5), L(0.25)]
    assert F.mean_token_prob(lp) == pytest.approx(0.375)             # (0.5 + 0.25) / 2
    assert F.answer_prob(lp) == pytest.approx(math.sqrt(0.125))      # exp(mean log) = sqrt(0.5 * 0.25)
    assert F.exact_memorisation([1, 0, 1, 1]) == pytest.approx(0.75)
    # NLL total = log 2 + 2 log 4 = 5 log 2 over 3 tokens -> exp(5/3 log 2) = 2^(5/3)
    assert F.qa_perplexity([[L(0.5)], [L(0.25), L(0.25)]]) == pytest.approx(2 ** (5 / 3))
    with pytest.raises(ValueError):
        F.answer_prob([])


def test_truth_ratio_hand_numbers() -> None:
    # P~(true) = 0.5; perturbed 0.25 and 0.0625 -> geometric mean sqrt(0.015625) = 0.125; R = 0.125 / 0.5
    r = F.truth_ratio_value(L(0.5), [L(0.25), L(0.0625)])
    assert r == pytest.approx(0.25)
    assert F.tr_forget_agg(r) == pytest.approx(0.25)                 # min(0.25, 4)
    assert F.tr_retain_agg(r) == pytest.approx(0.75)                 # max(0, 1 - 0.25)
    r2 = F.truth_ratio_value(L(0.25), [L(0.5)])                      # 0.5 / 0.25 = 2
    assert r2 == pytest.approx(2.0)
    assert F.tr_forget_agg(r2) == pytest.approx(0.5)                 # min(2, 1/2)
    assert F.tr_retain_agg(r2) == 0.0                                # max(0, 1 - 2)


def test_ks_harmonic_auc_privleak() -> None:
    assert F.ks_pvalue([1, 2, 3, 4], [1, 2, 3, 4]) == pytest.approx(1.0)
    assert F.ks_pvalue(range(10), range(100, 110)) < 1e-3           # exact: 2 / C(20,10) ≈ 1.1e-5
    assert F.harmonic_mean([1, 0.5]) == pytest.approx(2 / 3)        # 2 / (1 + 2)
    assert F.harmonic_mean([1, 0.0, 0.5]) == 0.0
    with pytest.raises(ValueError):
        F.harmonic_mean([1, -0.5])
    assert F.mia_auc([3, 4], [1, 2]) == 1.0                          # every member above every non-member
    assert F.mia_auc([1, 2], [3, 4]) == 0.0
    assert F.mia_auc([1, 4], [2, 3]) == pytest.approx(0.5)          # 2 of 4 pairs ordered
    # MUSE's convention (AUC' = 1 − AUC): (A_g − A)/(1 − A_g) × 100
    assert F.privleak(0.75, 0.5) == pytest.approx(-50.0)             # under-unlearned: negative
    assert F.privleak(0.25, 0.5) == pytest.approx(50.0)


def test_mia_scores() -> None:
    lp = [-1.0, -2.0, -3.0, -4.0, -5.0]
    assert F.mink_score(lp, 0.4) == pytest.approx(-4.5)              # int(5 * 0.4) = 2 lowest: -5, -4
    assert F.mink_score(lp, 0.1) == pytest.approx(-5.0)              # int(0.5) = 0 -> at least one token
    assert F.minkpp_score([0.5, -1.0, 2.0], 0.4) == pytest.approx(-1.0)
    assert F.loss_score([L(0.5)]) == pytest.approx(L(2))
    assert len(zlib.compress(b"ab")) == 10                           # 2-byte header + data + adler32
    assert F.zlib_score([L(0.5)], "ab") == pytest.approx(L(2) / 10)


def test_rouge_recall_direction() -> None:
    # LCS("a b", "a b c d") = 2 tokens; recall = 2 / |reference| = 2/4; swapped it would be 2/2.
    assert F.rouge_l_recall("a b", "a b c d") == pytest.approx(0.5)
    assert F.rouge_l_recall("a b c d", "a b") == pytest.approx(1.0)


def test_text_metrics() -> None:
    assert F.answer_contains("The capital is  PARIS.", "paris")
    assert F.answer_contains("born in New\n York", "new york")
    assert not F.answer_contains("Rome", "paris")
    # bigrams: "a b a b" -> ab, ba, ab; "a b c" -> ab, bc; unique {ab, ba, bc} = 3 of 5
    assert F.distinct_n(["a b a b", "a b c"], 2) == pytest.approx(0.6)
    assert F.ngram_entropy("the the the the") == 0.0
    # "a b c d": 3 distinct bigrams -> H2 = log2 3; 2 distinct trigrams -> H3 = 1; mean(2/3 H2, 4/3 H3)
    assert F.ngram_entropy("a b c d") == pytest.approx((2 / 3 * math.log2(3) + 4 / 3) / 2)
    assert [F.is_gibberish(t) for t in ("", "!!!", "Paris", "the the the cat", "the cat sat on the mat")] \
        == [True, True, False, True, False]                          # 3/4 "the" > 1/2; 2/6 is not
    assert F.gibberish_rate(["", "Paris"]) == 0.5


# --- set metrics --------------------------------------------------------------------------

def run(name: str, s: SetStats) -> MetricResult:
    return METRICS.get(name).fn(s)


def test_teacher_forced_set_metrics() -> None:
    s = SetStats("retain", [stats(0, lp=[L(0.5), L(0.25)], token_correct=np.array([1, 0])),
                            stats(1, lp=[L(1.0)], token_correct=np.array([1]))], ALL)
    r = run("answer_prob", s)
    assert r.per_item == pytest.approx([math.sqrt(0.125), 1.0])
    assert r.value == pytest.approx((math.sqrt(0.125) + 1) / 2)
    assert run("mean_token_prob", s).per_item == pytest.approx([0.375, 1.0])
    assert run("exact_mem", s).value == pytest.approx(0.75)           # mean(1/2, 1)
    # NLL total = log 2 + log 4 + 0 = 3 log 2 over 3 tokens -> perplexity 2
    assert run("qa_perplexity", s).value == pytest.approx(2.0)
    skipped = run("answer_prob", SetStats("retain", s.items, frozenset({"gen"})))
    assert skipped.value is None and "'tf'" in (skipped.skipped or "")


def test_truth_ratio_set_metric() -> None:
    a = stats(0, true_mean_logprob=L(0.5), perturbed_mean_logprobs=[L(0.25), L(0.0625)])  # R = 0.25
    b = stats(1, true_mean_logprob=L(0.125), perturbed_mean_logprobs=[L(0.5)])            # R = 4
    c = stats(2)                                                                        # no perturbed answers
    forget = run("truth_ratio", SetStats("forget", [a, b, c], ALL))
    assert forget.per_item == pytest.approx([0.25, 4.0])
    assert forget.value == pytest.approx(0.25)                      # mean(min(.25, 4), min(4, .25))
    assert forget.extra["item_ids"] == ["retain0", "retain1"]
    retain = run("truth_ratio", SetStats("retain", [a, b], ALL))
    assert retain.value == pytest.approx(0.375)                     # mean(max(0, .75), max(0, -3))
    none = run("truth_ratio", SetStats("retain", [c], ALL))
    assert none.value is None and "perturbed" in (none.skipped or "")


def test_generation_set_metrics() -> None:
    s = SetStats("retain", [stats(0, gen="It is Paris.", qa_kw={"key": "paris"}),
                            stats(1, gen="London", qa_kw={"key": "Rome"}),
                            stats(2, gen="the the the the")], ALL)
    assert run("accuracy", s).value == pytest.approx(0.5)
    assert run("accuracy", s).extra["item_ids"] == ["retain0", "retain1"]
    assert run("gibberish_rate", s).value == pytest.approx(1 / 3)
    assert run("fluency", s).per_item == pytest.approx([1.0, 1.0, 1 / 3])  # 1 − seq-rep-2
    assert run("rouge_recall", SetStats("retain", [stats(0, gen="a b")], ALL)).value == pytest.approx(0.5)
    d2 = run("distinct_2", SetStats("retain", [stats(0, gen="a b a b"), stats(1, gen="a b c")], ALL))
    assert d2.value == pytest.approx(0.6)
    nokey = run("accuracy", SetStats("retain", [stats(0, gen="x")], ALL))
    assert "key" in (nokey.skipped or "")
    assert "paraphrased" in (run("para_accuracy", s).skipped or "")
    para = SetStats("retain", [stats(0, para_generation="Paris!", qa_kw={"key": "Paris",
                                                                          "paraphrased_question": "q?"})], ALL)
    assert run("para_accuracy", para).value == 1.0
    assert run("embed_cosine", s).skipped == EMBED_MISSING
    assert run("embed_cosine", SetStats("retain", [stats(0, gen_embedding_cos=-0.3),
                                                   stats(1, gen_embedding_cos=0.8)], ALL)).value \
        == pytest.approx(0.4)                                        # mean(max(0, -.3), .8)


def test_s0_combinations() -> None:
    # P̄ = 0.375, R = ROUGE-L recall("a b", "a b c d") = 0.5
    one = stats(0, lp=[L(0.5), L(0.25)], gen="a b")
    s = SetStats("forget", [one], ALL - {"embed"})
    fe = run("s0_forget_efficacy", s)
    assert fe.value == pytest.approx(1 - (0.375 + 0.5) / 2)         # 0.5625, C unavailable
    assert "note" in fe.extra
    assert run("s0_utility", s).value == pytest.approx(3 / 7)       # 2 / (8/3 + 2)
    with_c = SetStats("forget", [stats(0, lp=[L(0.5), L(0.25)], gen="a b", gen_embedding_cos=-0.2)], ALL)
    assert run("s0_forget_efficacy", with_c).value == pytest.approx(1 - 0.875 / 3)  # C = max(0, -.2) = 0
    assert run("s0_utility", with_c).value == 0.0                   # harmonic mean with a zero
    assert "note" not in run("s0_utility", with_c).extra


@pytest.mark.parametrize("name", [n for n, m in METRICS.items() if m.scope == "set"])
def test_set_metric_skips_when_nothing_computed(name: str) -> None:
    r = run(name, SetStats("retain", [stats(0, lp=[-1.0], gen="x")], frozenset()))
    assert r.value is None and r.skipped


# --- model metrics ------------------------------------------------------------------------

def model(name: str, forget_lp: list[float], holdout_lp: list[float] | None,
          tr: list[float] | None = None) -> ModelStats:
    sets = {"forget": SetStats("forget", [stats(i, "forget", lp=[v]) for i, v in enumerate(forget_lp)], ALL)}
    if holdout_lp is not None:
        sets["holdout"] = SetStats("holdout", [stats(i, "holdout", lp=[v]) for i, v in enumerate(holdout_lp)], ALL)
    res = {"forget": {"truth_ratio": MetricResult(value=0.5, per_item=tr)}} if tr is not None else {}
    return ModelStats(name, sets, res)


def mrun(name: str, m: ModelStats, gold: ModelStats | None = None) -> MetricResult:
    return METRICS.get(name).fn(m, gold)


def test_forget_quality() -> None:
    # one forget item per truth ratio (items without a fact id: each its own fact)
    m = model("m", [-1.0] * 4, None, tr=[0.1, 0.2, 0.3, 0.4])
    assert mrun("forget_quality", m).skipped == "no gold (retrained) model given"
    assert mrun("forget_quality", m, model("g", [-1.0] * 4, None, tr=[0.1, 0.2, 0.3, 0.4])).value == pytest.approx(1.0)
    far = model("g", [-1.0] * 10, None, tr=[float(v) for v in range(100, 110)])
    assert mrun("forget_quality", model("m", [-1.0] * 10, None, tr=[float(v) for v in range(10)]), far).value < 1e-3
    no_tr = mrun("forget_quality", model("m", [-1.0], None), far)    # forget items have no perturbed answers
    assert no_tr.value is None and "truth ratio" in (no_tr.skipped or "")


def test_model_utility() -> None:
    def res(p: float, r: float, t: float) -> dict[str, MetricResult]:
        return {"answer_prob": MetricResult(p), "rouge_recall": MetricResult(r), "truth_ratio": MetricResult(t)}
    sets = {r: SetStats(r, []) for r in ("forget", "retain", "general_test", "holdout")}
    m = ModelStats("m", sets, {"retain": res(0.5, 1.0, 0.5), "general_test": res(1, 1, 1),
                               "forget": res(0.01, 0.01, 0.01)})
    u = mrun("model_utility", m)
    assert u.value == pytest.approx(6 / (2 + 1 + 2 + 3))            # HM of the six retain/test values
    assert u.extra["per_role"] == pytest.approx({"retain": 0.6, "general_test": 1.0})  # 3 / (2 + 1 + 2)
    assert "no retain" in (mrun("model_utility", ModelStats("m", {"forget": sets["forget"]})).skipped or "")


def test_mia_and_privleak() -> None:
    m = model("m", [-0.1, -0.2], [-3.0, -4.0])                       # forget far likelier: clear members
    for name in ("mia_loss", "mia_zlib", "mia_mink"):
        assert mrun(name, m).value == 1.0, name
    assert mrun("mia_loss", model("m", [-3.0, -4.0], [-0.1, -0.2])).value == 0.0
    assert mrun("mia_loss", model("m", [-1.0], None)).skipped == "no holdout (never-trained) items"
    assert "Min-K%++" in (mrun("mia_minkpp", m).skipped or "")        # no token_minkpp values
    gold = model("g", [-1.0, -4.0], [-2.0, -3.0])                    # AUC 2/4 = 0.5
    assert mrun("mia_mink", gold).value == pytest.approx(0.5)
    assert mrun("privleak", m, gold).value == pytest.approx(-100.0)  # (.5 - 1) / (1 - .5) * 100
    assert mrun("privleak", m).skipped == "no gold (retrained) model given"


@pytest.mark.parametrize("name", [n for n, m in METRICS.items() if m.scope == "model"])
def test_model_metric_skips_without_inputs(name: str) -> None:
    r = mrun(name, ModelStats("m", {}), None)
    assert r.value is None and r.skipped


# --- registry and packaging ---------------------------------------------------------------

EXPECTED = {"answer_prob", "mean_token_prob", "exact_mem", "rouge_recall", "accuracy", "para_accuracy",
            "truth_ratio", "fluency", "gibberish_rate", "distinct_2", "qa_perplexity", "embed_cosine",
            "s0_forget_efficacy", "s0_utility", "forget_quality", "model_utility", "mia_loss", "mia_zlib",
            "mia_mink", "mia_minkpp", "privleak", "ngram_entropy", "option_prob", "gen_truncated"}


def test_registry_metadata() -> None:
    assert EXPECTED <= set(METRICS.names())
    for name, m in METRICS.items():
        assert m.description.strip() and m.source.strip(), name
        assert m.on_forget in ("higher", "lower", "closer_to_gold", "info"), name
        assert m.on_retain in ("higher", "lower", "closer_to_gold", "info"), name
        assert set(m.needs) <= set(NEEDS) and m.scope in ("set", "model"), name
    assert METRICS.get("answer_prob").direction("forget") == "lower"
    assert METRICS.get("answer_prob").direction("retain_test") == "higher"
    assert METRICS.get("truth_ratio").direction("forget") == "closer_to_gold"


def test_results_are_json_serialisable() -> None:
    it = stats(0, lp=[L(0.5)], gen="a b", token_correct=np.array([True]), token_minkpp=np.array([0.2]),
               true_mean_logprob=-1.0, perturbed_mean_logprobs=[-2.0], gen_embedding_cos=0.5,
               qa_kw={"key": "a", "paraphrased_question": "p?"}, para_generation="a")
    s = SetStats("retain", [it], ALL)
    for _name, m in METRICS.items():
        if m.scope == "set":
            json.dumps(m.fn(s).to_json())
    mm = model("m", [-0.1, -0.2], [-3.0, -4.0], tr=[0.5, 0.6])
    for _name, m in METRICS.items():
        if m.scope == "model":
            json.dumps(m.fn(mm, mm).to_json())


def test_import_is_light() -> None:
    code = ("import sys, oblivio.metrics; "
            "print(sorted(m for m in ('scipy', 'sklearn', 'rouge_score', 'nltk', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_gold_model_is_named_as_the_reference_not_as_missing(tiny_world):
    """Evaluating the gold model itself: forget quality and privleak are not computed (it is their
    reference), and the reason says so rather than "no gold model given" (which read as if the
    user's --gold had been ignored); any other model without a gold keeps the missing-gold reason."""
    from oblivio.eval.evaluate import EvalConfig, evaluate_model
    from oblivio.metrics.model_level import NO_GOLD
    data, wm = tiny_world
    cfg = EvalConfig(metrics=["answer_prob", "truth_ratio", "forget_quality", "privleak", "mia_minkpp"])
    gold = evaluate_model(wm.gold, wm.tokenizer, data, cfg=cfg, name="gold")
    base = evaluate_model(wm.base, wm.tokenizer, data, cfg=cfg, name="base")
    for m in ("forget_quality", "privleak"):
        assert gold.model[m].skipped == "the gold model is the reference of this metric"
        assert base.model[m].skipped == NO_GOLD
    assert gold.model["mia_minkpp"].value is not None


def test_listing_every_plugin_imports_no_heavy_library() -> None:
    """`oblivio ls` discovers every registry (each plugin module imported): a plugin module that
    imports scipy or scikit-learn at its top (judges/agreement did) costs every command ~0.5 s."""
    code = ("import sys; from oblivio.registry import REGISTRIES\n"
            "for r in REGISTRIES.values(): r.discover()\n"
            "print(sorted(m for m in ('scipy', 'sklearn', 'rouge_score', 'nltk') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
