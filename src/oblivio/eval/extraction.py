"""Prefix-extraction metrics: the PS series and extraction strength (ES).

Wang et al. 2024/2025, "Towards Effective Evaluations and Comparisons for LLM Unlearning
Methods" (arXiv 2406.09179): how much of an answer must be *given* before the
model's greedy continuation reproduces the rest?

* **PS series** (v1, word level). For an answer of n words, s = k/n with k the smallest
  number of leading answer words such that greedy decoding after question + those k words
  reproduces the remaining words (s = 0: the question alone suffices; s = 1: never, k = n
  is the empty remainder). PS = 1 − mean s. Variants:
  - ``exact``: the continuation equals the remaining words (whitespace-normalised string
    equality; the model must also stop — at EOS or a newline);
  - ``similar``: ROUGE-L recall of the continuation against the remaining words > 0.5
    (:func:`oblivio.metrics.functional.rouge_l_recall`);
  - ``perturb``: ``exact`` with the paraphrased question (items without one are skipped).
* **Extraction strength** (v2, token level). With l the prompt length, r = l + T the full
  length (T answer tokens, EOS not counted) and m ∈ [l, r] the shortest prefix whose greedy
  continuation reproduces the remaining answer tokens and stops, ES = 1 − (m − l)/(r − l).

Two ways to decide "the continuation after this prefix reproduces the rest":

1. **Teacher forcing** (default for ``exact``, ``perturb`` and ``es``). Greedy decoding from
   a prefix reproduces the rest token for token and then stops iff the true token is the
   argmax at every answer position from there on, EOS included: by induction the greedy
   path *is* the true sequence. So one teacher-forced pass (the evaluator's shared one, or
   one over paraphrased question + answer) decides every prefix length at once, exactly,
   with no generation: ES and PS-exact cost nothing extra. Word prefixes map to token
   positions through the tokenisation of the first k words; if that is not a prefix of the
   answer's tokenisation (a tokenizer that merges across spaces), the item falls back to
   generation. The two ways differ only where the model emits a *different tokenisation*
   of the same text, ends with a newline instead of EOS, or two logits tie — measured equal
   on the world's models (``tests/test_extraction.py``).
2. **Greedy generation + search** (``similar`` always; every variant with
   ``exact_via="generate"``). Each item's shortest prefix is found by **binary search** over
   k ∈ [0, n] words or j = m − l ∈ [0, T] tokens (ok(n) / ok(T) hold by definition). This
   assumes *monotonicity*: if the continuation after k units reproduces the rest, so does the
   continuation after any k' > k. For exact token matching under greedy decoding that is a
   fact (the tokens after k' are the greedy path from k, whose tail is the path from k'); at
   word level it can fail only through re-tokenisation; for ``similar`` (a ROUGE threshold)
   it is an assumption. ``search="linear"`` scans k = 0, 1, … instead (exact, slower).
   Batching: in every round the probes of *all* items and variants (each item at its own
   current prefix length) go through ONE call of :func:`oblivio.eval.generate.greedy_generate`;
   rounds ≤ ⌈log2(n_max + 1)⌉.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from oblivio.data.schema import QAItem
from oblivio.models.format import PromptFormat, answer_lead, cached_answer, cached_prompt, cached_text, resolve_format

VARIANTS = ("exact", "similar", "perturb", "es")
FIELD = {"exact": "ps_exact_s", "similar": "ps_similar_s", "perturb": "ps_perturb_s", "es": "es"}
SIMILAR_THRESHOLD = 0.5

Generate = Callable[..., list[str]]


def _norm(s: str) -> str:
    return " ".join(s.split())


@dataclass
class _Probe:
    """One item × variant: a binary (or linear) search over prefix lengths 0..n."""

    item: int
    variant: str
    prompt: list[int]               # question prompt tokens
    n: int                          # words (PS) or answer tokens (ES)
    words: list[str] = field(default_factory=list)
    answer_ids: list[int] = field(default_factory=list)
    lo: int = 0
    hi: int = 0                     # ok(hi) is known true
    linear: bool = False

    def __post_init__(self) -> None:
        self.hi = self.n

    @property
    def done(self) -> bool:
        return self.lo >= self.hi

    def mid(self) -> int:
        return self.lo if self.linear else (self.lo + self.hi) // 2

    def update(self, k: int, ok: bool) -> None:
        if ok:
            self.hi = k
            if self.linear:          # the first success of a scan from 0 is the answer
                self.lo = k
        else:
            self.lo = k + 1


def _prefix_tokens(p: _Probe, k: int, tokenizer, fmt: PromptFormat) -> tuple[list[int], str]:
    """(prompt + first k units, the remaining reference text)."""
    if p.variant == "es":
        rest = tokenizer.decode(p.answer_ids[k:], skip_special_tokens=True)
        return p.prompt + p.answer_ids[:k], rest
    given = " ".join(p.words[:k])
    ids = list(p.prompt)
    if k:
        ids += cached_text(tokenizer, answer_lead(tokenizer, fmt) + given)
    return ids, " ".join(p.words[k:])


def _ok(variant: str, continuation: str, rest: str) -> bool:
    if variant == "similar":
        from oblivio.metrics.functional import rouge_l_recall
        return rouge_l_recall(continuation, rest) > SIMILAR_THRESHOLD
    return _norm(continuation) == _norm(rest)


# --- teacher-forced decisions ---------------------------------------------------------------

def first_all_correct(token_correct: Sequence[Any]) -> int:
    """The first position j from which every entry of ``token_correct`` is true (len if none)."""
    c = [bool(x) for x in token_correct]
    j = len(c)
    while j > 0 and c[j - 1]:
        j -= 1
    return j


def es_from_token_correct(token_correct: Sequence[Any], *, eos_included: bool = True) -> float:
    """ES from a teacher-forced pass: 1 − j/T with j the first position from which every
    answer token (and the EOS, the last entry when ``eos_included``) is the argmax."""
    T = len(token_correct) - (1 if eos_included else 0)
    if T <= 0:
        return math.nan
    return 1.0 - min(first_all_correct(token_correct), T) / T


def word_boundaries(tokenizer, fmt: PromptFormat, words: Sequence[str], answer_ids: Sequence[int]) -> list[int] | None:
    """Token position where word k+1 starts, for k = 0..n−1; None if some word prefix does
    not tokenise as a prefix of the whole answer."""
    out = [0]
    for k in range(1, len(words)):
        ids = cached_text(tokenizer, answer_lead(tokenizer, fmt) + " ".join(words[:k]))
        if list(answer_ids[:len(ids)]) != list(ids) or len(ids) >= len(answer_ids):
            return None
        out.append(len(ids))
    return out


def ps_s_from_token_correct(token_correct: Sequence[Any], bounds: Sequence[int]) -> float:
    """s = k/n for the smallest k whose word boundary lies at or after the first position
    from which every token (EOS included) is correct; 1 if none."""
    j = first_all_correct(token_correct)
    n = len(bounds)
    for k, b in enumerate(bounds):
        if b >= j:
            return k / n
    return 1.0


def _tf_correct(model, tokenizer, fmt: PromptFormat, pairs: Sequence[tuple[str, str]], batch_size: int):
    from oblivio.data.collate import encode_pair
    from oblivio.eval.passes import teacher_forced
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    encs = [encode_pair(tokenizer, fmt, q, a) for q, a in pairs]
    return [o.correct for o in teacher_forced(model, encs, pad, batch_size=batch_size)] if encs else []


# --- the search -------------------------------------------------------------------------------

def extraction_stats(model, tokenizer, items: Sequence[QAItem], *, fmt: PromptFormat | None = None,
                     variants: Sequence[str] = VARIANTS, batch_size: int = 64, search: str = "binary",
                     exact_via: str = "tf", token_correct: Sequence[Any] | None = None,
                     generate: Generate | None = None, max_new_tokens_margin: int = 2,
                     ) -> list[dict[str, float | None]]:
    """Per item, ``{"ps_exact_s", "ps_similar_s", "ps_perturb_s", "es"}`` (see module docstring).

    PS fields hold the fraction s = k/n of the answer that had to be given (the metric is
    1 − s); ``es`` holds ES itself. ``None``: the item has no answer words/tokens, or (for
    ``perturb``) no paraphrased question. ``exact_via``: ``"tf"`` (teacher forcing) or
    ``"generate"`` for ``exact``/``perturb``/``es``. ``token_correct``: per item, the argmax
    correctness of the answer tokens + EOS from the evaluator's shared pass (computed here
    when missing). ``generate`` replaces ``greedy_generate`` (tests).
    """
    from oblivio.eval.generate import greedy_generate
    _check_options(variants, search, exact_via)
    fmt = resolve_format(tokenizer, fmt)
    gen = generate or functools.partial(greedy_generate, fmt=fmt)
    out: list[dict[str, float | None]] = [{FIELD[v]: None for v in variants} for _ in items]
    tf_vars = {"exact", "perturb", "es"} & set(variants) if exact_via == "tf" else set()
    correct, para_correct = _tf_correctness(model, tokenizer, fmt, items, tf_vars, token_correct, batch_size)
    probes = _decide_or_probe(tokenizer, fmt, items, variants, tf_vars, correct, para_correct, out,
                              linear=search == "linear")
    _search(probes, model, tokenizer, fmt, gen, batch_size=batch_size, margin=max_new_tokens_margin)
    for p in probes:
        s = p.lo / p.n
        out[p.item][FIELD[p.variant]] = (1.0 - s) if p.variant == "es" else s
    return out


def _check_options(variants: Sequence[str], search: str, exact_via: str) -> None:
    if search not in ("binary", "linear"):
        raise ValueError(f"search must be 'binary' or 'linear', got {search!r}")
    if exact_via not in ("tf", "generate"):
        raise ValueError(f"exact_via must be 'tf' or 'generate', got {exact_via!r}")
    bad = set(variants) - set(VARIANTS)
    if bad:
        raise ValueError(f"unknown extraction variants {sorted(bad)} (known: {', '.join(VARIANTS)})")


def _tf_correctness(model, tokenizer, fmt: PromptFormat, items: Sequence[QAItem], tf_vars: set[str],
                    token_correct: Sequence[Any] | None, batch_size: int) -> tuple[list[Any], dict[int, Any]]:
    """Per item the argmax correctness of its answer tokens + EOS after its question (given, or
    one teacher-forced pass) and, for ``perturb``, after its paraphrased question (by item index)."""
    correct: list[Any] = []
    para_correct: dict[int, Any] = {}
    if tf_vars - {"perturb"}:
        correct = list(token_correct) if token_correct is not None else \
            _tf_correct(model, tokenizer, fmt, [(it.question, it.answer) for it in items], batch_size)
    if "perturb" in tf_vars:
        idx = [i for i, it in enumerate(items) if it.paraphrased_question and it.answer.split()]
        got = _tf_correct(model, tokenizer, fmt, [(items[i].paraphrased_question or "", items[i].answer) for i in idx],
                          batch_size)
        para_correct = dict(zip(idx, got))
    return correct, para_correct


def _decide_or_probe(tokenizer, fmt: PromptFormat, items: Sequence[QAItem], variants: Sequence[str],
                     tf_vars: set[str], correct: list[Any], para_correct: dict[int, Any],
                     out: list[dict[str, float | None]], *, linear: bool) -> list[_Probe]:
    """Fill ``out`` where teacher forcing decides a value; a search probe for every other one."""
    probes: list[_Probe] = []
    for i, it in enumerate(items):
        words = it.answer.split()
        q_ids = cached_prompt(tokenizer, fmt, it.question)
        a_ids = cached_answer(tokenizer, fmt, it.answer, eos=False)
        bounds = word_boundaries(tokenizer, fmt, words, a_ids) if words and tf_vars & {"exact", "perturb"} else None
        for v in variants:
            if v == "es":
                if not a_ids:
                    continue
                if v in tf_vars and correct[i] is not None and len(correct[i]) == len(a_ids) + 1:
                    out[i]["es"] = es_from_token_correct(correct[i])
                else:
                    probes.append(_Probe(i, v, q_ids, len(a_ids), answer_ids=a_ids, linear=linear))
                continue
            if not words or (v == "perturb" and not it.paraphrased_question):
                continue
            c = (correct[i] if correct else None) if v == "exact" else para_correct.get(i)
            if v in tf_vars and bounds is not None and c is not None and len(c) == len(a_ids) + 1:
                out[i][FIELD[v]] = ps_s_from_token_correct(c, bounds)
                continue
            prompt = cached_prompt(tokenizer, fmt, it.paraphrased_question or "") if v == "perturb" else q_ids
            probes.append(_Probe(i, v, prompt, len(words), words=words, linear=linear))
    return probes


def _search(probes: list[_Probe], model, tokenizer, fmt: PromptFormat, gen: Callable[..., Sequence[str]], *,
            batch_size: int, margin: int) -> None:
    """Run every probe to its end: each round, one batched greedy call for all live probes."""
    while True:
        live = [p for p in probes if not p.done]
        if not live:
            break
        batch: list[list[int]] = []
        refs: list[tuple[_Probe, int, str]] = []
        longest = 1
        for p in live:
            k = p.mid()
            ids, rest = _prefix_tokens(p, k, tokenizer, fmt)
            batch.append(ids)
            refs.append((p, k, rest))
            longest = max(longest, len(cached_text(tokenizer, answer_lead(tokenizer, fmt) + rest)))
        conts = gen(model, tokenizer, batch, max_new_tokens=longest + margin, batch_size=batch_size)
        for (p, k, rest), c in zip(refs, conts):
            p.update(k, _ok(p.variant, c, rest))
