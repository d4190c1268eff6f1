"""Plot of an unlearning run's checkpoint curves (``curves.png`` in the run folder).

Checkpoint evaluation (:mod:`oblivio.engine.checkpoint_eval`, Wang et al. 2024/2025,
arXiv 2406.09179) records, every k steps, the utility on a fixed subset and the
forget metric on every evaluated role. Two panels: utility against step, with the τ ×
original line of the stopping/selection rule and the selected step; and the forget metric
(by default greedy answer accuracy) per role against step — the forget set falling while
the neighbour sets hold is what a good run looks like; each panel's legend stands right of
it, off the curves. matplotlib is imported here only.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any


def plot_curves(control: dict[str, Any], path: str | Path, title: str = "") -> Path | None:
    """Draw ``control`` (the checkpoint summary in results.json) into ``path``; None if it
    holds fewer than two checkpoints (nothing to draw)."""
    fig = curves_figure(control, title)
    if fig is None:
        return None
    import matplotlib.pyplot as plt
    out = Path(path)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def curves_figure(control: dict[str, Any], title: str = "") -> Any:
    """The two panels as a matplotlib figure (each legend right of its panel, outside the
    curves); None with fewer than two checkpoints."""
    curves = control.get("curves") or []
    if len(curves) < 2:
        return None
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from oblivio.report.legend import legend_outside
    rules = control.get("control", {})
    steps = [r["step"] for r in curves]
    fig, (ax_u, ax_f) = plt.subplots(1, 2, figsize=(12, 3.8))
    ax_u.plot(steps, [r.get("utility") for r in curves], "-o", ms=3, color="tab:blue")
    orig, tau = rules.get("original_utility"), rules.get("select_tau")
    if orig is not None and tau is not None:
        ax_u.axhline(tau * orig, ls="--", color="grey", lw=1, label=f"{tau:g} × original")
    sel = control.get("selected_step")
    for ax in (ax_u, ax_f):
        if sel is not None:
            ax.axvline(sel, ls=":", color="tab:red", lw=1.2, label=f"selected step {sel}")
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    ax_u.set_ylabel(f"{rules.get('utility_metric', 'utility')} (checkpoint subset) ↑")
    legend_outside(ax_u)
    metric = str(rules.get("forget_metric", "accuracy")).split("/")[-1]
    roles = list(dict.fromkeys(role for r in curves for role in r.get("per_role", {})))
    from oblivio.roles import base_role
    for role in roles:
        ys = [r.get("per_role", {}).get(role, {}).get(metric) for r in curves]
        forget = base_role(role) == "forget"
        ax_f.plot(steps, ys, "-o", ms=3, lw=2 if forget else 1, color="black" if forget else None, label=role)
    ax_f.set_ylabel(f"{metric} per role (forget ↓, others ↑)")
    legend_outside(ax_f)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig
