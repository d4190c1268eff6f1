"""Running ``oblivio`` in-process from a test: exit code, stdout and stderr of one command."""
from __future__ import annotations

import pytest

from oblivio.cli import main


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as ei:
        main(args)
    out = capsys.readouterr()
    return ei.value.code, out.out, out.err


def quiet(_msg: str) -> None:
    """A ``log`` that prints nothing."""
