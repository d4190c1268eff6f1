"""A newcomer's first hour (issue #25): the README's own-data path, command by command, on a
file written by someone else.

Reads the commands of README.md's "Your own data" section — every ``oblivio …`` line of its
bash blocks, in page order, except a line naming a placeholder path (``/path/to/hf-model``: a
model of the reader's) — copies ``examples/stranger/ferry.jsonl`` into a fresh folder as
``my.jsonl`` (the name the README's commands use, so each line runs exactly as written) with its
``map.json``, and runs the lines there one by one with ``OBLIVIO_CACHE`` an empty folder (a
newcomer has no cache: its cost is what is measured) and one thread (``OMP_NUM_THREADS=1``,
``MKL_NUM_THREADS=1``). Per command: the wall time, the exit status, the verdict lines it
printed; then the commands to the first report (up to the first that writes a ``report.html``)
with their summed wall time, and the base model's accuracy per set (does it know the data?).

``--learn-epochs N`` sets ``learn.epochs=N`` on the learn command instead of what the README
says (20 is the default: the README before it said 100). The record goes to ``--out`` (JSON);
each command's stdout and stderr (progress bars removed) go to the folder of the same name
without ``.json``. The load average at start and end is recorded: timings taken beside other
work are slower than on an idle machine.

``--data FILE`` runs the same lines on another stranger's file (its ``map.json`` beside it), e.g.
``examples/stranger2/observatory.jsonl``.

Usage: ``python bench/newcomer.py [--data FILE] [--learn-epochs N] [--out bench/results/newcomer/readme.json]``
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from oblivio.presets import DEFAULT_RECIPE

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "stranger"
SECTION = "## Your own data"
FENCE = re.compile(r"^```bash[^\n]*\n(.*?)^```", re.M | re.S)
VERDICT = re.compile(r"^(forgotten|kept|private|robust): ")
QUESTIONS = ("forgotten", "kept", "private", "robust")


def readme_commands(readme: Path = ROOT / "README.md") -> list[str]:
    """The ``oblivio`` lines of the README's own-data section, in order; a line with a
    placeholder path (``/path/to/…``) is left out (it needs a model of the reader's)."""
    text = readme.read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    section = text[start:end if end >= 0 else len(text)]
    lines = [ln.split("#", 1)[0].strip() for body in FENCE.findall(section) for ln in body.splitlines()]
    return [ln for ln in lines if ln.startswith("oblivio ") and "/path/to/" not in ln]


def with_learn_epochs(line: str, epochs: int | None) -> str:
    """``line`` with ``--set learn.epochs=<epochs>`` in place of any it has (learn only)."""
    argv = shlex.split(line)
    if epochs is None or argv[1] != "learn":
        return line
    out: list[str] = []
    skip = False
    for k, a in enumerate(argv):
        if skip:
            skip = False
            continue
        if a == "--set" and k + 1 < len(argv) and argv[k + 1].startswith("learn.epochs="):
            skip = True
            continue
        out.append(a)
    return shlex.join([*out, "--set", f"learn.epochs={epochs}"])


def _oblivio() -> list[str]:
    script = Path(sys.executable).parent / "oblivio"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "oblivio"]


def _clean(err: str) -> str:
    """stderr without the progress bars' redraws (carriage-return frames)."""
    lines = [ln.rsplit("\r", 1)[-1] for ln in err.splitlines()]
    return "\n".join(ln for ln in lines if ln.strip() and "%|" not in ln) + "\n"


