"""The four verdicts over many worlds: the world is the unit, the interval a Student-t over worlds.

One run's verdicts (report/verdict.py) decide on a bootstrap over that run's facts; on the
default world that is 9 forget facts, too few for any closeness claim at ±0.05. A method or a
default recipe is judged instead over several worlds (``compare --world-seeds``,
bench/default_protocol.py): every world has its own people, targets, base and gold models, so
the worlds are independent replicates and the spread between them is the one a claim about the
method must survive.

For each question, every run gives one number against its own world's reference, the same
number the single-run verdict decides on:

* forgotten — forget-set answer accuracy (else ROUGE-L recall, else answer probability) minus
  the gold model's;
* kept — per held-out retain role, unlearned / base of the same metric;
* private — Min-K%++ membership AUC (forget vs holdout) minus the gold model's;
* robust — per attack, the attacked forget accuracy minus the gold model's under the same
  attack.

Within a world the training seeds are averaged; over the worlds the mean gets a Student-t
interval with ``worlds − 1`` degrees of freedom, decided by the same rules and at the same
levels as one run's: forgotten and private two-sided (TOST: the 90% interval inside ±margin is
**yes**, wholly above **no**, wholly below **over-unlearned**), kept on the lower end of the 90%
interval (≥ 0.95), robust on the upper end of each attack's 95% interval (≤ +margin). ``n`` is
the facts behind the decision summed over the worlds (each world's forget facts once, however
many seeds), held to the same minimum as one run (:func:`oblivio.report.verdict.min_facts`): the
worlds must together hold enough facts to show a difference within the margin.
"""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from oblivio.report import evidence as E
from oblivio.report import verdict as V
from oblivio.report.evidence import Interval

HOW = "Student-t over worlds"
Run = tuple[int, dict[str, Any]]            # (world seed, results.json record)
SHARE_DIFF = (-1.0, 1.0)                    # accuracies and AUCs lie in [0, 1]: so do their differences


@dataclass(frozen=True)
class Spread:
    """One quantity per world (its mean over the world's seeds) and their t-interval."""
    per_world: dict[int, float]
    interval: Interval | None               # None with fewer than 2 worlds


def t_interval(values: Sequence[float], level: float, n_facts: int | None,
               bounds: tuple[float, float] | None = None) -> Interval | None:
    """The mean of ``values`` with its two-sided Student-t interval at ``level``, cut to
    ``bounds`` (a difference of two shares lies in [−1, 1]); None for fewer than two values."""
    from scipy.stats import t
    k = len(values)
    if k < 2:
        return None
    mean = math.fsum(values) / k
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (k - 1))
    half = float(t.ppf(0.5 + level / 2, k - 1)) * sd / math.sqrt(k)
    lo, hi = mean - half, mean + half
    if bounds is not None:
        lo, hi = max(lo, bounds[0]), min(hi, bounds[1])
    return Interval(mean, lo, hi, level, HOW, n_facts)


def spread(runs: Sequence[Run], one: Callable[[dict[str, Any]], float | None], level: float,
           facts: Callable[[dict[str, Any]], int | None], bounds: tuple[float, float] | None = None) -> Spread:
    """``one(record)`` averaged per world, then its t-interval over the worlds where every run
    had a value (a world with a run lacking it is left out rather than half-counted)."""
    vals: dict[int, list[float | None]] = defaultdict(list)
    n_of: dict[int, int | None] = {}
    for world, rec in runs:
        vals[world].append(one(rec))
        n_of.setdefault(world, facts(rec))
    per = {w: math.fsum(v) / len(v) for w, v in vals.items()  # type: ignore[arg-type]
           if v and all(x is not None and math.isfinite(x) for x in v)}
    ns = [n_of[w] for w in per]
    n = sum(x for x in ns if x is not None) if ns and all(x is not None for x in ns) else None
    return Spread(per, t_interval(list(per.values()), level, n, bounds))


