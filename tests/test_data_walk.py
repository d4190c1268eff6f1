"""bench/data_walk.py: the layer of a source file, the back-step and climb counts on hand-made
walks, and the profile hook on a small hand-written package (caller found past library frames, a
generator counted once, only the followed objects). No oblivio command is run."""
from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from types import ModuleType

from benchmod import load_bench

ROOT = Path(__file__).resolve().parents[1]


def _tool() -> ModuleType:
    return load_bench("data_walk")


def test_layer_order_top_to_bottom() -> None:
    dw = _tool()
    files = ["cli.py", "api.py", "pipeline/run.py", "engine/loop.py", "methods/npo.py",
             "data/schema.py", "errors.py"]
    assert [dw.layer_of(f) for f in files] == [0, 1, 2, 3, 4, 5, 6]
    assert dw.layer_of("eval/evaluate.py") == dw.layer_of("attacks/audit.py") == 3
    assert dw.layer_of("report/html.py") == 2 and dw.layer_of("judges/rule.py") == 4
    assert dw.layer_of("world/__init__.py") == 5 and dw.layer_of("__init__.py") == 1


def test_every_oblivio_module_has_a_layer() -> None:
    """A new package or top-level module must be placed (layer_of raises otherwise)."""
    dw = _tool()
    src = ROOT / "src" / "oblivio"
    for path in src.rglob("*.py"):
        dw.layer_of(path.relative_to(src).as_posix())


def test_back_steps_count_only_calls_up() -> None:
    dw = _tool()
    Call = dw.Call
    calls = [
        Call(None, ("api.py", "unlearn")),                                   # no caller
        Call(("api.py", "unlearn"), ("pipeline/run.py", "run")),             # down 1 -> 2
        Call(("pipeline/run.py", "run"), ("data/schema.py", "forget")),      # down 2 -> 5
        Call(("data/schema.py", "forget"), ("data/schema.py", "role")),      # within 5
        Call(("methods/npo.py", "loss"), ("engine/loop.py", "train")),       # up 4 -> 3
        Call(("data/tofu.py", "load"), ("api.py", "evaluate")),              # up 5 -> 1
        Call(("data/tofu.py", "load"), ("api.py", "evaluate")),              # the same site again
        Call(("errors.py", "f"), ("data/schema.py", "role")),                # up 6 -> 5
    ]
    n, sites = dw.back_steps(calls)
    assert n == 4
    assert sites == {(("methods/npo.py", "loss"), ("engine/loop.py", "train")): 1,
                     (("data/tofu.py", "load"), ("api.py", "evaluate")): 2,
                     (("errors.py", "f"), ("data/schema.py", "role")): 1}
    assert not dw.is_back_step(calls[1]) and dw.is_back_step(calls[4])


def test_climbs_count_a_later_callee_higher_up() -> None:
    dw = _tool()
    Call = dw.Call
    walk = [Call(None, ("pipeline/run.py", "a")),         # 2
            Call(None, ("data/schema.py", "b")),          # 5: down
            Call(None, ("engine/loop.py", "c")),          # 3: climb
            Call(None, ("engine/loop.py", "d")),          # 3: level
            Call(None, ("pipeline/write.py", "e")),       # 2: climb
            Call(None, ("methods/npo.py", "f")),          # 4: down
            Call(None, ("data/schema.py", "g"))]          # 5: down
    assert dw.climbs(walk) == 2
    assert dw.climbs(list(reversed(walk))) == 3           # layers 5 4 2 3 3 5 2: 5->4, 4->2, 5->2
    assert dw.climbs(walk[:2]) == 0


class _Data:
    def __init__(self, items: list[int]) -> None:
        self.items = items


_FILES = {
    "data/schema.py": """
        def size(d):
            return len(d.items)

        def ask_up(d, call_up):
            return call_up(d)
    """,
    "pipeline/run.py": """
        from oblivio_fake.data.schema import size, ask_up

        def stage(d, other, *rest, **kw):
            return size(d) + len(list(gen(d)))

        def gen(d):
            yield 1
            yield 2
            yield 3

        def up(d):
            return 0

        def via_library(d):
            return list(map(size, [d]))          # map is a library (C) frame in between

        def back(d):
            return ask_up(d, up)

        def untouched(x):
            return x
    """,
}


def _fake_package(tmp_path: Path) -> tuple[Path, ModuleType, ModuleType]:
    root = tmp_path / "oblivio_fake"
    for rel, text in {"__init__.py": "", "data/__init__.py": "", "pipeline/__init__.py": "",
                      **_FILES}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text))
    sys.path.insert(0, str(tmp_path))
    try:
        import oblivio_fake.data.schema as schema
        import oblivio_fake.pipeline.run as run
    finally:
        sys.path.remove(str(tmp_path))
    return root, schema, run


def test_hook_follows_the_data_and_finds_callers(tmp_path: Path) -> None:
    dw = _tool()
    root, _, run = _fake_package(tmp_path)
    w = dw.Walk(str(root), _Data)
    d = _Data([1, 2, 3])
    sys.setprofile(w.hook)
    try:
        run.stage(d, 5)
        run.untouched(7)              # no followed argument: not in the walk
        run.untouched(d.items)        # the dataset's own items list: followed
        run.untouched([1, 2, 3])      # an equal list that is not it: not followed
        run.via_library(d)
        run.back(d)
    finally:
        sys.setprofile(None)
        for name in [m for m in sys.modules if m.startswith("oblivio_fake")]:
            del sys.modules[name]
    got = [(c.caller, c.callee) for c in w.calls]
    assert got == [
        (None, ("pipeline/run.py", "stage")),
        (("pipeline/run.py", "stage"), ("data/schema.py", "size")),
        (("pipeline/run.py", "stage"), ("pipeline/run.py", "gen")),     # once, not per yield
        (None, ("pipeline/run.py", "untouched")),
        (None, ("pipeline/run.py", "via_library")),
        (("pipeline/run.py", "via_library"), ("data/schema.py", "size")),
        (None, ("pipeline/run.py", "back")),
        (("pipeline/run.py", "back"), ("data/schema.py", "ask_up")),
        (("data/schema.py", "ask_up"), ("pipeline/run.py", "up")),      # data calls the run back
    ]
    n, sites = dw.back_steps(w.calls)
    assert n == 1 and list(sites) == [(("data/schema.py", "ask_up"), ("pipeline/run.py", "up"))]
