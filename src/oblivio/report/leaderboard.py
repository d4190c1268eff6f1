"""The leaderboard: many finished runs in one table, one row per run (``oblivio leaderboard``).

It owns gathering run folders (a compare folder stands for its cells, ``<compare>/runs/*``),
reading each row from the run's ``results.json`` alone — the settings that name it (from its
``config``; where the config left a choice to a rule, ``lr``, the budget or the sampler, what
the run used, from ``training``), the four verdicts exactly as the report computes them
(report/verdict.py, read with :func:`oblivio.report.verdict.checked_verdicts`) and the key metrics with their
95% intervals — sorting the rows, and writing them as Markdown, CSV or one self-contained HTML page.

Run folders may come from someone else: every field read is checked for its type (else an
:class:`InputError` naming the file and field), names reach Markdown with its markup characters
escaped, CSV with spreadsheet formulas defused, and HTML only through Jinja2 with autoescape;
the page's one script is a constant of this module, allowed by its hash in the page's
Content-Security-Policy, and no script is ever built from data.
"""
from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from oblivio.errors import InputError

# (the command line's --help reads these: the module imports nothing heavy at its top)
FORMATS = ("md", "csv", "html")


@dataclass(frozen=True)
class Metric:
    key: str      # its column and --sort name
    label: str
    path: str     # its record in results.json (``value``, ``ci``, ``skipped``)


METRICS = (
    Metric("forget_accuracy", "forget accuracy", "models.unlearned.sets.forget_test.accuracy"),
    Metric("model_utility", "model utility", "models.unlearned.model.model_utility"),
    Metric("forget_quality", "forget quality", "models.unlearned.model.forget_quality"),
    Metric("privleak", "privleak", "models.unlearned.model.privleak"),
)
SETTINGS = ("method", "args", "sampler", "lr", "steps", "seed", "lora_r")
VERDICTS = ("forgotten", "kept", "private", "robust")
#: every column, and so every --sort key, in table order
COLUMNS = ("run", *SETTINGS, *VERDICTS, *(m.key for m in METRICS))
DEFAULT_SORT = "forget_accuracy"
_LABELS = {"lora_r": "LoRA r", **{m.key: m.label for m in METRICS}}
# best first: shown to pass, not decided (the interval crosses the margin), too few facts to
# decide, shown to fail either way; "not available" sorts with the missing values, last
_VERDICT_RANK = {"yes": 0, "undecided": 1, "too few facts": 2, "no": 3, "over-unlearned": 3}


@dataclass(frozen=True)
class Value:
    """One metric of one run: its value and 95% interval, or why it was skipped."""
    value: float | None = None
    ci: tuple[float, float] | None = None
    skipped: str | None = None

    def text(self) -> str:
        from oblivio.report.tables import fmt
        if self.skipped:
            return "skipped"
        if self.value is None:
            return "n/a"
        return fmt(self.value) + (f" [{fmt(self.ci[0])}, {fmt(self.ci[1])}]" if self.ci else "")


@dataclass
class Row:
    run: str                      # the folder as given (a compare's cell: <compare>/runs/<cell>)
    settings: dict[str, Any]
    verdicts: dict[str, str]      # question -> its status (report/verdict.py WORDS: "yes", "over-unlearned", …)
    metrics: dict[str, Value]

    def sort_value(self, key: str) -> float | str | None:
        """The value ``key`` sorts by: None (missing, NaN, a verdict not available) sorts last."""
        if key == "run":
            return self.run
        if key in self.verdicts:
            return _VERDICT_RANK.get(self.verdicts[key])
        v: Any = self.metrics[key].value if key in self.metrics else self.settings.get(key)
        if isinstance(v, float) and math.isnan(v):
            return None
        if v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)):
            return v
        return _setting_text(v)


