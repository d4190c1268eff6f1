"""The report's figures, drawn from ``results.json`` with matplotlib and embedded as PNG.

Each function returns a :class:`Figure` (a data URI and its alt text) or a
:class:`NotAvailable` that says why the figure cannot be drawn — the report shows the reason
instead of an empty box. Figures: truth-ratio distributions of the forget set (the input of
TOFU's forget-quality KS test, Maini et al. 2024, arXiv 2401.06121), MIA ROC curves
(Min-K%++, Zhang et al. 2024, arXiv 2404.02936; members = forget, non-members = holdout),
training loss parts, checkpoint curves (Wang et al. 2024, arXiv 2406.09179), the calibration
sweep, and the audit: each attack's forget accuracy against gold's (SVG, report/svgplot.py).
Every legend stands outside its plot area (report/legend.py), never over a curve.
"""
from __future__ import annotations

import base64
import io
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oblivio.report.legend import legend_outside

MODELS = ("base", "gold", "unlearned")
COLOURS = {"base": "tab:grey", "gold": "tab:green", "unlearned": "tab:red"}


@dataclass
class Figure:
    src: str
    alt: str


@dataclass
class NotAvailable:
    reason: str


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _encode(fig: Any, alt: str) -> Figure:
    plt = _plt()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    plt.close(fig)
    return Figure("data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii"), alt)


def _models(rec: dict[str, Any]) -> dict[str, Any]:
    return rec.get("models") or {}


def truth_ratios(rec: dict[str, Any]) -> Figure | NotAvailable:
    from oblivio.roles import set_record
    per_item = {n: (set_record(_models(rec).get(n, {}).get("sets", {}), "forget").get("truth_ratio", {}) or {})
                .get("per_item") for n in MODELS}
    vals: dict[str, list[float]] = {n: list(v) for n, v in per_item.items() if v}
    if "unlearned" not in vals:
        return NotAvailable("no per-item truth ratios of the forget set (no perturbed answers, or not evaluated)")
    if "gold" not in vals:
        return NotAvailable("no gold (retrained) model: the forget-quality test has nothing to compare with")
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 3))
    hi = max(max(v) for v in vals.values())
    bins = [hi * i / 20 for i in range(21)] if hi > 0 else 10
    for n, v in vals.items():
        ax.hist(v, bins=bins, alpha=0.45, label=f"{n} (n={len(v)})", color=COLOURS[n])
    fq = _models(rec).get("unlearned", {}).get("model", {}).get("forget_quality", {}).get("value")
    ax.set_xlabel("truth ratio R = P̃(perturbed) / P̃(paraphrased), forget set")
    ax.set_ylabel("items")
    ax.set_title(f"forget quality (KS p-value vs gold) = {fq:.3g}" if fq is not None else "forget quality: n/a",
                 fontsize=9)
    legend_outside(ax)
    fig.tight_layout()
    return _encode(fig, "Histograms of forget-set truth ratios for " + ", ".join(vals) +
                   (f"; forget quality {fq:.3g}" if fq is not None else ""))


def mia_roc(rec: dict[str, Any], metric: str = "mia_minkpp") -> Figure | NotAvailable:
    curves = {}
    for n in MODELS:
        r = _models(rec).get(n, {}).get("model", {}).get(metric, {})
        members, non = r.get("per_item"), (r.get("extra") or {}).get("holdout_scores")
        if members and non:
            # imported only when there is a curve to draw: scikit-learn costs ~1.5 s to import,
            # a run without evaluation (--no-eval) must not pay it
            from sklearn.metrics import roc_curve
            y = [1] * len(members) + [0] * len(non)
            fpr, tpr, _ = roc_curve(y, list(members) + list(non))
            curves[n] = (fpr, tpr, r.get("value"))
    if not curves:
        why = _models(rec).get("unlearned", {}).get("model", {}).get(metric, {}).get("skipped")
        return NotAvailable(f"no membership scores: {why or 'MIA not computed'}")
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.2, 3.4))      # wider: the legend stands right of the curves
    for n, (fpr, tpr, auc) in curves.items():
        ax.plot(fpr, tpr, color=COLOURS[n], label=f"{n} (AUC {auc:.3f})")
    ax.plot([0, 1], [0, 1], ls=":", color="black", lw=0.8)
    ax.set_xlabel("false positive rate (holdout)")
    ax.set_ylabel("true positive rate (forget)")
    ax.set_title(f"{metric}: forget vs holdout", fontsize=9)
    legend_outside(ax)
    fig.tight_layout()
    return _encode(fig, f"ROC curves of the {metric} membership inference attack for " + ", ".join(curves))


def training(rec: dict[str, Any]) -> Figure | NotAvailable:
    """The loss and its parts per step, as SVG (report/svgplot.py: no matplotlib import for
    the one figure of a run without evaluation)."""
    from oblivio.report.svgplot import line_chart
    hist = (rec.get("training") or {}).get("history") or []
    if len(hist) < 2:
        return NotAvailable("fewer than two training steps were logged")
    keys = [k for k in hist[0] if k not in ("step", "lr")]
    series = {k: [(h["step"], h.get(k)) for h in hist] for k in keys}
    sel = (rec.get("training") or {}).get("selected_step")
    try:
        svg = line_chart(series, xlabel="step", ylabel="loss parts", bold="loss", width=560, height=300,
                         vline=(sel, f"selected step {sel}") if sel is not None else None)
    except ValueError:
        return NotAvailable("no finite loss was logged")
    return Figure("data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii"),
                  "Training loss and its parts (" + ", ".join(keys) + f") over {len(hist)} steps")


