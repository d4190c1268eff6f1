"""What the report leads with: each verdict with its n, interval and margin in sight, and — for
several runs or a comparison — one table of runs × verdicts, each run named by its method and
settings rather than its folder.

A run's row reads its settings as the leaderboard does (report/leaderboard.py ``settings_of``:
method, sampler, lr, steps, seed from its results.json) and its verdicts as its own report
does (report/verdict.py). A comparison folder stands for its cells: with ``--world-seeds``,
one row per cell with the verdicts decided over the worlds (``compare.json``'s ``verdicts``,
report/world_verdict.py); otherwise one row per cell run folder its ``compare.json`` lists
(``runs/<method>__<sampler>[__seed<k>]``), each with that run's verdicts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oblivio.report.verdict import KEEP, QUESTIONS, WORDS, Verdict, margin_of, min_facts

#: the settings that name a run, in the order shown
NAMED_BY = ("method", "sampler", "lr", "steps", "seed")


@dataclass
class Shown:
    """One verdict as the page shows it: the status and, separately, what it rests on."""
    question: str
    status: str                   # a key of verdict.WORDS
    words: str
    n: str                        # "n = 4 (needs ≥ 59)", "" when the verdict has no n
    interval: str                 # "difference +0.125, 90% interval [−0.083, +0.333] (paired)"
    margin: str                   # "margin ±0.05", "kept from ratio ≥ 0.95"
    sentence: str                 # the full line after the status
    evidence: list[tuple[str, str]] = field(default_factory=list)

    @property
    def css(self) -> str:
        return {"yes": "yes", "no": "no", "over-unlearned": "no", "undecided": "maybe",
                "too few facts": "maybe"}.get(self.status, "na")

    @property
    def short(self) -> str:
        """The table cell's second line: n and the interval's ends."""
        return " · ".join(p for p in (self.n.split(" (")[0], self.interval.split(" interval ")[-1]
                                      .split(" (")[0] if self.interval else "") if p)


def _signed(v: float) -> str:
    return f"{v:+.3f}".replace("-", "−")


def shown(v: Verdict, rec: dict[str, Any]) -> Shown:
    """``v`` of the run with record ``rec`` split into status, n, interval and margin."""
    margin = margin_of(rec)
    need = min_facts(1 - KEEP) if v.question == "kept" else min_facts(margin)
    n = f"n = {v.n}" + (f" (needs ≥ {need})" if v.n < need else "") if v.n is not None else ""
    iv = v.interval
    if iv is None:
        interval = ""
    elif v.question == "kept":
        interval = f"ratio {iv.value:.3f}, {iv.level:.0%} interval [{iv.lo:.3f}, {iv.hi:.3f}] ({iv.how})"
    else:
        what = "excess over the reference" if v.question == "robust" else "difference"
        interval = (f"{what} {_signed(iv.value)}, {iv.level:.0%} interval [{_signed(iv.lo)}, {_signed(iv.hi)}] "
                    f"({iv.how})")
    bound = {"kept": f"kept from ratio ≥ {KEEP:g}", "robust": f"margin +{margin:g}"}.get(v.question,
                                                                                      f"margin ±{margin:g}")
    return Shown(v.question, v.status, WORDS[v.status], n, interval,
                 bound if v.status != "not available" else "", v.sentence, list(v.evidence))


def parse_line(line: str) -> Shown:
    """A verdict line as :attr:`Verdict.line` writes it (``compare.json``'s over-worlds
    verdicts keep only the lines) back into its question, status and sentence."""
    import re
    q, _, rest = line.partition(": ")
    n = re.search(r"\bn=(\d+)", rest)
    iv = re.search(r"\d+% interval \[[^\]]+\]", rest)
    for status, words in sorted(WORDS.items(), key=lambda kv: -len(kv[1])):
        if rest.startswith(words):
            return Shown(q, status, words, f"n = {n.group(1)}" if n else "", iv.group(0) if iv else "", "",
                         rest[len(words):].strip())
    return Shown(q, "not available", "not available", "", "", "", rest)


@dataclass
class OverviewRow:
    label: str                    # method · sampler · settings
    folder: str                   # where it comes from
    settings: dict[str, Any]
    verdicts: list[Shown]
    scope: str = "one run"        # "one run" / "over N worlds"


def label_of(settings: dict[str, Any]) -> str:
    """A run's name from its settings: ``npo · melu · lr 0.001 · 60 steps · seed 0``."""
    parts = [str(settings[k]) for k in ("method", "sampler") if settings.get(k)]
    if settings.get("args"):
        parts.append(str(settings["args"]))
    if settings.get("lr") is not None:
        parts.append(f"lr {settings['lr']:g}" if isinstance(settings["lr"], float) else f"lr {settings['lr']}")
    if settings.get("steps") is not None:
        parts.append(f"{settings['steps']} steps")
    if settings.get("seed") is not None:
        parts.append(f"seed {settings['seed']}")
    return " · ".join(parts) or "(no unlearning settings recorded)"


