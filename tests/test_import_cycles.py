"""No package-level import cycle among oblivio's subpackages (bench/import_cycles.py builds the
graph from the source with ``ast``: run-time imports only, ``if TYPE_CHECKING:`` left out), and
checks that the graph sees what it must: a lazy import inside a function, a relative import,
and not an import kept for type checking."""
from __future__ import annotations

from pathlib import Path

from benchmod import load_bench

ROOT = Path(__file__).resolve().parents[1]


def _tool():
    return load_bench("import_cycles")


def test_no_package_level_cycle() -> None:
    tool = _tool()
    graph = tool.import_graph()
    assert {"oblivio.data", "oblivio.models", "oblivio.engine", "oblivio.methods"} <= set(graph)
    assert tool.cycles(graph) == []


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "oblivio"
    for name, text in {"__init__.py": "", **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_the_graph_finds_a_lazy_cycle_and_skips_type_checking(tmp_path) -> None:
    tool = _tool()
    root = _package(tmp_path, {
        "engine/__init__.py": "",
        "engine/loop.py": "from oblivio.data.schema import Item\n",
        "data/__init__.py": "",
        "data/schema.py": "def f():\n    import oblivio.engine.loop\n",           # lazy: still a run-time edge
        "methods/__init__.py": "",
        "methods/npo.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from oblivio.engine import loop\n"
                          "from ..data import schema\n",                               # relative, one level up
        "config.py": "",
    })
    graph = tool.import_graph(root)
    assert graph["oblivio.engine"] == {"oblivio.data": "oblivio/engine/loop.py:1"}
    assert set(graph["oblivio.methods"]) == {"oblivio.data"}       # no edge to engine: annotations only
    assert tool.cycles(graph) == [["oblivio.data", "oblivio.engine"]]


def test_an_engine_module_importing_the_methods_is_a_cycle(tmp_path) -> None:
    """What the issue forbids: the engine importing the methods' package, which imports the engine."""
    tool = _tool()
    root = _package(tmp_path, {
        "engine/__init__.py": "", "engine/loop.py": "import oblivio.methods\n",
        "methods/__init__.py": "from oblivio.engine.loop import run\n",
    })
    assert tool.cycles(tool.import_graph(root)) == [["oblivio.engine", "oblivio.methods"]]
