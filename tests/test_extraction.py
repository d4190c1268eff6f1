"""PS series and extraction strength on hand-made cases (SPEC §1 S1).

The "models" are stubs: a word-level tokenizer and a greedy-generation function that
either always continues an answer correctly, never does, or only once enough is given.
"""
from __future__ import annotations

import math
import re

import pytest

from oblivio.data.schema import QAItem, UnlearningData
from oblivio.eval import extraction as X
from oblivio.eval.extraction import es_from_token_correct, extraction_stats
from oblivio.models.format import PromptFormat

FMT = PromptFormat()


class WordTokenizer:
    """Whitespace-attached word tokens (like byte-level BPE: " word"); EOS, no BOS."""

    bos_token_id = None
    eos_token_id = 1
    pad_token_id = 0

    def __init__(self) -> None:
        self.inv: list[str] = ["<pad>", "</s>"]
        self.vocab: dict[str, int] = {"<pad>": 0, "</s>": 1}

    def _id(self, t: str) -> int:
        if t not in self.vocab:
            self.vocab[t] = len(self.inv)
            self.inv.append(t)
        return self.vocab[t]

    def __call__(self, text: str, add_special_tokens: bool = False) -> dict[str, list[int]]:
        return {"input_ids": [self._id(t) for t in re.findall(r"\s*\S+", text)]}

    def decode(self, ids, skip_special_tokens: bool = True) -> str:
        return "".join(self.inv[i] for i in ids if not (skip_special_tokens and i < 2))


ITEMS = [
    QAItem(id="f0", question="Where was Ada born?", answer="Ada was born in Tarsk.", role="forget",
           paraphrased_question="What is Ada's birthplace?"),
    QAItem(id="f1", question="Who employs Bo?", answer="Bo works for the Lumen Guild of Vessa since 1990.",
           role="forget"),
    QAItem(id="r0", question="Cy?", answer="Yes.", role="retain", paraphrased_question="Cy, really?"),
]


def oracle(items, *, need: float = 0.0, wrong: bool = False, calls: list | None = None):
    """A greedy-generate stand-in: the rest of the answer, once ≥ need·n words are given."""
    full = {}
    for it in items:
        for q in (it.question, it.paraphrased_question):
            if q:
                full[FMT.prompt(q)] = it.answer

    def gen(model, tokenizer, prompts, *, max_new_tokens=32, batch_size=64, fmt=None):
        if calls is not None:
            calls.append(len(prompts))
        out = []
        for p in prompts:
            text = tokenizer.decode(p)
            head = next(h for h in full if text.startswith(h))
            given = text[len(head):].strip()
            answer = full[head]
            k = len(given.split()) if given else 0
            if wrong or k < need * len(answer.split()):
                out.append("nothing of the sort")
            else:
                assert answer.startswith(given)
                out.append(answer[len(given):].strip())
        return out
    return gen


@pytest.mark.parametrize("search", ["binary", "linear"])
def test_always_correct_model(search: str) -> None:
    tok = WordTokenizer()
    st = extraction_stats(None, tok, ITEMS, generate=oracle(ITEMS), search=search, exact_via="generate")
    for d, it in zip(st, ITEMS):
        assert d["ps_exact_s"] == 0.0 and d["ps_similar_s"] == 0.0 and d["es"] == 1.0
        assert d["ps_perturb_s"] == (0.0 if it.paraphrased_question else None)


@pytest.mark.parametrize("search", ["binary", "linear"])
def test_never_correct_model(search: str) -> None:
    tok = WordTokenizer()
    st = extraction_stats(None, tok, ITEMS, generate=oracle(ITEMS, wrong=True), search=search, exact_via="generate")
    for d in st:
        assert d["ps_exact_s"] == 1.0 and d["ps_similar_s"] == 1.0 and d["es"] == 0.0


