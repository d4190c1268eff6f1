"""Power at the sizes used: the minimum detectable difference of each reported test, per preset.

Issue #24 item 2. The reported numbers are measured on the test portion of a world
(oblivio.roles): ``forget_test`` against the gold model, ``holdout_test`` as MIA non-members,
the ``*_test`` retain sets. This prints, for every world preset, how many facts those portions
hold (facts are the unit: the phrasings of a fact are not independent) and what difference
each test can detect there — two-sided α = 0.05, power 0.8:

* **forget quality** (TOFU's KS test, unlearned vs gold, one truth ratio per fact, n = m =
  forget_test facts): the smallest KS distance D whose exact p-value is below 0.05 (D moves in
  steps of 1/n: the p-value lives on a lattice of n + 1 values), the smallest p-value any pair of
  samples can reach, and the normal location shift δ (in standard deviations of the per-fact
  truth ratio) that the test detects with power 0.8 — Monte Carlo, ``--reps`` samples per δ,
  bisection on δ, seeded;
* **accuracy** on forget_test and on each retain test set: the 95% interval half-width of one
  model's fact-level accuracy at p = 0.5 (the widest), 1.96·√(0.25/n), and the difference between
  two models detectable with power 0.8, (z₀.₉₇₅ + z₀.₈)·√(2·0.25/n) (independent binomials: a
  paired design does better, this is the conservative figure);
* **MIA AUC** (forget_test members vs holdout_test non-members, facts as units): the
  Hanley–McNeil (1982) standard error at AUC = 0.5, the 95% half-width, and the distance from
  0.5 detectable with power 0.8;
* **worlds**: the half-width of the 95% Student-t interval over n worlds, in units of the
  between-world standard deviation, t₀.₉₇₅,ₙ₋₁/√n (``compare --world-seeds``).

Pure arithmetic on the worlds' sizes (no model is trained); scipy for the distributions.
Usage: ``python bench/power.py [--presets tiny,small,default,large] [--reps 1000] [--seed 0]
[--world-seed 0] [--json FILE]``
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

import numpy as np
from scipy import stats

ALPHA, POWER = 0.05, 0.8
Z = stats.norm.ppf(1 - ALPHA / 2) + stats.norm.ppf(POWER)      # 1.96 + 0.84


def sizes(preset: str, world_seed: int) -> dict[str, int]:
    """Facts per evaluated set of a preset's world (``forget_test``, ``holdout_test`` …)."""
    from oblivio.roles import eval_name
    from oblivio.world import build_world, world_config
    d = build_world(world_config(preset, seed=world_seed))
    facts: dict[str, set[str]] = {}
    for it in d.items:
        facts.setdefault(eval_name(it.role, it.portion), set()).add(it.fact or it.id)
    return {k: len(v) for k, v in sorted(facts.items())}


def ks_lattice(n: int) -> dict[str, Any]:
    """The smallest KS distance D = k/n with exact p < α for two samples of n, and the smallest
    p-value reachable (D = 1: the samples do not overlap)."""
    x = np.arange(n, dtype=float)
    crit = None
    for k in range(1, n + 1):
        p = stats.ks_2samp(x, x + k - 0.5, method="exact").pvalue       # D = k/n exactly
        if p < ALPHA and crit is None:
            crit = k / n
    p_min = stats.ks_2samp(x, x + n, method="exact").pvalue
    return {"d_crit": crit, "p_min": float(p_min), "lattice": n + 1}


def ks_power(n: int, delta: float, reps: int, rng: np.random.Generator) -> float:
    a = rng.standard_normal((reps, n))
    b = rng.standard_normal((reps, n)) + delta
    return float(np.mean([stats.ks_2samp(a[i], b[i], method="exact").pvalue < ALPHA for i in range(reps)]))


