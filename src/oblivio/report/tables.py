"""The report's tables, read from ``results.json``: per evaluated set the few key metrics first
(the rest folded away), the judge's UQ/RQ, the audit's attacks, the verdict's details and the
glossary of every metric the page names.

The key metrics are the terminal table's (report/results.py ``HEADLINE_SET`` and
``HEADLINE_MODEL``), so the terminal, ``summary.md`` and the page agree on what comes first;
every row says how many items and facts it rests on and, where the run bootstrapped, its 95%
interval. Columns are base, gold, unlearned everywhere (``results.column_order``). The
direction that is good comes from the metric registry (``Metric.direction``: none on the
holdout, whose facts no model was taught). The glossary is the registry's own text — each
metric's ``description`` and ``source`` (metrics/base.py ``register_metric``) — so it cannot
drift from the code; a metric this installation does not know (a plugin's) falls back to the
description its run saved in ``results.json``.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from oblivio.report.results import ARROW, HEADLINE_MODEL, HEADLINE_SET, column_order

#: the words behind each direction's arrow (the hover text of the "good" column)
DIRECTION_WORDS = {"higher": "higher is better", "lower": "lower is better",
                   "closer_to_gold": "closer to the gold (retrained) model is better",
                   "info": "information only: neither direction is better"}
HOLDOUT_WORDS = "holdout facts were never taught to any model: a floor to read the others against, no better direction"


def fmt(v: Any) -> str:
    """The page's number format (3 decimals; 3 significant digits for very large/small)."""
    if v is None:
        return "n/a"
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, int):
        return str(v)
    if abs(v) >= 100 or (v != 0 and abs(v) < 1e-3):
        return f"{v:.3g}"
    return f"{v:.3f}"


def ci_text(ci: Any) -> str | None:
    """``[lo, hi]`` of a stored interval, None when there is none."""
    if isinstance(ci, (list, tuple)) and len(ci) == 2 and all(isinstance(x, (int, float)) for x in ci):
        return f"[{fmt(ci[0])}, {fmt(ci[1])}]"
    return None


@dataclass
class Cell:
    text: str
    key: str | None = None        # path in results.json of the number shown
    ci: str | None = None
    note: str | None = None       # a skip reason


@dataclass
class Row:
    metric: str
    good: str                     # the arrow (or "≈gold", or "")
    good_title: str               # the direction in words
    cells: list[Cell]
    n: str                        # items / facts behind the value
    description: str              # the glossary's text (the row name's hover)


@dataclass
class Table:
    role: str
    models: list[str]
    key: list[Row]
    other: list[Row] = field(default_factory=list)


Path = tuple[str, ...]


def _node(rec: dict[str, Any], path: Path) -> Any:
    """The value at ``path``, part by part (a name may hold a dot: never split a joined key)."""
    node: Any = rec
    for part in path:
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _key(path: Path) -> str:
    """``data-key``: the path as one string, as the page's tests read it back."""
    return ".".join(path)


def cell(rec: dict[str, Any], base: Path) -> Cell:
    """The cell of the metric record at ``base`` (``models, <m>, sets, <role>, <metric>``)."""
    node = _node(rec, base)
    if not isinstance(node, dict) or not node:
        return Cell("—")
    if node.get("skipped"):
        return Cell("skipped", note=str(node["skipped"]))
    return Cell(fmt(node.get("value")), _key((*base, "value")), ci_text(node.get("ci")))


def _count(node: Any) -> str:
    """"items / facts" of one metric record ("—" for what it does not say)."""
    if not isinstance(node, dict):
        return "—"
    items = node.get("per_item")
    facts = node.get("n_facts")
    f = (", ".join(f"{k} {v}" for k, v in facts.items()) if isinstance(facts, dict)
         else str(facts) if isinstance(facts, int) else "—")
    return f"{len(items) if isinstance(items, list) else '—'} / {f}"


