"""Neighbour-aware retain sampling: ``direct_only``, ``indirect_only``, ``balanced``, ``melu``.

Bushipaka, Passaro, Cucinotta 2025, "Standard vs. Modular Sampling: Best Practices for
Reliable LLM Unlearning" (arXiv 2509.05316). These regimes read each retain
item's role (``direct`` / ``indirect`` / ``general``) and, for ``balanced`` and ``melu``,
its ``targets`` (the forget targets it neighbours). Found by the sampler registry (every
``oblivio.data.samplers*`` module registers into ``SAMPLERS``); see :mod:`oblivio.data.samplers`
for the shared conventions
(what is shuffled each epoch, retain indices index the retain list passed in).

Role ``retain`` (one undifferentiated retain set, e.g. TOFU without a neighbour map) carries
no neighbour information, so these regimes treat it like ``general`` (our choice). A regime
whose roles or targets are missing raises :class:`~oblivio.errors.InputError` naming what
is missing and how to provide it, instead of silently degrading to plain cyclic sampling.
"""
from __future__ import annotations

import random
from typing import Sequence

from oblivio.data.samplers import SAMPLERS, Pairs, _require_forget, _require_retain, _rng, cyclic_pairs
from oblivio.data.schema import QAItem
from oblivio.errors import InputError

_GENERAL_LIKE = ("general", "retain")
_HOW = ("give rows their role and \"targets\" (a forget row's target may come from its \"entity\"), "
        "or load the data with a neighbour map (CLI --neighbour-map, config data.neighbour_map, "
        "load_tofu(..., neighbour_map=...)), which labels retain rows and gives rows labelled "
        "direct/indirect their targets; or use the embedded world, which knows its neighbours; "
        "or pick 'cyclic'")


def _indices(retain: Sequence[QAItem], roles: tuple[str, ...]) -> list[int]:
    return [j for j, it in enumerate(retain) if it.role in roles]


def _need_role(name: str, retain: Sequence[QAItem], *roles: str) -> None:
    if not any(it.role in roles for it in retain):
        present = sorted({it.role for it in retain})
        want = " or ".join(f"'{r}'" for r in roles)
        raise InputError(f"sampler '{name}' needs retain rows with role {want}, but there are "
                         f"none (roles present: {', '.join(present)}); {_HOW}", field="set")


def _need_targets(name: str, rows: Sequence[QAItem], what: str) -> None:
    for it in rows:
        if not it.targets:
            raise InputError(f"sampler '{name}' needs item.targets on every {what} row (the forget "
                             f"target it belongs to), and row {it.id!r} has none; {_HOW}",
                             file=it.origin, field="targets")


class _CyclicOver:
    """Cyclic rule (SAMPLERS 'cyclic') restricted to retain rows of some roles."""

    name = ""
    required = ""
    roles: tuple[str, ...] = ()

    def epoch_pairs(self, forget: Sequence[QAItem], retain: Sequence[QAItem], *,
                    epoch: int, seed: int) -> Pairs:
        _require_forget(self.name, forget)
        _require_retain(self.name, retain)
        _need_role(self.name, retain, self.required)
        return cyclic_pairs(len(forget), _indices(retain, self.roles), _rng(seed, epoch))


@SAMPLERS.register("direct_only")
class DirectOnly(_CyclicOver):
    """Cyclic over direct + general rows: epoch = max(|D_f|, |direct| + |general|)."""

    name = "direct_only"
    required = "direct"
    roles = ("direct", *_GENERAL_LIKE)


@SAMPLERS.register("indirect_only")
class IndirectOnly(_CyclicOver):
    """Cyclic over indirect + general rows: epoch = max(|D_f|, |indirect| + |general|)."""

    name = "indirect_only"
    required = "indirect"
    roles = ("indirect", *_GENERAL_LIKE)


