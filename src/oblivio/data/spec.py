"""What a data spec names: the embedded world, TOFU, or a file.

The one place that reads a ``--data`` / ``data.path`` string. Built-in data is named by an
explicit scheme: ``world`` or ``world:<preset>``, ``tofu`` or ``tofu:<split>``, ``real`` or
``real:<set>`` (a real-knowledge set shipped with oblivio, ``data/real/<set>.jsonl``); anything
else is a path. A file is never taken for built-in data because of how its name starts
(``world_custom.jsonl`` and ``tofu_subset.jsonl`` are files); a ``Path`` object is always a
path. A missing file is an :class:`InputError` naming it, with a did-you-mean when the
string looks like a mistyped scheme (``word:default``, ``tofu-forget01``).
"""
from __future__ import annotations

import difflib
import re
from pathlib import Path

from oblivio.errors import InputError

#: scheme → an example name after the colon (used in messages)
SCHEMES = {"world": "default", "tofu": "forget01", "real": "smollm2"}
#: the real-knowledge set when ``real`` is given without one
REAL_DEFAULT_SET = "smollm2"
REAL_DIR = Path(__file__).resolve().parent / "real"
#: TOFU's split when ``tofu`` is given without one
TOFU_DEFAULT_SPLIT = "forget01"


def data_scheme(spec: str | Path | None) -> tuple[str, str] | None:
    """``("world", preset)``, ``("tofu", split)`` or ``("real", set)`` for built-in data, else
    None (a path).

    The name is ``""`` for a bare ``world`` / ``tofu`` (the config's preset, TOFU's
    ``forget01``). ``world:`` with nothing after the colon is an InputError."""
    if spec is None or isinstance(spec, Path):
        return None
    head, sep, name = str(spec).partition(":")
    if head not in SCHEMES:
        return None
    if sep and not name.strip():
        raise InputError(f"'{head}:' needs a name after the colon, e.g. {head}:{SCHEMES[head]}", field="data.path")
    return head, name.strip()


def check_data_file(spec: str | Path) -> None:
    """A data path that does not exist: an InputError naming it, and the scheme it probably
    meant when it looks like a mistyped one."""
    if Path(spec).exists():
        return
    guess = _scheme_guess(str(spec))
    hint = (f"; did you mean '{guess}'? (built-in data: world, world:<preset>, tofu:<split>, real)"
            if guess else "")
    raise InputError(f"data file not found{hint}", file=str(spec), field="data.path")


# a name with a file suffix is a file the user misnamed, never a scheme typo
_FILE_SUFFIX = re.compile(r"\.(jsonl|json|txt|csv|ya?ml)$", re.IGNORECASE)


def _scheme_guess(s: str) -> str | None:
    if _FILE_SUFFIX.search(s):
        return None
    if re.fullmatch(r"forget\d\d", s.strip()):
        return f"tofu:{s.strip()}"
    m = re.match(r"([A-Za-z]+)[:\-_/ ]?(.*)$", s.strip())
    if m is None:
        return None
    head, rest = m.groups()
    close = difflib.get_close_matches(head.lower(), list(SCHEMES), n=1, cutoff=0.6)
    if not close:
        return None
    return f"{close[0]}:{rest}" if rest else close[0]


def real_set(name: str) -> Path:
    """The shipped real-knowledge file ``name`` (``""``: the default), or an InputError that
    lists the shipped sets."""
    name = name or REAL_DEFAULT_SET
    known = sorted(p.stem for p in REAL_DIR.glob("*.jsonl"))
    if name not in known:
        raise InputError(f"no real-knowledge set {name!r}; shipped: {', '.join(known) or 'none'}",
                         field="data.path")
    return REAL_DIR / f"{name}.jsonl"
