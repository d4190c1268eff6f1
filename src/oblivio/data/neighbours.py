"""Retain roles for user data: neighbour maps, default forget targets, and clear errors.

Bushipaka, Passaro, Cucinotta 2025 (arXiv 2509.05316), SPEC §1 S0: every retain item has a
role — ``direct`` neighbour, ``indirect`` neighbour or ``general`` — with a held-out
``*_test`` portion per role. The embedded world derives them from its entity graph. User
data gives them either per row (the JSONL ``set`` field, with ``targets`` naming the forget
target a neighbour row belongs to) or through an entity → neighbours map file
(:func:`apply_neighbour_map`, CLI ``--neighbour-map``, config ``data.neighbour_map``).
Data without a map and without neighbour roles (e.g. TOFU, whose authors form no graph) has
one undifferentiated ``retain`` role.

:func:`check_sampler` runs a sampler against the data before any training and, when the
roles or targets it needs are missing, raises one :class:`InputError` that says what is
missing and how to provide it.
"""
from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

from oblivio.data.schema import QAItem, UnlearningData
from oblivio.errors import InputError

#: samplers that need no neighbour roles
ROLE_FREE_SAMPLERS = ("one_to_one_sequential", "one_to_one_random", "cyclic")

FIX_ROLES = ('give retain rows a "set" role (direct / indirect / general, and their *_test '
             'portions) with "targets" naming the forget target each neighbour row belongs to, '
             'or pass --neighbour-map FILE (config data.neighbour_map: a JSON object '
             '{"<target>": {"direct": [entities], "indirect": [entities]}}); or choose a sampler '
             'that needs no roles (' + ", ".join(ROLE_FREE_SAMPLERS) + ")")


def read_neighbour_map(path: Path) -> dict[str, dict[str, list[str]]]:
    """Parse and validate a neighbour map; every problem names the file and the key."""
    if not path.is_file():
        raise InputError("neighbour map file not found", file=str(path))
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise InputError(f"invalid JSON: {e.msg} (column {e.colno})", file=str(path), line=e.lineno) from None
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


_read_map = read_neighbour_map   # the name it had in oblivio.data.tofu


def apply_neighbour_map(data: UnlearningData, path: str | Path) -> UnlearningData:
    """Give retain items neighbour roles from a JSON map
    ``{"<target>": {"direct": ["<entity>", ...], "indirect": [...]}, ...}``.

    A ``retain`` item whose ``entity`` is listed becomes ``direct``/``indirect`` (a
    ``retain_test`` item ``direct_test``/``indirect_test``), with ``targets`` = the targets
    listing it; every other retain item becomes ``general`` (``general_test``). An entity
    listed as direct for one target and indirect for another is ``direct`` (the closer
    relation wins), its direct targets first in ``targets``. Entries for targets that are
    not forget targets of ``data`` are ignored, so one map can serve forget01/05/10; a map
    that names none of them is an error (most likely the wrong file). Listed entities that
    match no item are ignored (e.g. cut by ``n_retain_authors``). Items that already have a
    neighbour role (``direct``, ``general`` …, e.g. from a JSONL ``set`` field) keep it.
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
        base, test = (it.role[:-5], "_test") if it.role.endswith("_test") else (it.role, "")
        if base != "retain":
            items.append(it)
            continue
        e = it.entity
        if e is not None and e in direct:
            role, tg = "direct", direct[e] + indirect.get(e, [])
        elif e is not None and e in indirect:
            role, tg = "indirect", indirect[e]
        else:
            role, tg = "general", []
        items.append(dataclasses.replace(it, role=role + test, targets=tuple(dict.fromkeys(tg))))
    return UnlearningData(items, name=data.name, targets=data.targets, neighbour_roles=True)


def default_forget_targets(data: UnlearningData) -> UnlearningData:
    """Forget rows without ``targets`` but with an ``entity`` get ``targets = (entity,)`` (our
    choice: in an entity-level problem the subject is the target), and ``data.targets``
    becomes the forget targets in order of appearance when it was empty."""
    items = [dataclasses.replace(it, targets=(it.entity,)) if it.role == "forget" and not it.targets
             and it.entity else it for it in data.items]
    targets = data.targets or tuple(dict.fromkeys(t for it in items if it.role == "forget"
                                                  for t in it.targets))
    return UnlearningData(items, name=data.name, targets=targets, neighbour_roles=data.neighbour_roles)


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
        raise InputError(f"{what} (data '{data.name}' has roles: {present}). To fix: {FIX_ROLES}",
                         file=e.file or data.name, field=e.field) from None


def _counts(data: UnlearningData) -> dict[str, int]:
    out: dict[str, int] = {}
    for it in data.items:
        out[it.role] = out.get(it.role, 0) + 1
    return out
