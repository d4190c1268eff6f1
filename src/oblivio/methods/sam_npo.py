"""NPO+SAM: sharpness-aware NPO (Fan, Jia, Zhang, Ramakrishna, Hong, Liu, ICML 2025, "Towards LLM
Unlearning Resilient to Relearning Attacks: A Sharpness-Aware Minimization Perspective and
Beyond", arXiv 2502.05374).

Relearning a few forget answers undoes an unlearned model when its forget loss sits in a sharp
minimum: a small weight change brings the answers back. The paper minimises the worst forget loss
in a ball of radius ρ around the weights instead of the loss at the weights:

    min_θ  max_{‖δ‖₂ ≤ ρ} ℓ_f(θ + δ) + λ·ℓ_r(θ)

with ℓ_f the NPO forget loss (``npo.py``: −(2/β)·mean log σ(−β·(log π_θ(y|x) − log π_ref(y|x))),
the reference frozen) and ℓ_r the retain NLL. The inner maximum is SAM's first-order step
δ* = ρ·g/‖g‖₂, g = ∇ℓ_f(θ) over all trained parameters together (one global norm; under LoRA,
the adapter's), and the descent direction is ∇ℓ_f evaluated at θ + δ*, plus λ·∇ℓ_r at θ: only the
forget term is perturbed. This is how the authors' code (github.com/OPTML-Group/Unlearn-Smooth,
``SAMTrainer``) computes it, with δ* taken as a constant.

Here, inside one loss object (the loop does backward and the optimiser step): ℓ_f(θ), then
g = autograd.grad(ℓ_f, trained parameters), then ℓ_f(θ + δ*) from a forward pass in which each
trained weight p is replaced by the tensor p + δ*_p (``torch.func.functional_call``; the
weights themselves are never changed), so that the backward of the returned total gives
∇ℓ_f(θ + δ*) + λ·∇ℓ_r(θ) with respect to θ. The forward goes through the model the loop
hands over (under DDP its wrapper, so the gradients are averaged across processes as for any
method); each process takes δ* from its own micro-batch, as SAM does under data parallelism.
(Checked single-process and under two-process DDP, full and LoRA. FSDP and DeepSpeed ZeRO-3
shard the parameters, which ``autograd.grad`` and ``functional_call`` would see in pieces:
not supported there.)
With ρ = 0 the loss and its gradient are NPO's. Cost: two forward and two backward passes over
the forget batch instead of one each; on the tiny world a step takes about 1.8× NPO's (median
of 3 rounds, 1.6–2.2×: ``python bench/sam_step_time.py``, 1 thread, 30 steps, batch 8).

Logged parts: ``forget`` = ℓ_f(θ + δ*) (what is minimised), ``forget_at_theta`` = ℓ_f(θ) (NPO's
forget loss, comparable with an ``npo`` run), ``grad_norm`` = ‖g‖₂, and ``retain``.

Defaults, the paper's code and scripts: β = 0.1 and retain weight λ = 1 everywhere (``alpha``
here, as in ``npo``; the MUSE-Books script uses 2.5); ρ = 0.01 on MUSE (News and Books) and 0.1
on WMDP. ρ defaults to 0.01, the MUSE value: MUSE's fact and text unlearning is closer to the
embedded world's than WMDP's hazardous-knowledge removal. ρ is an absolute radius in weight
space, not relative to the weights' norm, so the same ρ is a smaller move for a model with more
(or larger) weights: tune it per model.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from oblivio.methods.base import METHODS, LossParts, MethodBase, StepContext


@METHODS.register("sam_npo")
@dataclass
class SAMNPO(MethodBase):
    """NPO whose forget gradient is taken at the worst nearby weights (radius ρ)."""

    beta: float = 0.1
    alpha: float = 1.0
    rho: float = 0.01

    # β divides the loss; a negative retain weight would push the model away from the retain
    # set; a negative ρ would step toward lower forget loss, the opposite of the worst case
    arg_ranges: ClassVar[dict[str, tuple[float, bool]]] = {"beta": (0, False), "alpha": (0, True),
                                                           "rho": (0, True)}
    uses: ClassVar[frozenset[str]] = frozenset({"forget", "retain", "reference"})

    def loss(self, ctx: StepContext, batch) -> LossParts:
        import torch
        from torch.func import functional_call

        from oblivio.methods.ops import mean_nll, npo_forget, seq_logprob
        f = batch["forget"]
        ref = ctx.reference.seq_logprob(f)
        at_theta = npo_forget(seq_logprob(ctx.model, f), ref, self.beta)
        named = [(n, p) for n, p in ctx.model.named_parameters() if p.requires_grad]
        grads = torch.autograd.grad(at_theta, [p for _, p in named], allow_unused=True)
        # a parameter the forget loss does not reach has gradient 0, not None
        g = [torch.zeros_like(p) if d is None else d for (_, p), d in zip(named, grads)]
        norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(d) for d in g]))
        # δ* is a constant (the authors' first-order SAM): no gradient through g; a zero gradient
        # (nothing left to forget in this batch) gives δ* = 0 rather than 0/0
        scale = torch.where(norm > 0, self.rho / norm, torch.zeros_like(norm))
        moved = {n: p + (scale * d).detach() for (n, p), d in zip(named, g)}

        def perturbed(**kw):
            return functional_call(ctx.model, moved, args=(), kwargs=kw)
        forget = npo_forget(seq_logprob(perturbed, f), ref, self.beta)
        parts = {"forget": forget, "forget_at_theta": at_theta.detach(), "grad_norm": norm.detach()}
        total = forget
        if self.alpha and batch.get("retain") is not None:
            retain = mean_nll(ctx.model, batch["retain"])
            parts["retain"] = retain
            total = forget + self.alpha * retain
        return LossParts(total, parts)