def description(rec: dict[str, Any], name: str) -> str:
    """The registry's description of metric ``name``; a metric it lacks: the run's saved one."""
    import oblivio.metrics  # noqa: F401  (registers the built-in metrics)
    from oblivio.metrics.base import METRICS
    if name in METRICS:
        return METRICS.get(name).description
    saved = _node(rec, ("metrics", name, "description"))
    return str(saved) if saved else "no description: this installation does not know the metric"


def _direction(rec: dict[str, Any], name: str, role: str | None) -> str:
    import oblivio.metrics  # noqa: F401
    from oblivio.metrics.base import METRICS
    from oblivio.roles import base_role
    if name in METRICS:
        return METRICS.get(name).direction(role) if role is not None else METRICS.get(name).on_forget
    if role is not None and base_role(role) == "holdout":
        return "info"
    meta = _node(rec, ("metrics", name)) or {}
    side = "good_on_forget" if role is None or base_role(role) == "forget" else "good_on_retain"
    d = meta.get(side) if isinstance(meta, dict) else None
    return str(d) if d else "info"        # a plugin's own word is shown as it saved it


def _row(rec: dict[str, Any], models: list[str], name: str, where: Path, role: str | None) -> Row:
    from oblivio.roles import base_role
    d = _direction(rec, name, role)
    title = HOLDOUT_WORDS if role is not None and base_role(role) == "holdout" else DIRECTION_WORDS.get(d, d)
    bases = [("models", m, *where, name) for m in models]
    counted = next((b for b in (("models", "unlearned", *where, name), *bases)
                    if isinstance(_node(rec, b), dict) and not _node(rec, b).get("skipped")), bases[0])
    return Row(name, ARROW.get(d, d), title, [cell(rec, b) for b in bases], _count(_node(rec, counted)),
               description(rec, name))


def _ordered_roles(names: Iterable[str]) -> list[str]:
    from oblivio.roles import eval_order
    rank = {r: i for i, r in enumerate(eval_order())}
    names = list(names)
    return sorted(names, key=lambda r: (rank.get(r, len(rank)), names.index(r)))


def metric_tables(rec: dict[str, Any]) -> list[Table]:
    """Per evaluated set, then for the model-level metrics: the key metrics (those the record
    has) and the others, each sorted by name."""
    ms = rec.get("models") or {}
    models = column_order(m for m in ms if isinstance(ms.get(m), dict))
    roles = _ordered_roles(dict.fromkeys(r for m in models for r in (ms[m].get("sets") or {})))
    tables = []
    for role in roles:
        names = sorted({k for m in models for k in ((ms[m].get("sets") or {}).get(role) or {})})
        rows = {n: _row(rec, models, n, ("sets", role), role) for n in names}
        tables.append(Table(role, models, [rows[n] for n in HEADLINE_SET if n in rows],
                            [rows[n] for n in names if n not in HEADLINE_SET]))
    names = sorted({k for m in models for k in (ms[m].get("model") or {})})
    rows = {n: _row(rec, models, n, ("model",), None) for n in names}
    tables.append(Table("(model level)", models, [rows[n] for n in HEADLINE_MODEL if n in rows],
                        [rows[n] for n in names if n not in HEADLINE_MODEL]))
    return tables


@dataclass
class JudgeRow:
    metric: str                   # "uq" / "rq"
    role: str
    cells: list[Cell]
    n: str                        # facts (judged answers) of the first model that has it
    unparseable: str
    description: str


