"""The ``audit`` post-step: every attack of ``audit.attacks`` (default: all registered, see
``oblivio ls``) on the model before unlearning, the gold model (when the run has one) and the
unlearned model (attacks/audit.py).

Writes ``audit.json`` into the run folder and the record into results.json under ``audit`` (what
the verdict and report.html read); its seconds and the tokens its models read join the run's
efficiency record. In a grid (``oblivio compare --audit``) the base and gold models' results are
kept in the grid's shared memo, so they are attacked once per seed, not once per cell — once per
seed *and world* (:func:`memo_key`): another world has other base and gold models and other facts.
"""
from __future__ import annotations

import time
from typing import Any

from oblivio.errors import InputError
from oblivio.pipeline.post import RunContext
from oblivio.registry import POST_STEPS


@POST_STEPS.register("audit")
class Audit:
    """The robustness audit of the run's unlearned model."""

    def run(self, ctx: RunContext) -> dict[str, Any]:
        from oblivio.attacks import ATTACKS
        from oblivio.attacks.audit import run_audit
        from oblivio.engine.efficiency import count_tokens
        from oblivio.report.results import write_json
        data = ctx.dataset("audit")
        names = list(ctx.cfg.audit.attacks or ATTACKS.names())
        for n in names:
            ATTACKS.get(n, field="audit.attacks")
        base = ctx.reference()
        if base is None or base[0] is None:
            raise InputError("the audit needs the model before unlearning: give the model as a folder or "
                             "registered name (not a loaded object), or run `oblivio audit RUN` on the folder",
                             field="audit")
        refs = {"base": base, **({"gold": (ctx.gold, ctx.gold_tokenizer)} if ctx.gold is not None else {})}
        if ctx.gold is None:
            ctx.log("no gold model for this run (--gold DIR): verdicts use the holdout floor where there is one")
        memo = ctx.shared.setdefault(memo_key(ctx.cfg), {})
        t0 = time.perf_counter()
        with count_tokens(*(m for m, _ in refs.values()), ctx.model) as counted:
            rec = run_audit({**refs, "unlearned": (ctx.model, ctx.tokenizer)}, data, attacks=names,
                            seed=ctx.cfg.seed, eval_cfg=ctx.cfg.eval, memo=memo, memo_models=tuple(refs),
                            log=ctx.log)
        ctx.tokens += counted.tokens
        ctx.timings["audit"] = time.perf_counter() - t0
        ctx.extra["audit"] = rec
        if ctx.work is not None:
            write_json(ctx.work / "audit.json", rec)
        return {"attacks": names, "file": "audit.json" if ctx.work is not None else None}


def memo_key(cfg: Any) -> str:
    """The grid memo's key for the base and gold models' attack results: what those results
    depend on — the seed, the world or data, the models before unlearning and the evaluation
    (its portion included) — and nothing of the unlearning (cells of other methods share it)."""
    import json

    from oblivio.config import to_dict
    d = to_dict(cfg)
    same = {k: d[k] for k in ("seed", "world", "data", "eval")}
    same["models"] = [d["model"]["path"], d["model"]["gold"], d["model"]["size"], d["model"]["prompt"]]
    return "audit memo " + json.dumps(same, sort_keys=True, default=str)