def _diff(model: str, role: str, metric: str, ref: str = "gold") -> Callable[[dict[str, Any]], float | None]:
    def one(rec: dict[str, Any]) -> float | None:
        a, b = V.set_value(rec, model, role, metric), V.set_value(rec, ref, role, metric)
        return None if a is None or b is None else a - b
    return one


def _ratio(role: str, metric: str) -> Callable[[dict[str, Any]], float | None]:
    def one(rec: dict[str, Any]) -> float | None:
        a, b = V.set_value(rec, "unlearned", role, metric), V.set_value(rec, "base", role, metric)
        return None if a is None or not b else a / b
    return one


def _auc_diff(rec: dict[str, Any]) -> float | None:
    a, b = V.model_value(rec, "unlearned", V.MIA), V.model_value(rec, "gold", V.MIA)
    return None if a is None or b is None else a - b


def _facts(role: str) -> Callable[[dict[str, Any]], int | None]:
    def n(rec: dict[str, Any]) -> int | None:
        f = E.facts_of(rec, role)
        return len(set(f.values())) if f else None
    return n


def _auc_facts(rec: dict[str, Any]) -> int | None:
    a = E.auc(rec, "unlearned", V.MIA)
    return None if a is None else a.n


def _attack_excess(name: str) -> Callable[[dict[str, Any]], float | None]:
    def one(rec: dict[str, Any]) -> float | None:
        a = ((rec.get("audit") or {}).get("attacks") or {}).get(name) or {}
        ms = a.get("models") or {}
        u, g = (ms.get("unlearned") or {}).get("accuracy"), (ms.get("gold") or {}).get("accuracy")
        if a.get("skipped") or not isinstance(u, (int, float)) or not isinstance(g, (int, float)):
            return None
        return float(u) - float(g)
    return one


def _attack_facts(name: str) -> Callable[[dict[str, Any]], int | None]:
    def n(rec: dict[str, Any]) -> int | None:
        a = ((rec.get("audit") or {}).get("attacks") or {}).get(name) or {}
        k = ((a.get("models") or {}).get("unlearned") or {}).get("n_facts")
        return k if isinstance(k, int) else None
    return n


def _worlds(s: Spread) -> str:
    return f"{len(s.per_world)} worlds"


def _iv_text(iv: Interval, ratio: bool = False) -> str:
    if ratio:
        return f"mean ratio {iv.value:.3f}, {iv.level:.0%} interval [{iv.lo:.3f}, {iv.hi:.3f}] ({iv.how})"
    return V._interval_text(iv).replace("difference", "mean difference", 1)


Part = tuple[str, str, Interval]            # (role or attack, status, interval)


def _deciding(parts: list[Part], worst: Callable[[Part], float]) -> tuple[str, Part]:
    """As the single run's :func:`oblivio.report.verdict.deciding`: "no" if a part fails, else
    "too few facts", else "not decided", else "yes"; shown: the part with the highest ``worst``
    among those of that status."""
    for status in ("no", "too few facts", "undecided", "yes"):
        group = [p for p in parts if p[1] == status]
        if group:
            return status, max(group, key=worst)
    raise ValueError("no part to decide on")


def _two_sided(question: str, what: str, s: Spread, margin: float) -> V.Verdict:
    iv = s.interval
    if iv is None:
        return V.Verdict(question, "not available", f"{what}: fewer than 2 worlds with a value")
    need = V.min_facts(margin)
    text = f"{what}: {_iv_text(iv)}, {_worlds(s)}, margin ±{margin:g}, {V._n_text(iv.n, need)}"
    return V.Verdict(question, V._enough(V.two_sided(iv, margin), iv.n, need), text, [], iv.n, iv)


def forgotten(runs: Sequence[Run], margin: float) -> V.Verdict:
    m = next((V._forget_metric(rec) for _, rec in runs if V._forget_metric(rec)), None)
    if m is None:
        return V.Verdict("forgotten", "not available", "no forget-set answer metric was computed")
    s = spread(runs, _diff("unlearned", "forget", m), V.LEVEL, _facts("forget"), SHARE_DIFF)
    return _two_sided("forgotten", f"forget {m} minus gold's", s, margin)


