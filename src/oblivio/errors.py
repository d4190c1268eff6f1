"""Errors that the CLI turns into a clear message and exit code 2.

Every user-facing input problem (a malformed JSONL line, a missing field, an unknown
method, a bad config key, a missing model directory) raises :class:`InputError` with the
file, line and field it concerns, so the message can point at the exact spot.
"""
from __future__ import annotations


class InputError(ValueError):
    """Bad user input. ``str()`` names file, line and field where known."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.field = field
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = []
        if self.file is not None:
            where.append(str(self.file) + (f":{self.line}" if self.line is not None else ""))
        if self.field is not None:
            where.append(f"field '{self.field}'")
        return (", ".join(where) + ": " if where else "") + self.message


class TrainingDiverged(RuntimeError):
    """Raised by the loop when the loss becomes NaN/inf; names the step."""

    def __init__(self, step: int, parts: dict[str, float]) -> None:
        self.step = step
        self.parts = parts
        super().__init__(f"loss is not finite at step {step} ({parts}); stopped cleanly, "
                         "no further updates were applied")


class OutputProblem(RuntimeError):
    """The environment refused a write or a read (disk full, a name too long, permission, a
    cache path that is a file): the CLI prints one line naming the file and the fix, exit 1.
    Nothing the user had is lost: the writer that raises this has removed its temporary file."""

    _FIX = {
        "ENOSPC": "no space left on the device; free some space and run again",
        "EDQUOT": "the disk quota is exhausted; free some space and run again",
        "ENAMETOOLONG": "the name is too long for the file system; choose a shorter name",
        "EACCES": "permission denied; choose a folder you can write",
        "EPERM": "operation not permitted; choose a folder you can write",
        "EROFS": "the file system is read-only; choose another folder",
        "ENOTDIR": "a part of the path is a file, not a folder; choose another path",
        "EISDIR": "is a folder where a file was expected; choose another name",
        "EIO": "an input/output error from the device; check the disk",
    }

    def __init__(self, message: str, *, file: str | None = None) -> None:
        self.message = message
        self.file = file
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return (f"{self.file}: " if self.file else "") + self.message

    @classmethod
    def from_os(cls, e: OSError, path: object = None, verb: str = "write") -> OutputProblem:
        import errno as _errno
        name = _errno.errorcode.get(e.errno or 0, "")
        fix = cls._FIX.get(name) or (e.strerror or str(e))
        where = path if path is not None else getattr(e, "filename", None)
        return cls(f"cannot {verb} ({fix})", file=str(where) if where is not None else None)


def first_line(e: BaseException) -> str:
    """The first line of an exception's message (its type when empty), at most 300 characters:
    what a one-line error shows of a library's long message."""
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0][:300]
