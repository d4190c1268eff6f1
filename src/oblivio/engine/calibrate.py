"""Calibration by model mixing: the smallest α with retain utility ≥ τ × original.

Wang et al. 2024/2025, "Towards Effective Evaluations and Comparisons for LLM Unlearning
Methods" (arXiv 2406.09179). Methods unlearn to different depths, so comparing
their forget metrics is unfair unless their utility is equal. Mixing each unlearned model
back toward the reference, θ_mix = α·θ_ref + (1−α)·θ_unl (engine/mixing.py), and taking
the smallest α whose utility reaches τ × the original's puts every method at the same
utility; then forget metrics alone compare them.

**Validation, then test.** The search reads the validation portion only (``forget_val``,
``direct_val`` …; :mod:`oblivio.roles`): the reference's utility and every mixed model's are
measured there, inside :func:`oblivio.roles.selecting`, so that the chosen α never saw a test
row. The chosen α is then evaluated once on the test portion: that report is what is reported.

Search: α = 0 (the unlearned model) is evaluated first; if it already meets the target the
answer is α = 0. Otherwise bisection on [0, 1] — α = 1 is the reference itself and meets
the target by definition (τ ≤ 1) — keeping ``lo`` failing and ``hi`` meeting until
hi − lo ≤ ``tol`` (or ``max_iter`` evaluations). The result is ``hi``: it *always* meets
the target, and lies within ``tol`` of the boundary. This assumes utility is monotone
non-decreasing in α (the paper's assumption; if it is not, bisection still returns a
meeting α but maybe not the smallest one). Each bisection step is one evaluation with the
cheap metrics (the expensive PS/ES ones are left out); the chosen α is then evaluated once
with the full ``eval_cfg`` on the test portion.

``utility_metric`` is a model-scope metric name (default ``model_utility``) or
``"<role>/<metric>"`` for a set metric (e.g. ``"retain/accuracy"``; the role is read in the
portion evaluated: ``direct`` or ``direct_test`` name ``direct_val`` in the search).
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
    """One row per evaluated α of the search (validation portion), sorted by α: ``{"alpha",
    "utility", "meets"}`` plus every ``forget_val`` metric value under its metric name (e.g.
    ``"accuracy"``). The row at α = 1 is the reference — the curve for plots."""
    evaluations: int = 0
    test_utility: float | None = None     # the utility of the chosen α on the test portion (reported)
    table: str = ""            # set by api.calibrate: reference / calibrated (/ gold) table
    run_dir: Any = None        # set by api.calibrate: where the mixed model was saved

    def to_json(self) -> dict[str, Any]:
        return {"alpha": self.alpha, "utility": self.utility, "target": self.target,
                "original_utility": self.original_utility, "evaluations": self.evaluations,
                "sweep": self.sweep, "search_portion": "val", "test_utility": self.test_utility}


def utility_of(report: EvalReport, metric: str) -> float | None:
    """The utility value of a report: a model metric, or ``role/metric`` with the role read in
    the report's portion (:func:`portion_set`)."""
    if "/" in metric:
        role, name = metric.split("/", 1)
        return report.value(name, portion_set(report, role))
    return report.value(metric)


def portion_set(report: EvalReport, role: str) -> str:
    """The set of ``role`` in ``report``'s portion: ``direct``, ``direct_val`` or ``direct_test``
    name ``direct_val`` in a validation report (``direct`` itself when the report fell back to
    the rows unlearning sees); ``forget`` names ``forget_val``."""
    from oblivio.roles import base_role
    if report.portion is None or role in report.sets and role.endswith(f"_{report.portion}"):
        return report.set_name(role)
    b = base_role(role)
    for cand in (f"{b}_{report.portion}", b):
        if cand in report.sets:
            return cand
    return role


def _row(alpha: float, report: EvalReport, utility: float, target: float) -> dict[str, Any]:
    row: dict[str, Any] = {"alpha": alpha, "utility": utility, "meets": utility >= target}
    for name, r in report.sets.get(report.set_name("forget"), {}).items():
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


