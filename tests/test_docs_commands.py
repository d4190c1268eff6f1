"""Every shell command block in the README and docs/ is executed here or marked as not executed.

The rule (written for readers in docs/how-to/run-tests.md, "How the docs are checked"): a fenced
block that is a command (```bash, ```sh, ```shell, ```console, or an unlabelled block whose first
line starts with ``oblivio `` or ``python ``) carries an HTML comment on the line right before
its fence:

- ``<!-- test: FLAGS -->`` (or ``<!-- test slow: FLAGS -->``): executed by this file. The
  executed blocks of one page run in page order, in one fresh folder, each line as written, with
  FLAGS appended to every ``oblivio`` command of the block whose subcommand takes them (the
  tiny world and a small step budget: ``--config tiny.yaml --steps 2``; argparse keeps the
  last value, so an appended flag replaces the page's). Every line must exit 0. A page with a
  ``test slow`` block is run under ``-m slow``.
- ``<!-- not executed: REASON -->``: shown, not run; the reason (a GPU, a download, minutes of
  runtime, a server of the reader's) is required.

The folder starts with ``tiny.yaml`` (the test suite's tiny world: conftest.TINY_OVERRIDES'
world, learn and eval keys, so its cached models are reused) and ``my.jsonl`` (the README's
```jsonl example rows); a block after ``<!-- test file: NAME -->`` is written to NAME when the
page reaches it. A line that is one plain ``oblivio …`` command runs in-process through
``oblivio.cli.main`` (the console script's entry point); any other line runs in bash, with
``oblivio`` and ``python`` on PATH being the package and interpreter under test.
"""
from __future__ import annotations

import argparse
import os
import re
import shlex
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").rglob("*.md"))]

FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```", re.M | re.S)
COMMAND_LANGS = ("bash", "sh", "shell", "console")
MARKER = re.compile(r"<!--\s*(test slow|test file|test|not executed)\s*:(.*?)-->\s*\Z", re.S)
SEPARATORS = ("&&", "||", ";", "|", "&")
OPERATORS = (*SEPARATORS, ">", ">>", "<")


@dataclass(frozen=True)
class Block:
    page: Path
    line: int                  # the line of the opening fence, 1-based
    lang: str
    body: str
    kind: str | None           # "test", "test slow", "test file", "not executed" or None
    arg: str                   # the marker's FLAGS, NAME or REASON

    @property
    def is_command(self) -> bool:
        first = self.body.lstrip().split("\n", 1)[0]
        return self.lang in COMMAND_LANGS or (self.lang == "" and first.startswith(("oblivio ", "python ")))

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT) if self.page.is_relative_to(ROOT) else self.page}:{self.line}"


def blocks(page: Path, text: str | None = None) -> list[Block]:
    """The fenced blocks of a page, each with the marker that ends on the line before its fence."""
    text = page.read_text(encoding="utf-8") if text is None else text
    out = []
    for m in FENCE.finditer(text):
        before = text[:m.start()]
        kind, arg = None, ""
        prev = before[:-1] if before.endswith("\n") else before    # the text up to the line above
        if prev.rstrip(" \t").endswith("-->"):
            mk = MARKER.match(prev[prev.rfind("<!--"):])
            if mk:
                kind, arg = mk.group(1), " ".join(mk.group(2).split())
        out.append(Block(page, before.count("\n") + 1, m.group(1), m.group(2), kind, arg))
    return out


def command_blocks() -> list[Block]:
    return [b for p in PAGES for b in blocks(p) if b.is_command]


# ---------------------------------------------------------------- flags and lines


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    from oblivio.cli import build_parser
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def flag_groups(flags: str) -> list[list[str]]:
    """``--config tiny.yaml --steps 2 --no-eval`` -> [[--config, tiny.yaml], [--steps, 2], [--no-eval]]."""
    groups: list[list[str]] = []
    for w in shlex.split(flags):
        if w.startswith("--"):
            groups.append([w])
        elif groups:
            groups[-1].append(w)
        else:
            raise ValueError(f"{w!r} comes before any --flag")
    return groups


def _tokens(line: str) -> list[str]:
    lex = shlex.shlex(line, posix=True, punctuation_chars=True)
    lex.whitespace_split = True
    return list(lex)


def _segments(tokens: list[str]) -> list[list[str]]:
    out: list[list[str]] = [[]]
    for t in tokens:
        out.append([]) if t in SEPARATORS else out[-1].append(t)
    return out


def _oblivio_at(words: list[str]) -> int | None:
    """Where the oblivio argv starts in a simple command (after VAR=value prefixes), else None."""
    i = 0
    while i < len(words) and re.match(r"^[A-Za-z_]\w*=", words[i]):
        i += 1
    if words[i:i + 1] == ["oblivio"]:
        return i + 1
    for j in range(i, len(words) - 1):
        if words[j] == "-m" and words[j + 1] == "oblivio":
            return j + 2
    return None


def _quote(w: str) -> str:
    if w in OPERATORS:
        return w
    m = re.match(r"^([A-Za-z_]\w*)=(.*)$", w, re.S)
    return f"{m.group(1)}={shlex.quote(m.group(2))}" if m else shlex.quote(w)


def with_flags(line: str, groups: list[list[str]], parsers: dict[str, argparse.ArgumentParser]
               ) -> tuple[list[list[str]], list[str], set[str]]:
    """One shell line with the marker's flags appended to each of its oblivio commands that
    takes them: (its simple commands, the oblivio argvs among them, the flags used)."""
    used: set[str] = set()
    segs, argvs = [], []
    for words in _segments(_tokens(line)):
        if not words:
            continue
        at = _oblivio_at(words)
        if at is not None and at < len(words) and words[at] in parsers:
            takes = parsers[words[at]]._option_string_actions
            extra = [w for g in groups if g[0] in takes for w in g]
            used |= {g[0] for g in groups if g[0] in takes}
            words = [*words, *extra]
            argvs.append(words[at:])
        segs.append(words)
    return segs, argvs, used


def shell_text(segs: list[list[str]], line: str) -> str:
    """The simple commands joined again with the line's own separators."""
    seps = [t for t in _tokens(line) if t in SEPARATORS]
    parts = [" ".join(_quote(w) for w in s) for s in segs]
    return " ".join(p + (f" {seps[i]}" if i < len(seps) else "") for i, p in enumerate(parts))


def logical_lines(body: str) -> list[str]:
    lines = body.replace("\\\n", " ").splitlines()
    return [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


# ---------------------------------------------------------------- the rule itself


def problems(bs: list[Block]) -> list[str]:
    parsers = _subparsers()
    bad = []
    for b in bs:
        if b.kind == "test file":
            if b.is_command or not b.arg:
                bad.append(f"{b.where}: `test file:` names the file a data block is written to")
            continue
        if not b.is_command:
            if b.kind is not None:
                bad.append(f"{b.where}: a `{b.kind}:` marker on a block that is not a command")
            continue
        if b.kind is None:
            bad.append(f"{b.where}: a command block with neither `<!-- test: FLAGS -->` nor "
                       "`<!-- not executed: REASON -->` on the line before its fence")
        elif b.kind == "not executed" and not b.arg:
            bad.append(f"{b.where}: `not executed:` needs its reason")
        elif b.kind.startswith("test"):
            try:
                groups = flag_groups(b.arg)
            except ValueError as e:
                bad.append(f"{b.where}: {e}")
                continue
            used = set().union(*(with_flags(ln, groups, parsers)[2] for ln in logical_lines(b.body)))
            unused = [g[0] for g in groups if g[0] not in used]
            if unused:
                bad.append(f"{b.where}: no oblivio command of the block takes {unused}")
    return bad


def test_every_command_block_is_executed_or_marked():
    bs = [b for p in PAGES for b in blocks(p)]
    assert sum(b.is_command for b in bs) >= 30, "the command blocks of the docs were not found"
    bad = problems(bs)
    assert not bad, "\n".join(bad)


PAGE = """# A page

<!-- test: --config tiny.yaml --steps 2 -->
```bash
oblivio demo --steps 180 --out runs/d
oblivio audit --run runs/d
```

<!-- not executed:   -->
```sh
oblivio ls
```

<!-- not executed: needs a GPU -->

```bash
oblivio ls
```

```
oblivio report runs/d
```

```python
import oblivio
```

<!-- test: --steps 2 --attacks relearnx -->
```bash
oblivio ls
```

<!-- test file: map.json -->
```json
{}
```
"""


def test_the_rule_catches_unmarked_blocks_empty_reasons_and_flags_no_command_takes(tmp_path):
    """Hand-built page: a marker separated from its fence by a blank line does not count, an
    unlabelled `oblivio` block is a command, a python block is not, and a marker flag that no
    command of its block takes (a typo, or a flag of another subcommand) is an error."""
    bs = blocks(tmp_path / "p.md", PAGE)
    assert [(b.lang, b.kind, b.is_command) for b in bs] == [
        ("bash", "test", True), ("sh", "not executed", True), ("bash", None, True),
        ("", None, True), ("python", None, False), ("bash", "test", True), ("json", "test file", False)]
    assert bs[0].arg == "--config tiny.yaml --steps 2" and bs[6].arg == "map.json"
    bad = problems(bs)
    assert len(bad) == 4, bad
    assert "needs its reason" in bad[0] and ":10" in bad[0]
    assert "neither" in bad[1] and ":16" in bad[1] and "neither" in bad[2] and ":20" in bad[2]
    assert "['--steps', '--attacks']" in bad[3]


def test_flags_go_to_the_commands_that_take_them_and_replace_the_page_values():
    parsers = _subparsers()
    groups = flag_groups("--config tiny.yaml --steps 2 --attacks quantize_int8")
    line = "oblivio demo --steps 180 --out runs/d && PYTHONPATH=. oblivio audit --run runs/d  # both"
    segs, argvs, used = with_flags(line, groups, parsers)
    assert argvs == [["demo", "--steps", "180", "--out", "runs/d", "--config", "tiny.yaml", "--steps", "2"],
                     ["audit", "--run", "runs/d", "--attacks", "quantize_int8"]]
    assert used == {"--config", "--steps", "--attacks"}
    assert vars(parsers["demo"].parse_args(argvs[0][1:]))["unlearn.train.max_steps"] == 2
    text = shell_text(segs, line)
    assert text == ("oblivio demo --steps 180 --out runs/d --config tiny.yaml --steps 2 && "
                    "PYTHONPATH=. oblivio audit --run runs/d --attacks quantize_int8")
    quoted = "cat a.jsonl b.jsonl > c.jsonl; oblivio unlearn --set 'eval.metrics=[a,b]'"
    assert shell_text(with_flags(quoted, [], parsers)[0], quoted) == (
        "cat a.jsonl b.jsonl > c.jsonl ; oblivio unlearn --set 'eval.metrics=[a,b]'")
    with pytest.raises(ValueError):
        flag_groups("tiny.yaml --steps 2")


# ---------------------------------------------------------------- running the pages


def _shims(folder: Path) -> dict[str, str]:
    """PATH and environment under which a shell line's `oblivio` and `python` are the ones
    under test (the package this test imported, not another installed copy)."""
    import oblivio
    src = str(Path(oblivio.__file__).resolve().parents[1])
    bin_dir = folder / ".bin"
    bin_dir.mkdir()
    for name, body in (("oblivio", f'exec {shlex.quote(sys.executable)} -m oblivio "$@"'),
                       ("python", f'exec {shlex.quote(sys.executable)} "$@"')):
        f = bin_dir / name
        f.write_text(f'#!/bin/sh\nPYTHONPATH="${{PYTHONPATH:+$PYTHONPATH:}}{src}"\nexport PYTHONPATH\n{body}\n')
        f.chmod(f.stat().st_mode | stat.S_IXUSR)
    env = dict(os.environ)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return env


def _prepare(folder: Path) -> None:
    import yaml

    from conftest import TINY_OVERRIDES
    tiny = {k: TINY_OVERRIDES[k] for k in ("world", "learn", "eval")}
    (folder / "tiny.yaml").write_text(yaml.safe_dump(tiny), encoding="utf-8")
    rows = [b.body for b in blocks(README) if b.lang == "jsonl"]
    assert len(rows) == 1, "README should show one ```jsonl example (my.jsonl of the executed pages)"
    (folder / "my.jsonl").write_text(rows[0], encoding="utf-8")


