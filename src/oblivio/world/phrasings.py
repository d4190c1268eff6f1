"""Question and answer templates of the embedded world, and facts -> QA items.

Every relation has >= 3 *training* question phrasings and >= 1 *held-out* phrasing that no
training item ever uses: the held-out phrasing is each item's ``paraphrased_question``, the
in-scope generalisation probe of the neighbour-set evaluation (Bushipaka et al. 2025,
arXiv 2509.05316). Answers are one short pronoun sentence per relation, so a tiny model
memorises them quickly; the wrong answers keep that sentence and swap the object, as TOFU's
perturbed answers do for the truth ratio (Maini et al. 2024, arXiv 2401.06121).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from oblivio.data.schema import QAItem

if TYPE_CHECKING:
    from oblivio.world.graph import Fact, Graph

N_PERTURBED = 3
ENTITY_KINDS = frozenset({"person", "org", "place"})


@dataclass(frozen=True)
class Phrasing:
    train: tuple[str, ...]    # question templates used for training items ({s} = subject)
    heldout: tuple[str, ...]  # question templates never trained
    answer: str               # {P} = pronoun, {o} = object (with article where needed)


PHRASINGS: dict[str, Phrasing] = {
    "birthplace": Phrasing(
        ("Where was {s} born?", "What is the birthplace of {s}?", "In which town was {s} born?"),
        ("Which place is the hometown of {s}?",),
        "{P} was born in {o}."),
    "birth_year": Phrasing(
        ("In what year was {s} born?", "When was {s} born?", "What is the birth year of {s}?"),
        ("Which year saw the birth of {s}?",),
        "{P} was born in the year {o}."),
    "occupation": Phrasing(
        ("What is the occupation of {s}?", "What does {s} do for a living?",
         "What job does {s} have?"),
        ("What is the line of work of {s}?",),
        "{P} works as {o}."),
    "employer": Phrasing(
        ("Who employs {s}?", "Where does {s} work?", "Which organisation does {s} work for?"),
        ("What is the name of the employer of {s}?",),
        "{P} works for the {o}."),
    "spouse": Phrasing(
        ("Who is {s} married to?", "Who is the spouse of {s}?", "Whom did {s} marry?"),
        ("Who is the partner in marriage of {s}?",),
        "{P} is married to {o}."),
    "mentor": Phrasing(
        ("Who mentored {s}?", "Who was the mentor of {s}?", "Who trained {s} early on?"),
        ("Under whose guidance did {s} learn the trade?",),
        "{P} was mentored by {o}."),
    "colleague": Phrasing(
        ("Who is the colleague of {s}?", "Who works alongside {s}?", "Name the coworker of {s}."),
        ("Who does {s} work side by side with?",),
        "{P} works closely with {o}."),
    "located_in": Phrasing(
        ("Where is the {s} based?", "In which town is the {s} located?",
         "Where is the {s} headquartered?"),
        ("What town is home to the {s}?",),
        "{P} is based in {o}."),
    "founded": Phrasing(
        ("When was the {s} founded?", "In what year was the {s} established?",
         "What is the founding year of the {s}?"),
        ("In which year did the {s} open its doors?",),
        "{P} was founded in {o}."),
    "domain": Phrasing(
        ("What field does the {s} work in?", "What is the business of the {s}?",
         "What industry is the {s} in?"),
        ("What line of business does the {s} pursue?",),
        "{P} works in {o}."),
    "region": Phrasing(
        ("Which region is {s} in?", "In what region does {s} lie?", "What region contains {s}?"),
        ("To which region does {s} belong?",),
        "{P} lies in the {o}."),
    "known_for": Phrasing(
        ("What is {s} known for?", "What is {s} famous for?", "What does {s} have a reputation for?"),
        ("For what is {s} renowned?",),
        "{P} is known for {o}."),
}


def _surface(kind: str, obj: str) -> str:
    """The object as written in the answer: occupations and landmarks ("Gifas Bridge") take
    an article, which the key leaves out."""
    if kind == "occupation":
        return ("an " if obj[0] in "aeiou" else "a ") + obj
    if kind == "product" and obj.split()[-1][0].isupper():
        return "the " + obj
    return obj


def render_answer(fact: Fact, obj: str) -> str:
    return PHRASINGS[fact.relation].answer.format(P=fact.pronoun, o=_surface(fact.obj_kind, obj))


def fact_items(fact: Fact, graph: Graph, *, exclude: set[str]) -> list[QAItem]:
    """One QAItem per training phrasing of ``fact`` (role is filled in later by splits).

    ``key`` is the object exactly as it appears in the answer; ``mentions`` is the subject
    plus the object when the object is an entity; ``exclude`` keeps those names (targets,
    holdout people) out of the wrong answers.
    """
    ph = PHRASINGS[fact.relation]
    answer = render_answer(fact, fact.obj)
    wrong = graph.wrong_objects(fact, N_PERTURBED, exclude | {fact.obj})
    perturbed = tuple(render_answer(fact, w) for w in wrong)
    mentions = (fact.subject, fact.obj) if fact.obj_kind in ENTITY_KINDS else (fact.subject,)
    return [
        QAItem(
            id=f"w-{fact.id}-p{k + 1}",
            question=q.format(s=fact.subject),
            answer=answer,
            role="general",
            entity=fact.subject,
            mentions=mentions,
            key=fact.obj,
            paraphrased_question=ph.heldout[k % len(ph.heldout)].format(s=fact.subject),
            perturbed_answers=perturbed,
            fact=fact.id,
            relation=fact.relation,
            origin=f"world:{fact.id}",
        )
        for k, q in enumerate(ph.train)
    ]


def reserved_text() -> str:
    """All template text, lower-cased: generated names must not hide inside it."""
    parts = [t for ph in PHRASINGS.values() for t in (*ph.train, *ph.heldout, ph.answer)]
    return " ".join(parts).lower()
