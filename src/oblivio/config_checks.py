"""What a valid config value is, declared on the fields, and the one validator that reads it.

A config dataclass field states its constraint with ``typing.Annotated`` (config.py's
docstring says why this and not pydantic): ``lr: Annotated[float | None, Range(gt=0)]``,
``select: Annotated[str, OneOf(("last_above_tau", "final"), "selection rule")]``,
``method: Annotated[str, Registered(METHODS)]``. :func:`check_fields` walks a dataclass
instance, nested ones included, and raises an :class:`~oblivio.errors.InputError` naming the
dotted key (``unlearn.train.lr``) and the file, before any work: never a NaN loss later.
Every float is finite whether or not it declares a range. What spans several fields (a
teacher's or judge's kind and what that kind needs) is :func:`check_gen`, called by
``config.validate``.

This module knows no config class: config.py imports it (for the markers), never the other
way round, and it imports nothing above the registries.
"""
from __future__ import annotations

import dataclasses
import math
import operator
import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Callable

from oblivio.errors import InputError
from oblivio.registry import METRICS, Registry

__all__ = ["Constraint", "Range", "OneOf", "Registered", "MetricName", "STYLES", "DTYPES", "SEED_MAX",
           "declared_fields", "is_optional", "check_fields", "check_gen", "check_method_args"]

# model.prompt: models/format.py
STYLES = ("auto", "chat", "plain")
# model.dtype: torch's names and their short forms (models/io.py maps them)
DTYPES = ("auto", "float32", "bfloat16", "float16", "fp32", "bf16", "fp16")
SEED_MAX = 2 ** 32 - 1     # numpy's seed range; torch and random accept it too


class Constraint:
    """A marker on a field that says what a valid value is. :meth:`check` gets one value (each
    item of a list) that is not None and already of the field's type; it returns what is
    wrong, or None."""

    def check(self, value: Any) -> str | None:
        raise NotImplementedError


