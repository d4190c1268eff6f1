"""Word overlap of the world's held-out phrasings with its trained ones.

A held-out phrasing probes whether a model learned the *fact* or the trained *string*
(in-scope generalisation, Liu et al. 2024, arXiv 2402.08787). It only does if it is a
paraphrase: a sentence shape (frame) the model never trained, with little wording in
common. This module measures that, for the test that bounds it and for
``bench/paraphrase_overlap.py``:

* :func:`lcs_ratio` — word-level longest common subsequence as ROUGE-L's F-measure
  (rouge-score, no stemming): 2·LCS / (|a| + |b|);
* :func:`jaccard` — word-set Jaccard similarity |A ∩ B| / |A ∪ B|;
* :func:`frame_trigrams` — a template's frame signature: its word trigrams with the subject
  slot as one word. A held-out phrasing *shares a frame* with a trained one when they have
  a trigram in common ("What is {s}'s birth year?" trained, "What is {s}'s birthplace?"
  held out share "what is {s}").

Words are those of rouge-score's tokenizer: lower-cased runs of letters and digits.
"""
from __future__ import annotations

import dataclasses
import functools
import re
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from oblivio.world.graph import Fact
    from oblivio.world.phrasings import Phrasing

SLOT = "{s}"


@functools.lru_cache(maxsize=1)
def _scorer() -> Any:
    from rouge_score import rouge_scorer
    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)


@functools.lru_cache(maxsize=1)
def _tokenizer() -> Any:
    from rouge_score import tokenizers
    return tokenizers.DefaultTokenizer(use_stemmer=False)


def words(text: str) -> list[str]:
    """rouge-score's words of ``text``: lower-cased runs of letters and digits."""
    return list(_tokenizer().tokenize(text))


def lcs_ratio(a: str, b: str) -> float:
    """ROUGE-L F-measure of two texts: 2·LCS(words) / (|a| + |b|), symmetric, in [0, 1]."""
    return float(_scorer().score(target=a, prediction=b)["rougeL"].fmeasure)


def jaccard(a: str, b: str) -> float:
    """|A ∩ B| / |A ∪ B| of the two texts' word sets (0 when both are empty)."""
    wa, wb = set(words(a)), set(words(b))
    return len(wa & wb) / len(wa | wb) if wa | wb else 0.0


def _template_words(template: str) -> list[str]:
    # the subject slot is one word, whatever the name; "{s}'s" is the slot and "s"
    return [SLOT if p == SLOT else w for p in re.split(r"(\{s\})", template) if p
            for w in ([p] if p == SLOT else words(p))]


def frame_trigrams(template: str) -> set[tuple[str, ...]]:
    """The word trigrams of a question template, the subject slot ``{s}`` counted as one word."""
    w = _template_words(template)
    return {tuple(w[i:i + 3]) for i in range(len(w) - 2)}


def shared_frames(heldout: Iterable[str], trained: Iterable[str]) -> list[tuple[str, str, tuple[str, ...]]]:
    """Every (held-out template, trained template, shared trigram): empty when no held-out
    phrasing reuses a piece of a trained frame."""
    tri = [(t, frame_trigrams(t)) for t in trained]
    return [(h, t, g) for h in heldout for t, tg in tri for g in sorted(frame_trigrams(h) & tg)]


@dataclass(frozen=True)
class Overlap:
    """One held-out phrasing against the trained text (maxima over the candidates)."""

    relation: str
    question: str                # the held-out question (template or rendered)
    answer: str                  # its answer sentence
    q_lcs_fact: float            # vs the trained questions of the same relation (same fact)
    q_jaccard_fact: float
    q_lcs_any: float             # vs every relation's trained questions
    q_jaccard_any: float
    a_lcs_fact: float            # vs the relation's trained answer sentence
    a_jaccard_fact: float
    a_lcs_any: float             # vs every relation's trained answer sentence
    a_jaccard_any: float
    fact: str | None = None      # the fact, when rendered


STATS = ("q_lcs_fact", "q_jaccard_fact", "q_lcs_any", "q_jaccard_any",
         "a_lcs_fact", "a_jaccard_fact", "a_lcs_any", "a_jaccard_any")


def _best(text: str, others: Sequence[str]) -> tuple[float, float]:
    return max(lcs_ratio(text, o) for o in others), max(jaccard(text, o) for o in others)


def _rows(phrasings: Mapping[str, Phrasing], relation: str, fill: Callable[[str], str],
          fact: str | None) -> list[Overlap]:
    ph = phrasings[relation]
    own_q = [fill(t) for t in ph.train]
    any_q = [fill(t) for p in phrasings.values() for t in p.train]
    own_a = [fill(ph.answer)]
    any_a = [fill(p.answer) for p in phrasings.values()]
    out = []
    for h, ha in zip(ph.heldout, ph.heldout_answers, strict=True):
        q, a = fill(h), fill(ha)
        out.append(Overlap(relation, q, a, *_best(q, own_q), *_best(q, any_q), *_best(a, own_a),
                           *_best(a, any_a), fact=fact))
    return out


def _no_names(t: str) -> str:
    return re.sub(r"\{[sPo]\}", " ", t)


def template_overlaps(phrasings: Mapping[str, Phrasing]) -> list[Overlap]:
    """Every held-out phrasing of every relation with the names left out (subject, pronoun
    and object are the fact, shared by every phrasing of it): the wording a phrasing adds."""
    return [r for rel in phrasings for r in _rows(phrasings, rel, _no_names, None)]


def fact_overlaps(phrasings: Mapping[str, Phrasing], facts: Sequence[Fact], *,
                  names: bool) -> list[Overlap]:
    """Every held-out phrasing of every fact against the trained questions and answers of the
    same fact and of every relation. ``names``: as the world renders them (every template
    filled with this fact's subject, pronoun and object); else with the names left out, as
    :func:`template_overlaps` (then each fact weighs its relation's phrasings once)."""
    from oblivio.world.phrasings import _surface
    if not names:
        by_rel: dict[str, list[Overlap]] = {}
        for r in template_overlaps(phrasings):
            by_rel.setdefault(r.relation, []).append(r)
        return [dataclasses.replace(r, fact=f.id) for f in facts for r in by_rel[f.relation]]
    out = []
    for f in facts:
        fill = functools.partial(_fill, s=f.subject, P=f.pronoun, o=_surface(f.obj_kind, f.obj))
        out += _rows(phrasings, f.relation, fill, f.id)
    return out


def _fill(template: str, **names: str) -> str:
    return template.format(**names)


def summary(rows: Sequence[Overlap]) -> dict[str, dict[str, float]]:
    """min / median / max of every statistic over ``rows``."""
    out = {}
    for s in STATS:
        v = [getattr(r, s) for r in rows]
        out[s] = {"min": min(v), "median": statistics.median(v), "max": max(v)}
    return out
