"""Run folders that are either complete or absent.

Work happens in ``<run>.partial``; only a finished run is renamed to ``<run>``. On an
input error nothing is left; on a training failure the folder becomes ``<run>.failed``
with ``error.txt``, so a half-written run is never mistaken for a result. In a
multi-process run only the main process writes.
"""
from __future__ import annotations

import shutil
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from oblivio.errors import InputError


def default_run_dir(kind: str) -> Path:
    return Path("runs") / f"{kind}-{time.strftime('%Y%m%d-%H%M%S')}"


@contextmanager
def run_folder(path: str | Path, *, main: bool = True, overwrite: bool = False) -> Iterator[Path]:
    final = Path(path)
    work = final.with_name(final.name + ".partial")
    if main:
        if final.exists() and not overwrite:
            raise InputError("run folder already exists; choose another --out or pass --overwrite",
                             file=str(final))
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
    try:
        yield work
    except InputError:
        if main:
            shutil.rmtree(work, ignore_errors=True)
        raise
    except BaseException as e:
        if main and work.exists():
            failed = final.with_name(final.name + ".failed")
            shutil.rmtree(failed, ignore_errors=True)
            (work / "error.txt").write_text(f"{type(e).__name__}: {e}\n")
            work.rename(failed)
        raise
    if main:
        if final.exists():
            shutil.rmtree(final)
        work.rename(final)