def run_row(rec: dict[str, Any], verdicts: list[Verdict], folder: Path, f: Path) -> OverviewRow:
    from oblivio.report.leaderboard import settings_of
    s = settings_of(rec, f) if isinstance(rec.get("config"), dict) else {}
    by_q = {v.question: v for v in verdicts}
    cells = [shown(by_q[q], rec) if q in by_q else _missing(q, "the run was not evaluated") for q in QUESTIONS]
    return OverviewRow(label_of(s), folder.name, s, cells)


def _missing(q: str, why: str) -> Shown:
    return Shown(q, "not available", WORDS["not available"], "", "", "", why)


def compare_rows(rec: dict[str, Any], folder: Path) -> list[OverviewRow]:
    """The rows of a comparison folder (module docstring)."""
    over = rec.get("verdicts")
    cells = [c for c in rec.get("cells") or [] if isinstance(c, dict)]
    if not (isinstance(over, dict) and over):
        return [row for c in cells for row in _cell_runs(c, folder)]
    scope = f"over {len(rec.get('worlds') or (rec.get('config') or {}).get('world_seeds') or [])} worlds"
    seeds = ", ".join(map(str, rec.get("seeds") or [rec.get("seed")]))
    named = [(_label(c), {"method": c.get("method"), "sampler": c.get("sampler"), "steps": c.get("steps"),
                          "seed": seeds}) for c in cells] or [(str(k), {}) for k in over]
    rows = []
    for key, s in named:           # compare --world-seeds keys a cell by experiments/compare.py Cell.label
        lines = over.get(key)
        by_q = {p.question: p for p in (parse_line(str(x)) for x in lines)} if isinstance(lines, list) else {}
        rows.append(OverviewRow(label_of(s) if s.get("method") else key, folder.name, s,
                                [by_q.get(q) or _missing(q, "no verdict over worlds for this cell") for q in QUESTIONS],
                                scope))
    return rows


def _label(c: dict[str, Any]) -> str:
    from oblivio.report.compare_view import SHORT
    return f"{c.get('method')}/{SHORT.get(str(c.get('sampler')), c.get('sampler'))}"


def _cell_runs(c: dict[str, Any], folder: Path) -> list[OverviewRow]:
    """One row per run folder of cell ``c`` (a folder outside the comparison, or gone: a row
    that says so)."""
    from oblivio.report.results import read_results
    from oblivio.report.verdict import checked_verdicts
    out = []
    for rel in c.get("runs") or []:
        p = (folder / str(rel)).resolve()
        f = p / "results.json"
        if not p.is_relative_to(folder.resolve()) or not f.is_file():
            why = "outside the comparison's folder" if not p.is_relative_to(folder.resolve()) else "not found"
            s = {"method": c.get("method"), "sampler": c.get("sampler"), "steps": c.get("steps")}
            out.append(OverviewRow(label_of(s), str(rel), s, [_missing(q, f"its run folder {rel} is {why}")
                                                              for q in QUESTIONS]))
            continue
        r = read_results(f)
        out.append(run_row(r, checked_verdicts(r, f), p, f))
    if not out:
        s = {"method": c.get("method"), "sampler": c.get("sampler"), "steps": c.get("steps")}
        out.append(OverviewRow(label_of(s), "", s, [_missing(q, "the comparison recorded no run folder for this cell")
                                                    for q in QUESTIONS]))
    return out
