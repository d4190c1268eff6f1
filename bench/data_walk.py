"""The walk of a command's dataset through oblivio's layers, and how often it goes back up
(issue #22: "a walk of the `data` parameter crosses 27 files and goes back up the layers 13
times").

What is followed. The dataset of a command is its :class:`oblivio.data.schema.UnlearningData`
(the world, TOFU, a JSONL file: every loader returns one). Followed objects: every
``UnlearningData`` instance the command makes (the loaded one, and those made from it: the
audit's samples, a checkpoint evaluation's subset, a reveal round's rows) and, declared derived,
the ``items`` list of each (the same list object, by identity). Not followed: new lists built
from the items (``data.forget``, ``data.role(...)``), and objects that hold the dataset in an
attribute (a run, a context): passing those is not passing the dataset.

What is recorded. A ``sys.setprofile`` hook sees every call of a Python function defined in an
oblivio source file (function code only: module and class bodies excluded; a generator counted
on its first start, not on every resume). A call is in the walk when one of its arguments (a
positional or keyword parameter, ``self`` included, or an element of ``*args`` / a value of
``**kwargs``) is a followed object. For each: the callee (file, function, layer) and the caller,
the nearest oblivio function further up the stack (library frames in between, e.g. a torch
DataLoader calling back, are skipped; none when the command's entry is called from outside).

Layers, top (0) to bottom (6), by a module's first component under ``oblivio/``:

  0 cli      cli, cli_args, cli_examples, __main__
  1 api      api, the package ``__init__`` (it forwards to api)
  2 run      pipeline (the run: stages, post-steps' runner, grids), post_steps, experiments
             (compare: a grid), report, resolve (a run's inputs: config → data, models; it
             imports engine and world, so it sits above them)
  3 engine   engine, eval, attacks, reveal
  4 methods  methods, metrics, judges and teachers (judges import metrics and teachers; eval
             and methods import them)
  5 data     data, models, world (world builds the data; it imports only data)
  6 base     config, config_checks, presets, registry, errors, atomic, textio, paths,
             progress, roles, endpoints (imported by every layer; they import only each other)

A **back-step** is a call in the walk whose callee's layer is *above* its caller's (callee's
layer number smaller than the caller's): a lower layer handing the dataset back up. A call
down or within one layer is not one; neither is a call without an oblivio caller. Counted two
ways: back-step calls (every call event) and back-step sites (distinct caller function →
callee function pairs), since one site inside a loop makes many calls.

A **climb** (reported next to it, not a back-step) is a pair of consecutive calls in the walk,
in the order they start, where the second callee's layer is above the first's: the dataset went
down, control came back up by returns, and the dataset was handed on from higher up (an
orchestrator calling its stages one after another makes one climb per stage).

Usage (tiny world; the world's models are cached first, outside the walk):
  python bench/data_walk.py [--out FILE] [--eval] [-- extra oblivio unlearn args, e.g. --audit]
The command walked is
  oblivio unlearn --set world.preset=tiny --method npo --steps 2 --no-eval --quiet --out <tmp>
(the one ``bench/files_crossed.py`` counts files of; ``--eval`` drops ``--no-eval``). Prints
the files crossed (the callees' files) with their layer, the number of calls, the back-steps
(calls and sites), the climbs, each back-step site and every call site of the walk.
"""
from __future__ import annotations

import argparse
import inspect
import os
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

#: layer number → (layer name, the first components of the modules in it); 0 is the top
LAYERS: dict[int, tuple[str, tuple[str, ...]]] = {
    0: ("cli", ("cli", "cli_args", "cli_examples", "__main__")),
    1: ("api", ("api", "__init__")),
    2: ("run", ("pipeline", "post_steps", "experiments", "report", "resolve")),
    3: ("engine", ("engine", "eval", "attacks", "reveal")),
    4: ("methods", ("methods", "metrics", "judges", "teachers")),
    5: ("data", ("data", "models", "world")),
    6: ("base", ("config", "config_checks", "presets", "registry", "errors", "atomic", "textio",
                 "paths", "progress", "roles", "endpoints")),
}
_RANK = {member: rank for rank, (_, members) in LAYERS.items() for member in members}
_GENERATOR_FLAGS = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR
DEFAULT_COMMAND = ["unlearn", "--set", "world.preset=tiny", "--method", "npo", "--steps", "2",
                   "--no-eval", "--quiet"]


def layer_of(relpath: str) -> int:
    """The layer number of a source file given relative to ``oblivio/`` (``data/schema.py``,
    ``cli.py``); a module no layer names is a ValueError (a new package must be placed)."""
    first = relpath.replace("\\", "/").split("/")[0]
    first = first[:-3] if first.endswith(".py") else first
    if first not in _RANK:
        raise ValueError(f"oblivio/{relpath}: module '{first}' is in no layer (bench/data_walk.py LAYERS)")
    return _RANK[first]


def layer_name(rank: int) -> str:
    return LAYERS[rank][0]


@dataclass(frozen=True)
class Call:
    """One call in the walk: the caller (None: outside oblivio) and the callee, as
    (file relative to ``oblivio/``, function name)."""

    caller: tuple[str, str] | None
    callee: tuple[str, str]


def is_back_step(call: Call) -> bool:
    """The callee's layer is above the caller's (a smaller layer number)."""
    return call.caller is not None and layer_of(call.callee[0]) < layer_of(call.caller[0])


def back_steps(calls: list[Call]) -> tuple[int, Counter[tuple[tuple[str, str], tuple[str, str]]]]:
    """The number of back-step calls, and the back-step sites (caller → callee) with their
    call counts."""
    sites: Counter[tuple[tuple[str, str], tuple[str, str]]] = Counter()
    for c in calls:
        if is_back_step(c):
            assert c.caller is not None
            sites[(c.caller, c.callee)] += 1
    return sum(sites.values()), sites


