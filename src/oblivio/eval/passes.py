"""Batched teacher-forced passes whose outputs every metric shares.

One pass over (question, answer) yields, per answer token: log p(y_t), whether y_t is the
argmax (exact memorisation), and the Min-K%++ standardised score (log p − μ)/σ with μ, σ²
the mean and variance of log p under the model's own next-token distribution (Zhang et al.
2024, arXiv 2404.02936). A second, lighter pass scores paraphrased/perturbed answers for
the truth ratio (TOFU, Maini et al. 2024). Sequences are sorted by length so that batches
carry little padding.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from oblivio.data.collate import Encoded, collate


@dataclass
class TFOut:
    logprobs: np.ndarray
    correct: np.ndarray | None = None
    minkpp: np.ndarray | None = None


def _device(model) -> torch.device:
    return next(model.parameters()).device


def _batches(encs: Sequence[Encoded], batch_size: int):
    order = sorted(range(len(encs)), key=lambda i: len(encs[i].prompt) + len(encs[i].answer))
    for s in range(0, len(order), batch_size):
        yield order[s:s + batch_size]


@torch.inference_mode()
def teacher_forced(model, encs: Sequence[Encoded], pad_id: int, *, batch_size: int = 64,
                   full: bool = True) -> list[TFOut]:
    """Per-sequence answer-token statistics; ``full=False`` computes log-probs only."""
    from oblivio.progress import bar
    dev = _device(model)
    out: list[TFOut | None] = [None] * len(encs)
    for idx in bar(list(_batches(encs, batch_size)), desc="teacher-forced pass", unit="batch"):
        b = collate([encs[i] for i in idx], pad_id)
        ids, mask, labels = (b[k].to(dev) for k in ("input_ids", "attention_mask", "labels"))
        logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1].float()
        tgt = labels[:, 1:]
        amask = tgt.ne(-100)
        # only answer positions matter: gather them before the vocabulary-wide work
        rows, cols = amask.nonzero(as_tuple=True)
        lg = logits[rows, cols]                       # [N_answer_tokens, V]
        y = tgt[rows, cols]
        logp_all = F.log_softmax(lg, -1)
        lp = logp_all.gather(-1, y[:, None]).squeeze(-1)
        if full:
            p = logp_all.exp()
            mu = (p * logp_all).sum(-1)
            var = (p * logp_all.square()).sum(-1) - mu.square()
            mkpp = (lp - mu) / var.clamp_min(1e-12).sqrt()
            corr = lg.argmax(-1).eq(y)
        counts = amask.sum(-1).tolist()
        lp_np = lp.cpu().numpy()
        if full:
            mk_np, c_np = mkpp.cpu().numpy(), corr.cpu().numpy()
        s = 0
        for j, n in zip(idx, counts):
            sl = slice(s, s + n)
            out[j] = TFOut(lp_np[sl], c_np[sl] if full else None, mk_np[sl] if full else None)
            s += n
    return out  # type: ignore[return-value]
