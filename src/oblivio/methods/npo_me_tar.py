"""NPO+ME with a tamper-resistance term: the forget answers must stay forgotten after a
simulated relearning attack.

Why. The relearning attack (attacks/relearn.py) fine-tunes an unlearned model for a few steps
on a third of the forget facts and scores the others. When unlearning has learned one switch
("say nothing true about this person") rather than removed each fact, relearning some facts
turns the switch off and the rest come back. Tamper-resistant training simulates the attack
inside training and penalises what it would recover (Tamirisa, Bharathi, Phan et al. 2024,
"Tamper-Resistant Safeguards for Open-Weight LLMs", arXiv 2408.00761: TAR, an inner fine-tuning
adversary and an entropy loss on the forget data after it, in a first-order meta-learning
outer step; Henderson, Mitchell, Manning, Jurafsky, Finn 2023, "Self-Destructing Models", arXiv
2211.14946, the same idea before them).

What is computed, per step, on top of ``npo_me``'s loss at the weights θ (methods/npo_me.py):

1. the forget batch is split **by fact** into A and B: its facts in order of first appearance,
   alternately to A and to B (rows of one fact stay together, so no phrasing of a scored fact is
   trained, as in the attack);
2. an adversary takes K steps from θ on the answer NLL of A, each a sign-gradient step of size
   η: δ ← δ − η·sign(∇NLL_A(θ + δ)) (Adam's first step is exactly a step of its learning rate
   times the gradient's sign, and the attack uses AdamW). δ is a constant: no gradient flows
   through the adversary (TAR's first-order approximation);
3. the tamper term is maximum entropy on B at the attacked weights: the mean over B's answer
   positions of KL(U ‖ p_{θ+δ}) (``ops.kl_uniform``, ME+GD's forget term; a subclass whose
   ``spread_term`` has another target takes that one, methods/npo_swap.py). Its forward pass
   replaces each trained weight p by the tensor p + δ_p (``torch.func.functional_call``; the
   weights themselves never change), so the backward of the total gives its gradient at θ + δ
   with respect to θ.

    L = w·L_NPO(θ) + (1 − w)·L_ME(θ) + λ·L_lens(θ) + α·NLL_r(θ) + τ·KL(U ‖ p_{θ+δ}(B))

τ = ``tamper`` (0: exactly ``npo_me``, nothing more computed), K = ``tamper_steps``, η =
``tamper_lr`` (the relearning attack's learning rate by default). The adversary moves every
trained weight: the whole model in full fine-tuning, the adapter under LoRA (an attacker would
fine-tune more than that: a LoRA run resists a weaker attack than the audit's). A batch with
a single forget fact has no B: the term is 0 for that step (and logged as 0). Under data
parallelism the term's passes go through the module itself, not the wrapper, so a process
that skips them leaves no other waiting; its gradient is averaged with the rest of the loss.
FSDP and DeepSpeed ZeRO-3 shard the weights, which ``autograd.grad`` and ``functional_call``
would see in pieces: not supported there (as ``sam_npo``).

Cost: K forward and backward passes over half the forget batch and one over the other half,
besides ``npo_me``'s; on a file of 216 rows a 120-step run trained in 7.8 s with K = 1 and
14.0 s with K = 3, against 5.0 s for ``npo_me`` (one run each, 2 threads).

Logged parts: ``npo_me``'s, plus ``forget_tamper`` (the term, unweighted); ``forget`` stays
``npo_me``'s forget mixture at θ, comparable with an ``npo_me`` run.

Defaults: ``npo_me``'s (β 0.1, w 0.5, α 1, λ 0); τ = 1, K = 1, η = 1e-3: η is the relearning
attack's learning rate; τ and K were chosen on validation by bench/default_protocol.py, round 7,
among τ ∈ {0.03, 0.1, 0.3, 1} with K = 3 and τ = 1 with K = 1 (docs/results/demo.md), with
α 10: the default recipe of rounds 7 and 8, before ``npo_swap`` (presets.DEFAULT_RECIPE).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from oblivio.config_checks import Range
from oblivio.methods.base import METHODS, LossParts, RunInputs, StepContext
from oblivio.methods.npo_me import NPOME


def split_by_fact(facts: list[str]) -> tuple[list[int], list[int]]:
    """Row indices (A, B) of a batch whose rows carry ``facts``: the distinct facts in order of
    first appearance go alternately to A and to B, every row with its fact."""
    order = list(dict.fromkeys(facts))
    to_a = set(order[::2])
    return ([r for r, f in enumerate(facts) if f in to_a], [r for r, f in enumerate(facts) if f not in to_a])


@METHODS.register("npo_me_tar")
@dataclass
class NPOMETamper(NPOME):
    """NPO+ME whose forget answers must stay forgotten after K simulated relearning steps."""

    tamper: float = 1.0
    tamper_steps: int = 1
    tamper_lr: float = 1e-3
    # the batch index → fact id of every forget item (prepare_data); not a field: never a config key
    _facts: list[str] = field(default_factory=list, init=False, repr=False)

    # a negative τ would reward what the attack recovers; K ≥ 1, else there is no attack; a
    # non-positive η is no attack (or one that unlearns)
    arg_ranges: ClassVar[dict[str, tuple[float, bool] | Range]] = {
        **NPOME.arg_ranges, "tamper": (0, True), "tamper_steps": Range(ge=1), "tamper_lr": (0, False)}

    def prepare_data(self, inputs: RunInputs) -> None:
        self._facts = [it.fact or it.id for it in inputs.forget]

    def loss(self, ctx: StepContext, batch) -> LossParts:
        out = super().loss(ctx, batch)
        if self.tamper <= 0:
            return out
        f = batch["forget"]
        index = [int(i) for i in f["index"]]
        a, b = split_by_fact([self._facts[i] if self._facts else str(i) for i in index])
        if not a or not b:
            # one fact in the batch: nothing to score. The part is still logged (as 0): the loop
            # averages the parts over processes, which must all send the same ones
            out.parts["forget_tamper"] = out.total.new_zeros(())
            return out
        term = self.tamper_term(ctx.model, f, a, b)
        out.parts["forget_tamper"] = term
        return LossParts(out.total + self.tamper * term, out.parts)

    def tamper_term(self, model: Any, f: dict, a: list[int], b: list[int]):
        """KL(U ‖ p_{θ+δ}) on rows ``b`` of the forget batch ``f``, δ from K sign steps on rows ``a``."""
        import torch
        from torch.func import functional_call
        from torch.nn.parallel import DistributedDataParallel

        from oblivio.methods.ops import logits_and_logprobs, mean_nll
        # the passes go through the module itself, not a data-parallel wrapper: a wrapper's
        # forward is a collective (buffers broadcast, the reducer re-armed), and these extra
        # passes are local. The gradient of the term still reaches the shared weights, so the
        # loop's one backward averages it across processes with the rest of the loss
        if isinstance(model, DistributedDataParallel):
            model = model.module
        named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]

        def rows(idx: list[int]) -> dict:
            t = torch.tensor(idx, device=f["input_ids"].device)
            return {k: f[k].index_select(0, t) for k in ("input_ids", "attention_mask", "labels", "index") if k in f}

        def at(weights: dict):
            """The model with ``weights`` in place of its own, as the ops helpers call a model."""
            return lambda **kw: functional_call(model, weights, args=(), kwargs=kw)

        fa, fb = rows(a), rows(b)
        delta = {n: torch.zeros_like(p) for n, p in named}
        for _ in range(self.tamper_steps):
            moved = {n: (p.detach() + delta[n]).requires_grad_(True) for n, p in named}
            grads = torch.autograd.grad(mean_nll(at(moved), fa), list(moved.values()), allow_unused=True)
            for (n, _), g in zip(named, grads):
                if g is not None:           # a weight A's loss does not reach is not moved
                    delta[n] = delta[n] - self.tamper_lr * g.sign()
        attacked = at({n: p + delta[n] for n, p in named})
        logits, _, mask = logits_and_logprobs(attacked, fb)
        return self.spread_term(attacked, fb, logits, mask)[1]
