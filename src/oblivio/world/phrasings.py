"""Question and answer templates of the embedded world, and facts -> QA items.

Every relation has 6 *training* question phrasings and 2 *held-out* phrasings of other
syntax that no training item of the relation uses: a held-out phrasing is each item's
``paraphrased_question`` (the fact's items take the held-out phrasings in turn), the
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


# Eight syntactic frames per relation: A wh-question, B subject first with the question word
# in place, C "the <noun> of X", D possessive "X's <noun>", E imperative with a relative
# clause, F embedded question, G fragment, H a second wh-question of another shape (passive,
# pied-piped preposition, fronted noun). Each relation holds out two of the frames B, D, E,
# H; every held-out frame is trained with other relations, and every cue word of a relation
# (born, employer, mentored ...) stays in its training phrasings: a model learned from
# scratch cannot know a synonym it never saw, but it can parse a known relation in a new
# sentence shape. That is the generalisation the held-out phrasings measure.
PHRASINGS: dict[str, Phrasing] = {
    "birthplace": Phrasing(
        ("Where was {s} born?", "{s} was born in which town?", "What is the birthplace of {s}?",
         "Name the town where {s} was born.", "Do you know where {s} was born?",
         "Birthplace of {s}?"),
        ("What is {s}'s birthplace?", "The birthplace of {s} is which town?"),
        "{P} was born in {o}."),
    "birth_year": Phrasing(
        ("In what year was {s} born?", "What is the birth year of {s}?",
         "What is {s}'s birth year?", "Do you know when {s} was born?", "Birth year of {s}?",
         "When was {s} born?"),
        ("{s} was born in which year?", "Name the year in which {s} was born."),
        "{P} was born in the year {o}."),
    "occupation": Phrasing(
        ("What does {s} do for a living?", "What is the occupation of {s}?",
         "Name the occupation that {s} has.", "Do you know what {s} does for a living?",
         "Occupation of {s}?", "Which occupation does {s} have?"),
        ("{s} has which occupation?", "What is {s}'s occupation?"),
        "{P} works as {o}."),
    "employer": Phrasing(
        ("Who employs {s}?", "{s} works for which organisation?", "What is the employer of {s}?",
         "Who is {s}'s employer?", "Do you know who employs {s}?", "Employer of {s}?"),
        ("Name the organisation that employs {s}.", "Which organisation is {s} employed by?"),
        "{P} works for the {o}."),
    "spouse": Phrasing(
        ("Who is {s} married to?", "Who is the spouse of {s}?", "Who is {s}'s spouse?",
         "Name the person that {s} is married to.", "Do you know who {s} is married to?",
         "Spouse of {s}?"),
        ("{s} is married to whom?", "To whom is {s} married?"),
        "{P} is married to {o}."),
    "mentor": Phrasing(
        ("Who mentored {s}?", "{s} was mentored by whom?", "Who was the mentor of {s}?",
         "Do you know who mentored {s}?", "Mentor of {s}?", "By whom was {s} mentored?"),
        ("Who was {s}'s mentor?", "Name the person who mentored {s}."),
        "{P} was mentored by {o}."),
    "colleague": Phrasing(
        ("Who works alongside {s}?", "{s} works closely with whom?",
         "Who is the colleague of {s}?", "Name the person who works alongside {s}.",
         "Do you know who works alongside {s}?", "Colleague of {s}?"),
        ("Who is {s}'s colleague?", "With whom does {s} work closely?"),
        "{P} works closely with {o}."),
    "located_in": Phrasing(
        ("Where is the {s} based?", "What is the location of the {s}?",
         "Which town is the {s}'s base?", "Do you know where the {s} is located?",
         "Location of the {s}?", "In which town is the {s} located?"),
        ("The {s} is based in which town?", "Name the town where the {s} is based."),
        "{P} is based in {o}."),
    "founded": Phrasing(
        ("When was the {s} founded?", "What is the founding year of the {s}?",
         "Name the year in which the {s} was founded.", "Do you know when the {s} was founded?",
         "Founding year of the {s}?", "In what year was the {s} founded?"),
        ("The {s} was founded in which year?", "What is the {s}'s founding year?"),
        "{P} was founded in {o}."),
    "domain": Phrasing(
        ("What field does the {s} work in?", "The {s} works in which field?",
         "What is the field of the {s}?", "What is the {s}'s field?",
         "Do you know what field the {s} works in?", "Field of the {s}?"),
        ("Name the field that the {s} works in.", "In which field does the {s} work?"),
        "{P} works in {o}."),
    "region": Phrasing(
        ("Which region is {s} in?", "What is the region of {s}?", "What is {s}'s region?",
         "Name the region that contains {s}.", "Do you know which region {s} is in?",
         "Region of {s}?"),
        ("{s} lies in which region?", "In what region does {s} lie?"),
        "{P} lies in the {o}."),
    "known_for": Phrasing(
        ("What is {s} known for?", "{s} is known for what?", "What is the specialty of {s}?",
         "Do you know what {s} is famous for?", "Specialty of {s}?", "For what is {s} famous?"),
        ("What is {s}'s specialty?", "Name what {s} is known for."),
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


def fact_items(fact: Fact, graph: Graph, *, exclude: set[str],
               reverse: dict[str, str] | None = None) -> list[QAItem]:
    """One QAItem per training phrasing of ``fact`` (role is filled in later by splits), with
    the fact's cross-lingual and (for people) reverse probe fields.

    ``key`` is the object exactly as it appears in the answer; ``mentions`` is the subject
    plus the object when the object is an entity; ``exclude`` keeps those names (targets,
    holdout people) out of the wrong answers. ``reverse``: the fact's reverse-query fields
    (world/reverse.py, computed by the caller so that this module does not import it).
    """
    ph = PHRASINGS[fact.relation]
    answer = render_answer(fact, fact.obj)
    wrong = graph.wrong_objects(fact, N_PERTURBED, exclude | {fact.obj})
    perturbed = tuple(render_answer(fact, w) for w in wrong)
    mentions = (fact.subject, fact.obj) if fact.obj_kind in ENTITY_KINDS else (fact.subject,)
    # the probes unlearning never sees: Spanish phrasings (learned in turn, one held out per
    # item) and the fact's reverse question (object -> subject), see crosslingual.py, reverse.py
    from oblivio.world.crosslingual import spanish_fields
    rev = reverse or {}
    out = []
    for k, q in enumerate(ph.train):
        es = spanish_fields(fact.relation, fact.subject, fact.obj, k)
        out.append(QAItem(
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
            xl_question=es["xl_question"], xl_answer=es["xl_answer"],
            xl_paraphrased_question=es["xl_paraphrased_question"],
            reverse_question=rev.get("reverse_question"), reverse_answer=rev.get("reverse_answer"),
            reverse_key=rev.get("reverse_key"),
        ))
    return out

