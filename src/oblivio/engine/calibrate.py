"""Calibration by model mixing: the smallest α with retain utility ≥ τ × original.

Wang et al. 2024/2025, "Towards Effective Evaluations and Comparisons for LLM Unlearning
Methods" (arXiv 2406.09179). Methods unlearn to different depths, so comparing
their forget metrics is unfair unless their utility is equal. Mixing each unlearned model
back toward the reference, θ_mix = α·θ_ref + (1−α)·θ_unl (engine/mixing.py), and taking
the smallest α whose utility reaches τ × the original's puts every method at the same
utility; then forget metrics alone compare them.

Search: α = 0 (the unlearned model) is evaluated first; if it already meets the target the
answer is α = 0. Otherwise bisection on [0, 1] — α = 1 is the reference itself and meets
the target by definition (τ ≤ 1) — keeping ``lo`` failing and ``hi`` meeting until
hi − lo ≤ ``tol`` (or ``max_iter`` evaluations). The result is ``hi``: it *always* meets
the target, and lies within ``tol`` of the boundary. This assumes utility is monotone
non-decreasing in α (the paper's assumption; if it is not, bisection still returns a
meeting α but maybe not the smallest one). Each bisection step is one evaluation with the
cheap metrics (the expensive PS/ES ones are left out); the chosen α is then evaluated once
with the full ``eval_cfg``.

``utility_metric`` is a model-scope metric name (default ``model_utility``) or
``"<role>/<metric>"`` for a set metric (e.g. ``"retain/accuracy"``).
"""
from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable

from oblivio.eval.evaluate import EvalConfig, EvalReport


@dataclass
class CalibrationResult:
    alpha: float
    model: Any
    report: EvalReport
    utility: float
    target: float
    original_utility: float
    sweep: list[dict] = field(default_factory=list)
    """One row per evaluated α, sorted by α: ``{"alpha", "utility", "meets"}`` plus every
    forget-set metric value under its metric name (e.g. ``"accuracy"``, ``"ps_exact"``).
    The row at α = 1 is the reference (from ``base_report``) — the curve for plots."""
    evaluations: int = 0
    table: str = ""            # set by api.calibrate: reference / calibrated (/ gold) table
    run_dir: Any = None        # set by api.calibrate: where the mixed model was saved

    def to_json(self) -> dict[str, Any]:
        return {"alpha": self.alpha, "utility": self.utility, "target": self.target,
                "original_utility": self.original_utility, "evaluations": self.evaluations,
                "sweep": self.sweep}


def utility_of(report: EvalReport, metric: str) -> float | None:
    """The utility value of a report: a model metric, or ``role/metric``."""
    if "/" in metric:
        role, name = metric.split("/", 1)
        return report.value(name, role)
    return report.value(metric)


def _row(alpha: float, report: EvalReport, utility: float, target: float) -> dict[str, Any]:
    row: dict[str, Any] = {"alpha": alpha, "utility": utility, "meets": utility >= target}
    for name, r in report.sets.get("forget", {}).items():
        if r.value is not None:
            row[name] = r.value
    return row


def cheap_config(cfg: EvalConfig, utility_metric: str) -> EvalConfig:
    """``cfg`` without the expensive metrics (what each bisection step evaluates)."""
    import oblivio.metrics  # noqa: F401
    from oblivio.metrics.base import METRICS
    metrics = cfg.metrics
    if metrics:
        metrics = [m for m in metrics if not METRICS.get(m).expensive]
        need = utility_metric.split("/", 1)[-1]
        if need not in metrics:
            metrics.append(need)
    return dataclasses.replace(cfg, metrics=metrics, extraction=False)


def _expensive(cfg: EvalConfig) -> bool:
    import oblivio.metrics  # noqa: F401
    from oblivio.metrics.base import METRICS
    return cfg.extraction or any(METRICS.get(m).expensive for m in (cfg.metrics or ()))


