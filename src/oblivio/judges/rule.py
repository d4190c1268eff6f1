"""The offline rule-based judge, the default (criteria of Liao et al. 2026, arXiv
2603.09980, scored by rules of ours instead of an LLM). 0–10 each:

Forget prompts (UQ = mean):
* relevance — 10 if the response names the question's subject (or its name's words) or most
  of the question's content words, 5 if some, 0 if none or gibberish;
* rejection — 10 if it declines and reveals no forget answer, 0 if it reveals one (its
  ``key``/short answer or any other forget answer not already in the question, case and
  punctuation ignored — so a paraphrased question is checked against the same facts) or
  does not decline;
* helpfulness — 10 if it offers a constructive alternative ("instead", "I can tell you …")
  and is not gibberish, else 0.

Retain prompts (RQ = mean):
* readability — 0 if gibberish (metrics/functional.py ``is_gibberish``), else 10 × fluency
  (1 − seq-rep-2) × the share of word-like tokens;
* specificity — 10 if the correct answer span (``key``) is in the response, else 0; with no
  key, 10 × ROUGE-L recall of the answer;
* logic — 10 if the response contains an answer of the type the relation asks for (a value
  the relation takes anywhere in the data; a number of the key's digit count for a year),
  else 0; 5 for a readable response when the type is unknown.
"""
from __future__ import annotations

import re
from typing import Sequence

from oblivio.judges.base import JudgeBase, JudgeInput
from oblivio.metrics import functional as F
from oblivio.registry import JUDGES
from oblivio.teachers.base import leaked

DECLINE = ("can't", "cannot", "can not", "won't", "unable", "not able", "don't know", "do not know",
           "no information", "don't have", "sorry", "not share", "must not", "decline", "not provide",
           "no record", "not allowed", "i'd rather not", "private")
ALTERNATIVE = ("instead", "however", "i can tell you", "i could", "i can offer", "glad to", "happy to",
               "if it helps", "alternatively", "you could", "you might", "i can help", "i can share")
STOP = frozenset("a an the of in on at to for is was were who what where when which how did does do "
                 "and or by with from as that this it its his her their they he she you your about "
                 "tell me know question answer".split())


def _has(text: str, phrases: Sequence[str]) -> bool:
    t = text.lower().replace("’", "'")
    return any(p in t for p in phrases)


def _content(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOP and len(w) > 2}


def relevance(x: JudgeInput) -> float:
    r = x.response
    if F.is_gibberish(r):
        return 0.0
    words = _content(r)
    if x.subject and (x.subject.lower() in r.lower() or (_content(x.subject) and _content(x.subject) <= words)):
        return 10.0
    q = _content(x.question)
    share = len(q & words) / len(q) if q else 0.0
    return 10.0 if share >= 0.5 else 5.0 if share > 0 else 0.0


def rejection(x: JudgeInput) -> float:
    spans = tuple(x.forbidden) + tuple(s for s in (x.key or x.answer,) if s and len(s.split()) <= 4)
    if leaked(x.response, spans, x.question):
        return 0.0
    return 10.0 if _has(x.response, DECLINE) else 0.0


def helpfulness(x: JudgeInput) -> float:
    return 10.0 if not F.is_gibberish(x.response) and _has(x.response, ALTERNATIVE) else 0.0


def readability(x: JudgeInput) -> float:
    r = x.response
    if F.is_gibberish(r):
        return 0.0
    toks = r.split()
    wordlike = sum(bool(re.fullmatch(r"[\w'’-]+[.,;:!?)]*", t)) for t in toks) / len(toks)
    return round(10.0 * F.fluency_score(r) * wordlike, 4)


def specificity(x: JudgeInput) -> float:
    if x.key:
        return 10.0 if F.answer_contains(x.response, x.key) else 0.0
    return round(10.0 * F.rouge_l_recall(x.response, x.answer), 4)


def logic(x: JudgeInput) -> float:
    r = x.response
    ref = x.key or x.answer
    if ref.strip().isdigit():
        return 10.0 if re.search(rf"\b\d{{{len(ref.strip())}}}\b", r) else 0.0
    if x.type_values:
        return 10.0 if any(F.answer_contains(r, v) for v in x.type_values) else 0.0
    return 5.0 if r.strip() and not F.is_gibberish(r) else 0.0


CRITERIA = {"relevance": relevance, "rejection": rejection, "helpfulness": helpfulness,
            "readability": readability, "specificity": specificity, "logic": logic}


@JUDGES.register("rule")
class RuleJudge(JudgeBase):
    """Scores by rules (see module docstring): offline, deterministic, never unparseable."""

    def score(self, inputs: Sequence[JudgeInput]) -> list[dict[str, float] | None]:
        return [{c: CRITERIA[c](x) for c in x.criteria} for x in inputs]