def climbs(calls: list[Call]) -> int:
    """Consecutive calls of the walk whose second callee is in a higher layer than the first."""
    return sum(layer_of(b.callee[0]) < layer_of(a.callee[0]) for a, b in zip(calls, calls[1:]))


class Walk:
    """The profile hook: follows the dataset objects and records the calls that receive one."""

    def __init__(self, root: str, data_type: type) -> None:
        self.root = root
        self.data_type = data_type
        self.followed: dict[int, Any] = {}    # id → object, held so an id is never reused
        self.started: dict[int, FrameType] = {}   # generator frames already counted, held
        self.calls: list[Call] = []

    def _mine(self, frame: FrameType) -> bool:
        return frame.f_code.co_filename.startswith(self.root + os.sep) and \
            bool(frame.f_code.co_flags & inspect.CO_NEWLOCALS)

    def _site(self, frame: FrameType) -> tuple[str, str]:
        return frame.f_code.co_filename[len(self.root) + 1:], frame.f_code.co_name

    def _followed(self, value: object) -> bool:
        if isinstance(value, self.data_type):
            if id(value) not in self.followed:
                self.followed[id(value)] = value
                items = value.items  # type: ignore[attr-defined]
                self.followed[id(items)] = items
            return True
        return id(value) in self.followed

    def _arguments(self, frame: FrameType) -> list[object]:
        code = frame.f_code
        n = code.co_argcount + code.co_kwonlyargcount
        names = list(code.co_varnames[:n])
        local = frame.f_locals
        values = [local.get(a) for a in names]
        extra = n
        if code.co_flags & inspect.CO_VARARGS:
            values.extend(local.get(code.co_varnames[extra]) or ())
            extra += 1
        if code.co_flags & inspect.CO_VARKEYWORDS:
            values.extend((local.get(code.co_varnames[extra]) or {}).values())
        return values

    def hook(self, frame: FrameType, event: str, arg: object) -> None:
        if event != "call" or not self._mine(frame):
            return
        if frame.f_code.co_flags & _GENERATOR_FLAGS:
            if id(frame) in self.started:
                return
        if not any(self._followed(v) for v in self._arguments(frame)):
            return
        if frame.f_code.co_flags & _GENERATOR_FLAGS:
            self.started[id(frame)] = frame
        up = frame.f_back
        while up is not None and not self._mine(up):
            up = up.f_back
        self.calls.append(Call(self._site(up) if up is not None else None, self._site(frame)))


def walk(argv: list[str]) -> list[Call]:
    """Run ``oblivio <argv>`` in this process under the hook; the calls of the walk, in order."""
    import oblivio
    from oblivio.cli import run
    from oblivio.data.schema import UnlearningData
    w = Walk(str(Path(oblivio.__file__).parent), UnlearningData)
    sys.setprofile(w.hook)
    try:
        run(argv)
    finally:
        sys.setprofile(None)
    return w.calls


def report(argv: list[str], calls: list[Call]) -> str:
    """The walk as text: files crossed (callees' files, with layer and calls), the counts,
    each back-step site."""
    n_back, sites = back_steps(calls)
    per_file = Counter(c.callee[0] for c in calls)
    lines = [f"command: oblivio {' '.join(argv)}",
             f"files crossed: {len(per_file)}", f"calls: {len(calls)}",
             f"back-steps: {n_back} calls at {len(sites)} sites", f"climbs: {climbs(calls)}",
             "", "files (layer, calls):"]
    for f in sorted(per_file, key=lambda f: (layer_of(f), f)):
        lines.append(f"  {layer_of(f)} {layer_name(layer_of(f)):8} {f}  {per_file[f]}")
    lines += ["", "back-step sites (caller -> callee, calls):"]
    for (caller, callee), k in sorted(sites.items()):
        lines.append(f"  {caller[0]}:{caller[1]} [{layer_name(layer_of(caller[0]))}] -> "
                     f"{callee[0]}:{callee[1]} [{layer_name(layer_of(callee[0]))}]  {k}")
    edges = Counter((c.caller, c.callee) for c in calls)
    lines += ["", "every call site in the walk (caller -> callee, calls):"]
    for (frm, to), k in sorted(edges.items(), key=lambda e: (e[0][0] or ("", ""), e[0][1])):
        src = f"{frm[0]}:{frm[1]}" if frm else "(outside)"
        lines.append(f"  {src} -> {to[0]}:{to[1]}  {k}")
    return "\n".join(lines) + "\n"


def main() -> None:
    own = sys.argv[1:sys.argv.index("--")] if "--" in sys.argv else sys.argv[1:]
    extra = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, help="also write the report to this file")
    ap.add_argument("--eval", action="store_true", help="evaluate too (the command without --no-eval)")
    args = ap.parse_args(own)
    command = [a for a in DEFAULT_COMMAND if not (args.eval and a == "--no-eval")]
    from oblivio.cli import run
    run(["learn", "--preset", "tiny", "--quiet"])          # the world's models, cached
    with tempfile.TemporaryDirectory() as tmp:
        argv = [*command, "--out", str(Path(tmp) / "run"), *extra]
        text = report(argv, walk(argv)).replace(tmp, "<tmp>")
    sys.stdout.write(text)
    if args.out is not None:
        from oblivio.atomic import write_text
        args.out.parent.mkdir(parents=True, exist_ok=True)
        write_text(args.out, text)


if __name__ == "__main__":
    main()
