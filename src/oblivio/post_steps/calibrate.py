"""The ``calibrate`` post-step: the unlearned model mixed back toward the model before
unlearning, θ = α·θ_ref + (1−α)·θ_unl, with the smallest α whose utility reaches
``calibrate.tau`` × the reference's (Wang et al. 2024, "Towards Effective Evaluations and
Comparisons for LLM Unlearning Methods", arXiv 2406.09179; engine/calibrate.py), so that runs
are compared on forgetting at equal utility (``oblivio compare --tau``).

The search reads the validation portion (the reference's validation utility comes from the
reference cache when evaluated before); the chosen model's evaluation of the test portion joins
the run's reports as ``calibrated`` (results.json
``models.calibrated``, a row of the table); α, the target and the sweep go to
``post_steps.calibrate``. The mixed model itself is not saved (``oblivio calibrate RUN`` saves one).
"""
from __future__ import annotations

from typing import Any

from oblivio.errors import InputError
from oblivio.pipeline.post import RunContext
from oblivio.registry import POST_STEPS


@POST_STEPS.register("calibrate")
class Calibrate:
    """Calibration of the run's unlearned model at ``calibrate.tau``."""

    def run(self, ctx: RunContext) -> dict[str, Any]:
        from oblivio.engine.calibrate import calibrate, cheap_config
        from oblivio.eval.cache import evaluate_reference
        from oblivio.eval.embed import embedder_for
        from oblivio.eval.evaluate import evaluate_model
        from oblivio.roles import selecting
        c = ctx.cfg.calibrate
        base = ctx.reports.get("base")
        ref = ctx.reference()
        if base is None or ref is None or ref[0] is None:
            raise InputError("calibration needs the model before unlearning (as a folder or registered name) and "
                             "its evaluation (eval.enabled)", field="post_steps")
        data = ctx.dataset("calibrate")
        with selecting("calibration (the reference's validation utility)"):
            ref_val = evaluate_reference(ref[0], ref[1] or ctx.tokenizer, data, name="base (validation)",
                                         cfg=cheap_config(ctx.cfg.eval, c.metric), portion="val", log=ctx.log).report
        res = calibrate(ref[0], ctx.model, ctx.tokenizer, data, tau=c.tau, utility_metric=c.metric, tol=c.tol,
                        eval_cfg=ctx.cfg.eval, base_report=ref_val, gold=ctx.reports.get("gold"), log=ctx.log,
                        report_portion=ctx.cfg.eval.portion)
        emb = embedder_for(ctx.cfg.eval)
        # the search evaluates without embeddings; the chosen model is evaluated with them, so that
        # its row compares with the uncalibrated ones
        ctx.reports["calibrated"] = res.report if emb is None else evaluate_model(
            res.model, ctx.tokenizer, data, cfg=ctx.cfg.eval, gold=ctx.reports.get("gold"), name="calibrated",
            embedder=emb, portion=ctx.cfg.eval.portion)
        ctx.log(f"calibrated at τ={c.tau:g}: α = {res.alpha:.4f} (validation utility {res.utility:.4f} ≥ target "
                f"{res.target:.4f}; {res.evaluations} evaluations)")
        return {**_plain(res.to_json()), "tau": c.tau, "tol": c.tol, "metric": c.metric}


def _plain(x: Any) -> Any:
    """A JSON-friendly copy of a calibration record (tensors become numbers, models are dropped)."""
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items() if not callable(getattr(v, "parameters", None))}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, (int, float, str, bool)) or x is None:
        return x
    item = getattr(x, "item", None)
    return item() if callable(item) else str(x)
