"""docs/tutorials/python.md is executed as written: its ```python cells run in order, in one
namespace, in a fresh folder (so the run folders it writes are its own). A renamed keyword, a
changed result field or a broken API call in the tutorial fails here."""
from __future__ import annotations

import re
from pathlib import Path

PAGE = Path(__file__).resolve().parents[1] / "docs" / "tutorials" / "python.md"
CELL = re.compile(r"^```python\n(.*?)^```", re.M | re.S)


def test_python_tutorial_runs_top_to_bottom(tmp_path, monkeypatch, capsys):
    cells = CELL.findall(PAGE.read_text(encoding="utf-8"))
    assert len(cells) >= 4, "the tutorial's cells were not found"
    monkeypatch.chdir(tmp_path)
    ns: dict = {}
    for i, code in enumerate(cells):
        exec(compile(code, f"{PAGE.name} cell {i + 1}", "exec"), ns)   # noqa: S102 - our own page
    out = capsys.readouterr().out
    assert (tmp_path / "runs" / "py-npo" / "audit.json").is_file()
    assert (tmp_path / "runs" / "py-npo" / "report.html").is_file()
    assert "| runs/py-gd |" in out and "paraphrase recovery" in out
