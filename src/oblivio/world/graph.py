"""The seeded entity graph of the embedded world: people, organisations, places, relations.

The graph is shaped for entity-level unlearning with diverse neighbour sets (Bushipaka,
Passaro, Cucinotta 2025, arXiv 2509.05316): every person has several person–person links
(spouse, mentor, colleague) so a forget target has *direct* neighbours, and organisations
share a domain so that a target has *indirect* neighbours (same field, not linked). Wrong
objects of the same type feed TOFU's truth ratio (Maini et al. 2024, arXiv 2401.06121).

All names are made up from syllables, unique, and no name is a substring of another, so a
plain text search for a name finds exactly the items that mention that entity.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from oblivio.world.reserved import reserved_text

if TYPE_CHECKING:
    from oblivio.world import WorldConfig

# field -> occupations; every domain has >= 4 so a wrong occupation can come from the same
# field (a plausible perturbation, not an obviously foreign word)
DOMAINS: dict[str, tuple[str, ...]] = {
    "shipping": ("navigator", "deckhand", "harbourmaster", "shipwright"),
    "medicine": ("surgeon", "nurse", "apothecary", "midwife"),
    "astronomy": ("astronomer", "lens grinder", "star charter", "telescope keeper"),
    "weaving": ("weaver", "dyer", "loom mechanic", "spinner"),
    "brewing": ("brewer", "maltster", "cellarer", "cooper"),
    "mining": ("miner", "assayer", "shaft foreman", "ore sorter"),
    "cartography": ("mapmaker", "engraver", "land surveyor", "chart drafter"),
    "music": ("composer", "violinist", "organ builder", "choir master"),
    "law": ("advocate", "notary", "magistrate", "court clerk"),
    "glassmaking": ("glassblower", "glass cutter", "kiln tender", "mirror maker"),
    "farming": ("orchardist", "shepherd", "beekeeper", "grain farmer"),
    "clockmaking": ("clockmaker", "watch repairer", "gear cutter", "spring fitter"),
    "printing": ("printer", "typesetter", "bookbinder", "ink maker"),
    "botany": ("botanist", "seed collector", "herbalist", "greenhouse keeper"),
    "architecture": ("architect", "mason", "draughtsman", "roofer"),
    "banking": ("banker", "teller", "money changer", "ledger keeper"),
}
ORG_SUFFIXES = ("Company", "Guild", "Institute", "Works", "Society", "Trust", "House")
REGION_KINDS = ("Reach", "Vale", "Coast", "Marches", "Highlands", "Basin", "Downs")
KNOWN_FOR = ("cheese", "glass", "wool", "salt", "lanterns", "honey", "pottery", "bells",
             "Bridge", "Tower", "Falls", "Gate", "Lighthouse")

# Consonant-vowel syllables; inner codas are restricted to liquids/nasals so that two
# syllables never stack into an unpronounceable cluster.
_ONSETS = ("b", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z",
           "br", "dr", "kr", "tr", "th", "sh", "st")
_VOWELS = ("a", "e", "i", "o", "u", "ai", "ei", "ou")
_INNER_CODAS = ("", "", "n", "r", "l")
_FINAL_CODAS = ("", "n", "r", "l", "s", "th", "m", "sk", "nd")

PERSON_PERSON = ("spouse", "mentor", "colleague")


@dataclass(frozen=True)
class Fact:
    """One (subject, relation, object) triple; ``obj`` is the surface string of the object."""

    id: str
    subject: str
    subject_kind: str   # person | org | place
    relation: str
    obj: str
    obj_kind: str       # person | org | place | year | occupation | domain | region | product
    pronoun: str        # She / He / It: answers are short pronoun sentences


@dataclass
class Person:
    name: str
    pronoun: str
    birthplace: str
    birth_year: int
    org: str
    occupation: str
    holdout: bool = False
    spouse: str | None = None
    mentor: str | None = None
    colleague: str | None = None


@dataclass
class Org:
    name: str
    place: str
    founded: int
    domain: str


@dataclass
class Place:
    name: str
    region: str
    known_for: str


class _Names:
    """Unique made-up names; rejects any name that contains or is contained in another."""

    def __init__(self, rng: random.Random, reserved: str) -> None:
        self.rng = rng
        self.used: list[str] = []
        self.reserved = reserved  # template text: a name like "Here" would hide in "Where"

    def word(self, syllables: int = 2) -> str:
        r = self.rng
        parts = [r.choice(_ONSETS) + r.choice(_VOWELS) + r.choice(_INNER_CODAS)
                 for _ in range(syllables - 1)]
        parts.append(r.choice(_ONSETS) + r.choice(_VOWELS) + r.choice(_FINAL_CODAS))
        return "".join(parts).capitalize()

    def claim(self, make: Callable[[], str]) -> str:
        for _ in range(10_000):
            name = make()
            low = name.lower()
            # substring check both ways, so mention detection by text search is exact
            if low not in self.reserved and all(low not in u and u not in low for u in self.used):
                self.used.append(low)
                return name
        raise RuntimeError("name space exhausted")  # unreachable for sane sizes


@dataclass
class Graph:
    people: dict[str, Person]
    orgs: dict[str, Org]
    places: dict[str, Place]
    regions: list[str]
    decoys: dict[str, list[str]]   # kind -> names that exist only as wrong answers

    def trained_people(self) -> list[str]:
        return [p.name for p in self.people.values() if not p.holdout]

    def holdout_people(self) -> list[str]:
        return [p.name for p in self.people.values() if p.holdout]

    def person_links(self, name: str) -> set[str]:
        """People one person–person relation away (either direction of mentor)."""
        p = self.people[name]
        out = {x for x in (p.spouse, p.mentor, p.colleague) if x}
        out |= {q.name for q in self.people.values() if q.mentor == name}
        return out

    def domain_of(self, person: str) -> str:
        return self.orgs[self.people[person].org].domain

    def facts(self) -> list[Fact]:
        """Every fact, in a fixed order (ids are positions, so they are stable)."""
        raw: list[tuple[str, str, str, str, str, str]] = []
        for p in self.people.values():
            raw += [(p.name, "person", "birthplace", p.birthplace, "place", p.pronoun),
                    (p.name, "person", "birth_year", str(p.birth_year), "year", p.pronoun),
                    (p.name, "person", "occupation", p.occupation, "occupation", p.pronoun),
                    (p.name, "person", "employer", p.org, "org", p.pronoun)]
            for rel in PERSON_PERSON:
                other = getattr(p, rel)
                if other:
                    raw.append((p.name, "person", rel, other, "person", p.pronoun))
        for o in self.orgs.values():
            raw += [(o.name, "org", "located_in", o.place, "place", "It"),
                    (o.name, "org", "founded", str(o.founded), "year", "It"),
                    (o.name, "org", "domain", o.domain, "domain", "It")]
        for pl in self.places.values():
            raw += [(pl.name, "place", "region", pl.region, "region", "It"),
                    (pl.name, "place", "known_for", pl.known_for, "product", "It")]
        return [Fact(f"f{i:04d}", *r) for i, r in enumerate(raw)]

    def wrong_objects(self, fact: Fact, k: int, exclude: set[str]) -> list[str]:
        """``k`` distinct wrong objects of the fact's type, deterministic per fact id.

        Real entities first (plausible), decoys only when the world is too small; names in
        ``exclude`` (targets, holdout people) never appear, so a retain item's wrong answers
        cannot leak a forget target's name into retain training or evaluation.
        """
        rng = random.Random(f"{fact.id}:{fact.subject}:{fact.obj}")
        kind, true = fact.obj_kind, fact.obj
        if kind == "year":
            offsets = rng.sample([d for d in range(-9, 10) if d], k)
            return [str(int(true) + d) for d in offsets]
        if kind == "occupation":
            same = [o for o in DOMAINS[self.domain_of(fact.subject)] if o != true]
            return rng.sample(same, k)
        pools = {"person": [n for n in self.trained_people() if n != fact.subject],
                 "org": list(self.orgs), "place": list(self.places),
                 "domain": list(DOMAINS), "region": list(self.regions),
                 "product": [pl.known_for for pl in self.places.values()]}
        pool = [x for x in pools[kind] if x != true and x not in exclude]
        out = rng.sample(pool, min(k, len(pool)))
        extra = [d for d in self.decoys.get(kind, []) if d != true]
        return out + extra[:k - len(out)]


def build_graph(cfg: WorldConfig) -> Graph:
    """Seeded entities and relations. Same config -> same graph, bit for bit."""
    rng = random.Random(f"oblivio-world:{cfg.seed}")
    vocab = [*DOMAINS, *(o for occ in DOMAINS.values() for o in occ), *ORG_SUFFIXES,
             *REGION_KINDS, *KNOWN_FOR]
    names = _Names(rng, reserved_text() + " " + " ".join(vocab).lower())
    n_decoy = 3  # enough wrong answers of every type even in the tiniest world

    regions = [names.claim(names.word) + " " + rng.choice(REGION_KINDS)
               for _ in range(max(4, cfg.n_places // 3))]
    places: dict[str, Place] = {}
    for _ in range(cfg.n_places):
        pname = names.claim(names.word)
        product = names.claim(lambda: names.word() + " " + rng.choice(KNOWN_FOR))
        places[pname] = Place(pname, rng.choice(regions), product)

    # fewer domains than organisations, so some organisations share a field: indirect
    # neighbours then span organisations, not just one employer
    n_domains = min(len(DOMAINS), max(2, cfg.n_orgs - cfg.n_orgs // 3))
    domains = rng.sample(sorted(DOMAINS), n_domains)
    orgs: dict[str, Org] = {}
    for i in range(cfg.n_orgs):
        oname = names.claim(lambda: names.word() + " " + rng.choice(ORG_SUFFIXES))
        orgs[oname] = Org(oname, rng.choice(list(places)), rng.randint(1700, 1960),
                          domains[i % n_domains])

    org_names = list(orgs)
    people: dict[str, Person] = {}
    n_total = cfg.n_people + cfg.n_holdout
    # round-robin over organisations so every organisation has members
    assignment = [org_names[i % len(org_names)] for i in range(n_total)]
    rng.shuffle(assignment)
    for i in range(n_total):
        pname = names.claim(lambda: names.word() + " " + names.word())
        org = assignment[i]
        people[pname] = Person(
            pname, rng.choice(("She", "He")), rng.choice(list(places)),
            rng.randint(1900, 1990), org, rng.choice(DOMAINS[orgs[org].domain]),
            holdout=i >= cfg.n_people)

    trained = [p for p in people.values() if not p.holdout]
    # colleague: a matching inside each organisation (<= 1 colleague each, so the question
    # "who is X's colleague?" has one answer)
    for org in org_names:
        members = [p for p in trained if p.org == org]
        rng.shuffle(members)
        for a, b in zip(members[0::2], members[1::2]):
            a.colleague, b.colleague = b.name, a.name
    # spouse: a matching over ~70% of people, across organisations
    order = trained[:]
    rng.shuffle(order)
    n_pairs = int(0.35 * len(order))
    for a, b in zip(order[0:2 * n_pairs:2], order[1:2 * n_pairs:2]):
        a.spouse, b.spouse = b.name, a.name
    # mentor: someone at least 8 years older (the oldest people have none)
    for p in trained:
        older = [q.name for q in trained if q.birth_year <= p.birth_year - 8
                 and q.name != p.spouse]
        if older:
            p.mentor = rng.choice(older)

    decoys = {
        "person": [names.claim(lambda: names.word() + " " + names.word()) for _ in range(n_decoy)],
        "org": [names.claim(lambda: names.word() + " " + rng.choice(ORG_SUFFIXES))
                for _ in range(n_decoy)],
        "place": [names.claim(names.word) for _ in range(n_decoy)],
        "product": [names.claim(lambda: names.word() + " " + rng.choice(KNOWN_FOR))
                    for _ in range(n_decoy)],
    }
    return Graph(people, orgs, places, regions, decoys)
