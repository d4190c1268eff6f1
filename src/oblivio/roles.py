"""The roles a data row can have, their validation and test portions, and the guard that keeps
every selection on validation (docs/reference/data-schema.md, "Roles and portions"). At the
bottom of the package so that ``config.py`` can check role names without importing the data layer.

**Portions.** Every evaluated role has a *validation* portion ``<role>_val`` and a *test*
portion ``<role>_test``, disjoint by fact: the forget set, the never-trained holdout, the
retain rows unlearning never sees and TOFU's evaluation-only sets (the held-out phrasings of
a fact ride with its rows). Every choice — checkpoint selection, early stopping, calibration's
α, a learning rate or a step count picked by a search — reads validation only; every reported
number is test. A run evaluates one portion at a time: :func:`portion_roles` names what an
evaluation of the ``"val"`` or ``"test"`` portion reads.

**The guard.** Selection code runs inside :func:`selecting`; an evaluation that would read a
test row there raises :class:`SelectionReadsTest` (:func:`check_selection`), so a selection
path that drifts onto the test portion fails loudly instead of silently tuning on it.
"""
from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

#: retain roles unlearning trains on (the samplers see only these)
RETAIN_ROLES: tuple[str, ...] = ("direct", "indirect", "general", "retain")
PORTIONS: tuple[str, ...] = ("val", "test")
#: the retain rows learned in training but never shown to unlearning, by portion
VAL_ROLES: tuple[str, ...] = tuple(f"{r}_val" for r in RETAIN_ROLES)
TEST_ROLES: tuple[str, ...] = tuple(f"{r}_test" for r in RETAIN_ROLES)
HELD_ROLES: tuple[str, ...] = (*VAL_ROLES, *TEST_ROLES)
EVAL_ROLES: tuple[str, ...] = ("real_authors", "world_facts")
#: roles whose rows carry their portion in ``QAItem.portion`` (the role itself has no suffix)
SPLIT_BASES: tuple[str, ...] = ("forget", "holdout", *EVAL_ROLES)
#: the data roles (``QAItem.role``)
ROLES: tuple[str, ...] = ("forget", *RETAIN_ROLES, *VAL_ROLES, *TEST_ROLES, "holdout", *EVAL_ROLES)
#: every name a JSONL row's ``set`` may hold: the roles, and ``<base>_val`` / ``<base>_test`` of
#: the split roles (``forget_val``: a forget row, unlearned like every forget row, in validation)
SET_NAMES: tuple[str, ...] = (*ROLES, *(f"{b}_{p}" for b in SPLIT_BASES for p in PORTIONS))


def split_set_name(name: str) -> tuple[str, str | None]:
    """A JSONL ``set`` value → (role, portion): ``forget_test`` → ("forget", "test"),
    ``direct_val`` → ("direct_val", "val"), ``direct`` → ("direct", None)."""
    base, _, tail = name.rpartition("_")
    if tail in PORTIONS and base in SPLIT_BASES:
        return base, tail
    if name in HELD_ROLES:
        return name, tail
    return name, None


def base_role(name: str) -> str:
    """A role or evaluated set's name without its portion: ``forget_test`` → ``forget``,
    ``direct_val`` → ``direct``, ``holdout`` → ``holdout``."""
    base, _, tail = name.rpartition("_")
    return base if tail in PORTIONS and base in (*SPLIT_BASES, *RETAIN_ROLES) else name


def portion_of(name: str) -> str | None:
    """``"val"`` / ``"test"`` for a portioned name, else None."""
    base, _, tail = name.rpartition("_")
    return tail if tail in PORTIONS and base in (*SPLIT_BASES, *RETAIN_ROLES) else None


def eval_name(role: str, portion: str | None) -> str:
    """The evaluated set a row belongs to: ``forget`` in ``test`` → ``forget_test``; a held-out
    retain role is its own name; a row without a portion keeps its role."""
    if role in SPLIT_BASES and portion in PORTIONS:
        return f"{role}_{portion}"
    return role


