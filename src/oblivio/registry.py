"""One small registry used for methods, metrics, samplers and attacks.

register/get/names; a duplicate name is an error at import time, an unknown name is an
:class:`~oblivio.errors.InputError` that suggests the closest known names.
"""
from __future__ import annotations

import difflib
from typing import Any, Callable, Generic, Iterator, TypeVar

from oblivio.errors import InputError

T = TypeVar("T")


class Registry(Generic[T]):
    """A name → object map with helpful errors."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def deco(obj: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} '{name}' is registered twice")
            self._items[name] = obj
            return obj
        return deco

    def add(self, name: str, obj: T) -> None:
        self.register(name)(obj)

    def get(self, name: str, *, field: str | None = None) -> T:
        if name not in self._items:
            close = difflib.get_close_matches(name, list(self._items), n=3)
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise InputError(f"unknown {self.kind} '{name}' (known: {', '.join(sorted(self._items))}){hint}",
                             field=field or self.kind)
        return self._items[name]

    def names(self) -> list[str]:
        return sorted(self._items)

    def items(self) -> Iterator[tuple[str, T]]:
        return iter(sorted(self._items.items()))

    def __contains__(self, name: Any) -> bool:
        return name in self._items
