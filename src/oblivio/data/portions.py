"""Validation and test portions of the data, disjoint by fact: the rule that assigns them and
the view an evaluation reads (roles: :mod:`oblivio.roles`; docs/reference/data-schema.md).

**The rule** (:func:`assign_portions`; every loader applies it: the world, a JSONL file, TOFU,
the shipped real sets). It works on facts (``QAItem.fact``; a row without one is its own fact),
so every phrasing of a fact — its training phrasings and its held-out phrasing — lands in the
same portion.

* forget, holdout, real_authors, world_facts: a row that names its portion (``set:
  "forget_val"``) keeps it and gives it to every row of its fact (two portions in one fact is an
  error naming the row). The other facts of the role are ordered by
  ``sha256("oblivio-portion:<seed>:<role>:<fact>")``; the first ⌊n/2⌋ are validation, the rest
  test. The forget set is still unlearned whole: the portions only say which facts a selection
  may look at and which a reported number is measured on.
* retain roles: ``<role>_val`` / ``<role>_test`` rows are the held-out retain rows (learned,
  never shown to unlearning), kept as given. A role with rows unlearning sees and no held-out
  row at all (``hold_out=True``: user data) gets them by the same fact order: the first
  max(1, round(0.2·n)) facts become ``<role>_val``, the next as many ``<role>_test`` — when the
  role has at least 3 facts, so that unlearning keeps at least one. The embedded world and TOFU
  hold out their own (by fact, by author).

``seed`` is the world seed (``world.seed``, ``--world-seed``): another world seed, another split.
"""
from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence

from oblivio.data.schema import QAItem, UnlearningData
from oblivio.errors import InputError
from oblivio.roles import (
    HELD_ROLES,
    PORTIONS,
    RETAIN_ROLES,
    SPLIT_BASES,
    check_selection,
    eval_name,
    eval_order,
    portion_roles,
)

#: the share of a retain role's facts held out per portion when user data holds out none
HOLD_OUT_SHARE = 0.2


def fact_key(it: QAItem) -> str:
    return it.fact or f"item:{it.id}"


def _order(role: str, facts: Sequence[str], seed: int) -> list[str]:
    def h(f: str) -> str:
        return hashlib.sha256(f"oblivio-portion:{seed}:{role}:{f}".encode()).hexdigest()
    return sorted(dict.fromkeys(facts), key=lambda f: (h(f), f))


def _explicit(items: Sequence[QAItem], name: str) -> dict[str, str]:
    """fact → the portion its rows name; two different ones in one fact is an InputError."""
    got: dict[str, tuple[str, QAItem]] = {}
    for it in items:
        if it.portion is None:
            continue
        f = fact_key(it)
        if f in got and got[f][0] != it.portion:
            other = got[f][1]
            raise InputError(f"fact {it.fact!r} has rows in {eval_name(it.role, other.portion)} "
                             f"({other.origin or other.id}) and in {eval_name(it.role, it.portion)}: every row "
                             "of a fact is in one portion", file=it.origin or name, field="set")
        got[f] = (it.portion, it)
    return {f: p for f, (p, _) in got.items()}


def split_portions(items: list[QAItem], seed: int, *, name: str = "data") -> list[QAItem]:
    """Every row of a split role (forget, holdout, evaluation-only) with its portion (module doc)."""
    out = list(items)
    for base in SPLIT_BASES:
        idx = [k for k, it in enumerate(out) if it.role == base]
        if not idx:
            continue
        rows = [out[k] for k in idx]
        given = _explicit(rows, name)
        rest = _order(base, [fact_key(it) for it in rows if fact_key(it) not in given], seed)
        n_val = len(rest) // 2
        portion = {**{f: "val" for f in rest[:n_val]}, **{f: "test" for f in rest[n_val:]}, **given}
        for k in idx:
            p = portion[fact_key(out[k])]
            if out[k].portion != p:
                out[k] = dataclasses.replace(out[k], portion=p)
    return out


