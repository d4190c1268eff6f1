"""Output paths checked before any work: an empty, unwritable or clashing ``--out`` is an
:class:`InputError` naming the option, raised before a model is loaded or trained.

Run-folder semantics (``.partial``, ``--overwrite``, locks) live in ``report/rundir.py``;
this module only answers "can this path be written, and would writing it destroy a file
the user did not ask to replace?".
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from oblivio.errors import InputError

#: the longest suffix a run folder's name gets while it is written (``.partial`` and the unique
#: temporary names of :mod:`oblivio.atomic`), so that a name that fits now fits at every step
_SUFFIX_ROOM = 32


def check_name_lengths(final: Path, option: str = "--out") -> None:
    """An InputError when a part of ``final``, or ``final`` with the suffixes oblivio adds while
    writing, is longer than the file system allows (checked before any work: the OS error
    would come only when the first file is written, after training)."""
    try:
        name_max = os.pathconf(final.absolute().anchor or "/", "PC_NAME_MAX")
        path_max = os.pathconf(final.absolute().anchor or "/", "PC_PATH_MAX")
    except (OSError, ValueError):
        name_max, path_max = 255, 4096
    long = [part for part in final.parts if len(os.fsencode(part)) > name_max]
    if len(os.fsencode(final.name)) + _SUFFIX_ROOM > name_max:
        long.append(final.name)
    if long:
        raise InputError(f"the folder name is too long for the file system ({len(os.fsencode(long[0]))} bytes; "
                         f"at most {name_max - _SUFFIX_ROOM} for an output name): choose a shorter {option}",
                         field=option, file=str(final)[:120] + ("…" if len(str(final)) > 120 else ""))
    if len(os.fsencode(str(final.absolute()))) + _SUFFIX_ROOM + 200 > path_max:
        raise InputError(f"the path is too long for the file system (at most about {path_max - 232} bytes for an "
                         "output path): choose a shorter " + option, field=option, file=str(final)[:120] + "…")


def check_writable(path: str | Path, *, option: str = "--out", kind: str = "dir",
                   parent_must_exist: bool = False, overwrite: bool = False) -> Path:
    """Check that ``path`` can be created as a ``kind`` ("dir" or "file") and return it.

    The nearest existing ancestor must be a directory in which a file can really be
    created (probed with a temporary file that is removed at once: ``os.access`` says yes
    to root on /proc). ``kind="file"``: an existing directory is an error, an existing file
    is one unless ``overwrite``; ``parent_must_exist``: a missing parent folder is an error.
    """
    text = str(path)
    if not text.strip():
        raise InputError("must not be empty", field=option)
    p = Path(text)
    check_name_lengths(p, option)
    from oblivio.atomic import check_replaceable
    if p.is_symlink() or (p.exists() and not (p.is_dir() or p.is_file())):
        check_replaceable(p, what=kind)     # a link, a device, a FIFO: never written through or replaced
    if kind == "file":
        if p.is_dir():
            raise InputError(f"{option} is an existing directory; give a file name", file=text, field=option)
        if p.exists() and not overwrite:
            raise InputError(f"{option} already exists; choose another name or pass --overwrite to replace it",
                             file=text, field=option)
    elif p.exists() and not p.is_dir():
        raise InputError(f"{option} is an existing file, not a folder", file=text, field=option)
    parent = p.absolute().parent
    if parent_must_exist and not parent.is_dir():
        raise InputError(f"the folder of {option} does not exist: {parent}", file=text, field=option)
    anc = parent
    while not anc.exists() and anc != anc.parent:
        anc = anc.parent
    if not anc.is_dir():
        raise InputError(f"cannot create {option}: {anc} is a file, not a folder", file=text, field=option)
    try:
        fd, probe = tempfile.mkstemp(dir=anc, prefix=".oblivio-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise InputError(f"cannot write there ({e.strerror or e})", file=text, field=option) from None
    return p
