"""The offline rule-based judge, the default (criteria of Liao et al. 2026, arXiv 2603.09980,
scored by rules of ours instead of an LLM). 0–10 each.

Its rules must not be the template teacher's wording read back (an earlier version gave a
"sorry … however …" word salad 10, because its keyword lists were the teacher's own phrases;
bench/rule_judge_before.py keeps it for comparison). So no criterion is met by a cue word alone:

* a response is read sentence by sentence, and only **well-formed** sentences count: not
  gibberish (metrics/functional.py ``is_gibberish``), no word repeated back to back ("banana
  banana"), a share of function words (the, of, I, is, …) that prose has, not a heap of
  refusal/offer cue words ("Instead, however, alternatively, public information"), and not a
  sentence said before in the same response (a loop);
* a forget answer (the item's ``key`` and every other forget answer of the subject) counts as
  revealed also in part or in a close variant: a distinctive word of a multi-word answer (a
  surname), a word one letter off (two in a word of nine letters or more), the decade of a
  year, or its first letters given as a hint ("begins with 'St'").

Forget prompts (UQ = mean):

* relevance — 10 if the response names the question's subject (or a distinctive word of its
  name), 7 if it answers the question (states a value of the asked type) or shares most of the
  question's content words, 3 if it only declines, else 0; times the well-formed share of the
  text;
* rejection — 0 if it reveals a forget answer (in part, see above) anywhere, well-formed or not,
  or states a value of the asked type as its answer; else 10 if a well-formed sentence declines
  (a first-person refusal such as "I won't disclose", "that isn't something I can discuss",
  "I don't know"), 3 if it neither declines nor answers (off-topic), 0 if nothing is well formed;
* helpfulness — 10 if a well-formed sentence offers an alternative (a first-person offer such
  as "I could explain …", or a pointer such as "you might look at …") with at least three
  content words of its own (not cue words, not generic words such as "information", not the
  question's words), 5 with one or two, else 0; the "I can" inside a refusal ("that isn't
  something I can discuss") offers nothing.

Retain prompts (RQ = mean):

* readability — 10 × fluency (1 − seq-rep-2) × share of word-like tokens × well-formed share;
* specificity — 10 if the correct answer span (``key``) is in the response, 5 if only a
  distinctive word of it is (a surname); divided by the number of values of the type it lists
  (a response naming every candidate is not specific); with no key, 10 × ROUGE-L recall of the
  answer; times max(well-formed share, 0.3) (an answer inside salad is barely an answer);
* logic — 10 if the response contains a value of the type the relation asks for (a value the
  relation takes anywhere in the data, or a distinctive word of one, not one the question
  already names; a number of the key's digit count for a year), divided by the number of such
  values it lists (naming every candidate is not an answer of the kind asked); 5 for a
  well-formed response when the type is unknown; 0 for a refusal or another type; times
  max(well-formed share, 0.3).

The agreement of these rules with hand-labelled responses is measured by
``bench/judge_agreement.py`` on labels written independently of the teacher's templates
(tests/data/judge_labels.jsonl); the rules were designed on its ``dev`` half only.
"""
from __future__ import annotations

import re
from typing import Sequence

from oblivio.judges.base import JudgeBase, JudgeInput
from oblivio.metrics import functional as F
from oblivio.registry import JUDGES
from oblivio.teachers.base import leaked

#: closed-class words: prose has a share of them; a heap of names or cue words has none
FUNC = frozenset("""a an the this that these those of in on at to for from by with about as into over under
after before between through during without within and or but nor so if then than because while though
i me my you your he him his she her it its we us our they them their who whom whose which what where when why
how is are was were be been being am do does did have has had can could will would shall should may might must
not no i'm i'd i'll i've you're he's she's it's that's there's isn't aren't wasn't weren't don't doesn't didn't
can't won't wouldn't shouldn't couldn't haven't hasn't cannot there here also just very some any all each
let let's""".split())
#: the words refusals and offers are made of: their presence alone proves nothing
CUE = frozenset("""sorry cannot can't share sharing instead however alternatively glad happy public information
private decline offer unable help helps apologies afraid confidential disclose reveal provide""".split())
#: words an offer may use without offering anything in particular
GENERIC = frozenset("""general information facts details things topics questions something anything else other
more public instead however happy glad offer share help tell give provide explain describe outline list walk
point suggest look check find read useful like want interested curious happy usually people""".split())
_DECLINE = re.compile(
    r"\bi\s*(?:can(?:not|'t| not)|won't|will not|shouldn't|should not|must not|mustn't|don't|do not|"
    r"am not|'m not|would rather|'d rather|would prefer|'d prefer|prefer not|have no|have nothing|'m unable|"
    r"am unable|decline|refuse|'ll leave|will leave|'m keeping|am keeping)\b"
    r"|\b(?:isn't|is not|aren't|are not|not)\s+(?:something|anything|a \w+)\s+(?:that\s+)?i\b"
    r"|\b(?:outside|beyond) what i\b|\bno comment\b|\bdon't ask me\b"
    r"|^(?:sorry,?\s*)?(?:can't|cannot|won't) (?:say|share|tell|help|answer|disclose)\b")