def hold_out_retain(items: list[QAItem], seed: int) -> list[QAItem]:
    """User data: a retain role with no held-out row gets ``<role>_val`` / ``<role>_test`` facts
    (module doc); held-out rows named in the data get their portion from their name."""
    out = [dataclasses.replace(it, portion=it.role.rpartition("_")[2]) if it.role in HELD_ROLES
           and it.portion is None else it for it in items]
    for r in RETAIN_ROLES:
        if any(it.role in (f"{r}_val", f"{r}_test") for it in out):
            continue
        facts = _order(r, [fact_key(it) for it in out if it.role == r], seed)
        if len(facts) < 3:
            continue
        k = max(1, round(HOLD_OUT_SHARE * len(facts)))
        to = {**{f: "val" for f in facts[:k]}, **{f: "test" for f in facts[k:2 * k]}}
        out = [dataclasses.replace(it, role=f"{r}_{to[fact_key(it)]}", portion=to[fact_key(it)])
               if it.role == r and fact_key(it) in to else it for it in out]
    return out


def assign_portions(data: UnlearningData, seed: int, *, hold_out: bool = False) -> UnlearningData:
    """``data`` with every evaluated row in a portion (the rule of the module docstring);
    ``hold_out``: also hold out retain facts of roles that have none (user data)."""
    items = hold_out_retain(data.items, seed) if hold_out else [
        dataclasses.replace(it, portion=it.role.rpartition("_")[2]) if it.role in HELD_ROLES
        and it.portion is None else it for it in data.items]
    items = split_portions(items, seed, name=data.name)
    return dataclasses.replace(data, items=items)


def portioned(data: UnlearningData) -> UnlearningData:
    """``data`` itself when every row of a split role has its portion, else with the rule
    (seed 0) applied to those that lack one (data built in code rather than loaded)."""
    if not any(it.role in SPLIT_BASES and it.portion is None for it in data.items):
        return data
    return dataclasses.replace(data, items=split_portions(data.items, 0, name=data.name))


def forget_portion(data: UnlearningData, portion: str = "test") -> UnlearningData:
    """``data`` with its forget set cut to one portion (``forget_test`` for a reported number,
    ``forget_val`` in a tuning run): what code that works on the forget rows themselves (the
    robustness audit's attacks) runs on; the data unchanged when no forget row is in it."""
    data = portioned(data)
    if not any(it.role == "forget" and it.portion == portion for it in data.items):
        return data
    keep = [it for it in data.items if it.role != "forget" or it.portion == portion]
    return dataclasses.replace(data, items=keep)


def set_names(data: UnlearningData) -> list[str]:
    """The evaluated sets ``data`` holds (``forget_val``, ``direct``, ``direct_test`` …), in table order."""
    have = {eval_name(it.role, it.portion) for it in portioned(data).items}
    return [n for n in eval_order() if n in have]


def first_facts(items: Sequence[QAItem], n: int, *, role: str, seed: int) -> list[QAItem]:
    """The rows of the first ``n`` facts of ``items`` (one evaluated set) in the rule's fact order
    for ``role`` (its base role: ``forget_test`` → ``forget``) and ``seed``, in their own order:
    with ``seed`` the world seed, a prefix of the facts the rule put in the portion
    (``eval.limit``, ``--limit``)."""
    from oblivio.roles import base_role
    keep = set(_order(base_role(role), [fact_key(it) for it in items], seed)[:n])
    return [it for it in items if fact_key(it) in keep]


def evaluated_sets(data: UnlearningData, portion: str | None) -> dict[str, list[QAItem]]:
    """The sets an evaluation of ``portion`` reads, by name, in table order: ``"test"`` (every
    reported number), ``"val"`` (every selection), or None: every role as the data names it,
    unsplit (``forget`` holds every forget row) — for evaluations of data built for the purpose
    (an attack's rephrased forget rows). Rows of a split role without a portion get one by the
    rule with seed 0 first. Inside :func:`oblivio.roles.selecting` anything but the validation
    portion raises :class:`oblivio.roles.SelectionReadsTest`."""
    if portion is None:
        by = {r: data.role(r) for r in data.present_roles()}
        check_selection(None, by)
        return by
    if portion not in PORTIONS:
        raise ValueError(f"portion must be one of {PORTIONS} or None, got {portion!r}")
    groups: dict[str, list[QAItem]] = {}
    for it in portioned(data).items:
        groups.setdefault(eval_name(it.role, it.portion), []).append(it)
    names = portion_roles(groups, portion)
    check_selection(portion, names)
    order = eval_order()
    return {n: groups[n] for n in sorted(names, key=order.index)}