def balanced_indirect(retain: Sequence[QAItem], seed: int) -> list[int]:
    """Indices of the indirect rows ``balanced`` keeps: per target, a seeded random subset of
    that target's indirect rows as large as its direct count (all of them if fewer).

    A row that lists several targets counts once, for its first (primary) target, both
    among the direct and the indirect rows (our choice): so per-target counts are exact and
    the total indirect count never exceeds the direct count. The subset depends on the seed
    only, not the epoch: like a dataset, the balanced retain set is the same every epoch.
    """
    direct_count: dict[str, int] = {}
    indirect: dict[str, list[int]] = {}
    for j, it in enumerate(retain):
        if it.role == "direct":
            direct_count[it.targets[0]] = direct_count.get(it.targets[0], 0) + 1
        elif it.role == "indirect":
            indirect.setdefault(it.targets[0], []).append(j)
    # a string seed is hashed with SHA-512 by `random`, stable across processes and runs
    rng = random.Random(f"oblivio.balanced:{seed}")
    keep: list[int] = []
    for t in sorted(indirect):
        rows = indirect[t]
        keep.extend(rng.sample(rows, min(direct_count.get(t, 0), len(rows))))
    return sorted(keep)


@SAMPLERS.register("balanced")
class Balanced:
    """Indirect rows down-sampled per target to that target's direct count
    (:func:`balanced_indirect`), then cyclic over direct + kept indirect + general."""

    name = "balanced"

    def epoch_pairs(self, forget: Sequence[QAItem], retain: Sequence[QAItem], *,
                    epoch: int, seed: int) -> Pairs:
        _require_forget(self.name, forget)
        _require_retain(self.name, retain)
        _need_role(self.name, retain, "direct")
        _need_role(self.name, retain, "indirect")
        _need_targets(self.name, [it for it in retain if it.role in ("direct", "indirect")],
                      "direct/indirect retain")
        idx = sorted(set(_indices(retain, ("direct", *_GENERAL_LIKE)))
                     | set(balanced_indirect(retain, seed)))
        return cyclic_pairs(len(forget), idx, _rng(seed, epoch))


@SAMPLERS.register("melu")
class MELU:
    """Modular Entity-Level Unlearning (Bushipaka et al. 2025).

    For each target t (in order of first appearance among the forget rows): F_t = forget
    rows whose ``targets`` contain t, R_t = direct + indirect rows whose ``targets`` contain
    t; the shorter list is cycled to the longer and zipped, giving max(|F_t|, |R_t|) fixed
    same-entity pairs. Then every general row is paired with a random forget row, redrawn
    each epoch. The pair order is permuted each epoch.

    Our choices where the paper is silent: a forget row none of whose targets has neighbour
    rows is paired with a random general row (so every forget row is seen each epoch); a
    direct/indirect row that neighbours no forget target is used like a general row.
    Epoch length = Σ_t max(|F_t|, |R_t|) + #unpaired forget rows + #general-like rows.
    """

    name = "melu"

    def epoch_pairs(self, forget: Sequence[QAItem], retain: Sequence[QAItem], *,
                    epoch: int, seed: int) -> Pairs:
        _require_forget(self.name, forget)
        _require_retain(self.name, retain)
        _need_targets(self.name, forget, "forget")
        _need_role(self.name, retain, "direct", "indirect")
        neighbours = _indices(retain, ("direct", "indirect"))
        order: list[str] = []
        for it in forget:
            order.extend(t for t in it.targets if t not in order)
        by_target: dict[str, list[int]] = {t: [] for t in order}
        for j in neighbours:
            for t in retain[j].targets:
                if t in by_target:
                    by_target[t].append(j)
        if not any(by_target.values()):
            raise InputError(f"sampler 'melu' found no direct/indirect retain row whose "
                             f"item.targets names a forget target ({', '.join(order)}); {_HOW}",
                             field="targets")
        rng = _rng(seed, epoch)
        pairs: Pairs = []
        paired: set[int] = set()
        for t in order:
            rows = by_target[t]
            if not rows:
                continue
            mine = [i for i, it in enumerate(forget) if t in it.targets]
            paired.update(mine)
            n = max(len(mine), len(rows))
            pairs.extend((mine[k % len(mine)], rows[k % len(rows)]) for k in range(n))
        attached = {j for rows in by_target.values() for j in rows}
        general = [j for j, it in enumerate(retain)
                   if it.role in _GENERAL_LIKE or (it.role in ("direct", "indirect")
                                                   and j not in attached)]
        orphans = [i for i in range(len(forget)) if i not in paired]
        if orphans and not general:
            raise InputError(f"sampler 'melu': forget row {forget[orphans[0]].id!r} has no "
                             f"direct/indirect neighbour rows and there are no general rows to "
                             f"pair it with; {_HOW}", field="set")
        pairs.extend((i, general[rng.randrange(len(general))]) for i in orphans)
        pairs.extend((rng.randrange(len(forget)), j) for j in general)
        rng.shuffle(pairs)
        return pairs