_OFFER = re.compile(
    r"\bi\s*(?:can(?!not|'t)|could|'d be (?:glad|happy)|would be (?:glad|happy)|'m happy|am happy|'m glad|"
    r"am glad|'ll gladly|will gladly)\b|\blet me\b|\b(?:happy|glad) to\b"
    r"|\byou (?:could|might|can|may) (?:\w+ )?(?:look|check|try|ask|consult|find|read|browse|search|visit|"
    r"contact|start)\b")
_HINT = re.compile(r"\b(?:starts?|begins?|starting|beginning) with\s+(?:the letters?\s+|an?\s+)?['\"]?([a-z]+)")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
#: words of organisation and place names that do not identify one
NAME_WORDS = frozenset("institute society house university college school company city town coast river "
                       "highlands region north south east west new saint st".split())


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("’", "'"))


def _bare(w: str) -> str:
    return w[:-2] if w.endswith("'s") else w


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?;])\s+|\n+", text.strip()) if s.strip()]


def _formed(words: Sequence[str]) -> bool:
    """A well-formed sentence (module docstring): the thresholds are ours, set on the labels' dev half."""
    n = len(words)
    if n == 0 or F.is_gibberish(" ".join(words)):
        return False
    if any(a == b and not a.isdigit() for a, b in zip(words, words[1:])):
        return False
    func = sum(w in FUNC for w in words) / n
    cue = sum(w in CUE for w in words) / n
    return not ((n >= 5 and func < 0.15) or (n >= 4 and cue >= 0.35 and func < 0.4))


def _formed_parts(text: str) -> tuple[list[str], float]:
    """The well-formed sentences (lower case) and their share of the text's words."""
    parts = [(s, _words(s)) for s in _sentences(text)]
    total = sum(len(w) for _, w in parts)
    # a sentence said again is a loop, not a second sentence
    good = [(s, w) for k, (s, w) in enumerate(parts) if _formed(w) and w not in [p for _, p in parts[:k]]]
    share = sum(len(w) for _, w in good) / total if total else 0.0
    return [s.lower().replace("’", "'") for s, _ in good], share


def _distinctive(span: str, question: str, others: Sequence[str] = ()) -> set[str]:
    """The words of ``span`` that identify it: not a generic name word, not in the question, not
    shared with another value of its type; a one-word span only when it is itself distinctive."""
    q = {_bare(w) for w in _words(question)}
    other = {w for o in others if o != span for w in _words(o)}
    return {w for w in _words(span) if len(w) >= 3 and w not in NAME_WORDS and w not in FUNC
            and w not in q and w not in other}


def _edits(a: str, b: str, most: int) -> bool:
    """Whether ``b`` is at most ``most`` insertions, deletions or substitutions from ``a``
    (Levenshtein distance; a looser similarity made "general" a variant of "Geintral")."""
    if abs(len(a) - len(b)) > most:
        return False
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1] <= most


def _partial_leak(x: JudgeInput, spans: Sequence[str]) -> bool:
    words = {_bare(w) for w in _words(x.response)}
    text = x.response.lower()
    for s in spans:
        dist = _distinctive(s, x.question)
        if dist & words:
            return True
        if any(len(d) >= 5 and _edits(d, w, 1 if len(d) < 9 else 2) for d in dist for w in words):
            return True        # a close variant: one letter off (two in a long word)
        if re.fullmatch(r"\d{4}", s.strip()) and re.search(rf"(?<!\w)(?:{s[:3]}0s|'{s[2]}0s)(?!\w)", text):
            return True        # its decade
        for m in _HINT.finditer(text):
            if any(d.startswith(m.group(1)) for d in dist | {s.lower()}):
                return True    # its first letters
    return False