def portion_roles(roles: Iterable[str], portion: str) -> list[str]:
    """The evaluated sets of ``portion`` among ``roles`` (set names), in canonical order;
    the retain roles unlearning trains on (``direct`` …) only when no held-out retain set of
    that portion exists (a fallback that flatters utility; :func:`visible_fallback` says so)."""
    if portion not in PORTIONS:
        raise ValueError(f"portion must be one of {PORTIONS}, got {portion!r}")
    have = set(roles)
    mine = [r for r in eval_order() if r in have and portion_of(r) == portion]
    if not any(base_role(r) in RETAIN_ROLES for r in mine):
        mine += [r for r in RETAIN_ROLES if r in have]
    return sorted(mine, key=eval_order().index)


def selection_roles(roles: Iterable[str]) -> list[str]:
    """What any selection reads: the validation sets (:func:`portion_roles` with ``"val"``)."""
    return portion_roles(roles, "val")


def report_roles(roles: Iterable[str]) -> list[str]:
    """What a reported number reads: the test sets (:func:`portion_roles` with ``"test"``)."""
    return portion_roles(roles, "test")


def visible_fallback(roles: Iterable[str]) -> list[str]:
    """The retain roles unlearning trains on among ``roles`` (set names): non-empty exactly
    when a portion had no held-out retain set and fell back to them."""
    return [r for r in roles if r in RETAIN_ROLES]


def eval_order() -> list[str]:
    """Every set name an evaluation can hold, in the order tables show them."""
    out = ["forget", "forget_val", "forget_test"]
    for r in RETAIN_ROLES:
        out += [r, f"{r}_val", f"{r}_test"]
    for b in ("holdout", *EVAL_ROLES):
        out += [b, f"{b}_val", f"{b}_test"]
    return out


def find_set(names: Iterable[str], base: str) -> str | None:
    """The set of ``names`` whose role is ``base`` (``forget`` → ``forget_test`` in a test
    evaluation, ``forget_val`` in a selection, ``forget`` in an unportioned one); the test
    portion first when several are present."""
    have = list(names)
    for cand in (base, f"{base}_test", f"{base}_val"):
        if cand in have:
            return cand
    return None


def set_record(sets: Mapping[str, Any], role: str, portion: str | None = None) -> Any:
    """``sets[role]`` of a results.json model record; a role the record lacks is read in the
    record's ``portion`` (``direct_test`` or ``direct`` → ``direct_val`` in a validation record),
    a split role (``forget``) in the portion evaluated (``forget_test``; a run before portions
    has ``forget`` itself); {} if absent."""
    if role in sets:
        return sets[role]
    if portion in PORTIONS and f"{base_role(role)}_{portion}" in sets:
        return sets[f"{base_role(role)}_{portion}"]
    name = find_set(sets, role)
    return sets.get(name, {}) if name is not None else {}


# --- the selection guard -------------------------------------------------------------------

class SelectionReadsTest(RuntimeError):
    """A selection (checkpoint, early stop, calibration, search) evaluated a test row."""


_SELECTING: contextvars.ContextVar[str | None] = contextvars.ContextVar("oblivio_selecting", default=None)


@contextlib.contextmanager
def selecting(what: str) -> Iterator[None]:
    """Mark the code inside as a selection named ``what``: its evaluations must read validation
    rows only (:func:`check_selection`)."""
    token = _SELECTING.set(what)
    try:
        yield
    finally:
        _SELECTING.reset(token)


def current_selection() -> str | None:
    return _SELECTING.get()


def check_selection(portion: str | None, set_names: Iterable[str]) -> None:
    """Inside :func:`selecting`: the evaluation must be of the validation portion and hold no
    test set; anything else raises :class:`SelectionReadsTest`. Outside: nothing."""
    what = _SELECTING.get()
    if what is None:
        return
    tests = [s for s in set_names if portion_of(s) == "test"]
    if portion != "val" or tests:
        raise SelectionReadsTest(
            f"{what} is a selection and must read validation rows only, but it evaluated "
            + (f"the test set(s) {', '.join(tests)}" if tests else f"the {portion or 'unportioned'} view")
            + " (oblivio.roles: every choice reads validation, every reported number is test)")