def test_partial_knowledge_binary_equals_linear() -> None:
    """Continues correctly only after half the words: k = ceil(n/2), s = k/n; ES on tokens."""
    tok = WordTokenizer()
    gen = oracle(ITEMS, need=0.5)
    b = extraction_stats(None, tok, ITEMS, generate=gen, exact_via="generate")
    lin = extraction_stats(None, tok, ITEMS, generate=gen, search="linear", exact_via="generate")
    assert b == lin
    for d, it in zip(b, ITEMS):
        n = len(it.answer.split())
        assert d["ps_exact_s"] == pytest.approx(math.ceil(n / 2) / n)
        # word tokens here, so ES = 1 − ceil(n/2)/n too
        assert d["es"] == pytest.approx(1 - math.ceil(n / 2) / n)


def test_one_batched_call_per_round() -> None:
    tok = WordTokenizer()
    calls: list[int] = []
    extraction_stats(None, tok, ITEMS, generate=oracle(ITEMS, need=0.5, calls=calls), exact_via="generate")
    # every probe of a round (3 items × up to 4 variants) goes through one call;
    # rounds ≤ ceil(log2(n_max + 1)) for the longest answer (10 words → ≤ 4)
    assert 3 <= len(calls) <= 4
    assert calls[0] == 3 * 3 + 2       # exact, similar, es per item + perturb for the 2 with a paraphrase


def test_similar_threshold() -> None:
    """PS-similar accepts a continuation with ROUGE-L recall > 0.5 of the rest; exact does not."""
    tok = WordTokenizer()
    items = [QAItem(id="a", question="q?", answer="one two three four", role="forget")]

    def gen(model, tokenizer, prompts, **kw):
        out = []
        for p in prompts:
            given = tokenizer.decode(p)[len(FMT.prompt("q?")):].split()
            rest = "one two three four".split()[len(given):]
            out.append(" ".join(rest[:-1] + ["WRONG"]) if len(rest) >= 3 else "WRONG")
        return out
    d = extraction_stats(None, tok, items, generate=gen, variants=("exact", "similar"), search="linear",
                         exact_via="generate")[0]
    assert d["ps_exact_s"] == 1.0          # never exact
    assert d["ps_similar_s"] == 0.0        # 3 of 4 words right from the start: recall 0.75 > 0.5


def correct_from(items, tok, start):
    """Teacher-forced argmax correctness (answer tokens + EOS) that is true from ``start(n)`` on."""
    from oblivio.models.format import encode_answer
    out = []
    for it in items:
        T = len(encode_answer(tok, FMT, it.answer, eos=False))
        j = start(T)
        out.append([t >= j for t in range(T + 1)])
    return out


@pytest.mark.parametrize("case", ["always", "never", "half"])
def test_teacher_forced_path_equals_generation(case: str) -> None:
    """The exact variants decided from teacher forcing agree with the greedy-generation search
    of a model that behaves the same way (word tokens: token prefix = word prefix)."""
    tok = WordTokenizer()
    start = {"always": lambda T: 0, "never": lambda T: T + 1, "half": lambda T: math.ceil(T / 2)}[case]
    gen = {"always": oracle(ITEMS), "never": oracle(ITEMS, wrong=True), "half": oracle(ITEMS, need=0.5)}[case]
    calls: list[int] = []

    def counted(*a, **kw):
        calls.append(1)
        return gen(*a, **kw)
    # teacher forcing for exact/es (given), perturb needs its own pass: leave it out here
    tf = extraction_stats(None, tok, ITEMS, variants=("exact", "es"), token_correct=correct_from(ITEMS, tok, start),
                          generate=counted)
    assert calls == []                                  # no generation at all
    ref = extraction_stats(None, tok, ITEMS, variants=("exact", "es"), generate=gen, exact_via="generate")
    assert tf == ref
    want = {"always": (0.0, 1.0), "never": (1.0, 0.0)}.get(case)
    if want:
        assert all((d["ps_exact_s"], d["es"]) == want for d in tf)


def test_es_from_token_correct() -> None:
    assert es_from_token_correct([1, 1, 1, 1]) == 1.0            # 3 answer tokens + EOS, all argmax
    assert es_from_token_correct([0, 1, 1, 1]) == pytest.approx(1 - 1 / 3)
    assert es_from_token_correct([1, 1, 1, 0]) == 0.0             # never stops: never reproduces
    assert es_from_token_correct([1, 0, 1], eos_included=False) == pytest.approx(1 - 2 / 3)


