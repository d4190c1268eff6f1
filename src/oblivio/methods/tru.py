"""Targeted reasoning unlearning, TRU (Liao, Wang, Ye, Yu, Chen, Fang 2026, ICLR, arXiv
2603.09980, "Explainable LLM Unlearning through Reasoning"):

    L = L_target + α·L_GA,
    L_target = −(1/N) Σ_i [log π(r_i|x_i) + log π(s_i|x_i, r_i)]       (prompt masked)
    L_GA     = (1/N) Σ_i log π(y_i|x_i) − (λ/M) Σ_j log π(y_j|x_j)       (GradDiff, forget i / retain j)

r_i, s_i: the teacher's reasoning trace and response for forget prompt x_i (teachers/;
``unlearn.teacher``, the offline template teacher by default), written once in
``prepare_data``, validated (a target that reveals a forget answer is rejected and
counted: ``self.report``, which ``record`` puts in results.json ``training.method_report``).
r and s are tokenised as two segments of one answer, so the summed log-likelihood is exactly
log π(r|x) + log π(s|x, r). log π are summed answer log-likelihoods (notation of
methods/ops.py; the original forget/retain items with their prompts masked, as every method
here), averaged over the N forget and M retain items.

Ablations: ``target=False`` drops L_target (then L = α·L_GA); ``reasoning=False``
trains the response without the reasoning trace. Defaults α = 0.1, λ = 10 (our choice):
the summed GA term is unbounded, so it stays small next to L_target, while the
retain term keeps weight α·λ = 1. With α = λ = 1 on the tiny world (150 steps, lr 3e-3) the
retain prompts lost most of their quality; with these, UQ ≈ 8.9 and RQ ≈ 9 on most retain
roles (bench/tru_bench.py, docs/results/tru.md).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from oblivio.methods.base import METHODS, LossParts, MethodBase, RunInputs, StepContext


@METHODS.register("tru")
@dataclass
class TRU(MethodBase):
    """Learn a reasoning-based refusal for the forget prompts, plus GradDiff on the original items."""

    alpha: float = 0.1
    lam: float = 10.0
    target: bool = True          # ablation: False = no L_target
    reasoning: bool = True       # ablation: False = response without reasoning

    uses: ClassVar[frozenset[str]] = frozenset({"forget", "retain"})

    def __post_init__(self) -> None:
        self.report: dict[str, Any] | None = None     # the teacher's counts (prepare_data); not a field

    def record(self) -> dict[str, Any]:
        return {} if self.report is None else {"method_report": self.report}

    def prepare_data(self, inputs: RunInputs) -> None:
        from oblivio.methods.alternate import AltAnswers
        from oblivio.teachers.base import produce_targets
        if not self.target:
            self.report = {"teacher": None, "note": "ablation without L_target: no teacher asked"}
            return
        cfg = inputs.options.get("teacher")
        if cfg is None:
            from oblivio.config import GenConfig
            cfg = GenConfig()
        targets, rep = produce_targets(cfg, inputs.forget)
        self.report = rep.to_json()
        segs = [[t.reasoning, t.response] if self.reasoning else [t.response] for t in targets]
        self.alt = AltAnswers(inputs.tokenizer, inputs.fmt, [it.question for it in inputs.forget], segs)

    def loss(self, ctx: StepContext, batch) -> LossParts:
        from oblivio.methods.alternate import require
        from oblivio.methods.ops import seq_logprob
        f, r = batch["forget"], batch.get("retain")
        ga = seq_logprob(ctx.model, f).mean()
        parts = {"forget": ga}
        if r is not None:
            parts["retain"] = -seq_logprob(ctx.model, r).mean()
            ga = ga + self.lam * parts["retain"]
        total = self.alpha * ga
        if self.target:
            parts["target"] = -seq_logprob(ctx.model, require(getattr(self, "alt", None), "tru").batch(f)).mean()
            total = parts["target"] + total
        return LossParts(total, parts)
