"""Checks of a data row's fields (:func:`check_fields`: an unknown key is an error with the
closest known name). Reading the rows strictly — encodings, nesting, numbers, duplicate keys —
is :mod:`oblivio.textio`'s (:func:`~oblivio.textio.parse_json_line`), below every package, so
that model folders (models/check.py) read their JSON with the same checks without importing
``data``.
"""
from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from oblivio.errors import InputError


def check_fields(obj: dict[str, Any], known: Iterable[str], *, file: str, line: int) -> None:
    """Unknown keys are an error with the closest known name (a typo is never ignored)."""
    names = sorted(known)
    for k in obj:
        if k in names:
            continue
        close = difflib.get_close_matches(k, names, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise InputError(f"unknown field; {hint}(known: {', '.join(n for n in names)}; put free-form "
                         "extras under \"meta\")", file=file, line=line, field=k)