# -- gathering -----------------------------------------------------------------------------------
def expand(paths: Sequence[str | Path]) -> list[Path]:
    """Run folders, each once, in the order given (a run's results.json stands for its folder);
    a compare folder (compare.json, no results.json) gives its cells' run folders, ``runs/*``
    in name order (over worlds: ``worlds/*/runs/*``)."""
    out: list[Path] = []
    seen: set[Path] = set()
    for given in paths:
        p = Path(given)
        if p.name == "results.json" and p.is_file():     # the run's file: the run, named by its folder
            p = p.parent
        cells = _cells(p) if p.is_dir() and not (p / "results.json").exists() and (p / "compare.json").is_file() \
            else [p]
        for c in cells:
            if c.resolve() not in seen:
                seen.add(c.resolve())
                out.append(c)
    if not out:
        raise InputError("no run folder given", field="runs")
    return out


def _cells(compare: Path) -> list[Path]:
    from oblivio.report.results import read_results
    read_results(compare / "compare.json", ("oblivio_compare",))     # its marker, or an error naming it
    # a comparison over worlds (compare --world-seeds) holds one comparison per world
    folders = [compare / "runs", *sorted(compare.glob("worlds/*/runs"))]
    cells = [p for runs in folders if runs.is_dir()
             for p in sorted(runs.iterdir()) if p.is_dir() and not p.name.startswith(".")]
    if not cells:
        raise InputError("a compare folder without run folders (runs/<method>__<sampler>): nothing to list",
                         file=str(compare))
    return cells


def read_row(path: Path) -> Row:
    """One finished run folder as a row (anything else: an InputError naming the folder)."""
    from oblivio.report.results import read_results
    from oblivio.report.rundir import SUFFIXES
    from oblivio.report.verdict import checked_verdicts
    f = path / "results.json" if path.is_dir() else path
    if not f.is_file() or f.name != "results.json":
        hint = ("; an interrupted run: finish it with oblivio unlearn --resume" if path.name.endswith(SUFFIXES)
                else "")
        raise InputError(f"not a finished oblivio run folder (no results.json){hint}", file=str(path))
    rec = read_results(f)
    # the fields read here first, so that a damaged one is named; then the verdicts as the
    # report computes them
    settings, metrics = settings_of(rec, f), {m.key: _metric(rec, m.path, f) for m in METRICS}
    verdicts = {v.question: v.status for v in checked_verdicts(rec, f)}
    return Row(run=str(path), settings=settings, verdicts={q: verdicts.get(q, "not available") for q in VERDICTS},
               metrics=metrics)


def _mapping(rec: dict[str, Any], path: str, f: Path) -> dict[str, Any]:
    node: Any = rec
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    if node is None:
        return {}
    if not isinstance(node, dict):
        raise InputError("must be a mapping; the file was changed or damaged: run it again", file=str(f), field=path)
    return node


def settings_of(rec: dict[str, Any], f: Path) -> dict[str, Any]:
    """What names the run, from its config; a rule's choice (lr None, an epoch budget, the
    sampler left to the data) from what the run used (``training``)."""
    if not isinstance(rec.get("config"), dict):
        raise InputError("missing or not a mapping: the run's config names its row", file=str(f), field="config")
    un, tr = _mapping(rec, "config.unlearn", f), _mapping(rec, "config.unlearn.train", f)
    used = _mapping(rec, "training", f)
    args = un.get("args")
    return {"method": un.get("method"),
            "args": ", ".join(f"{k}={_setting_text(v)}" for k, v in args.items()) if isinstance(args, dict)
            else args,
            "sampler": un.get("sampler") if un.get("sampler") is not None else used.get("sampler"),
            "lr": tr.get("lr") if tr.get("lr") is not None else used.get("lr"),
            "steps": tr.get("max_steps") if tr.get("max_steps") is not None else used.get("steps"),
            "seed": rec["config"].get("seed", rec.get("seed")),
            "lora_r": _mapping(rec, "config.model", f).get("lora_r")}


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _metric(rec: dict[str, Any], path: str, f: Path) -> Value:
    node = _mapping(rec, path, f)
    if not node and ".sets.forget_test." in path:      # a run made before validation/test portions
        node = _mapping(rec, path.replace(".sets.forget_test.", ".sets.forget."), f)
    if not node:
        return Value()
    if node.get("skipped"):
        return Value(skipped=str(node["skipped"]))
    v, ci = node.get("value"), node.get("ci")
    if v is not None and not _number(v):
        raise InputError("must be a number; the file was changed or damaged: run it again", file=str(f),
                         field=f"{path}.value")
    if ci is not None and not (isinstance(ci, list) and len(ci) == 2 and all(_number(x) for x in ci)):
        raise InputError("must be a [low, high] pair of numbers; the file was changed or damaged: run it again",
                         file=str(f), field=f"{path}.ci")
    return Value(None if v is None else float(v), None if ci is None else (float(ci[0]), float(ci[1])))


