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
