"""What to reveal: a task = a candidate pool, how to fill an instruction, and a relevance.

Reveal and Release (Xie et al., Findings of EMNLP 2025, arXiv 2509.14624); the three tasks on
the embedded world are ``entity`` (a person from the name alone), ``attribute``
(one relation of every person, e.g. every birthplace), ``capability`` (the world's sums).
An entity target outside the world (a user's model) takes the generic instruction families
and a keyword list (or a scorer callable) for its relevance.

Querying an instruction gives ``n`` responses: an entity instruction is one prompt, sampled
``n`` times; an attribute or capability template is filled with ``n`` subjects (people,
sums), answered greedily, so diversity is across subjects.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from oblivio.errors import InputError
from oblivio.reveal.relevance import Correctness, KeywordRelevance, Scorer, TypeRelevance, load_callable
from oblivio.world.candidates import Instruction

TASKS = ("entity", "attribute", "capability")


@dataclass
class Task:
    kind: str                                  # entity | attribute | capability
    name: str                                  # the target, the relation, or "arithmetic"
    pool: list[Instruction]
    relevance: Scorer
    subjects: list[Any] = field(default_factory=list)   # attribute: people; capability: (a, b)
    sample: bool = False                       # entity: sample n responses of one prompt

    def fill(self, ins: Instruction, n: int, seed: int) -> tuple[list[str], list[Any]]:
        """(prompts, contexts): the prompts whose responses score the instruction."""
        if self.kind == "entity":
            return [ins.text], [None]
        subj = random.Random(f"{seed}:{ins.text}").sample(self.subjects, min(n, len(self.subjects)))
        if self.kind == "attribute":
            return [ins.text.format(s=s) for s in subj], list(subj)
        return [ins.text.format(a=a, b=b) for a, b in subj], [str(a + b) for a, b in subj]

    def feature_text(self, ins: Instruction) -> str:
        """The instruction as text for its feature vector (templates filled with one subject)."""
        if self.kind == "entity" or not self.subjects:
            return ins.text
        s = self.subjects[0]
        return ins.text.format(s=s) if self.kind == "attribute" else ins.text.format(a=s[0], b=s[1])

    def score_responses(self, responses: Sequence[str], contexts: Sequence[Any]) -> float:
        if self.kind == "capability":
            return self.relevance(responses, contexts)
        return self.relevance(responses, None)


def world_task(kind: str, source: Mapping[str, Any], *, target: str | None = None,
               relation: str = "birthplace") -> Task:
    """A task on the world built from config ``source`` (``UnlearningData.source``)."""
    from oblivio.world import WorldConfig
    from oblivio.world.candidates import attribute_pool, capability_pool, entity_pool
    from oblivio.world.capability import n_sums, sums
    from oblivio.world.graph import build_graph
    from oblivio.world.instructions import person_values
    cfg = WorldConfig(**dict(source))
    graph = build_graph(cfg)
    if kind == "entity":
        if target is None:
            from oblivio.world.splits import choose_targets
            target = choose_targets(graph, cfg)[0]
        if target not in graph.people or graph.people[target].holdout:
            raise InputError(f"unknown target {target!r}: not a trained person of this world", field="reveal.target")
        vals = tuple(person_values(graph.people[target]).values())
        return Task("entity", target, entity_pool(graph, target), KeywordRelevance(vals), sample=True)
    people = graph.trained_people()
    if kind == "attribute":
        from oblivio.world.instructions import person_values as pv
        values = tuple(sorted({pv(graph.people[p]).get(relation, "") for p in people} - {""}))
        if not values:
            raise InputError(f"no person has relation {relation!r}", field="reveal.relation")
        return Task("attribute", relation, attribute_pool(relation), TypeRelevance(values), subjects=people)
    if kind == "capability":
        return Task("capability", "arithmetic", capability_pool(), Correctness(),
                    subjects=sums(cfg.seed, n_sums(cfg.n_people)))
    raise InputError(f"unknown reveal task {kind!r} (known: {', '.join(TASKS)})", field="reveal.task")


def user_entity_task(target: str, *, keywords: Sequence[str] = (), scorer: str | None = None) -> Task:
    """An entity of a user's model: the generic instruction families and a keyword list (or a
    scorer callable by dotted path) as relevance."""
    from oblivio.world.candidates import SMALL_TALK
    from oblivio.world.instructions import FAMILIES
    if not keywords and not scorer:
        raise InputError("an entity outside the embedded world needs what it must not reveal: "
                         "--keywords 'a,b,c' (reveal.keywords) or --scorer pkg.mod:fn (reveal.scorer)",
                         field="reveal.keywords")
    pool = [Instruction(f.template.format(s=target), "heldout", f.name) for f in FAMILIES]
    pool += [Instruction(t.format(s=target), "heldout", "open") for t in (
        "Who is {s}?", "What is {s} famous for?", "Where does {s} live?", "Where was {s} born?",
        "Who does {s} work for?", "What does {s} do?", "Who is {s} married to?", "When was {s} born?",
        "Tell me a fact about {s}.", "List three facts about {s}.", "Write a news story about {s}.",
        "What would a friend say about {s}?", "Describe a day in the life of {s}.",
        "What are {s}'s achievements?", "Summarise the career of {s}.", "Who are {s}'s colleagues?")]
    pool += [Instruction(t, "irrelevant", "small-talk") for t in SMALL_TALK]
    rel: Scorer = load_callable(scorer) if scorer else KeywordRelevance(tuple(keywords))
    return Task("entity", target, _dedup(pool), rel, sample=True)


def data_entity_values(data: Any, target: str) -> tuple[str, ...]:
    """Known attribute values of ``target`` in a data set: the ``key`` of every row about it
    (its own name excluded), for relevance when a user's data names the target."""
    vals = {it.key for it in data.items if it.key and (it.entity == target or target in it.mentions)}
    return tuple(sorted(vals - {target}))


def _dedup(pool: list[Instruction]) -> list[Instruction]:
    out: dict[str, Instruction] = {}
    for i in pool:
        out.setdefault(i.text, i)       # the first of a repeated text
    return list(out.values())
