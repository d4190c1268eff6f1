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