def test_metrics_through_the_evaluator(monkeypatch) -> None:
    """The shared-pass evaluator runs the searches only when an extraction metric is selected."""
    import numpy as np

    import oblivio.eval.generate as G
    import oblivio.eval.passes as P
    from oblivio.eval.evaluate import EvalConfig, _metric_names, evaluate_model

    tok = WordTokenizer()
    monkeypatch.setattr(G, "greedy_generate", oracle(ITEMS))

    def tf_stub(flag):   # a teacher-forced pass whose argmax is always / never the true token
        def tf(model, encs, pad, *, batch_size=64, full=True):
            return [P.TFOut(np.zeros(len(e.answer)), np.full(len(e.answer), flag), np.zeros(len(e.answer)))
                    for e in encs]
        return tf
    monkeypatch.setattr(P, "teacher_forced", tf_stub(True))

    class Stub:
        training = False

        def eval(self):
            return self

    data = UnlearningData(list(ITEMS), name="hand")
    rep = evaluate_model(Stub(), tok, data, cfg=EvalConfig(metrics=["ps_exact", "ps_similar", "ps_perturb",
                                                                    "extraction_strength"]))
    for role in ("forget", "retain"):
        for m in ("ps_exact", "ps_similar", "ps_perturb", "extraction_strength"):
            assert rep.value(m, role) == 1.0
    monkeypatch.setattr(G, "greedy_generate", oracle(ITEMS, wrong=True))
    monkeypatch.setattr(P, "teacher_forced", tf_stub(False))
    rep = evaluate_model(Stub(), tok, data, cfg=EvalConfig(metrics=["ps_exact", "ps_similar", "ps_perturb",
                                                                    "extraction_strength"]))
    for m in ("ps_exact", "ps_similar", "ps_perturb", "extraction_strength"):
        assert rep.value(m, "forget") == 0.0
    # cheap by default: the expensive metrics are off unless asked for
    assert "ps_exact" not in _metric_names(EvalConfig())
    assert "extraction_strength" in _metric_names(EvalConfig(extraction=True))


def test_skip_without_extraction_pass() -> None:
    from oblivio.metrics.base import ItemStats, SetStats
    from oblivio.metrics.extraction import ps_exact
    r = ps_exact(SetStats(role="forget", items=[ItemStats(item=ITEMS[0])], computed=frozenset({"tf"})))
    assert r.value is None and "extraction" in (r.skipped or "")


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        extraction_stats(None, WordTokenizer(), ITEMS, variants=("nope",), generate=oracle(ITEMS))
    with pytest.raises(ValueError):
        extraction_stats(None, WordTokenizer(), ITEMS, search="ternary", generate=oracle(ITEMS))
    assert X.VARIANTS == ("exact", "similar", "perturb", "es")


def test_teacher_forcing_matches_generation_on_a_trained_model(tiny_world) -> None:
    """On the tiny world's base model and an unlearned copy, PS-exact and ES decided by
    teacher forcing equal those found by greedy-generation binary search, item for item."""
    import copy

    from oblivio.config import build_method
    from oblivio.engine.loop import TrainConfig
    from oblivio.engine.unlearning import run_unlearning
    data, wm = tiny_world
    items = data.forget[:6] + data.role("direct")[:6]
    ga, _ = run_unlearning(copy.deepcopy(wm.base), wm.tokenizer, data, build_method("ga", {}),
                           sampler="one_to_one_random",
                           train_cfg=TrainConfig(lr=1e-3, max_steps=4, batch_size=8, progress=False))
    for model in (wm.base, ga):
        model.eval()
        tf = extraction_stats(model, wm.tokenizer, items, variants=("exact", "perturb", "es"))
        gen = extraction_stats(model, wm.tokenizer, items, variants=("exact", "perturb", "es"), exact_via="generate")
        assert tf == gen
