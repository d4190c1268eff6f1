"""Tensor helpers shared by the methods: answer-token log-probabilities from one forward.

Notation: NLL = mean answer-token negative log-likelihood; ℓ = summed answer
NLL; log π(y|x) = −ℓ. Labels are -100 on prompt and padding.

Also the forget terms that more than one method uses: NPO's (:func:`npo_forget`: ``npo``,
``sam_npo``, ``npo_me``) and maximum entropy's (:func:`kl_uniform`: ``me_gd``, ``npo_me``).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

# defined in the engine, which the frozen reference shares (the engine does not import methods)
from oblivio.engine.logprobs import token_logprobs


def forward_logprobs(model, sub: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    out = model(input_ids=sub["input_ids"], attention_mask=sub["attention_mask"])
    return token_logprobs(out.logits, sub["labels"])


def seq_logprob(model, sub: dict[str, torch.Tensor]) -> torch.Tensor:
    """log π(y|x) summed over answer tokens, per sequence [B]."""
    lp, _ = forward_logprobs(model, sub)
    return lp.sum(-1)


def logits_and_logprobs(model, sub: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One forward pass for a loss that needs both the full next-token distributions and the
    answer tokens' log-probabilities: (logits [B, T-1, V] in float as :func:`answer_logits`,
    log-probabilities [B, T-1] as :func:`forward_logprobs`, answer mask)."""
    logits, lp, mask, _ = _forward(model, sub, hidden=False)
    return logits, lp, mask


def logits_logprobs_hidden(model, sub: dict[str, torch.Tensor]
                           ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, tuple[torch.Tensor, ...]]:
    """:func:`logits_and_logprobs` from a forward pass that also returns the hidden states
    (embeddings, then every layer's output: ``output_hidden_states``) for a loss that reads
    intermediate layers, with no second pass."""
    return _forward(model, sub, hidden=True)


def _forward(model, sub: dict[str, torch.Tensor], *, hidden: bool
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, tuple[torch.Tensor, ...]]:
    out = model(input_ids=sub["input_ids"], attention_mask=sub["attention_mask"], output_hidden_states=hidden)
    # converted once: token_logprobs' own .float() is then a no-op, not a second copy
    logits = out.logits.float()
    lp, mask = token_logprobs(logits, sub["labels"])
    return logits[:, :-1], lp, mask, tuple(out.hidden_states) if hidden else ()


def lens_kl_uniform(model, hidden: tuple[torch.Tensor, ...], mask: torch.Tensor) -> torch.Tensor:
    """The Max-Entropy defence of Patil, Hase, Bansal 2024 (arXiv 2309.17410, ICLR 2024) in
    :func:`kl_uniform`'s form: KL(U ‖ p_ℓ) at every forget answer position, with p_ℓ the logit
    lens of layer ℓ (models/lens.py: the layer's output through the final norm and the head),
    averaged over the intermediate layers ℓ = 1 … L−1 (``hidden[1:-1]``: not the embeddings,
    not the last layer, whose distribution is the output's own). Only answer positions are
    decoded ([N, V], not [B, T, V]): on a 49k vocabulary and 30 layers that is what keeps the
    term affordable. Zero when the model has a single layer (no intermediate one)."""
    from oblivio.models.lens import lens_logits
    layers = hidden[1:-1]
    if not layers:
        return mask.new_zeros((), dtype=torch.float32)
    at = mask.bool()
    per_layer = [kl_uniform(F.log_softmax(lens_logits(model, h[:, :-1][at]).float(), -1), mask[at])
                 for h in layers]
    return torch.stack(per_layer).mean()


def npo_forget(logp: torch.Tensor, ref: torch.Tensor, beta: float,
               weights: torch.Tensor | None = None) -> torch.Tensor:
    """NPO's forget loss (Zhang et al. 2024, arXiv 2404.05868) from the model's and the
    reference's summed answer log-likelihoods per sequence [B]:
    −(2/β)·mean log σ(−β·(log π_θ(y|x) − log π_ref(y|x))); with ``weights`` [B], each
    sequence's term weighted, still divided by B (a weight of 0 drops the row's push, not the
    batch's scale)."""
    per_row = F.logsigmoid(-beta * (logp - ref))
    if weights is not None:
        per_row = per_row * weights
    return -(2.0 / beta) * per_row.mean()


