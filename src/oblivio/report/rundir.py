"""Run folders that are either complete or absent, never clobber anything else, and survive
interruption.

Work happens in ``<run>.partial``; only a finished run is renamed to ``<run>``. On an
input error nothing is left; on a training failure, Ctrl-C or SIGTERM the folder becomes
``<run>.failed`` with ``error.txt`` and its checkpoints, so a half-written run is never
mistaken for a result and can be resumed (``oblivio unlearn --resume``).

Safety rules (issue 9):

* every run folder carries a marker file, ``.oblivio-run`` (kind, version, pid, created),
  written before the folder appears under its name; ``--overwrite`` replaces only a folder
  with that marker, anything else is an :class:`InputError` and nothing is touched;
* ``<run>.partial`` is locked (``fcntl.flock`` on ``.oblivio-lock``, holding the writer's
  pid) while a run writes it. The kernel drops the lock when the process dies, even on
  ``kill -9``, so a stale lock never blocks anyone; a live one makes a second run on the
  same ``--out`` exit 2 naming the first's pid, and the live ``.partial`` is never touched;
* a ``.partial``/``.failed`` folder with checkpoints is not deleted by a new run unless
  ``--overwrite`` is given: the user is told to ``--resume`` or ``--overwrite``;
* ``--out`` is checked (non-empty, writable) before any work (:func:`preflight`).

In a multi-process run only the main process writes.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from oblivio.errors import InputError

MARKER = ".oblivio-run"
LOCK = ".oblivio-lock"
SUFFIXES = (".partial", ".failed")


class Terminated(KeyboardInterrupt):
    """Raised in the main thread on SIGTERM, so the run ends as on Ctrl-C (``.failed``)."""


def default_run_dir(kind: str) -> Path:
    """``runs/<kind>-<time>-<random>``: two runs started in the same second get different folders."""
    import secrets
    return Path("runs") / f"{kind}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


def is_run_folder(path: str | Path) -> bool:
    """True for a folder that oblivio created as a run folder (it carries the marker)."""
    return (Path(path) / MARKER).is_file()


def checkpoints_in(folder: str | Path) -> list[Path]:
    """Completed checkpoints (``checkpoints/step-K`` with ``trainer_state.json``), by step."""
    root = Path(folder) / "checkpoints"
    found = []
    for p in root.glob("step-*") if root.is_dir() else ():
        tail = p.name[5:]
        if tail.isdigit() and (p / "trainer_state.json").is_file():
            found.append((int(tail), p))
    return [p for _, p in sorted(found)]


def lock_holder(folder: str | Path) -> int | None:
    """The pid of the live process holding ``folder``'s lock, or None (no lock or a stale one)."""
    import fcntl
    lock = Path(folder) / LOCK
    try:
        fd = os.open(lock, os.O_RDWR)
    except FileNotFoundError:
        return None
    except OSError:
        return -1
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        try:
            return int(os.pread(fd, 32, 0).decode().split()[0])
        except (ValueError, IndexError, OSError):
            return -1          # held, pid not yet written
    finally:
        os.close(fd)           # closing drops a lock we may have taken
    return None


def _lock(folder: Path) -> IO[str]:
    """Take ``folder``'s lock (non-blocking) and write our pid into it; returns the open file."""
    import fcntl
    f = open(folder / LOCK, "a+")  # noqa: SIM115 - held open for the whole run: it is the lock
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.close()
        raise _busy(folder, lock_holder(folder)) from None
    f.seek(0)
    f.truncate()
    f.write(f"{os.getpid()}\n")
    f.flush()
    return f


def _busy(folder: Path, pid: int | None) -> InputError:
    who = f"pid {pid}" if pid and pid > 0 else "another process"
    return InputError(f"is being written by a running oblivio run ({who}); wait for it to finish or "
                      "choose another --out (a live run's folder is never touched)", file=str(folder))


def _final_path(path: str | Path) -> Path:
    if path is None or not str(path).strip():
        raise InputError("the output folder must not be empty", field="--out")
    final = Path(path)
    if final.name in ("", ".", "..") or final.resolve() == Path(final.anchor or "/").resolve():
        raise InputError("not a usable run folder name; give a new folder such as runs/my-run", file=str(path))
    from oblivio.atomic import check_replaceable
    from oblivio.paths import check_name_lengths
    check_name_lengths(final)
    for p in (final, *(_sibling(final, s) for s in SUFFIXES)):
        check_replaceable(p, what="dir")      # never a link, a device or a file where a run folder goes
    return final