def gather(paths: Sequence[str | Path]) -> list[Row]:
    """Every run folder of ``paths`` (compare folders expanded) as a row, in the order given."""
    return [read_row(p) for p in expand(paths)]


# -- sorting -------------------------------------------------------------------------------------
def parse_sort(spec: str | None) -> tuple[str, bool]:
    """``KEY`` (ascending) or ``KEY:desc`` / ``KEY:asc`` → (column, descending)."""
    key, _, direction = (spec or DEFAULT_SORT).strip().partition(":")
    if key not in COLUMNS or direction not in ("", "asc", "desc"):
        raise InputError(f"unknown sort {spec!r}: give one of {', '.join(COLUMNS)}, optionally followed by "
                         ":desc", field="--sort")
    return key, direction == "desc"


def sort_rows(rows: Sequence[Row], spec: str | None = None) -> list[Row]:
    """Rows by the column of ``spec`` (:func:`parse_sort`); missing values last either way,
    numbers before text, ties in the order given."""
    key, desc = parse_sort(spec)
    present = [r for r in rows if r.sort_value(key) is not None]
    missing = [r for r in rows if r.sort_value(key) is None]

    def order(r: Row) -> tuple[int, float, str]:
        v = r.sort_value(key)
        return (0, float(v), "") if isinstance(v, (int, float)) else (1, 0.0, str(v))
    return sorted(present, key=order, reverse=desc) + missing


# -- writing -------------------------------------------------------------------------------------
def _setting_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    return json.dumps(v, sort_keys=True, default=str)


def _texts(row: Row) -> list[str]:
    """The row as it is shown (Markdown and HTML): settings, verdicts, value [95% interval]."""
    return [row.run, *(_setting_text(row.settings.get(k)) for k in SETTINGS),
            *(row.verdicts[q] for q in VERDICTS), *(row.metrics[m.key].text() for m in METRICS)]


def _headers() -> list[str]:
    metrics = {m.key for m in METRICS}
    return [_LABELS.get(c, c) + (" [95% CI]" if c in metrics else "") for c in COLUMNS]


