"""Tensor helpers shared by the methods: answer-token log-probabilities from one forward.

Notation: NLL = mean answer-token negative log-likelihood; ℓ = summed answer
NLL; log π(y|x) = −ℓ. Labels are -100 on prompt and padding.
"""
from __future__ import annotations

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


def mean_nll(model, sub: dict[str, torch.Tensor]) -> torch.Tensor:
    """Token-level mean answer NLL over the batch (the usual HF causal-LM loss)."""
    lp, mask = forward_logprobs(model, sub)
    return -lp.sum() / mask.sum().clamp_min(1)


def kl_ref_to_model(model, reference, sub: dict[str, torch.Tensor]) -> torch.Tensor:
    """KL(p_ref ‖ p_θ) over the full vocabulary at every answer position, averaged."""
    out = model(input_ids=sub["input_ids"], attention_mask=sub["attention_mask"])
    mask = sub["labels"][:, 1:].ne(-100)
    logq = F.log_softmax(out.logits[:, :-1].float(), -1)
    with torch.no_grad():
        logp = F.log_softmax(reference.logits(sub)[:, :-1].float(), -1)
    kl = (logp.exp() * (logp - logq)).sum(-1)
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