def judge_table(rec: dict[str, Any]) -> tuple[list[str], list[JudgeRow]]:
    """TRU's UQ (forget) and RQ (retain roles) per model: (model columns, rows)."""
    j = rec.get("judge") or {}
    ms = j.get("models") if isinstance(j, dict) else None
    if not isinstance(ms, dict) or not ms:
        return [], []
    models = column_order(m for m in ms if isinstance(ms[m], dict))
    keys = [(metric, role) for metric in ("uq", "rq")
            for role in _ordered_roles(dict.fromkeys(r for m in models for r in (ms[m].get(metric) or {})))]
    rows = []
    for metric, role in keys:
        base = [("judge", "models", m, metric, role) for m in models]
        first = next((n for b in base if isinstance(n := _node(rec, b), dict)), {})
        judged = first.get("judged")
        rows.append(JudgeRow(metric.upper(), role, [cell(rec, b) for b in base],
                             f"{judged if judged is not None else '—'} / {first.get('n_facts', '—')}",
                             ", ".join(f"{m} {_node(rec, (*b, 'unparseable'))}" for m, b in zip(models, base)
                                       if _node(rec, (*b, "unparseable"))) or "0",
                             description(rec, metric)))
    return models, rows


@dataclass
class AttackLine:
    name: str
    decision: str
    cells: list[Cell]             # unlearned, gold, base attacked accuracy; excess; recovery
    n: str
    note: str


def attack_table(rec: dict[str, Any]) -> list[AttackLine]:
    """Every attack of the audit — skipped ones with their reason — with the numbers the
    robust verdict decides on."""
    out = []
    for name, a in (((rec.get("audit") or {}).get("attacks")) or {}).items():
        if not isinstance(a, dict):
            continue
        p = ("audit", "attacks", str(name))
        if a.get("skipped"):
            out.append(AttackLine(str(name), "skipped", [], "—", str(a["skipped"])))
            continue
        cells = []
        for m in ("unlearned", "gold", "base"):
            acc = _node(rec, (*p, "models", m, "accuracy"))
            cells.append(Cell(fmt(acc), _key((*p, "models", m, "accuracy")) if acc is not None else None,
                              ci_text(_node(rec, (*p, "models", m, "accuracy_ci")))))
        u, g = _node(rec, (*p, "models", "unlearned", "accuracy")), _node(rec, (*p, "models", "gold", "accuracy"))
        excess = u - g if isinstance(u, (int, float)) and isinstance(g, (int, float)) else None
        cells.append(Cell(fmt(excess) if excess is not None else "n/a", None, ci_text(a.get("excess_ci"))))
        cells.append(Cell(fmt(a.get("recovery")), _key((*p, "recovery")) if a.get("recovery") is not None else None))
        from oblivio.report.verdict import attack_decision
        d = attack_decision(a)
        decision = {"undecided": "not decided", "too few facts": "too few facts to decide"}.get(str(d), str(d or "—"))
        facts = _node(rec, (*p, "models", "unlearned", "n_facts"))
        out.append(AttackLine(str(name), decision, cells, str(facts or "—"),
                              str(a.get("note") or "")))
    return out


@dataclass(frozen=True)
class Entry:
    name: str
    description: str
    good: str                     # "on forget sets: lower is better; on retain sets: higher is better"
    source: str


def glossary(rec: dict[str, Any], names: Iterable[str]) -> list[Entry]:
    """The registry's entry for each metric in ``names`` (sorted, once each)."""
    import oblivio.metrics  # noqa: F401
    from oblivio.metrics.base import METRICS
    out = []
    for n in sorted(set(names)):
        if n in METRICS:
            m = METRICS.get(n)
            fwd, ret, src = m.on_forget, m.on_retain, m.source
        else:
            meta = _node(rec, ("metrics", n)) or {}
            fwd, ret = meta.get("good_on_forget", "info"), meta.get("good_on_retain", "info")
            src = meta.get("source", "")
        good = (DIRECTION_WORDS.get(fwd, fwd) + ("" if fwd == "info" else " on every set") if fwd == ret else
                f"on forget sets {DIRECTION_WORDS.get(fwd, fwd)}; on retain sets {DIRECTION_WORDS.get(ret, ret)}")
        out.append(Entry(n, description(rec, n), good, str(src or "")))
    return out