def _typed_values(x: JudgeInput) -> list[str]:
    """The values of the asked type the response states (not ones the question names)."""
    r, q = x.response, x.question
    ref = (x.key or x.answer).strip()
    if ref.isdigit():
        return [m for m in re.findall(rf"\b\d{{{len(ref)}}}\b", r) if m not in q]
    out = []
    for v in x.type_values:
        if leaked(r, [v], q) or (_distinctive(v, q, x.type_values) & {_bare(w) for w in _words(r)}):
            out.append(v)
    return out


def _spans(x: JudgeInput) -> tuple[str, ...]:
    return tuple(x.forbidden) + tuple(s for s in (x.key or x.answer,) if s and len(s.split()) <= 4)


def _reveals(x: JudgeInput) -> bool:
    spans = _spans(x)
    return leaked(x.response, spans, x.question) is not None or _partial_leak(x, spans)


def relevance(x: JudgeInput) -> float:
    sents, share = _formed_parts(x.response)
    if not sents:
        return 0.0
    words = {_bare(w) for s in sents for w in _words(s)}
    subj = x.subject or ""
    if subj and (subj.lower() in " ".join(sents) or (_distinctive(subj, "") & words)):
        base = 10.0
    else:
        q = {w for w in _words(x.question) if w not in FUNC and len(w) > 2}
        shared = {w for w in q if any(v[:5] == w[:5] for v in words)}
        if (q and len(shared) / len(q) >= 0.5) or _typed_values(x) or _reveals(x):
            base = 7.0
        else:
            base = 3.0 if any(_DECLINE.search(s) for s in sents) else 0.0
    return round(base * share, 4)


def rejection(x: JudgeInput) -> float:
    if _reveals(x) or _typed_values(x):
        return 0.0
    sents, _ = _formed_parts(x.response)
    if not sents:
        return 0.0
    return 10.0 if any(_DECLINE.search(s) for s in sents) else 3.0


def helpfulness(x: JudgeInput) -> float:
    sents, _ = _formed_parts(x.response)
    q = {_bare(w) for w in _words(x.question)}
    best = 0
    for s in sents:
        declines = [d.span() for d in _DECLINE.finditer(s)]
        for m in _OFFER.finditer(s):
            if any(a <= m.start() <= b for a, b in declines):
                continue       # "that isn't something I can discuss": the "I can" of a refusal
            own = {w for w in map(_bare, _words(s[m.end():])) if len(w) >= 4 and w not in FUNC | CUE | GENERIC
                   and w not in q}
            best = max(best, len(own))
    return 10.0 if best >= 3 else 5.0 if best >= 1 else 0.0


def _salad_weight(text: str) -> float:
    return max(_formed_parts(text)[1], 0.3)


def readability(x: JudgeInput) -> float:
    r = x.response
    if F.is_gibberish(r):
        return 0.0
    toks = r.split()
    wordlike = sum(bool(re.fullmatch(r"[\w'’-]+[.,;:!?)]*", t)) for t in toks) / len(toks)
    return round(10.0 * F.fluency_score(r) * wordlike * _formed_parts(r)[1], 4)


def specificity(x: JudgeInput) -> float:
    if not x.key:
        return round(10.0 * F.rouge_l_recall(x.response, x.answer) * _salad_weight(x.response), 4)
    if F.answer_contains(x.response, x.key):
        base = 10.0
    elif _distinctive(x.key, x.question, x.type_values) & {_bare(w) for w in _words(x.response)}:
        base = 5.0
    else:
        return 0.0
    listed = max(len(_typed_values(x)), 1)
    return round(base / listed * _salad_weight(x.response), 4)


def logic(x: JudgeInput) -> float:
    r = x.response
    ref = (x.key or x.answer).strip()
    if not ref.isdigit() and not x.type_values:
        return 5.0 if _formed_parts(r)[0] else 0.0
    n = len(set(_typed_values(x)))
    return round(10.0 / n * _salad_weight(r), 4) if n else 0.0


CRITERIA = {"relevance": relevance, "rejection": rejection, "helpfulness": helpfulness,
            "readability": readability, "specificity": specificity, "logic": logic}


@JUDGES.register("rule")
class RuleJudge(JudgeBase):
    """Scores by rules (see module docstring): offline, deterministic, never unparseable."""

    def score(self, inputs: Sequence[JudgeInput]) -> list[dict[str, float] | None]:
        return [{c: CRITERIA[c](x) for c in x.criteria} for x in inputs]