def _check_writable(final: Path) -> None:
    if final.exists() and not final.is_dir():
        raise InputError("exists and is not a folder", file=str(final))
    anc = final.parent.absolute()
    while not anc.exists():
        anc = anc.parent
    if not anc.is_dir():
        raise InputError(f"cannot create the run folder: {anc} is not a folder", file=str(final))
    try:   # a real probe: permission bits say nothing about /proc, read-only mounts, quotas
        os.rmdir(tempfile.mkdtemp(prefix=".oblivio-probe-", dir=anc))
    except OSError as e:
        raise InputError(f"cannot write the run folder here ({e.strerror or e})", file=str(final)) from None


def _sibling(final: Path, suffix: str) -> Path:
    return final.with_name(final.name + suffix)


def preflight(path: str | Path, *, overwrite: bool = False, resume: bool = False) -> Path:
    """Every check on an output folder that can be made before any work; returns its path.

    Raises :class:`InputError` (exit 2, nothing touched) for an empty or unwritable path, a
    folder being written by a live run, a finished run without ``overwrite``, a folder that
    is not an oblivio run (even with ``overwrite``) and an interrupted run with checkpoints
    that would be lost (neither ``resume`` nor ``overwrite``).
    """
    final = _final_path(path)
    _check_writable(final)
    for suffix in SUFFIXES:
        w = _sibling(final, suffix)
        if not w.exists():
            continue
        if not is_run_folder(w):
            raise InputError(f"exists and is not an oblivio run folder (no {MARKER} marker); move it away "
                             "or choose another --out: nothing was touched", file=str(w))
        pid = lock_holder(w)
        if pid is not None:
            raise _busy(w, pid)
        ck = checkpoints_in(w)
        if ck and not resume and not overwrite:
            raise InputError(f"holds checkpoints of an interrupted run (last: {ck[-1].name}); continue it "
                             f"with `oblivio unlearn --resume {w}` or start over with --overwrite "
                             "(which deletes them)", file=str(w))
    if final.exists():
        if resume:
            raise InputError("this run is finished; there is nothing to resume", file=str(final))
        if not overwrite:
            raise InputError("run folder already exists; choose another --out or pass --overwrite",
                             file=str(final))
        if not is_run_folder(final):
            raise InputError(f"--overwrite replaces only oblivio run folders (marked by {MARKER}) and this "
                             "is not one; nothing was touched: choose another --out", file=str(final))
    return final


def resolve_resume(run: str | Path) -> tuple[Path, Path]:
    """(final run path, interrupted folder to continue) for ``--resume RUN``.

    ``RUN`` is the ``.partial``/``.failed`` folder or the run's name; the interrupted folder
    with the latest checkpoint is chosen.
    """
    p = _final_path(run)
    final = p
    for suffix in SUFFIXES:
        if p.name.endswith(suffix):
            final = p.with_name(p.name[: -len(suffix)])
    cands = [w for w in (_sibling(final, s) for s in SUFFIXES) if w.is_dir() and is_run_folder(w)]
    with_ck = [(int(checkpoints_in(w)[-1].name[5:]), w) for w in cands if checkpoints_in(w)]
    if not with_ck:
        if final.is_dir() and is_run_folder(final):
            raise InputError("this run is finished; there is nothing to resume", file=str(run))
        raise InputError("no interrupted run with a checkpoint here (looked for "
                         f"{final.name}.partial and {final.name}.failed with checkpoints/step-K; a run "
                         "writes them every unlearn.train.checkpoint_every steps)", file=str(run))
    return final, max(with_ck)[1]


