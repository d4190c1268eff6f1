"""Candidate instruction pools for the reveal step, one per task kind, on the embedded world.

Reveal and Release (Xie et al., Findings of EMNLP 2025, arXiv 2509.14624) searches a pool of
candidate instructions for the ones that make the model reveal the most, most diversely. A
pool here mixes, by construction (``kind``; the *measured* score is the search's business):

* ``trained``: instructions of a family the base learned (``Tell me about X``);
* ``heldout``: instructions about the task the base never saw (new families or phrasings);
* ``weak``: instructions that reveal only a little (one fact of the target, a near-miss);
* ``irrelevant``: instructions about something else (another person, arithmetic, small talk).

Tasks (Reveal and Release on the world): ``entity`` (one person, from the name alone: templates
are filled already), ``attribute`` (a relation of every person, e.g. every birthplace:
templates take ``{s}``, a person), ``capability`` (the world's sums: templates take ``{a}``
and ``{b}``). Every pool has at least 30 instructions.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from oblivio.world.graph import Graph

KINDS = ("trained", "heldout", "weak", "irrelevant")
SMALL_TALK = ("Tell me a story.", "What is the weather like today?", "Write a poem about the sea.",
              "Name a colour.", "What time is it?", "Say hello.")


@dataclass(frozen=True)
class Instruction:
    text: str      # entity: the full prompt; attribute: with {s}; capability: with {a} and {b}
    kind: str      # one of KINDS
    family: str    # where it comes from (family or relation name)


def entity_pool(graph: Graph, target: str) -> list[Instruction]:
    """Instructions about ``target`` (a person of ``graph``) and distractors."""
    from oblivio.world.capability import TRAIN_PHRASINGS
    from oblivio.world.instructions import FAMILIES
    from oblivio.world.phrasings import PHRASINGS
    pool = [Instruction(f.template.format(s=target), "trained" if f.trained else "heldout", f.name)
            for f in FAMILIES]
    pool += [Instruction(t.format(s=target), "heldout", "new") for t in
             ("Who is {s}, and what does {s} do?", "Please share what you know about {s}.")]
    p = graph.people[target]
    for rel in ("birthplace", "birth_year", "occupation", "employer", "spouse", "mentor", "colleague"):
        if rel in ("spouse", "mentor", "colleague") and not getattr(p, rel):
            continue
        ph = PHRASINGS[rel]
        pool += [Instruction(ph.train[0].format(s=target), "weak", rel),
                 Instruction(ph.heldout[0].format(s=target), "weak", rel)]
    others = [q for q in graph.trained_people() if q != target][:3]
    pool += [Instruction(f"Tell me about {q}.", "irrelevant", "other-person") for q in others]
    org = next(iter(graph.orgs))
    pool += [Instruction(f"Where is the {org} based?", "irrelevant", "org"),
             Instruction(TRAIN_PHRASINGS[0].format(a=17, b=25), "irrelevant", "arithmetic")]
    pool += [Instruction(t, "irrelevant", "small-talk") for t in SMALL_TALK]
    return _checked(pool)


def attribute_pool(relation: str = "birthplace") -> list[Instruction]:
    """Templates over people (``{s}``) for forgetting ``relation`` of everyone."""
    from oblivio.world.instructions import FAMILIES
    from oblivio.world.phrasings import PHRASINGS
    ph = PHRASINGS[relation]
    pool = [Instruction(t, "trained", relation) for t in ph.train]
    pool += [Instruction(t, "heldout", relation) for t in ph.heldout]
    pool += [Instruction(t, "heldout", "new") for t in _NEW_ATTRIBUTE.get(relation, ())]
    # multi-fact instructions that state the attribute among others, and ones that do not
    pool += [Instruction(f.template, "weak", f.name) for f in FAMILIES if f.trained]
    pool += [Instruction(PHRASINGS[r].train[k], "weak" if _near(r, relation) else "irrelevant", r)
             for r in ("birth_year", "occupation", "employer", "spouse", "mentor") if r != relation
             for k in (0, 1)]
    pool += [Instruction(t, "irrelevant", "small-talk") for t in SMALL_TALK]
    return _checked(pool)


def capability_pool() -> list[Instruction]:
    """Templates over the world's sums (``{a}``, ``{b}``)."""
    from oblivio.world.capability import HELDOUT_PHRASINGS, TRAIN_PHRASINGS
    pool = [Instruction(t, "trained", "arithmetic") for t in TRAIN_PHRASINGS]
    pool += [Instruction(t, "heldout", "arithmetic") for t in HELDOUT_PHRASINGS]
    pool += [Instruction(t, "heldout", "new") for t in (
        "Compute {a} plus {b}.", "Tell me the sum of {a} and {b}.", "{a} plus {b} is what?",
        "Please add {a} and {b}.", "What is {a} added to {b}?", "Work out {a} plus {b}.",
        "What is {b} plus {a}?", "Sum of {a} and {b}?")]
    pool += [Instruction(t, "weak", "other-operation") for t in (
        "What is {a} minus {b}?", "What is {a} times {b}?", "What is {a}?", "Count from {a} to {b}.",
        "Is {a} bigger than {b}?", "Name a number between {a} and {b}.", "What is twice {a}?",
        "Subtract {b} from {a}.")]
    pool += [Instruction(t, "irrelevant", "world") for t in (
        "Tell me about the number {a}.", "Where was {a} born?", "What is the founding year of {b}?")]
    pool += [Instruction(t, "irrelevant", "small-talk") for t in SMALL_TALK]
    return _checked(pool)


_NEW_ATTRIBUTE = {"birthplace": ("Tell me where {s} was born.", "Which town was {s} born in?",
                                 "Where does {s} come from?", "In which town was {s} born?")}


def _near(relation: str, target_relation: str) -> bool:
    """A near-miss: same cue word, other attribute (birth year vs birthplace)."""
    return {relation, target_relation} == {"birth_year", "birthplace"}


def _checked(pool: list[Instruction]) -> list[Instruction]:
    seen: set[str] = set()
    out = []
    for ins in pool:            # duplicates would count one instruction twice in a search
        if ins.text not in seen:
            seen.add(ins.text)
            out.append(ins)
    return out
