"""The package-level import graph of oblivio, and its cycles (issue #22: "no package-level
cycles"). A node is a subpackage (``oblivio.data``, ``oblivio.models``, …) or a module at the
package's top (``oblivio.config``, ``oblivio.resolve``, …); an edge A → B says some module of A
imports some module of B at run time — at module level or inside a function (a lazy import runs
too), but not under ``if TYPE_CHECKING:`` (annotations only). Read from the source with ``ast``;
nothing is imported.

Usage:
  python bench/import_cycles.py            # the cycles (strongly connected groups), exit 1 if any
  python bench/import_cycles.py --edges    # also every edge, with one import that makes it
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = "oblivio"
SRC = Path(__file__).resolve().parents[1] / "src" / PACKAGE


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def node_of(module: str) -> str | None:
    """The graph node a dotted module belongs to: ``oblivio.<first part>``; None for the
    package itself and for other packages."""
    parts = module.split(".")
    if parts[0] != PACKAGE or len(parts) < 2:
        return None
    return f"{PACKAGE}.{parts[1]}"


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement but those under ``if TYPE_CHECKING:`` (its ``else`` runs)."""
    out: list[ast.Import | ast.ImportFrom] = []

    def walk(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                walk(child)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            out.append(node)
        for child in ast.iter_child_nodes(node):
            walk(child)
    walk(tree)
    return out


def _targets(imp: ast.Import | ast.ImportFrom, module: str, is_pkg: bool) -> list[str]:
    """The dotted modules an import statement of ``module`` loads (``from X import y``: X.y
    when y may be a submodule, X always)."""
    if isinstance(imp, ast.Import):
        return [a.name for a in imp.names]
    if imp.level:          # relative: resolved against the importing module's package
        base = module.split(".")
        if not is_pkg:
            base = base[:-1]
        base = base[:len(base) - (imp.level - 1)]
        mod = ".".join([*base, *([imp.module] if imp.module else [])])
    else:
        mod = imp.module or ""
    return [mod, *(f"{mod}.{a.name}" for a in imp.names if a.name != "*")]


def import_graph(root: Path = SRC) -> dict[str, dict[str, str]]:
    """``{node: {imported node: "file:line" of one import that makes the edge}}``."""
    graph: dict[str, dict[str, str]] = {}
    for path in sorted(root.rglob("*.py")):
        module = _module_name(path, root)
        src = node_of(module)
        if src is None:                    # oblivio/__init__.py: the package itself
            continue
        graph.setdefault(src, {})
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for imp in _runtime_imports(tree):
            for target in _targets(imp, module, path.name == "__init__.py"):
                dst = node_of(target)
                if dst is None or dst == src or not _exists(dst, root):
                    continue
                graph[src].setdefault(dst, f"{path.relative_to(root.parent)}:{imp.lineno}")
    return graph


def _exists(node: str, root: Path) -> bool:
    name = node.split(".", 1)[1]
    return (root / name).is_dir() or (root / f"{name}.py").is_file()


def cycles(graph: dict[str, dict[str, str]]) -> list[list[str]]:
    """The strongly connected groups of more than one node (Tarjan's algorithm), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)


def main() -> int:
    graph = import_graph()
    if "--edges" in sys.argv:
        for a in sorted(graph):
            for b, where in sorted(graph[a].items()):
                print(f"{a} -> {b}  ({where})")
    found = cycles(graph)
    print(f"{len(graph)} nodes, {sum(len(e) for e in graph.values())} edges, {len(found)} cycle(s)")
    for group in found:
        inside = [f"{a} -> {b} ({graph[a][b]})" for a in group for b in sorted(graph[a]) if b in group]
        print(f"  cycle: {', '.join(group)}")
        for e in inside:
            print(f"    {e}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