def _marker(kind: str) -> str:
    import importlib.metadata as md
    try:    # the installed distribution's version (importing the package here would be a cycle)
        version = md.version("oblivio")
    except md.PackageNotFoundError:
        version = "unknown"
    return json.dumps({"kind": kind, "version": version, "pid": os.getpid(),
                       "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}, indent=1) + "\n"


def _remove_run(folder: Path) -> None:
    """Delete an oblivio run folder that no live run holds (we take its lock first)."""
    if not folder.exists():
        return
    if not is_run_folder(folder):
        raise InputError(f"not an oblivio run folder (no {MARKER}); nothing was touched", file=str(folder))
    lk = _lock(folder) if (folder / LOCK).exists() else None
    try:
        shutil.rmtree(folder)
    finally:
        if lk is not None:
            lk.close()


def _create(final: Path, work: Path, kind: str) -> IO[str]:
    """Make ``work`` appear complete with marker and held lock (built aside, then renamed)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.", suffix=".new"))
    (tmp / MARKER).write_text(_marker(kind))
    lk = _lock(tmp)
    try:
        tmp.rename(work)
    except OSError:     # another run made `work` between our checks and now
        lk.close()
        shutil.rmtree(tmp, ignore_errors=True)
        raise _busy(work, lock_holder(work)) from None
    return lk


def _mark_failed(work: Path, failed: Path, e: BaseException) -> None:
    """Rename ``work`` to ``failed`` with ``error.txt``; the rename happens even when the error
    note cannot be written (a full disk is a common reason to be here)."""
    if failed.exists():
        _remove_run(failed)
    hint = f"continue with: oblivio unlearn --resume {failed}\n" if checkpoints_in(work) else ""
    try:
        (work / "error.txt").write_text(f"{type(e).__name__}: {e}\n{hint}")
    except OSError:
        pass
    work.rename(failed)        # still locked by us: the lock file moves with it
    (failed / LOCK).unlink(missing_ok=True)


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Terminated("received SIGTERM")
    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


@contextmanager
def run_folder(path: str | Path, *, main: bool = True, overwrite: bool = False, resume: bool = False,
               kind: str = "run") -> Iterator[Path]:
    """Yield ``<path>.partial`` to write into; rename it to ``path`` on success.

    ``resume=True`` continues an interrupted ``.partial``/``.failed`` folder (with its
    checkpoints) instead of starting a fresh one.
    """
    final = Path(path)
    work = _sibling(final, ".partial")
    lk: IO[str] | None = None
    src = work
    if main:
        final = preflight(path, overwrite=overwrite, resume=resume)
        work = _sibling(final, ".partial")
        if resume:
            _, src = resolve_resume(final)
            lk = _lock(src)
            if src != work:            # continue a .failed run under the .partial name
                if work.exists():
                    _remove_run(work)  # a stale .partial without checkpoints (preflight)
                (src / "error.txt").unlink(missing_ok=True)
                src.rename(work)
        else:
            _remove_run(work)          # stale (no live lock); checkpoints only with overwrite
            if overwrite:
                _remove_run(_sibling(final, ".failed"))
            lk = _create(final, work, kind)
    try:
        with _sigterm_as_interrupt():
            yield work
    except InputError:
        # nothing is left of a fresh run; a resumed one is put back as it was found
        if main and not resume:
            shutil.rmtree(work, ignore_errors=True)
        elif main and src != work and work.exists() and not src.exists():
            work.rename(src)
            (src / LOCK).unlink(missing_ok=True)
        raise
    except BaseException as e:
        if main and work.exists():
            _mark_failed(work, _sibling(final, ".failed"), e)
        raise
    else:
        if main:
            from oblivio.atomic import install_dir
            # a finished run being overwritten (preflight checked it is ours) is swapped out in
            # one step and deleted only then: an interruption leaves one complete run here
            install_dir(work, final)
            (final / LOCK).unlink(missing_ok=True)
    finally:
        if lk is not None:
            lk.close()


@contextmanager
def new_version(folder: str | Path) -> Iterator[Path]:
    """A new version of the finished run folder ``folder``, built beside it: every file of the
    old one as a hard link (a copy where links are not possible), the marker included, the lock
    not. The block writes into it (atomic writes replace a link, never the old file); when the
    block ends without error the new version replaces the old in one step (atomic.install_dir),
    else it is removed and the old one is untouched. The old folder's lock is held throughout,
    so no other oblivio process writes it meanwhile."""
    from oblivio.atomic import replace_dir
    final = Path(folder)
    if not is_run_folder(final):
        raise InputError(f"not an oblivio run folder (no {MARKER}); nothing was touched", file=str(final))
    had_lock = (final / LOCK).exists()
    lk = _lock(final)
    try:
        with replace_dir(final) as tmp:
            _link_tree(final, tmp)
            yield tmp
    finally:
        lk.close()
        if not had_lock:      # a failure leaves the folder as it was: without the lock file we made
            (final / LOCK).unlink(missing_ok=True)


def _link_tree(src: Path, dst: Path) -> None:
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if rel.as_posix() == LOCK or path.is_symlink():
            continue
        target = dst / rel
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, target)
        except OSError:
            shutil.copy2(path, target)
