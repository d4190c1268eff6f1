"""Writes that never leave half a file and never replace what oblivio should not.

Every file oblivio writes goes through :func:`write_text` / :func:`write_bytes` /
:func:`open_atomic`: the content is written to a temporary file with a unique name
(``tempfile.mkstemp``) in the destination's own folder, flushed, and moved over the
destination with ``os.replace``, so a reader (or a second oblivio writing the same path at the
same time) sees the old file or the new one, never a mix. A folder is built the same way by
:func:`replace_dir`. A destination that exists and is not a regular file (a symbolic link, a
device such as ``/dev/null``, a FIFO, a folder where a file is expected) is never replaced:
that is an :class:`~oblivio.errors.InputError`, raised before anything is written.

An ``OSError`` while writing (disk full, a name too long, permission) becomes an
:class:`~oblivio.errors.OutputProblem` naming the file; the temporary file is removed and the
destination is left as it was.

:func:`exclusive_lock` serialises the processes that build the same cache entry, so it is
built once and the others wait, then reuse it.
"""
from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Callable

from oblivio.errors import InputError, OutputProblem


def check_replaceable(path: str | Path, *, what: str = "file") -> Path:
    """``path`` if it is absent or a regular file (``what="file"``) / a real folder
    (``what="dir"``); an InputError for a link, a device, a FIFO or the wrong kind."""
    p = Path(path)
    try:
        st = os.lstat(p)
    except FileNotFoundError:
        return p
    except OSError as e:
        raise OutputProblem.from_os(e, p) from None
    if stat.S_ISLNK(st.st_mode):
        raise InputError("is a symbolic link; oblivio never writes through or replaces one: give the real path "
                         "or another name", file=str(p))
    ok = stat.S_ISREG(st.st_mode) if what == "file" else stat.S_ISDIR(st.st_mode)
    if not ok:
        kind = ("a folder" if stat.S_ISDIR(st.st_mode) else "a device or special file" if not
                stat.S_ISREG(st.st_mode) else "a file")
        raise InputError(f"is {kind}, not a {'regular file' if what == 'file' else 'folder'}; oblivio never "
                         "replaces it: choose another name", file=str(p))
    return p


@contextmanager
def open_atomic(path: str | Path, mode: str = "w", *, encoding: str | None = "utf-8") -> Iterator[IO[Any]]:
    """A file handle whose content replaces ``path`` only when the block ends without error."""
    p = check_replaceable(path)
    binary = "b" in mode
    try:
        fd, tmp = tempfile.mkstemp(dir=p.parent if str(p.parent) else ".", prefix=f".{p.name[:80]}.",
                                   suffix=".tmp")
    except OSError as e:
        raise OutputProblem.from_os(e, p) from None
    try:
        fh: IO[Any] = os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding=encoding)
        with fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _default_mode())
        check_replaceable(p)          # a link or device may have appeared while we wrote
        os.replace(tmp, p)
    except OSError as e:
        _unlink(tmp)
        raise OutputProblem.from_os(e, p) from None
    except BaseException:
        _unlink(tmp)
        raise


def write_text(path: str | Path, text: str, *, encoding: str = "utf-8") -> Path:
    with open_atomic(path, "w", encoding=encoding) as fh:
        fh.write(text)
    return Path(path)


def write_bytes(path: str | Path, data: bytes) -> Path:
    with open_atomic(path, "wb", encoding=None) as fh:
        fh.write(data)
    return Path(path)


@contextmanager
def replace_dir(path: str | Path) -> Iterator[Path]:
    """A fresh temporary folder beside ``path``; when the block ends without error it becomes
    ``path``. An existing ``path`` (which the caller has checked may be replaced) is swapped
    out in one step and deleted only after the new folder is in place."""
    p = check_replaceable(path, what="dir")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=p.parent, prefix=f".{p.name[:80]}.", suffix=".tmp"))
    except OSError as e:
        raise OutputProblem.from_os(e, p) from None
    try:
        yield tmp
        install_dir(tmp, p)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise OutputProblem.from_os(e, p) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def install_dir(new: Path, dest: Path) -> None:
    """Move the complete folder ``new`` to ``dest``; an existing ``dest`` is exchanged with it
    atomically where the kernel can (``renameat2(RENAME_EXCHANGE)``), else moved aside first,
    and only then deleted: at every instant one complete folder is at ``dest`` (or at its
    aside name)."""
    if not dest.exists():
        os.rename(new, dest)
        return
    aside = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name[:80]}.", suffix=".old"))
    os.rmdir(aside)
    if exchange(new, dest):
        os.rename(new, aside)       # `new` now holds the old folder: a hidden name while it is deleted
    else:
        os.rename(dest, aside)
        os.rename(new, dest)
    shutil.rmtree(aside, ignore_errors=True)


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2`` with ``RENAME_EXCHANGE``); False where
    the platform or file system does not support it (nothing was changed then)."""
    import ctypes
    import ctypes.util
    import sys
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EXDEV):
        return False
    raise OSError(err, os.strerror(err), str(b))


@contextmanager
def exclusive_lock(path: str | Path, *, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Exclusive lock on the lock file ``path`` (POSIX ``flock``); ``on_wait`` is called once
    when another process holds it. Where ``flock`` is missing there is no lock: a race then
    only costs building the same entry twice (each build is installed atomically)."""
    try:
        import fcntl
    except ImportError:          # not POSIX
        yield
        return
    with open(path, "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _read_umask() -> int:
    # os.umask can only be read by setting it: done once, at import, not while other threads
    # may be creating files (they would get the temporary mask)
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


_UMASK = _read_umask()


def _default_mode() -> int:
    # mkstemp creates 0600; a written result should carry the user's usual permissions
    return 0o666 & ~_UMASK


def _unlink(p: str | Path) -> None:
    try:
        os.unlink(p)
    except OSError:
        pass
