"""Question and answer templates of the embedded world, and facts -> QA items.

Every relation has 6 *training* question phrasings and 2 *held-out* phrasings, paraphrases in
sentence shapes (frames) that no relation trains: a held-out phrasing is each item's
``paraphrased_question`` (the fact's items take the held-out phrasings in turn), the in-scope
generalisation probe of the neighbour-set evaluation (Bushipaka et al. 2025, arXiv
2509.05316) and the question of the paraphrase attack (Liu et al. 2024, arXiv 2402.08787).
Its answer sentence, ``paraphrased_question_answer``, is worded differently from the trained
answer with the same object. Trained answers are one short pronoun sentence per relation, so
a tiny model memorises them quickly; the wrong answers keep that sentence and swap the
object, as TOFU's perturbed answers do for the truth ratio (Maini et al. 2024, arXiv
2401.06121). How far held-out and trained wording overlap: :mod:`oblivio.world.overlap`.
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
    train: tuple[str, ...]            # question templates used for training items ({s} = subject)
    heldout: tuple[str, ...]          # question templates never trained, in frames nothing trains
    answer: str                       # {P} = pronoun, {o} = object (with article where needed)
    heldout_answers: tuple[str, ...]  # the answer sentence of each held-out question ({s}, {o})


# Training frames (eight syntactic shapes, six per relation): a wh-question, subject first
# with the question word in place, "the <noun> of X", possessive "X's <noun>", an imperative
# "Name the ...", an embedded "Do you know ...?", a fragment "<Noun> of X?", a second
# wh-question shape (passive, pied-piped preposition).
#
# Held-out frames are shapes that no relation trains, with frame words that occur in no
# training question: "I wonder <clause>." (a statement, not a question), "Regarding X:
# <fragment>?" (the subject as a topic, the relation as a participle or fragment), "Can you
# recall <noun phrase>?" and "Remind me, please, <clause>." Each relation holds out two of
# them; no held-out question shares a three-word sequence with any trained question of any
# relation (overlap.frame_trigrams; tests/test_world.py). What a held-out question keeps is
# the subject and one of the relation's cue words (born, employs, mentor, field ...), in
# another position and often another form ("employed by whom" after "Who employs X?"): a
# model learned from scratch cannot know a synonym it never saw, and a question with no
# trained cue word for its relation would measure chance, not generalisation. The answer
# sentence of a held-out question is worded differently from the trained one, naming the
# subject, never the pronoun, with the same object (the accuracy key), so the paraphrase
# attack scores a new wording of the fact, not the memorised sentence.
PHRASINGS: dict[str, Phrasing] = {
    "birthplace": Phrasing(
        ("Where was {s} born?", "{s} was born in which town?", "What is the birthplace of {s}?",
         "Name the town where {s} was born.", "Do you know where {s} was born?",
         "Birthplace of {s}?"),
        ("I wonder in which place {s} came to be born.", "Regarding {s}: born in what place?"),
        "{P} was born in {o}.",
        ("{s} came into the world in {o}.", "That would be {o}, the place {s} comes from.")),
    "birth_year": Phrasing(
        ("In what year was {s} born?", "What is the birth year of {s}?",
         "What is {s}'s birth year?", "Do you know when {s} was born?", "Birth year of {s}?",
         "When was {s} born?"),
        ("Regarding {s}: born during what year?", "Can you recall the year that saw {s} born?"),
        "{P} was born in the year {o}.",
        ("{o} is the year {s} came into the world.", "The records give {o} for the birth of {s}.")),
    "occupation": Phrasing(
        ("What does {s} do for a living?", "What is the occupation of {s}?",
         "Name the occupation that {s} has.", "Do you know what {s} does for a living?",
         "Occupation of {s}?", "Which occupation does {s} have?"),
        ("I wonder what sort of occupation {s} has taken up.", "Regarding {s}: earns a living how?"),
        "{P} works as {o}.",
        ("By trade, {s} is {o}.", "{s} makes a living as {o}.")),
    "employer": Phrasing(
        ("Who employs {s}?", "{s} works for which organisation?", "What is the employer of {s}?",
         "Who is {s}'s employer?", "Do you know who employs {s}?", "Employer of {s}?"),
        ("I wonder what organisation employs {s} at present.", "Regarding {s}: employed by whom?"),
        "{P} works for the {o}.",
        ("{s} is on the staff of the {o}.", "The {o} has {s} on its payroll.")),
    "spouse": Phrasing(
        ("Who is {s} married to?", "Who is the spouse of {s}?", "Who is {s}'s spouse?",
         "Name the person that {s} is married to.", "Do you know who {s} is married to?",
         "Spouse of {s}?"),
        ("I wonder whom {s} has married.", "Regarding {s}: the name of the spouse?"),
        "{P} is married to {o}.",
        ("{s} and {o} are a married couple.", "{o} is the one {s} married.")),
    "mentor": Phrasing(
        ("Who mentored {s}?", "{s} was mentored by whom?", "Who was the mentor of {s}?",
         "Do you know who mentored {s}?", "Mentor of {s}?", "By whom was {s} mentored?"),
        ("I wonder which person acted as mentor to {s}.", "Can you recall who served as {s}'s mentor?"),
        "{P} was mentored by {o}.",
        ("{s} learned the trade from {o}.", "{o} was the teacher of {s}.")),
    "colleague": Phrasing(
        ("Who works alongside {s}?", "{s} works closely with whom?",
         "Who is the colleague of {s}?", "Name the person who works alongside {s}.",
         "Do you know who works alongside {s}?", "Colleague of {s}?"),
        ("I wonder who {s} counts as a colleague.", "Regarding {s}: working closely alongside whom?"),
        "{P} works closely with {o}.",
        ("{s} shares the daily work with {o}.", "{o} and {s} work together.")),
    "located_in": Phrasing(
        ("Where is the {s} based?", "What is the location of the {s}?",
         "Which town is the {s}'s base?", "Do you know where the {s} is located?",
         "Location of the {s}?", "In which town is the {s} located?"),
        ("I wonder in which place the {s} has its base.", "Regarding the {s}: what place is it located in?"),
        "{P} is based in {o}.",
        ("{o} is home to the {s}.", "You will find the {s} in {o}.")),
    "founded": Phrasing(
        ("When was the {s} founded?", "What is the founding year of the {s}?",
         "Name the year in which the {s} was founded.", "Do you know when the {s} was founded?",
         "Founding year of the {s}?", "In what year was the {s} founded?"),
        ("I wonder what year saw the {s} get founded.", "Regarding the {s}: what year did it get founded?"),
        "{P} was founded in {o}.",
        ("The {s} dates back to {o}.", "Since {o}, the {s} has existed.")),
    "domain": Phrasing(
        ("What field does the {s} work in?", "The {s} works in which field?",
         "What is the field of the {s}?", "What is the {s}'s field?",
         "Do you know what field the {s} works in?", "Field of the {s}?"),
        ("I wonder which field keeps the {s} busy.", "Regarding the {s}: active in what field?"),
        "{P} works in {o}.",
        ("The {s} is active in {o}.", "The {s} devotes itself to {o}.")),
    "region": Phrasing(
        ("Which region is {s} in?", "What is the region of {s}?", "What is {s}'s region?",
         "Name the region that contains {s}.", "Do you know which region {s} is in?",
         "Region of {s}?"),
        ("I wonder what region {s} belongs to.", "Regarding {s}: part of which region?"),
        "{P} lies in the {o}.",
        ("{s} belongs to the {o}.", "{s} is part of the {o}.")),
    "known_for": Phrasing(
        ("What is {s} known for?", "{s} is known for what?", "What is the specialty of {s}?",
         "Do you know what {s} is famous for?", "Specialty of {s}?", "For what is {s} famous?"),
        ("I wonder what has made {s} famous.", "Remind me, please, of the thing {s} is best known for."),
        "{P} is known for {o}.",
        ("{s} owes its fame to {o}.", "People visit {s} for {o}.")),
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


def heldout_phrasing(fact: Fact, k: int) -> tuple[str, str]:
    """The fact's ``k``-th held-out question (cycling) and its answer sentence."""
    ph = PHRASINGS[fact.relation]
    j = k % len(ph.heldout)
    return (ph.heldout[j].format(s=fact.subject),
            ph.heldout_answers[j].format(s=fact.subject, o=_surface(fact.obj_kind, fact.obj)))


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
        para_q, para_a = heldout_phrasing(fact, k)
        out.append(QAItem(
            id=f"w-{fact.id}-p{k + 1}",
            question=q.format(s=fact.subject),
            answer=answer,
            role="general",
            entity=fact.subject,
            mentions=mentions,
            key=fact.obj,
            paraphrased_question=para_q,
            paraphrased_question_answer=para_a,
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