@dataclass(frozen=True)
class Range(Constraint):
    """Bounds of a number: ``gt``/``ge`` below, ``lt``/``le`` above; ``note`` explains a bound
    (``"0 = no intervals"``). A float must also be finite (a NaN compares False with every bound)."""
    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None
    note: str = ""

    def _sides(self) -> list[tuple[str, Callable[[Any, Any], bool], float]]:
        """Each declared bound: its text, its comparison and the bound."""
        sides = ((">", operator.gt, self.gt), ("≥", operator.ge, self.ge), ("<", operator.lt, self.lt),
                 ("≤", operator.le, self.le))
        return [(f"{sign} {bound}", op, bound) for sign, op, bound in sides if bound is not None]

    def interval(self) -> str | None:
        """``(0, 1]`` for a range bounded on both sides, else None."""
        lo = self.gt if self.gt is not None else self.ge
        hi = self.lt if self.lt is not None else self.le
        if lo is None or hi is None:
            return None
        return f"{'(' if self.gt is not None else '['}{lo}, {hi}{')' if self.lt is not None else ']'}"

    def describe(self) -> str:
        """``> 0``, ``≥ 1`` or ``in (0, 1]``: the range as the messages and ``--help`` say it."""
        interval = self.interval()
        return f"in {interval}" if interval else " and ".join(text for text, _, _ in self._sides())

    def check(self, value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None             # the type check (config.from_dict) speaks about types
        if isinstance(value, float) and not math.isfinite(value):
            return f"must be a finite number {self.describe()}, got {value}"
        failed = next((text for text, op, bound in self._sides() if not op(value, bound)), None)
        if failed is None:
            return None
        # the side that failed, so "≥ 0" reads as such, and the whole range when there are two
        interval = f" (range {self.interval()})" if self.interval() else ""
        return f"must be {failed}{interval}{f' ({self.note})' if self.note else ''}, got {value}"


@dataclass(frozen=True)
class OneOf(Constraint):
    """A name from a fixed set; ``what`` names the kind in the message (``unknown dtype 'x'``)."""
    choices: tuple[str, ...]
    what: str

    def check(self, value: Any) -> str | None:
        if value in self.choices:
            return None
        return f"unknown {self.what} {value!r} (known: {', '.join(self.choices)})"


@dataclass(frozen=True)
class Registered(Constraint):
    """A name in a plugin registry (or a ``module:Name`` it imports): the registry's own
    message, with its did-you-mean."""
    registry: Registry[Any]

    def check(self, value: Any) -> str | None:
        try:
            self.registry.get(value)
        except InputError as e:
            return e.message
        return None


@dataclass(frozen=True)
class MetricName(Constraint):
    """``metric`` or ``role/metric`` naming a registered metric (checkpoint and calibration rules)."""

    def check(self, value: Any) -> str | None:
        from oblivio.roles import ROLES
        role, _, metric = value.rpartition("/")
        if role and role not in ROLES:
            return f"unknown role {role!r} in {value!r} (known: {', '.join(ROLES)})"
        return Registered(METRICS).check(metric)


def declared_fields(cls: type) -> tuple[tuple[str, Any, tuple[Any, ...]], ...]:
    """``(name, type, markers)`` of every field of dataclass ``cls``: the type without its
    ``Annotated`` wrapper, the markers it carried (constraints, config.Flag, …). Read once per class."""
    if cls not in _DECLARED:
        _DECLARED[cls] = _read_fields(cls)
    return _DECLARED[cls]


_DECLARED: dict[type, tuple[tuple[str, Any, tuple[Any, ...]], ...]] = {}


def _read_fields(cls: type) -> tuple[tuple[str, Any, tuple[Any, ...]], ...]:
    hints = typing.get_type_hints(cls, include_extras=True)
    out = []
    for f in dataclasses.fields(cls):
        tp, markers = hints[f.name], ()
        if typing.get_origin(tp) is Annotated:
            tp, *rest = typing.get_args(tp)
            markers = tuple(rest)
        out.append((f.name, tp, markers))
    return tuple(out)


def is_optional(tp: Any) -> bool:
    """Whether a field of type ``tp`` may be None (``X | None``, ``Optional[X]``, ``Any``)."""
    if tp is Any:
        return True
    return typing.get_origin(tp) in (typing.Union, types.UnionType) and type(None) in typing.get_args(tp)


def check_fields(obj: Any, prefix: str = "", file: str | None = None) -> None:
    """Every constraint declared on the fields of dataclass instance ``obj`` and of the
    dataclasses it holds; an InputError naming ``prefix.field`` (and ``file``) at the first
    value that breaks one. A constraint on a list field holds for each item."""
    for name, tp, markers in declared_fields(type(obj)):
        key = f"{prefix}.{name}" if prefix else name
        value = getattr(obj, name)
        if value is None:
            if not is_optional(tp):
                raise InputError("must not be null", file=file, field=key)
            continue
        constraints = [m for m in markers if isinstance(m, Constraint)]
        for item in value if isinstance(value, list) else [value]:
            problem = _problem(item, constraints)
            if problem is not None:
                # an optional number out of range: None may be what was meant
                unset = is_optional(tp) and not isinstance(value, list) and any(
                    isinstance(c, Range) for c in constraints)
                raise InputError(problem + (" (leave it unset for none)" if unset else ""), file=file, field=key)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            check_fields(value, key, file)


def _problem(value: Any, constraints: list[Constraint]) -> str | None:
    if isinstance(value, float) and not math.isfinite(value) and not any(isinstance(c, Range) for c in constraints):
        return f"must be a finite number, got {value}"     # a Range says so with its bounds
    for c in constraints:
        problem = c.check(value)
        if problem is not None:
            return problem
    return None


def check_method_args(method: Any, file: str | None = None) -> None:
    """Every numeric argument of a method is finite, and within the method's declared
    ``arg_ranges`` (``{"beta": (0, False)}``: > 0; ``(0, True)``: ≥ 0; a :class:`Range` where
    there is an upper bound too, ``Range(ge=0, le=1)``) when it has them."""
    ranges = getattr(method, "arg_ranges", {}) or {}
    for f in dataclasses.fields(method):
        v = getattr(method, f.name)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            continue
        key = f"unlearn.args.{f.name}"
        if not math.isfinite(v):
            raise InputError(f"must be a finite number, got {v}", file=file, field=key)
        spec = ranges.get(f.name)
        if isinstance(spec, Range):
            problem = spec.check(v)
            if problem is not None:
                raise InputError(problem, file=file, field=key)
        elif spec is not None:
            lo, inclusive = spec
            if not (v >= lo if inclusive else v > lo):
                raise InputError(f"must be {'≥' if inclusive else '>'} {lo}, got {v}", file=file, field=key)


def check_gen(g: Any, key: str, kind: str, file: str | None, allow_remote: bool) -> None:
    """A teacher or judge (config.GenConfig at ``key``; ``kind`` "teacher" or "judge"): a
    registered kind of that role, and what that kind needs; an endpoint's URL and key variable
    by the backend's policy (teachers/backends.py), before any model loads. Its numbers are
    declared on its fields (:func:`check_fields`)."""
    from oblivio.registry import JUDGES, TEACHERS
    reg = TEACHERS if kind == "teacher" else JUDGES
    if not (kind == "judge" and g.kind == "none"):
        problem = Registered(reg).check(g.kind)
        if problem is not None:
            raise InputError(problem, file=file, field=f"{key}.kind")
    if g.kind == "hf" and not g.model:
        raise InputError("kind hf needs a local model directory", file=file, field=f"{key}.model")
    if g.kind == "endpoint" and not g.url:
        raise InputError("kind endpoint needs the server's URL", file=file, field=f"{key}.url")
    if g.url is not None:
        from oblivio.endpoints import check_endpoint_url
        # the host matters only where requests are sent: an unused URL is checked for its form alone
        check_endpoint_url(g.url, allow_remote=allow_remote or g.allow_remote or g.kind != "endpoint",
                           field=f"{key}.url", file=file)
    _check_key_env(g, key, kind)


def _check_key_env(g: Any, key: str, kind: str) -> None:
    """The variable named for an endpoint's key is a name, and is set: a named but unset
    variable is an error rather than requests silently sent without a key. (It came from the
    command line, never a file: the error names no file.)"""
    import os
    import re
    name = g.api_key_env
    if name is None:
        return
    flag = f"--{kind}-key-env"
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise InputError(f"must name an environment variable ({flag} VAR), got {name!r}",
                         field=f"{key}.api_key_env")
    if g.kind == "endpoint" and not os.environ.get(name):
        raise InputError(f"the environment variable {name} named by {flag} is not set or empty; set it, or "
                         f"leave {flag} out to send no key", field=f"{key}.api_key_env")
