"""NPO + maximum entropy: a weighted mixture of two forget terms, oblivio's own combination
(not a published method) of NPO (Zhang, Lin, Bai, Mei 2024, "Negative Preference
Optimization", arXiv 2404.05868) and ME+GD (Yuan, Pang, Xu, Lin, Zhu, Du, Zhang 2024, "A
Closer Look at Machine Unlearning for Large Language Models", arXiv 2410.08109):

    L = w·L_NPO + (1 − w)·L_ME + λ·L_lens + α·NLL_r + γ·KL(p_ref ‖ p_θ)_r

with L_NPO = −(2/β)·mean log σ(−β·(log π_θ(y|x) − log π_ref(y|x))) over forget sequences
(``npo``) and L_ME = mean over forget answer positions of KL(U ‖ p_θ(·|x, y_<t)), U uniform
over the vocabulary (``me_gd``); both from ``methods/ops.py``, the functions those two
methods use.

What the mixture is for. NPO's push is bounded and anchored to the reference: its gradient
weight σ(β·(log π_θ − log π_ref)) fades once the answer's likelihood is well below the
reference's, so it stops rather than running away, but it only lowers the one answer and can
leave the model confidently wrong. ME moves every forget position toward the uniform
distribution, toward uncertainty rather than toward some other answer; but its target, 1/|V|
for every token, is below what a model that never saw the answer gives it (such a model still
knows the answer's type), so alone it drives the answers below that level. The mix
w ∈ [0, 1] trades the two: w = 1 is ``npo``, w = 0 is ``me_gd`` (same α), both exactly.

The lens term (``lens`` = λ, 0 by default: off). L_ME acts on the output distribution only;
an intermediate layer, read through the final norm and the head (the logit lens), can still
single the forgotten answer out among the answers of its type — our logit-lens attack
(attacks/logit_lens.py) does exactly that. L_lens is the Max-Entropy defence of Patil, Hase,
Bansal 2024 ("Can sensitive information be deleted from LLMs?", ICLR 2024, arXiv
2309.17410): the same KL(U ‖ ·) at the same forget answer positions, on the logit lens of
every intermediate layer, averaged over those layers (``ops.lens_kl_uniform``). It reads the
hidden states of the one forward pass the other terms use.

The retain KL (``retain_kl`` = γ, 0 by default: off). NLL_r asks the retain answers' own
tokens to stay likely, which a model that memorised them already does: its gradient is near
zero long before the rest of each next-token distribution has moved. γ·KL(p_ref ‖ p_θ), TOFU's
retain term (Maini et al. 2024, the ``kl`` method's), asks the whole distribution at every
retain answer position to stay the frozen reference's, the mass it puts on other answers of the
same kind included; it is read from the same forward pass of the retain rows as NLL_r
(``ops.plus_retain_nll_kl``), plus one pass of the reference.

The terms share one forward pass of the forget batch (``ops.logits_and_logprobs``): NPO
reads the answer tokens' summed log-probability, ME the full distribution at each answer
position, from the same logits. The reference log-likelihoods are cached per forget item, as
in ``npo``. A term whose weight is 0 is not computed (w = 0 needs no reference at all).

Logged parts: ``forget`` (the mixture), ``forget_npo`` and ``forget_me`` (each term
unweighted, comparable with an ``npo`` or ``me_gd`` run; only when its weight is not 0), and
``forget_lens`` (when λ > 0), ``retain`` and ``retain_kl`` (when γ > 0). Defaults: β = 0.1
and α = 1, both papers' values; w = 0.5 is ours; λ = 0 and γ = 0 keep the method what it was
before those terms existed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from oblivio.config_checks import Range
from oblivio.methods.base import METHODS, LossParts, MethodBase, StepContext


@METHODS.register("npo_me")
@dataclass
class NPOME(MethodBase):
    """w·NPO + (1 − w)·maximum entropy on forget, from one forward pass; GD on retain."""

    beta: float = 0.1
    mix: float = 0.5
    alpha: float = 1.0
    lens: float = 0.0
    retain_kl: float = 0.0

    # β divides the loss; a negative retain weight would push the model away from the retain set;
    # a mix outside [0, 1] gives one forget term a negative weight, which pulls the answers back
    # (NPO) or makes the model more certain (ME)
    arg_ranges: ClassVar[dict[str, tuple[float, bool] | Range]] = {
        "beta": (0, False), "alpha": (0, True), "mix": Range(ge=0, le=1), "lens": (0, True),
        "retain_kl": (0, True)}

    @property
    def uses(self) -> frozenset[str]:
        """The reference only when the NPO term (mix > 0) or the retain KL (γ > 0) is on."""
        reads = self.mix > 0 or self.retain_kl > 0
        return frozenset({"forget", "retain"} | ({"reference"} if reads else set()))

    def loss(self, ctx: StepContext, batch) -> LossParts:
        import torch

        from oblivio.methods.ops import (
            logits_and_logprobs,
            logits_logprobs_hidden,
            plus_retain_nll_kl,
        )
        f = batch["forget"]
        terms: dict[str, torch.Tensor] = {}
        mixed: list[torch.Tensor] = []
        if self.lens > 0:
            logits, lp, mask, hidden = logits_logprobs_hidden(ctx.model, f)
            terms["forget_lens"] = self.lens_term(ctx.model, f, hidden, mask)
            mixed.append(self.lens * terms["forget_lens"])
        else:
            logits, lp, mask = logits_and_logprobs(ctx.model, f)
        if self.mix > 0:
            terms["forget_npo"] = self.npo_term(ctx, f, lp, mask)
            mixed.append(self.mix * terms["forget_npo"])
        if self.mix < 1:
            name, spread = self.spread_term(ctx.model, f, logits, mask)
            terms[name] = spread
            mixed.append((1.0 - self.mix) * spread)
        out = plus_retain_nll_kl(ctx.model, ctx.reference, batch, torch.stack(mixed).sum(), self.alpha,
                                 self.retain_kl)
        out.parts.update(terms)
        return out

    def npo_term(self, ctx: StepContext, f: dict, lp: Any, mask: Any) -> Any:
        """The w term on the forget rows ``f``, from their answer tokens' log-probabilities ``lp``
        [B, T-1] (zero off the answer ``mask``): NPO here; a subclass may weigh its rows
        (methods/npo_swap.py)."""
        from oblivio.methods.ops import npo_forget
        return npo_forget(lp.sum(-1), ctx.reference.seq_logprob(f), self.beta)

    def lens_term(self, model: Any, f: dict, hidden: tuple, mask: Any) -> Any:
        """The λ term on the forget rows ``f`` from their ``hidden`` states: maximum entropy on
        every intermediate layer's logit lens here; a subclass whose (1 − w) term has another
        target may ask the lens for the same one (methods/npo_swap.py)."""
        from oblivio.methods.ops import lens_kl_uniform
        return lens_kl_uniform(model, hidden, mask)

    def spread_term(self, model: Any, f: dict, logits: Any, mask: Any) -> tuple[str, Any]:
        """(logged name, value) of the (1 − w) forget term on the forget rows ``f``, whose
        answer-position ``logits`` and ``mask`` ``model`` has just given: maximum entropy here;
        a subclass may move the same positions toward another target (methods/npo_swap.py)."""
        import torch.nn.functional as F

        from oblivio.methods.ops import kl_uniform
        return "forget_me", kl_uniform(F.log_softmax(logits, -1), mask)