def ks_mdd(n: int, reps: int, seed: int) -> float | None:
    """The normal shift δ (in sd) detected with power 0.8 by the KS test of n vs n (bisection)."""
    if ks_lattice(n)["d_crit"] is None:
        return None                     # no outcome reaches p < α: nothing is detectable
    lo, hi = 0.0, 8.0
    for _ in range(12):
        mid = (lo + hi) / 2
        if ks_power(n, mid, reps, np.random.default_rng([seed, n, int(mid * 1e6)])) >= POWER:
            hi = mid
        else:
            lo = mid
    return hi


def accuracy(n: int) -> dict[str, float]:
    return {"half_width": 1.96 * math.sqrt(0.25 / n), "mdd": Z * math.sqrt(2 * 0.25 / n)}


def auc(n1: int, n2: int, a: float = 0.5) -> dict[str, float]:
    """Hanley & McNeil (1982) standard error of an AUC of n1 positives and n2 negatives."""
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    se = math.sqrt((a * (1 - a) + (n1 - 1) * (q1 - a * a) + (n2 - 1) * (q2 - a * a)) / (n1 * n2))
    return {"se": se, "half_width": 1.96 * se, "mdd": Z * se}


def worlds(n: int) -> float:
    return float(stats.t.ppf(1 - ALPHA / 2, n - 1) / math.sqrt(n))


def report(preset: str, world_seed: int, reps: int, seed: int) -> dict[str, Any]:
    s = sizes(preset, world_seed)
    nf, nh = s.get("forget_test", 0), s.get("holdout_test", 0)
    out: dict[str, Any] = {"preset": preset, "facts": s, "ks": {**ks_lattice(nf), "shift_mdd": ks_mdd(nf, reps, seed)},
                           "forget_accuracy": accuracy(nf), "mia_auc": auc(nf, nh) if nh else None,
                           "retain_accuracy": {r: accuracy(n) for r, n in s.items() if r.endswith("_test")
                                               and r not in ("forget_test", "holdout_test")}}
    return out


def _f(x: float | None, d: int = 3) -> str:
    return "–" if x is None else f"{x:.{d}f}"


def markdown(rows: list[dict[str, Any]]) -> str:
    head = ("| preset | forget_test facts | holdout_test facts | KS: D needed (p<0.05) | KS: smallest p | "
            "KS: shift δ (sd) at power 0.8 | forget acc. ±95% | forget acc. MDD | AUC ±95% | AUC MDD from 0.5 | "
            "retain test sets: acc. MDD |")
    lines = [head, "|" + "|".join("---" for _ in range(11)) + "|"]
    for r in rows:
        f = r["facts"]
        m = r["mia_auc"] or {}
        ret = ", ".join(f"{k} ({f[k]}): {_f(v['mdd'], 2)}" for k, v in r["retain_accuracy"].items())
        lines.append(f"| {r['preset']} | {f.get('forget_test', 0)} | {f.get('holdout_test', 0)} | "
                     f"{_f(r['ks']['d_crit'], 2)} | {r['ks']['p_min']:.2g} | {_f(r['ks']['shift_mdd'], 2)} | "
                     f"{_f(r['forget_accuracy']['half_width'], 2)} | {_f(r['forget_accuracy']['mdd'], 2)} | "
                     f"{_f(m.get('half_width'), 2)} | {_f(m.get('mdd'), 2)} | {ret} |")
    lines += ["", "| worlds n | 95% t half-width / between-world sd |", "|---|---|"]
    lines += [f"| {n} | {worlds(n):.2f} |" for n in (3, 5, 10)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--presets", default="tiny,small,default,large")
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--world-seed", type=int, default=0)
    ap.add_argument("--json", default=None, help="also write the numbers here")
    a = ap.parse_args(argv)
    rows = []
    for p in [x.strip() for x in a.presets.split(",") if x.strip()]:
        print(f"power: {p} …", file=sys.stderr)
        rows.append(report(p, a.world_seed, a.reps, a.seed))
    print(markdown(rows))
    if a.json:
        from pathlib import Path
        Path(a.json).write_text(json.dumps({"args": vars(a), "rows": rows}, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
