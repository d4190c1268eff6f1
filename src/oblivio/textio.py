"""Reading a user's text file strictly (UTF-8 only, encodings and binary files named).

At the bottom of the package (it imports only ``errors``) so that ``config.py`` reads YAML
with the same checks as ``data/strict.py`` reads JSONL.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

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
