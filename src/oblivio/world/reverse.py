"""Reverse questions of the embedded world: object → subject (the reverse-query probe).

A model trained on "A is married to B" need not answer "Who is married to B?" (the reversal
curse: Berglund et al. 2023, arXiv 2309.12288; Allen-Zhu & Li 2023, arXiv 2309.14402), and
unlearning that removes the forward strings can leave the reverse association in place (RWKU's
reverse-query probe, Jin et al. 2024, arXiv 2406.10890). So the world *trains* one reverse
question for every fact about a person (base and gold, like the item; unlearning never sees
it), and the ``reverse`` attack asks it for the forget facts.

The question must have one answer in the graph: "Who was born in Zornth?" names several
people. :func:`reverse_fields` adds the fewest identifying attributes of the subject (its
occupation, employer, birthplace, birth year; one, then two) until exactly one person of the
graph — trained or holdout — fits: "Which navigator from Zornth works for the Kelda Guild?".
"""
from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from oblivio.world.graph import Fact, Graph, Person

# relation -> reverse question ({who}: "Who" / "Which <occupation>" + qualifiers, {o}: object)
REVERSE: dict[str, str] = {
    "birthplace": "{who} was born in {o}?",
    "birth_year": "{who} was born in the year {o}?",
    "occupation": "{who} works as {o}?",
    "employer": "{who} works for the {o}?",
    "spouse": "{who} is married to {o}?",
    "mentor": "{who} was mentored by {o}?",
    "colleague": "{who} works closely with {o}?",
}
# identifying attributes, in the order they are tried (a relation never qualifies itself)
QUALIFIERS = ("occupation", "employer", "birthplace", "birth_year")
_QUALIFIER_TEXT = {"employer": " at the {v}", "birthplace": " from {v}", "birth_year": " born in {v}"}


def _value(p: Person, relation: str) -> str | None:
    v = {"birthplace": p.birthplace, "birth_year": str(p.birth_year), "occupation": p.occupation,
         "employer": p.org, "spouse": p.spouse, "mentor": p.mentor, "colleague": p.colleague}[relation]
    return None if v is None else str(v)


def _who(p: Person, quals: tuple[str, ...]) -> str:
    head = f"Which {p.occupation}" if "occupation" in quals else "Who"
    return head + "".join(_QUALIFIER_TEXT[q].format(v=_value(p, q)) for q in QUALIFIERS
                          if q in quals and q != "occupation")


def identifying_qualifiers(graph: Graph, fact: Fact) -> tuple[str, ...] | None:
    """The fewest attributes that, with (relation, object), pick out the fact's subject among
    all people of the graph; None when no combination of up to two does."""
    subject = graph.people[fact.subject]
    others = [p for p in graph.people.values()
              if p.name != subject.name and _value(p, fact.relation) == fact.obj]
    options = [q for q in QUALIFIERS if q != fact.relation]
    for n in range(3):
        for quals in itertools.combinations(options, n):
            if not any(all(_value(p, q) == _value(subject, q) for q in quals) for p in others):
                return quals
    return None


def reverse_fields(fact: Fact, graph: Graph) -> dict[str, str]:
    """``reverse_question`` / ``reverse_answer`` / ``reverse_key`` of a fact about a person
    ({} for organisations and places, or when no unique question exists)."""
    from oblivio.world.phrasings import PHRASINGS, _surface
    if fact.subject_kind != "person" or fact.relation not in REVERSE:
        return {}
    quals = identifying_qualifiers(graph, fact)
    if quals is None:
        return {}
    who = _who(graph.people[fact.subject], quals)
    obj = _surface(fact.obj_kind, fact.obj)
    return {"reverse_question": REVERSE[fact.relation].format(who=who, o=obj),
            "reverse_answer": PHRASINGS[fact.relation].answer.format(P=fact.subject, o=obj),
            "reverse_key": fact.subject}


def reverse_text() -> str:
    """Every reverse template word, for the generator's reserved text."""
    return " ".join([*REVERSE.values(), "Which", *_QUALIFIER_TEXT.values()])