_MD_SPECIAL = re.compile(r"([\\`*\[\]<>|])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def _md(text: str) -> str:
    """A cell's text as Markdown text: one line, and no character that makes a link, an HTML
    tag, code, emphasis or a new column (a run folder or method name is someone's text)."""
    return _MD_SPECIAL.sub(r"\\\1", _CONTROL.sub(" ", text))


def to_markdown(rows: Sequence[Row]) -> str:
    numeric = {"lr", "steps", "seed", "lora_r", *(m.key for m in METRICS)}
    lines = ["| " + " | ".join(_headers()) + " |",
             "|" + "|".join("---:" if c in numeric else ":---" for c in COLUMNS) + "|"]
    n_text = 1 + len(SETTINGS)       # the run and its settings are someone's text; the rest is ours
    lines += ["| " + " | ".join(_md(t) if i < n_text else t for i, t in enumerate(_texts(r))) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def _csv_text(text: str) -> str:
    """Text a spreadsheet would run as a formula (=, +, -, @ first) gets a leading quote."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_setting(v: Any) -> str:
    return str(v) if _number(v) else _csv_text(_setting_text(v))


def to_csv(rows: Sequence[Row]) -> str:
    """One column per setting and verdict, three per metric (value, interval low and high), the
    numbers as results.json has them (full precision); empty where there is none."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["run", *SETTINGS, *VERDICTS, *(f"{m.key}{s}" for m in METRICS for s in ("", "_low", "_high"))])
    for r in rows:
        cells = [_csv_text(r.run), *(_csv_setting(r.settings.get(k)) for k in SETTINGS),
                 *(r.verdicts[q] for q in VERDICTS)]
        for m in METRICS:
            v = r.metrics[m.key]
            cells += ["" if v.value is None else repr(v.value),
                      *(("", "") if v.ci is None else (repr(v.ci[0]), repr(v.ci[1])))]
        w.writerow(cells)
    return buf.getvalue()


#: the page's only script: click a header to sort by its column (missing values last); a
#: constant, allowed by its hash in the page's Content-Security-Policy (nothing else runs)
SCRIPT = """(function () {
  var table = document.getElementById("board"), body = table.tBodies[0], heads = table.tHead.rows[0].cells;
  function key(td) {
    var s = td.getAttribute("data-sort");
    return s === null ? null : (td.hasAttribute("data-num") ? Number(s) : s);
  }
  Array.prototype.forEach.call(heads, function (th, i) {
    th.addEventListener("click", function () {
      var desc = th.getAttribute("aria-sort") === "ascending", rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = key(a.cells[i]), y = key(b.cells[i]);
        if (x === null || y === null) { return (x === null) - (y === null); }
        var c = typeof x === typeof y ? (typeof x === "number" ? x - y : x.localeCompare(y))
                                      : (typeof x === "number" ? -1 : 1);
        return desc ? -c : c;
      });
      Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", desc ? "descending" : "ascending");
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
})();"""
SCRIPT_HASH = "sha256-" + base64.b64encode(hashlib.sha256(SCRIPT.encode("utf-8")).digest()).decode("ascii")


def _html_cells(row: Row) -> list[dict[str, Any]]:
    """Each cell's text, class and the value the page's script sorts by (None: missing)."""
    cells = []
    for col, text in zip(COLUMNS, _texts(row)):
        v = row.sort_value(col)
        cls = ({"yes": "yes", "no": "no", "over-unlearned": "no"}.get(text, "na") if col in VERDICTS else
               "l" if col in ("run", "method", "args", "sampler") else "")
        skipped = row.metrics[col].skipped if col in row.metrics else None
        cells.append({"text": text, "cls": cls, "num": isinstance(v, (int, float)),
                      "sort": None if v is None else repr(v) if isinstance(v, (int, float)) else v,
                      "title": f"skipped: {skipped}" if skipped else None})
    return cells


def to_html(rows: Sequence[Row], sort: str | None = None) -> str:
    from jinja2 import Environment, PackageLoader
    from markupsafe import Markup
    key, desc = parse_sort(sort)
    # autoescape always on (Jinja's choice by extension does not cover ".j2"): every cell is text
    env = Environment(loader=PackageLoader("oblivio.report", "templates"), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True)
    return env.get_template("leaderboard.html.j2").render(
        title=f"oblivio leaderboard: {len(rows)} run{'s' if len(rows) != 1 else ''}",
        headers=[{"label": h, "sorted": ("descending" if desc else "ascending") if c == key else None}
                 for c, h in zip(COLUMNS, _headers())],
        rows=[_html_cells(r) for r in rows], script=Markup(SCRIPT), script_hash=SCRIPT_HASH)


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}: give one of {', '.join(FORMATS)}", field="--format")


def render(rows: Sequence[Row], fmt: str = "md", sort: str | None = None) -> str:
    """The sorted rows in ``fmt`` (md, csv or html)."""
    _check_format(fmt)
    ordered = sort_rows(rows, sort)
    return to_markdown(ordered) if fmt == "md" else to_csv(ordered) if fmt == "csv" else to_html(ordered, sort)


def leaderboard(runs: str | Path | Sequence[str | Path], *, fmt: str = "md", out: str | Path | None = None,
                sort: str | None = None, overwrite: bool = False) -> str:
    """The table of ``runs`` (run or compare folders) in ``fmt``, sorted by ``sort``; written to
    ``out`` too when given (checked first: an existing file only with ``overwrite``)."""
    items = [runs] if isinstance(runs, (str, Path)) else list(runs)
    parse_sort(sort)          # a typo fails before any folder is read
    _check_format(fmt)
    if out is not None:
        from oblivio.paths import check_writable
        check_writable(out, kind="file", parent_must_exist=True, overwrite=overwrite)
    text = render(gather(items), fmt, sort)
    if out is not None:
        from oblivio.atomic import write_text
        write_text(out, text)
    return text
