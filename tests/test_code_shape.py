"""The code's shape, as the house asks it: no function over 80 lines in the package or the
benches (split by job, never trimmed to fit). Counted from the AST: def line to last line."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 80


def _long_functions(folder: Path) -> list[str]:
    out = []
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for n in ast.walk(tree):
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (n.end_lineno or n.lineno) - n.lineno + 1
                if length > LIMIT:
                    out.append(f"{path.relative_to(ROOT)}:{n.lineno} {n.name} ({length} lines)")
    return out


def test_no_function_over_80_lines_in_the_package() -> None:
    assert _long_functions(ROOT / "src" / "oblivio") == []


def test_no_function_over_80_lines_in_the_benches() -> None:
    assert _long_functions(ROOT / "bench") == []


def test_the_count_sees_a_long_function(tmp_path, monkeypatch) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(LIMIT))
    (tmp_path / "m.py").write_text(f"def f():\n{body}\n\ndef g():\n    return 1\n")
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path)
    assert _long_functions(tmp_path) == [f"m.py:1 f ({LIMIT + 1} lines)"]