def calibrate(reference, unlearned, tokenizer, data, *, tau: float = 0.9, utility_metric: str = "model_utility",
              tol: float = 0.01, eval_cfg: EvalConfig | None = None, base_report: EvalReport | None = None,
              max_iter: int = 12, gold: EvalReport | None = None,
              log: Callable[[str], None] | None = None, report_portion: str = "test") -> CalibrationResult:
    """Smallest α (within ``tol``) with utility(θ_mix) ≥ τ × utility(reference) on the validation
    portion, then that model's evaluation on the test portion (``report_portion``: ``"val"`` in a
    tuning run, whose numbers are never reported); see module doc.

    ``reference`` may be None when ``unlearned`` is a PEFT (LoRA) model (its base is the
    reference). ``base_report``: the reference's evaluation of the *validation* portion, if
    already computed (its utility is the original; a test report is refused). ``gold``: the gold
    model's test report, for the final evaluation (forget quality, privleak). The returned
    ``model`` is a new model; the inputs are not modified.
    """
    from oblivio.errors import InputError
    from oblivio.roles import SelectionReadsTest, selecting

    if not 0.0 < tau <= 1.0:
        raise InputError(f"tau must be in (0, 1], got {tau}", field="tau")
    if not 0 < tol < 1:     # also refuses nan
        raise InputError(f"tol must be in (0, 1), got {tol}", field="tol")
    if base_report is not None and base_report.portion != "val":
        raise SelectionReadsTest(f"calibration reads the reference's utility on the validation portion; the report "
                                 f"given is of the {base_report.portion or 'unportioned'} view")
    cfg = eval_cfg or EvalConfig()
    search_cfg = cheap_config(cfg, utility_metric)
    say = log or (lambda m: None)
    mix = _Mixer(reference, unlearned, tokenizer, data)
    with selecting("calibration (the mixing weight α)"):
        best, evals, search = _search(mix, base_report, search_cfg, tau, utility_metric, tol, max_iter, say)
    final = mix.evaluate(best, cfg, portion=report_portion, gold=gold, name=f"calibrated-{tau:g}")
    model = mix.release(best)
    return CalibrationResult(alpha=best, model=model, report=final, utility=search["utils"][best],
                             target=search["target"], original_utility=search["orig"], sweep=search["sweep"],
                             evaluations=evals + 1, test_utility=utility_of(final, utility_metric))


def _search(mix: _Mixer, base_report: EvalReport | None, cfg: EvalConfig, tau: float, metric: str, tol: float,
            max_iter: int, say: Callable[[str], None]) -> tuple[float, int, dict[str, Any]]:
    """The bisection on the validation portion: (α, evaluations, {"target", "orig", "utils", "sweep"})."""
    from oblivio.errors import InputError
    ref = base_report if base_report is not None else mix.reference_report(cfg)
    orig = utility_of(ref, metric)
    if orig is None:
        raise InputError(f"the reference's '{metric}' could not be computed", field="utility_metric")
    target = tau * orig
    reports: dict[float, EvalReport] = {}
    utils: dict[float, float] = {}

    def probe(a: float) -> bool:
        rep = mix.evaluate(a, cfg, portion="val")
        u = utility_of(rep, metric)
        if u is None:
            raise InputError(f"'{metric}' could not be computed for the mixed model", field="utility_metric")
        reports[a], utils[a] = rep, u
        say(f"calibrate: α={a:.4f} utility {u:.4f} on validation (target {target:.4f})")
        return u >= target

    best, evals = _bisect(probe, tol, max_iter)
    if 1.0 not in reports:       # the reference's row (and the answer when nothing below 1 met the target)
        reports[1.0], utils[1.0] = ref, float(orig)
    sweep = [_row(a, reports[a], utils[a], target) for a in sorted(reports)]
    return best, evals, {"target": target, "orig": float(orig), "utils": utils, "sweep": sweep}


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

    def __init__(self, reference, unlearned, tokenizer, data) -> None:
        from oblivio.engine.mixing import is_peft
        self.reference, self.unlearned, self.tokenizer, self.data = reference, unlearned, tokenizer, data
        self.lora = reference is None and is_peft(unlearned)
        self.buffer: list[Any] = []

    def model_at(self, a: float):
        from oblivio.engine.mixing import mixed_model
        if self.lora:
            return mixed_model(None, self.unlearned, a)
        if not self.buffer:
            self.buffer.append(copy.deepcopy(self.unlearned))
        return mixed_model(self.reference, self.unlearned, a, into=self.buffer[0])

    def evaluate(self, a: float, cfg: EvalConfig, *, portion: str, gold: EvalReport | None = None,
                 name: str | None = None) -> EvalReport:
        from oblivio.eval.evaluate import evaluate_model
        m = self.model_at(a)
        rep = evaluate_model(m, self.tokenizer, self.data, cfg=cfg, gold=gold, name=name or f"mix-{a:.4f}",
                             portion=portion)
        if self.lora:
            del m
        return rep

    def reference_report(self, cfg: EvalConfig) -> EvalReport:
        """The reference on the validation portion (the search's original utility)."""
        from oblivio.eval.evaluate import evaluate_model
        if self.lora:
            with self.unlearned.disable_adapter():
                return evaluate_model(self.unlearned, self.tokenizer, self.data, cfg=cfg,
                                      name="reference (validation)", portion="val")
        return evaluate_model(self.reference, self.tokenizer, self.data, cfg=cfg, name="reference (validation)",
                              portion="val")

    def release(self, a: float):
        """The model at α, handed to the caller: the buffer is no longer reused after this."""
        model = self.model_at(a)
        if not self.lora:
            self.buffer.clear()
        return model