def private(runs: Sequence[Run], margin: float) -> V.Verdict:
    s = spread(runs, _auc_diff, V.LEVEL, _auc_facts, SHARE_DIFF)
    return _two_sided("private", "MIA AUC (Min-K%++, forget vs holdout) minus gold's", s, margin)


def kept(runs: Sequence[Run]) -> V.Verdict:
    m = next((V._forget_metric(rec) for _, rec in runs if V._forget_metric(rec)), None)
    roles = list(dict.fromkeys(r for _, rec in runs for r in V.keep_roles(rec)))
    if m is None or not roles:
        return V.Verdict("kept", "not available", "no retain role with an answer metric")
    need = V.min_facts(1 - V.KEEP)
    judged: list[Part] = []
    for r in roles:
        iv = spread(runs, _ratio(r, m), V.LEVEL, _facts(r)).interval
        if iv is not None:
            st = "yes" if iv.lo >= V.KEEP - V._EPS else "no" if iv.hi < V.KEEP - V._EPS else "undecided"
            judged.append((r, V._enough(st, iv.n, need), iv))
    if not judged:
        return V.Verdict("kept", "not available", "no retain role has a base value in 2 or more worlds")
    status, (role, _, iv) = _deciding(judged, lambda j: -j[2].lo)
    text = (f"{'worst ' if len(judged) > 1 else ''}retain role {role}: {m} unlearned/base {_iv_text(iv, True)}, "
            f"kept from ≥ {V.KEEP:g}, {V._n_text(iv.n, need)}; roles: "
            + ", ".join(f"{r} {V.WORDS[st]}" for r, st, _ in judged))
    return V.Verdict("kept", status, text, [], iv.n, iv)


def robust(runs: Sequence[Run], margin: float) -> V.Verdict:
    names = list(dict.fromkeys(n for _, rec in runs for n, a in ((rec.get("audit") or {}).get("attacks") or {}).items()
                               if not a.get("skipped")))
    if not names:
        return V.Verdict("robust", "not available", "no run of these worlds was audited (or no attack applied)")
    need = V.min_facts(margin)
    level = 1 - V.ALPHA       # the single run's attack interval is 95% too (attacks/audit.py excess_ci)
    judged: list[Part] = []
    for name in names:
        iv = spread(runs, _attack_excess(name), level, _attack_facts(name), SHARE_DIFF).interval
        if iv is None:
            continue
        st = "yes" if iv.hi <= margin + V._EPS else "no" if iv.lo > margin + V._EPS else "undecided"
        judged.append((name, V._enough(st, iv.n, need), iv))
    if not judged:
        return V.Verdict("robust", "not available", "no attack has a gold score in 2 or more worlds")
    status, (name, _, iv) = _deciding(judged, lambda j: j[2].hi)
    passed = sum(st == "yes" for _, st, _ in judged)
    fails = [n for n, st, _ in judged if st != "yes"]
    text = (f"{'worst attack' if status != 'yes' else 'highest excess'} {name}: attacked forget accuracy minus gold's "
            f"{_iv_text(iv)}, margin +{margin:g}, {V._n_text(iv.n, need)}; {passed} of {len(judged)} attacks pass"
            + (f" (not passing: {', '.join(fails)})" if fails else ""))
    return V.Verdict("robust", status, text, [], iv.n, iv)


def world_verdicts(runs: Sequence[Run], margin: float | None = None) -> list[V.Verdict]:
    """The four verdicts of ``runs`` — (world seed, results.json record) pairs, any number of
    training seeds per world — over the worlds (module docstring). ``margin``: the runs'
    declared ``eval.margin`` by default."""
    if not runs:
        raise ValueError("no runs to judge")
    m = margin if margin is not None else V.margin_of(runs[0][1])
    return [forgotten(runs, m), kept(runs), private(runs, m), robust(runs, m)]


def world_verdict_lines(runs: Sequence[Run], margin: float | None = None) -> list[str]:
    return [v.line for v in world_verdicts(runs, margin)]
