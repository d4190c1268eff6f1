"""Reading a user's text file strictly (UTF-8 only, encodings and binary files named), parsing
JSON strictly (:func:`parse_json_line`, :func:`read_json_file`) and YAML strictly
(:func:`load_yaml`: no duplicate keys, no aliases).

At the bottom of the package (it imports only ``errors``) so that ``config.py`` (YAML),
``data/`` (JSONL rows, neighbour maps) and ``models/check.py`` (a model folder's JSON) read
with the same checks and none of them imports another for it.

What a user's JSON can hold that Python's ``json`` module would turn into a traceback or
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

import functools
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from oblivio.errors import InputError

_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
         (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"))


def check_file(path: Path, *, what: str = "data file") -> None:
    """A readable regular file, else an InputError saying what the path is instead."""
    if path.is_dir():
        raise InputError(f"{what} is a directory, not a file", file=str(path))
    if not path.exists():
        raise InputError(f"{what} not found", file=str(path))
    if not path.is_file():
        raise InputError(f"{what} is not a regular file", file=str(path))


def read_text_lines(path: Path, *, what: str = "data file") -> Iterator[tuple[int, str]]:
    """(line number, text) of a UTF-8 text file; an encoding problem names the line."""
    check_file(path, what=what)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"cannot read {what}: {e.strerror or e}", file=str(path)) from None
    for bom, name in _BOMS:
        if data.startswith(bom):
            raise InputError(f"{what} is {name} (byte-order mark); save it as UTF-8", file=str(path))
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for n, raw in enumerate(data.split(b"\n"), start=1):
        nul = raw.find(b"\x00")
        if nul >= 0:
            raise InputError(f"{what} is not text (NUL byte at column {nul + 1}); "
                             "expected UTF-8 JSON lines", file=str(path), line=n)
        try:
            yield n, raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise InputError(f"not valid UTF-8 (byte 0x{raw[e.start]:02x} at column {e.start + 1}); "
                             "save the file as UTF-8", file=str(path), line=n) from None


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


def read_json_file(path: str | Path, *, what: str = "JSON file") -> Any:
    """One JSON document from a file, with the same strictness as a JSONL line."""
    p = Path(path)
    text = "\n".join(t for _, t in read_text_lines(p, what=what))
    return parse_json_line(text, file=str(p), line=1) if text.strip() else _empty(p, what)


def _empty(p: Path, what: str) -> Any:
    raise InputError(f"{what} is empty", file=str(p))


def load_yaml(text: str, *, file: str | None = None, field: str | None = None) -> Any:
    """``text`` parsed as YAML by a safe loader that refuses what a config never needs and a
    received file may abuse; every refusal is an InputError naming ``file`` and the line.

    * a **duplicate key** in a mapping (``lr`` twice): plain YAML keeps the last one silently,
      so the value a user reads first is not the one used;
    * an **alias** (``*name``): a config is a small tree of values, written out in full by
      every config.yaml oblivio saves, so it has no use for them; and nested aliases expand
      exponentially (nine levels of a "billion laughs" file took 167 s to a MemoryError).
      Refusing every alias is simpler to state and to trust than a bound on expansion.
      Anchors alone (``&name``) are harmless and accepted.
    """
    import yaml
    loader = _strict_loader()(text)
    loader.oblivio_where = (file, field)
    try:
        return loader.get_single_data()
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise InputError(f"invalid YAML: {getattr(e, 'problem', None) or e}", file=file, field=field,
                         line=(mark.line + 1) if mark else None) from None
    except RecursionError:
        raise InputError("invalid YAML: nested too deeply", file=file, field=field) from None
    finally:
        loader.dispose()


@functools.cache
def _strict_loader() -> Any:
    """The loader class of :func:`load_yaml`, built on first use (``yaml`` is imported lazily)."""
    import yaml

    class StrictSafeLoader(yaml.SafeLoader):
        oblivio_where: tuple[str | None, str | None] = (None, None)

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()
                file, field = self.oblivio_where
                raise InputError(f"YAML aliases are not accepted ('*{event.anchor}'): write the value out "
                                 "in full", file=file, field=field, line=event.start_mark.line + 1)
            return super().compose_node(parent, index)

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            if isinstance(node, yaml.MappingNode):
                seen: dict[Any, int] = {}
                for key_node, _ in node.value:
                    if key_node.tag == "tag:yaml.org,2002:merge":
                        continue
                    key = self.construct_object(key_node, deep=True)
                    line = key_node.start_mark.line + 1
                    try:
                        first = seen.get(key)
                    except TypeError:        # an unhashable key: the base class names it
                        continue
                    if first is not None:
                        file, field = self.oblivio_where
                        raise InputError(f"duplicate key '{key}' (first on line {first}): a key appears once in a "
                                         "mapping", file=file, field=field, line=line)
                    seen[key] = line
            return super().construct_mapping(node, deep=deep)

    return StrictSafeLoader