def checkpoints(rec: dict[str, Any]) -> Figure | NotAvailable:
    if not rec.get("curves"):
        return NotAvailable("checkpoint evaluation was off (control.eval_every = 0, no control.eval_steps)")
    from oblivio.report.curves import plot_curves
    with tempfile.TemporaryDirectory() as tmp:
        out = plot_curves(rec, Path(tmp) / "curves.png")
        if out is None:
            return NotAvailable("fewer than two checkpoint evaluations")
        data = out.read_bytes()
    return Figure("data:image/png;base64," + base64.b64encode(data).decode("ascii"),
                  f"Checkpoint utility and forget metric per role; selected step {rec.get('selected_step')}")


def calibration(cal: dict[str, Any] | None) -> Figure | NotAvailable:
    if not cal:
        return NotAvailable("the run was not calibrated (oblivio calibrate RUN writes calibrated-<τ>/)")
    c = cal.get("calibration") or {}
    sweep = c.get("sweep") or []
    if not sweep:
        return NotAvailable("the calibration record has no sweep")
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4, 3))
    pts = sorted((s["alpha"], s["utility"]) for s in sweep)
    ax.plot([a for a, _ in pts], [u for _, u in pts], "-o", ms=3)
    if c.get("target") is not None:
        ax.axhline(c["target"], ls="--", color="grey", lw=1, label=f"target τ × original = {c['target']:.3f}")
    if c.get("alpha") is not None:
        ax.axvline(c["alpha"], ls=":", color="tab:red", lw=1, label=f"chosen α = {c['alpha']:.3f}")
    ax.set_xlabel("α (weight of the reference model)")
    ax.set_ylabel("utility")
    legend_outside(ax)
    fig.tight_layout()
    return _encode(fig, f"Calibration sweep: utility against mixing weight α; chosen α {c.get('alpha')}")


#: the chart's words for each audit decision (report/verdict.py ``attack_decision``): the keys of
#: report/svgplot.py ``DECISION_COLOURS``
CHART_DECISIONS = {"robust": "robust", "not robust": "not robust", "undecided": "not decided",
                   "too few facts": "too few facts"}


def attack_chart_rows(rec: dict[str, Any]) -> list[Any]:
    """One :class:`~oblivio.report.svgplot.AttackRow` per attack of the audit, in its order:
    skipped ones too, with their reason."""
    from oblivio.report.svgplot import DECISION_COLOURS, AttackRow
    from oblivio.report.verdict import attack_decision, attack_facts
    out = []
    for name, a in ((rec.get("audit") or {}).get("attacks") or {}).items():
        if not isinstance(a, dict):
            continue
        ms = a.get("models") or {}
        u, g, b = (ms.get(k) or {} for k in ("unlearned", "gold", "base"))
        acc = u.get("accuracy")
        if a.get("skipped") or not isinstance(acc, (int, float)):
            out.append(AttackRow(str(name), skipped=f"skipped: {a['skipped']}" if a.get("skipped")
                                 else "no attacked accuracy in the record"))
            continue
        # the decision the run's "robust" verdict reads (an old record's robust on too few facts
        # included): never green below the fewest facts that could show robustness
        decision = CHART_DECISIONS.get(attack_decision(a) or "", "not decided")
        ci = u.get("accuracy_ci")
        lo, hi = (float(ci[0]), float(ci[1])) if isinstance(ci, list) and len(ci) == 2 else (None, None)
        rec_v = a.get("recovery")
        said = decision if decision != "too few facts" else "too few facts (n={}, needs {})".format(*attack_facts(a))
        note = (f"recovery {rec_v:.2f}" if isinstance(rec_v, (int, float)) else "recovery n/a") + f" · {said}"
        out.append(AttackRow(str(name), float(acc), lo, hi,
                             g.get("accuracy") if isinstance(g.get("accuracy"), (int, float)) else None,
                             b.get("accuracy") if isinstance(b.get("accuracy"), (int, float)) else None,
                             DECISION_COLOURS[decision], note))
    return out


def attacks(rec: dict[str, Any]) -> Figure | NotAvailable:
    """The audit, one row per attack (report/svgplot.py ``attack_rows``): the attacked forget
    accuracy of the unlearned model against gold's and base's under the same attack; skipped
    attacks named with their reason."""
    from oblivio.report.svgplot import attack_rows
    rows = attack_chart_rows(rec)
    if not rows:
        return NotAvailable("this run was not audited (no attack results in results.json)")
    svg = attack_rows(rows, xlabel="forget accuracy under the attack: lower is better; the verdict compares it "
                                   "with gold's (◆)")
    ran = [r for r in rows if r.skipped is None]
    skipped = [r for r in rows if r.skipped is not None]
    alt = ("Forget accuracy under each attack, unlearned vs gold and base: "
           + "; ".join(f"{r.name} {r.value:.2f}" + (f" (gold {r.gold:.2f})" if r.gold is not None else "")
                       for r in ran if r.value is not None)
           + ("; " + ", ".join(f"{r.name} {r.skipped}" for r in skipped) if skipped else ""))
    return Figure("data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii"), alt)