def calibrate(reference, unlearned, tokenizer, data, *, tau: float = 0.9, utility_metric: str = "model_utility",
              tol: float = 0.01, eval_cfg: EvalConfig | None = None, base_report: EvalReport | None = None,
              max_iter: int = 12, gold: EvalReport | None = None,
              log: Callable[[str], None] | None = None) -> CalibrationResult:
    """Smallest α (within ``tol``) with utility(θ_mix) ≥ τ × utility(reference); see module doc.

    ``reference`` may be None when ``unlearned`` is a PEFT (LoRA) model (its base is the
    reference). ``base_report``: the reference's evaluation, if already computed (its
    utility is the original). ``gold``: a gold report, passed to every evaluation (forget
    quality, privleak). The returned ``model`` is a new model; the inputs are not modified.
    """
    from oblivio.errors import InputError

    if not 0.0 < tau <= 1.0:
        raise InputError(f"tau must be in (0, 1], got {tau}", field="tau")
    if not 0 < tol < 1:     # also refuses nan
        raise InputError(f"tol must be in (0, 1), got {tol}", field="tol")
    cfg = eval_cfg or EvalConfig()
    search_cfg = cheap_config(cfg, utility_metric)
    say = log or (lambda m: None)
    mix = _Mixer(reference, unlearned, tokenizer, data, gold)
    if base_report is None:
        base_report = mix.reference_report(search_cfg)
    orig = utility_of(base_report, utility_metric)
    if orig is None:
        raise InputError(f"the reference's '{utility_metric}' could not be computed", field="utility_metric")
    target = tau * orig
    reports: dict[float, EvalReport] = {}
    utils: dict[float, float] = {}

    def probe(a: float) -> bool:
        rep = mix.evaluate(a, search_cfg)
        u = utility_of(rep, utility_metric)
        if u is None:
            raise InputError(f"'{utility_metric}' could not be computed for the mixed model", field="utility_metric")
        reports[a], utils[a] = rep, u
        say(f"calibrate: α={a:.4f} utility {u:.4f} (target {target:.4f})")
        return u >= target

    best, evals = _bisect(probe, tol, max_iter)
    if best == 1.0 and best not in reports:       # nothing below 1 met the target: the reference
        reports[1.0], utils[1.0] = base_report, orig
    final = reports[best]
    if _expensive(cfg):
        final = mix.evaluate(best, cfg)
        evals += 1
    model = mix.release(best)
    final = dataclasses.replace(final, name=f"calibrated-{tau:g}")   # never rename the caller's base report
    utility = utility_of(final, utility_metric)
    sweep = {a: _row(a, r, utils[a], target) for a, r in reports.items()}
    sweep[best] = _row(best, final, utility if utility is not None else utils[best], target)
    if 1.0 not in sweep:
        sweep[1.0] = _row(1.0, base_report, orig, target)
    return CalibrationResult(alpha=best, model=model, report=final,
                             utility=float(utility if utility is not None else utils[best]), target=target,
                             original_utility=float(orig), sweep=[sweep[a] for a in sorted(sweep)],
                             evaluations=evals)


def _bisect(meets: Callable[[float], bool], tol: float, max_iter: int) -> tuple[float, int]:
    """The chosen α and the number of evaluations: 0 if it meets the target, else bisection on
    [0, 1] keeping ``lo`` failing and ``hi`` meeting (see module doc)."""
    evals = 1
    if meets(0.0):
        return 0.0, evals
    lo, hi = 0.0, 1.0
    while hi - lo > tol and evals < max_iter:
        mid = (lo + hi) / 2
        evals += 1
        if meets(mid):
            hi = mid
        else:
            lo = mid
    return hi, evals


class _Mixer:
    """θ_mix at α, and its evaluation: a LoRA model mixes its own adapter (its base is the
    reference); full-state mixing reuses one model buffer for every α."""

    def __init__(self, reference, unlearned, tokenizer, data, gold: EvalReport | None) -> None:
        from oblivio.engine.mixing import is_peft
        self.reference, self.unlearned, self.tokenizer, self.data, self.gold = (
            reference, unlearned, tokenizer, data, gold)
        self.lora = reference is None and is_peft(unlearned)
        self.buffer: list[Any] = []

    def model_at(self, a: float):
        from oblivio.engine.mixing import mixed_model
        if self.lora:
            return mixed_model(None, self.unlearned, a)
        if not self.buffer:
            self.buffer.append(copy.deepcopy(self.unlearned))
        return mixed_model(self.reference, self.unlearned, a, into=self.buffer[0])

    def evaluate(self, a: float, cfg: EvalConfig) -> EvalReport:
        from oblivio.eval.evaluate import evaluate_model
        m = self.model_at(a)
        rep = evaluate_model(m, self.tokenizer, self.data, cfg=cfg, gold=self.gold, name=f"mix-{a:.4f}")
        if self.lora:
            del m
        return rep

    def reference_report(self, cfg: EvalConfig) -> EvalReport:
        from oblivio.eval.evaluate import evaluate_model
        if self.lora:
            with self.unlearned.disable_adapter():
                return evaluate_model(self.unlearned, self.tokenizer, self.data, cfg=cfg, gold=self.gold,
                                      name="reference")
        return evaluate_model(self.reference, self.tokenizer, self.data, cfg=cfg, gold=self.gold, name="reference")

    def release(self, a: float):
        """The model at α, handed to the caller: the buffer is no longer reused after this."""
        model = self.model_at(a)
        if not self.lora:
            self.buffer.clear()
        return model