def _run_line(line: str, b: Block, env: dict[str, str], parsers, capsys) -> str | None:
    """Run one line of an executed block; None when it exits 0, else what went wrong."""
    from oblivio.cli import main
    segs, argvs, _ = with_flags(line, flag_groups(b.arg), parsers)
    plain = len(segs) == 1 and segs[0][:1] == ["oblivio"] and not set(segs[0]) & set(OPERATORS)
    if plain:
        capsys.readouterr()
        try:
            code = main(argvs[0])
        except SystemExit as e:
            code = e.code
        cap = capsys.readouterr()
        return None if code in (0, None) else f"exit {code}\n{cap.err[-3000:]}"
    text = shell_text(segs, line)
    r = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", text], env=env, capture_output=True, text=True)
    return None if r.returncode == 0 else f"{text}: exit {r.returncode}\n{r.stderr[-3000:]}"


def _executed_pages() -> list:
    out = []
    for p in PAGES:
        kinds = {b.kind for b in blocks(p) if b.is_command}
        if kinds & {"test", "test slow"}:
            marks = [pytest.mark.slow] if "test slow" in kinds else []
            out.append(pytest.param(p, marks=marks, id=str(p.relative_to(ROOT))))
    return out


@pytest.mark.parametrize("page", _executed_pages())
def test_page_commands_run(page, tiny_world, tmp_path, monkeypatch, capsys):
    """The page's executed blocks, in order, in one fresh folder: every line exits 0."""
    monkeypatch.chdir(tmp_path)
    _prepare(tmp_path)
    env = _shims(tmp_path)
    parsers = _subparsers()
    for b in blocks(page):
        if b.kind == "test file":
            (tmp_path / b.arg).write_text(b.body, encoding="utf-8")
        elif b.is_command and b.kind in ("test", "test slow"):
            for line in logical_lines(b.body):
                why = _run_line(line, b, env, parsers, capsys)
                assert why is None, f"{b.where}: {line.strip()}\n{why}"