def run_command(line: str, work: Path, env: dict[str, str], raw: Path, k: int) -> dict[str, Any]:
    """Run one README line in ``work``; its record, and its output under ``raw``."""
    argv = shlex.split(line)
    before = set(work.rglob("report.html"))
    t0 = time.perf_counter()
    p = subprocess.run([*_oblivio(), *argv[1:]], cwd=work, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    stem = f"{k}-{argv[1]}"
    (raw / f"{stem}.out").write_text(p.stdout, encoding="utf-8")
    (raw / f"{stem}.err").write_text(_clean(p.stderr), encoding="utf-8")
    out = p.stdout.splitlines()
    return {"line": line, "wall_s": round(wall, 2), "rc": p.returncode,
            "report": bool(set(work.rglob("report.html")) - before),
            "verdicts": [ln for ln in out if VERDICT.match(ln)],
            "audit": next((ln for ln in out if ln.startswith("audit: robust on")), None)}


def base_accuracy(work: Path) -> dict[str, float]:
    """The base model's accuracy per evaluated set, from the first run folder's results.json."""
    for f in sorted(work.rglob("results.json")):
        sets = json.loads(f.read_text(encoding="utf-8")).get("models", {}).get("base", {}).get("sets", {})
        if sets:
            return {s: round(v["accuracy"]["value"], 3) for s, v in sets.items()
                    if isinstance(v.get("accuracy"), dict) and v["accuracy"].get("value") is not None}
    return {}


def _facts(data: Path) -> tuple[int, int]:
    rows = [json.loads(ln) for ln in data.read_text(encoding="utf-8").splitlines() if ln.strip()]
    return len(rows), len({r.get("fact") or r["question"] for r in rows})


def measure(lines: list[str], raw: Path, data: Path = EXAMPLE / "ferry.jsonl") -> dict[str, Any]:
    """Every line in a fresh folder with an empty cache, on ``data`` (its ``map.json`` beside
    it) copied as ``my.jsonl``; the record (module docstring)."""
    raw.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="oblivio-newcomer-") as tmp:
        work, cache = Path(tmp) / "run", Path(tmp) / "cache"
        work.mkdir()
        cache.mkdir()
        shutil.copy(data, work / "my.jsonl")
        shutil.copy(data.parent / "map.json", work / "map.json")
        env = {**os.environ, "OBLIVIO_CACHE": str(cache), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        if env.get("PYTHONPATH"):   # the commands run in another folder: a relative entry would miss
            env["PYTHONPATH"] = os.pathsep.join(str(Path(p).resolve()) for p in env["PYTHONPATH"].split(os.pathsep))
        load0 = os.getloadavg()
        cmds = []
        for k, line in enumerate(lines, 1):
            print(f"[{k}/{len(lines)}] {line}", file=sys.stderr, flush=True)
            cmds.append(run_command(line, work, env, raw, k))
            if cmds[-1]["rc"] != 0:
                break
        base = base_accuracy(work)
    first = next((k for k, c in enumerate(cmds, 1) if c["report"]), None)
    final = next((c["verdicts"] for c in reversed(cmds) if c["verdicts"]), [])
    rows, facts = _facts(data)
    return {"data": data.resolve().relative_to(ROOT).as_posix(), "rows": rows, "facts": facts, "threads": 1,
            "cache": "empty",
            "loadavg_start": [round(x, 2) for x in load0], "loadavg_end": [round(x, 2) for x in os.getloadavg()],
            "commands": cmds, "base_accuracy": base, "verdicts": final,
            "first_report": None if first is None else {
                "commands": first, "wall_s": round(sum(c["wall_s"] for c in cmds[:first]), 1)},
            "total_wall_s": round(sum(c["wall_s"] for c in cmds), 1)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--learn-epochs", type=int, default=None,
                    help="set learn.epochs on the learn command (default: as the README says)")
    ap.add_argument("--data", type=Path, default=EXAMPLE / "ferry.jsonl",
                    help="the stranger's JSONL file (a map.json beside it), in the repository")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "newcomer" / "readme.json")
    a = ap.parse_args(argv)
    lines = [with_learn_epochs(ln, a.learn_epochs) for ln in readme_commands()]
    rec = measure(lines, a.out.with_suffix(""), a.data)
    rec["learn_epochs"] = a.learn_epochs
    rec["recipe"] = DEFAULT_RECIPE      # what the README's unlearn line ran (its default)
    data_arg = "" if a.data.resolve() == (EXAMPLE / "ferry.jsonl").resolve() else \
        f" --data {a.data.resolve().relative_to(ROOT).as_posix()}"
    rec["command"] = ("python bench/newcomer.py" + data_arg
                      + (f" --learn-epochs {a.learn_epochs}" if a.learn_epochs else ""))
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(rec, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    for c in rec["commands"]:
        print(f"{c['wall_s']:7.1f} s  exit {c['rc']}  {c['line']}")
    fr = rec["first_report"]
    print(f"first report: {fr['commands']} commands, {fr['wall_s']} s" if fr else "no report was written")
    print(f"total: {len(rec['commands'])} commands, {rec['total_wall_s']} s; base accuracy: {rec['base_accuracy']}")
    print("\n".join(rec["verdicts"]))
    return 0 if all(c["rc"] == 0 for c in rec["commands"]) else 1


if __name__ == "__main__":
    sys.exit(main())
