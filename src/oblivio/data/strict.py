"""Strict reading of user text files (JSONL data, JSON maps): every problem is an InputError.

What a user's file can hold that Python's ``json`` module would turn into a traceback or
silently accept, and what is done about it (file and line named each time):

* not UTF-8 (a UTF-16/32 byte-order mark, Latin-1, binary garbage with NUL bytes) → error
  (a UTF-8 byte-order mark is accepted and skipped);
* a directory or a missing path given as the file → error;
* nesting deeper than :data:`MAX_DEPTH` (``RecursionError`` in ``json``) → error;
* ``NaN``/``Infinity`` literals, numbers that overflow to infinity, integers with more
  digits than Python parses (``ValueError``) → error;
* lone UTF-16 surrogates such as ``"\\ud800"`` (not encodable as UTF-8: tokenizers and
  writers fail later) → error naming the field;
* a key given twice in one object (``json`` keeps the last silently) → error;
* blank or whitespace-only lines are skipped (their line numbers still count).
"""
from __future__ import annotations

import difflib
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from oblivio.errors import InputError
from oblivio.textio import check_file, read_text_lines  # noqa: F401  (re-exported)

MAX_DEPTH = 32   # a QA row is 3 levels deep at most; `meta` gets the rest
def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid JSON number")


def _finite_float(text: str) -> float:
    v = float(text)
    if not math.isfinite(v):
        raise ValueError(f"number {text[:20]}{'…' if len(text) > 20 else ''} is out of range")
    return v


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"key {k!r} appears twice in one object")
        out[k] = v
    return out


def parse_json_line(text: str, *, file: str, line: int) -> Any:
    """One JSON value, strictly: see the module docstring for what is refused."""
    depth = _max_depth(text) if text.count("[") + text.count("{") > MAX_DEPTH else 0
    if depth > MAX_DEPTH:
        raise InputError(f"JSON nested {depth} levels deep (at most {MAX_DEPTH})", file=file, line=line)
    try:
        obj = json.loads(text, parse_constant=_no_constant, parse_float=_finite_float,
                         object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as e:
        raise InputError(f"invalid JSON: {e.msg} (column {e.colno})", file=file, line=line + e.lineno - 1) from None
    except RecursionError:
        raise InputError("JSON nested too deeply", file=file, line=line) from None
    except ValueError as e:   # our hooks, and integers longer than Python's digit limit
        msg = str(e)
        if "integer string conversion" in msg:
            msg = "a number with thousands of digits is out of range"
        raise InputError(f"invalid JSON: {msg}", file=file, line=line) from None
    _check_strings(obj, file=file, line=line, path=None)
    return obj


def _max_depth(text: str) -> int:
    """Bracket depth outside strings: checked before ``json`` recurses into it."""
    depth = best = 0
    in_str = esc = False
    for ch in text:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            best = max(best, depth)
        elif ch in "]}":
            depth -= 1
    return best


def _check_strings(obj: Any, *, file: str, line: int, path: str | None) -> None:
    """Every string (keys too) must be encodable as UTF-8: no lone surrogates; a huge int
    is refused as well (it would overflow every tensor and JSON writer downstream)."""
    if isinstance(obj, str):
        try:
            obj.encode("utf-8")
        except UnicodeEncodeError as e:
            raise InputError(f"lone surrogate {obj[e.start]!r} at character {e.start + 1} "
                             "(not valid Unicode text)", file=file, line=line, field=path) from None
    elif isinstance(obj, bool):
        return
    elif isinstance(obj, int):
        if abs(obj) >= 2 ** 63:
            raise InputError(f"integer {str(obj)[:20]}… is out of range (64-bit)", file=file, line=line,
                             field=path)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            safe = k.encode("utf-8", "backslashreplace").decode("utf-8")   # printable in the message
            sub = safe if path is None else f"{path}.{safe}"
            _check_strings(k, file=file, line=line, path=sub)
            _check_strings(v, file=file, line=line, path=sub)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            _check_strings(v, file=file, line=line, path=f"{path}[{i}]")


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


def read_json_file(path: str | Path, *, what: str = "JSON file") -> Any:
    """One JSON document from a file, with the same strictness as a JSONL line."""
    p = Path(path)
    text = "\n".join(t for _, t in read_text_lines(p, what=what))
    return parse_json_line(text, file=str(p), line=1) if text.strip() else _empty(p, what)


def _empty(p: Path, what: str) -> Any:
    raise InputError(f"{what} is empty", file=str(p))
