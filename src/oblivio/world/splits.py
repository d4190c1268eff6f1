"""Forget targets -> set roles of the embedded world's items.

The retain data is split by its relation to the forget targets, as in Bushipaka, Passaro,
Cucinotta 2025 (arXiv 2509.05316): *direct* neighbours (entities one relation away from a
target), *indirect* neighbours (people of the same organisation or field, not linked) and
*general* knowledge, each with held-out rows learned in training but never shown to
unlearning, in a validation portion (``<role>_val``, what selections read) and a test portion
(``<role>_test``, what is reported). Holdout people are never trained (membership-inference
non-members); every item keeps its TOFU-style truth-ratio answers (Maini et al. 2024, arXiv
2401.06121). The forget and holdout facts are split into validation and test by the portion
rule of :mod:`oblivio.data.portions`.

Roles are decided per *fact*, so all phrasings of one fact always share a role and a portion.
"""
from __future__ import annotations

import dataclasses
import random
from typing import TYPE_CHECKING, Sequence

from oblivio.data.schema import QAItem
from oblivio.errors import InputError

if TYPE_CHECKING:
    from oblivio.world import WorldConfig
    from oblivio.world.graph import Fact, Graph

SPLIT_ROLES = ("direct", "indirect", "general")


def _indirect_pool(graph: Graph, person: str) -> list[str]:
    """Trained people in the person's organisation or field who are not linked to it."""
    links = graph.person_links(person)
    org, dom = graph.people[person].org, graph.domain_of(person)
    return [q for q in graph.trained_people()
            if q != person and q not in links
            and (graph.people[q].org == org or graph.domain_of(q) == dom)]


def eligible_targets(graph: Graph) -> list[str]:
    """People with >= 2 direct person neighbours and some indirect ones: only they make
    every neighbour set non-empty, which the neighbour-set comparison needs."""
    return [p for p in graph.trained_people()
            if len(graph.person_links(p)) >= 2 and _indirect_pool(graph, p)]


def choose_targets(graph: Graph, cfg: WorldConfig) -> list[str]:
    """Explicit ``cfg.targets`` (validated) or ``cfg.n_targets`` people picked by seed."""
    trained = graph.trained_people()
    if cfg.targets:
        for name in cfg.targets:
            if name in graph.people and graph.people[name].holdout:
                raise InputError(f"target {name!r} is a holdout person (never trained); "
                                 "pick a trained person", field="targets")
            if name not in graph.people:
                kind = "an organisation" if name in graph.orgs else (
                    "a place" if name in graph.places else "not a person of this world")
                raise InputError(f"unknown target {name!r}: {kind}; targets are people, "
                                 f"e.g. {', '.join(trained[:3])}", field="targets")
        return list(dict.fromkeys(cfg.targets))
    rng = random.Random(f"oblivio-targets:{cfg.seed}")
    cands = eligible_targets(graph)
    rng.shuffle(cands)
    chosen: list[str] = []
    # first pass: targets not linked to each other, each keeping its own direct and indirect
    # neighbours once the others are chosen (a closer link to one target wins over an
    # indirect one to another, which could otherwise empty a target's indirect set)
    for c in cands:
        if len(chosen) < cfg.n_targets and not graph.person_links(c) & set(chosen):
            direct, indirect = neighbours(graph, chosen + [c])
            covered = {t for ts in indirect.values() for t in ts}
            if covered >= {*chosen, c}:
                chosen.append(c)
    for c in cands:
        if len(chosen) < cfg.n_targets and c not in chosen:
            chosen.append(c)
    if len(chosen) < cfg.n_targets:
        raise InputError(f"only {len(cands)} people qualify as targets (>= 2 direct and some "
                         f"indirect neighbours), {cfg.n_targets} requested; lower n_targets "
                         "or raise n_people", field="n_targets")
    return chosen


def neighbours(graph: Graph, targets: Sequence[str]) -> tuple[dict[str, list[str]],
                                                                 dict[str, list[str]]]:
    """entity -> the targets it neighbours, for direct and for indirect neighbours."""
    tset = set(targets)
    direct: dict[str, list[str]] = {}
    for t in targets:
        p = graph.people[t]
        for e in sorted(graph.person_links(t) - tset) + [p.org, p.birthplace]:
            direct.setdefault(e, []).append(t)
    indirect: dict[str, list[str]] = {}
    for t in targets:
        for q in _indirect_pool(graph, t):
            if q not in tset and q not in direct:  # closer relation wins
                indirect.setdefault(q, []).append(t)
    return direct, indirect


def assign_roles(facts: Sequence[tuple[Fact, list[QAItem]]], graph: Graph,
                 targets: Sequence[str], *, test_fraction: float, seed: int,
                 val_fraction: float = 0.0) -> list[QAItem]:
    """Give every item its role and ``targets``; then move held-out facts to ``<role>_test``
    and ``<role>_val``."""
    tset = set(targets)
    direct, indirect = neighbours(graph, targets)
    role_of: dict[str, tuple[str, tuple[str, ...]]] = {}
    for fact, items in facts:
        mentions = set(items[0].mentions)
        if fact.subject_kind == "person" and graph.people[fact.subject].holdout:
            role_of[fact.id] = ("holdout", ())
        elif mentions & tset:
            role_of[fact.id] = ("forget", tuple(t for t in targets if t in mentions))
        elif fact.subject in direct:
            role_of[fact.id] = ("direct", tuple(direct[fact.subject]))
        elif fact.subject in indirect:
            role_of[fact.id] = ("indirect", tuple(indirect[fact.subject]))
        else:
            role_of[fact.id] = ("general", ())
    test = test_facts(role_of, test_fraction=test_fraction, seed=seed)
    val = val_facts(role_of, test, val_fraction=val_fraction, seed=seed)
    out: list[QAItem] = []
    for fact, items in facts:
        role, tg = role_of[fact.id]
        portion = "test" if fact.id in test else "val" if fact.id in val else None
        if portion:
            role += f"_{portion}"
        out += [dataclasses.replace(it, role=role, targets=tg, portion=portion) for it in items]
    return out


def test_facts(role_of: dict[str, tuple[str, tuple[str, ...]]], *, test_fraction: float,
               seed: int) -> set[str]:
    """About ``test_fraction`` of each retain role's facts, chosen by seed.

    At least one fact when the fraction is positive (every test role is non-empty) and at
    least one left for training (every retain role is non-empty too).
    """
    chosen: set[str] = set()
    if test_fraction <= 0:
        return chosen
    for role in SPLIT_ROLES:
        ids = [f for f, (r, _) in role_of.items() if r == role]
        if len(ids) < 2:
            continue
        k = min(len(ids) - 1, max(1, round(test_fraction * len(ids))))
        chosen |= set(random.Random(f"oblivio-test:{seed}:{role}").sample(ids, k))
    return chosen


def val_facts(role_of: dict[str, tuple[str, tuple[str, ...]]], test: set[str], *, val_fraction: float,
              seed: int) -> set[str]:
    """About ``val_fraction`` of each retain role's facts, outside ``test``, chosen by seed (its
    own stream, so the test facts are those of a world without a validation portion): at least
    one when the fraction is positive, and at least one fact left for unlearning."""
    chosen: set[str] = set()
    if val_fraction <= 0:
        return chosen
    for role in SPLIT_ROLES:
        ids = [f for f, (r, _) in role_of.items() if r == role]
        free = [f for f in ids if f not in test]
        if len(free) < 2:
            continue
        k = min(len(free) - 1, max(1, round(val_fraction * len(ids))))
        chosen |= set(random.Random(f"oblivio-val:{seed}:{role}").sample(free, k))
    return chosen