def kl_uniform(logp: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Maximum entropy's forget term (Yuan et al. 2024, arXiv 2410.08109): mean over answer
    positions of KL(U ‖ p_θ) = −log|V| − (1/|V|)·Σ_v log p_v, from the log-softmax ``logp``
    [B, T-1, V]; zero exactly where the model is uniform over the vocabulary."""
    return masked_mean(-math.log(logp.size(-1)) - logp.mean(-1), mask)


def mean_nll(model, sub: dict[str, torch.Tensor]) -> torch.Tensor:
    """Token-level mean answer NLL over the batch (the usual HF causal-LM loss)."""
    lp, mask = forward_logprobs(model, sub)
    return -lp.sum() / mask.sum().clamp_min(1)


def kl_ref_to_model(model, reference, sub: dict[str, torch.Tensor]) -> torch.Tensor:
    """KL(p_ref ‖ p_θ) over the full vocabulary at every answer position, averaged."""
    out = model(input_ids=sub["input_ids"], attention_mask=sub["attention_mask"])
    return _kl_from_reference(reference, sub, out.logits[:, :-1].float(), sub["labels"][:, 1:].ne(-100))


def _kl_from_reference(reference, sub: dict[str, torch.Tensor], logits: torch.Tensor,
                       mask: torch.Tensor) -> torch.Tensor:
    """KL(p_ref ‖ p_θ) at the answer positions of ``mask``, averaged, from the model's
    next-token ``logits`` [B, T-1, V] on ``sub`` and one no-grad pass of the reference."""
    with torch.no_grad():
        logp = F.log_softmax(reference.logits(sub)[:, :-1].float(), -1)
    kl = (logp.exp() * (logp - F.log_softmax(logits, -1))).sum(-1)
    return (kl * mask).sum() / mask.sum().clamp_min(1)


def answer_logits(model, sub: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(logits predicting each next token [B, T-1, V] in float, targets [B, T-1], answer mask)."""
    out = model(input_ids=sub["input_ids"], attention_mask=sub["attention_mask"])
    tgt = sub["labels"][:, 1:]
    return out.logits[:, :-1].float(), tgt, tgt.ne(-100)


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``x`` over the positions where ``mask`` is true (0 when none)."""
    return (x * mask).sum() / mask.sum().clamp_min(1)


def soft_cross_entropy(logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over answer positions of −Σ_v q_v log p_θ(v): distillation to a target distribution q."""
    logp = F.log_softmax(logits, -1)
    # 0·(−inf) must count as 0 where the target puts no mass
    ce = -(target * logp.masked_fill(target == 0, 0.0)).sum(-1)
    return masked_mean(ce, mask)


def weighted_ga(model, sub: dict[str, torch.Tensor], weight_fn) -> torch.Tensor:
    """Token-weighted gradient ascent: mean over answer tokens of w(p_t)·log p_t, w detached."""
    lp, mask = forward_logprobs(model, sub)
    w = weight_fn(lp.detach().exp())
    return masked_mean(w * lp, mask)


def plus_retain_nll_kl(model, reference, batch: dict, forget: torch.Tensor, alpha: float, gamma: float):
    """``LossParts(forget + α·NLL_r + γ·KL(p_ref ‖ p_θ)_r)`` from one forward pass of the retain
    rows: the NLL of their answer tokens and, at the same answer positions, the full-vocabulary
    KL from the frozen reference (:func:`kl_ref_to_model`'s term, TOFU's retain KL). γ = 0 is
    :func:`plus_retain_nll` exactly (no reference pass); no retain rows, the forget term alone."""
    from oblivio.methods.base import LossParts
    if not gamma:
        return plus_retain_nll(model, batch, forget, alpha)
    r = batch.get("retain")
    if r is None:
        return LossParts(forget, {"forget": forget})
    logits, lp, mask, _ = _forward(model, r, hidden=False)
    nll = -lp.sum() / mask.sum().clamp_min(1)
    kl = _kl_from_reference(reference, r, logits, mask)
    parts = {"forget": forget, "retain": nll, "retain_kl": kl}
    return LossParts(forget + alpha * nll + gamma * kl, parts)


def plus_retain_nll(model, batch: dict, forget: torch.Tensor, alpha: float):
    """``LossParts(forget + α·NLL_r)`` with both parts logged; just the forget term when α = 0
    or the batch has no retain rows (the GD retain term most methods of the zoo share)."""
    from oblivio.methods.base import LossParts
    parts = {"forget": forget}
    total = forget
    if alpha and batch.get("retain") is not None:
        parts["retain"] = mean_nll(model, batch["retain"])
        total = forget + alpha * parts["retain"]
    return LossParts(total, parts)
