"""Answer-token log-probabilities from logits: the one definition that the frozen reference
(engine/reference.py) and the methods' tensor helpers (methods/ops.py) share.

Labels are -100 on prompt and padding; position t of the logits predicts token t + 1.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def token_logprobs(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token log p(y_t | x, y_<t) for shifted labels, and the answer mask ([B, T-1])."""
    logits = logits[:, :-1, :]
    tgt = labels[:, 1:]
    mask = tgt.ne(-100)
    lp = -F.cross_entropy(logits.float().reshape(-1, logits.size(-1)), tgt.clamp_min(0).reshape(-1),
                          reduction="none").view(tgt.shape)
    return lp * mask, mask
