"""Retain roles for user data: neighbour maps, default forget targets, and clear errors.

Bushipaka, Passaro, Cucinotta 2025 (arXiv 2509.05316): every retain item has a
role — ``direct`` neighbour, ``indirect`` neighbour or ``general`` — with held-out
validation and test portions per role (``direct_val``, ``direct_test`` …; oblivio.roles).
The embedded world derives them from its entity graph. User data gives them either per row
(the JSONL ``set`` field, with ``targets`` naming the forget target a neighbour row belongs
to) or through an entity → neighbours map file
(:func:`apply_neighbour_map`, CLI ``--neighbour-map``, config ``data.neighbour_map``).
Data without a map and without neighbour roles (e.g. TOFU, whose authors form no graph) has
one undifferentiated ``retain`` role.

Forget targets of user data (:func:`assign_forget_targets`): the ones given
(``--targets``, config ``data.targets``), else the neighbour map's keys that forget rows
name, else inferred — each forget row's target is the entity it names (``entity``,
``mentions``) that the most forget rows name (ties: all tied), and the targets are the
union over rows. A place or organisation named in a few forget rows is therefore not a
target, and two people with different row counts are both targets.

:func:`check_sampler` runs a sampler against the data before any training and, when the
roles or targets it needs are missing, raises one :class:`InputError` that says what is
missing and how to provide it.

The sampler left to the data (``unlearn.sampler: null``, the default; :func:`choose_sampler`):
the default recipe's MELU (presets.DEFAULT_RECIPE) when the retain rows unlearning sees include
``direct``/``indirect`` neighbour rows, else :data:`FALLBACK_SAMPLER`, and the run says so on
stderr. MELU pairs each forget row with its own target's neighbours; with no neighbour row at
all (a JSONL without ``set`` roles or ``--neighbour-map``, TOFU) it has nothing of its own to
pair, and a forget row without neighbours is paired at random (MELU's own rule), which is what
one_to_one_random does for every row. Data with neighbour rows that MELU still cannot pair (a
neighbour row without ``targets``) keep MELU and its error, which says how to fix the file; a
sampler that is named (``--sampler melu``) is never replaced.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from oblivio.data.schema import QAItem, UnlearningData
from oblivio.errors import InputError
from oblivio.presets import DEFAULT_RECIPE
from oblivio.roles import HELD_ROLES, base_role

#: samplers that need no neighbour roles
ROLE_FREE_SAMPLERS = ("one_to_one_sequential", "one_to_one_random", "cyclic")
#: the sampler left to the data when they have no neighbour rows (:func:`choose_sampler`)
FALLBACK_SAMPLER = "one_to_one_random"

MAP_FORMAT = '{"<target>": {"direct": [entities], "indirect": [entities]}}'
FIX_ROLES = ('give retain rows a "set" role (direct / indirect / general, and their *_val / *_test '
             'portions) with "targets" naming the forget target each neighbour row belongs to, '
             'or pass --neighbour-map FILE (config data.neighbour_map: a JSON object '
             f'{MAP_FORMAT}; it labels retain rows and gives rows already labelled direct/indirect '
             'their targets by their "entity"); or choose a sampler that needs no roles ('
             + ", ".join(ROLE_FREE_SAMPLERS) + ")")
FIX_NEIGHBOUR_TARGETS = ('give each direct/indirect row "targets" naming the forget target it neighbours, '
                         'or pass --neighbour-map FILE (config data.neighbour_map, a JSON object '
                         f'{MAP_FORMAT}) that lists the row\'s "entity" under its target')
FIX_FORGET_TARGETS = ('give forget rows an "entity" (or "mentions", or "targets") naming the person or thing '
                      'to forget, or name the targets with --targets A,B (config data.targets)')
RULE_GIVEN = "given (--targets / data.targets)"
RULE_MAP = "the neighbour map's keys that forget rows name"
RULE_INFERRED = ("inferred: per forget row, the entity it names that the most forget rows name "
                 "(ties: all tied); the union over rows")


def read_neighbour_map(path: Path) -> dict[str, dict[str, list[str]]]:
    """Parse and validate a neighbour map; every problem names the file and the key."""
    from oblivio.textio import read_json_file
    obj = read_json_file(path, what="neighbour map file")   # encoding, nesting, numbers: strict
    if not isinstance(obj, dict) or not obj:
        raise InputError('expected a non-empty JSON object {"<target>": {"direct": [...], '
                         '"indirect": [...]}}', file=str(path))
    for target, entry in obj.items():
        if not isinstance(entry, dict):
            raise InputError('expected an object with "direct" and/or "indirect" lists',
                             file=str(path), field=target)
        for k, v in entry.items():
            if k not in ("direct", "indirect"):
                raise InputError(f"unknown key {k!r} (known: direct, indirect)", file=str(path),
                                 field=f"{target}.{k}")
            if not isinstance(v, list) or not all(isinstance(e, str) for e in v):
                raise InputError("expected a list of entity names", file=str(path),
                                 field=f"{target}.{k}")
    return obj




def apply_neighbour_map(data: UnlearningData, path: str | Path) -> UnlearningData:
    """Give retain items neighbour roles from a JSON map
    ``{"<target>": {"direct": ["<entity>", ...], "indirect": [...]}, ...}``.

    A ``retain`` item whose ``entity`` is listed becomes ``direct``/``indirect`` (a
    ``retain_test`` item ``direct_test``/``indirect_test``, a ``retain_val`` one
    ``direct_val``/``indirect_val``), with ``targets`` = the targets
    listing it; every other retain item becomes ``general`` (``general_test``). An entity
    listed as direct for one target and indirect for another is ``direct`` (the closer
    relation wins), its direct targets first in ``targets``. Entries for targets that are
    not forget targets of ``data`` are ignored, so one map can serve forget01/05/10; a map
    that names none of them is an error (most likely the wrong file). Listed entities that
    match no item are ignored (e.g. cut by ``n_retain_authors``). Items that already have a
    neighbour role (``direct``, ``general`` …, e.g. from a JSONL ``set`` field) keep it; a
    ``direct``/``indirect`` row (or its ``*_val`` / ``*_test``) without ``targets`` gets the targets that
    list its ``entity`` (under its own relation first, then the other), so MELU and
    ``balanced`` can pair it.
    """
    p = Path(path).expanduser()
    mapping = read_neighbour_map(p)
    known = set(data.targets) or {t for it in data.forget for t in it.targets}
    used = [t for t in mapping if t in known]
    if not used:
        have = ", ".join(sorted(known)) or 'none: give forget rows an "entity" or "targets"'
        raise InputError(f"names none of the forget targets ({have}) as a key",
                         file=str(p), field=next(iter(mapping)))
    direct: dict[str, list[str]] = {}
    indirect: dict[str, list[str]] = {}
    for t in used:
        for e in mapping[t].get("direct", []):
            direct.setdefault(e, []).append(t)
        for e in mapping[t].get("indirect", []):
            indirect.setdefault(e, []).append(t)
    items: list[QAItem] = []
    for it in data.items:
        base = base_role(it.role)
        test = it.role[len(base):] if it.role in HELD_ROLES else ""     # "_val" / "_test" / ""
        ent = it.entity
        if base in ("direct", "indirect") and not it.targets and ent is not None:
            own, other = (direct, indirect) if base == "direct" else (indirect, direct)
            tg = own.get(ent, []) + other.get(ent, [])
            items.append(dataclasses.replace(it, targets=tuple(dict.fromkeys(tg))) if tg else it)
            continue
        if base != "retain":
            items.append(it)
            continue
        if ent is not None and ent in direct:
            role, tg = "direct", direct[ent] + indirect.get(ent, [])
        elif ent is not None and ent in indirect:
            role, tg = "indirect", indirect[ent]
        else:
            role, tg = "general", []
        items.append(dataclasses.replace(it, role=role + test, targets=tuple(dict.fromkeys(tg))))
    return dataclasses.replace(data, items=items, neighbour_roles=True)


def _named(it: QAItem) -> list[str]:
    """Entities a row names: its entity, mentions and targets, in that order, once each."""
    return list(dict.fromkeys([*([it.entity] if it.entity else []), *it.mentions, *it.targets]))


def infer_targets(forget: list[QAItem]) -> list[str]:
    """Forget targets of rows that do not say them (module docstring): per row, the entities
    it names that the most forget rows name (ties: all tied); rows with ``targets`` give
    those. The union, in order of first appearance."""
    count: dict[str, int] = {}
    for it in forget:
        for e in _named(it):
            count[e] = count.get(e, 0) + 1
    out: list[str] = []
    for it in forget:
        named = list(it.targets) or _named(it)
        if named:
            top = max(count[e] for e in named)
            out += [e for e in named if count[e] == top and e not in out]
    return out


def assign_forget_targets(data: UnlearningData, *, given: list[str] | None = None,
                          map_keys: list[str] | None = None, map_file: str | None = None) -> UnlearningData:
    """Choose the forget targets (module docstring: given, else the map's keys, else inferred)
    and give every forget row without ``targets`` the chosen targets it names. ``data.targets``
    and ``data.targets_rule`` (how they were chosen, for the run summary) are set."""
    forget = data.forget
    named = list(dict.fromkeys(e for it in forget for e in _named(it)))
    if given:
        for t in given:
            if t not in named:
                import difflib
                close = difflib.get_close_matches(t, named, n=1)
                raise InputError(f"target {t!r} is named by no forget row (as entity, mentions or targets)"
                                 + (f"; did you mean {close[0]!r}?" if close else
                                    f"; forget rows name: {', '.join(named[:8]) or 'nothing'}"),
                                 field="data.targets (--targets)")
        targets, rule = list(dict.fromkeys(given)), RULE_GIVEN
    elif map_keys:
        targets = [k for k in map_keys if k in named]
        if not targets:
            have = ", ".join(named[:8]) or 'none: give forget rows an "entity" or "targets"'
            raise InputError(f"names none of the entities of the forget rows ({have}) as a key",
                             file=map_file, field=map_keys[0])
        rule = RULE_MAP + (f", {map_file}" if map_file else "")
    else:
        targets, rule = infer_targets(forget), RULE_INFERRED
    tset = set(targets)
    items = [dataclasses.replace(it, targets=tuple(e for e in _named(it) if e in tset))
             if it.role == "forget" and not it.targets else it for it in data.items]
    return dataclasses.replace(data, items=items, targets=tuple(targets), targets_rule=rule)


def load_jsonl_data(path: str, *, targets: list[str] | None = None, neighbour_map: str | None = None,
                    seed: int = 0) -> UnlearningData:
    """A user's JSONL with its forget targets (:func:`assign_forget_targets`), given a neighbour
    map its neighbour roles and targets (:func:`apply_neighbour_map`), and its validation and
    test portions by the rule of :mod:`oblivio.data.portions` (``seed``: the world seed)."""
    from oblivio.data.schema import read_jsonl
    data = UnlearningData(read_jsonl(path), name=path, neighbour_roles=False)
    keys = list(read_neighbour_map(Path(neighbour_map).expanduser())) if neighbour_map else None
    data = assign_forget_targets(data, given=targets, map_keys=keys, map_file=neighbour_map)
    if neighbour_map:
        data = apply_neighbour_map(data, neighbour_map)
    from oblivio.data.portions import assign_portions
    data = assign_portions(data, seed, hold_out=True)
    data.neighbour_roles = any(base_role(r) in ("direct", "indirect") for r in data.present_roles())
    return data


def choose_sampler(data: UnlearningData, sampler: str | None) -> tuple[str, str]:
    """(the sampler a run uses, the rule in words): ``sampler`` when it is named ("given"), else
    by the data (module docstring): the default recipe's sampler where unlearning's retain rows
    include direct/indirect neighbour rows, else :data:`FALLBACK_SAMPLER`."""
    if sampler is not None:
        return sampler, "given"
    recipe = DEFAULT_RECIPE["sampler"]
    if any(base_role(it.role) in ("direct", "indirect") for it in data.unlearning_retain()):
        return recipe, "the data have direct/indirect neighbour rows"
    return FALLBACK_SAMPLER, (
        f"the data have no direct/indirect neighbour rows, which {recipe} pairs forget rows with: "
        f"{FALLBACK_SAMPLER} instead (give rows a \"set\" role or pass --neighbour-map FILE for {recipe})")


def check_sampler(data: UnlearningData, sampler: str, *, seed: int = 0) -> None:
    """Run ``sampler`` on ``data`` once (epoch 0) so that missing roles or targets fail before
    any training, with a message naming what is missing and how to fix it."""
    from oblivio.data.samplers import get_sampler
    smp = get_sampler(sampler)
    try:
        smp.epoch_pairs(data.forget, data.unlearning_retain(), epoch=0, seed=seed)
    except InputError as e:
        if sampler in ROLE_FREE_SAMPLERS and "empty" in e.message:
            raise
        present = ", ".join(f"{r} {n}" for r, n in _counts(data).items()) or "none"
        what = re.sub(r" \(roles present: [^)]*\)", "", e.message.split("; ")[0])
        fix = FIX_ROLES
        if e.field == "targets":   # the roles are there, a row's target is not
            fix = FIX_FORGET_TARGETS if "forget row" in what else FIX_NEIGHBOUR_TARGETS
        raise InputError(f"{what} (data '{data.name}' has roles: {present}). To fix: {fix}",
                         file=e.file or data.name, field=e.field) from None


def _counts(data: UnlearningData) -> dict[str, int]:
    out: dict[str, int] = {}
    for it in data.items:
        out[it.role] = out.get(it.role, 0) + 1
    return out
