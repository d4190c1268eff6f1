"""Reading a user's text file strictly (UTF-8 only, encodings and binary files named), and
parsing YAML strictly (:func:`load_yaml`: no duplicate keys, no aliases).

At the bottom of the package (it imports only ``errors``) so that ``config.py`` reads YAML
with the same checks as ``data/strict.py`` reads JSONL.
"""
from __future__ import annotations

import functools
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
