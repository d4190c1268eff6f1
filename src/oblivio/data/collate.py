"""Tokenised items and padded batches (answer-only labels).

Every item is encoded once (``EncodedSet``) and reused by every epoch and every metric.
``collate`` right-pads for teacher forcing; generation uses left padding (eval/generate.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

from oblivio.data.schema import QAItem
from oblivio.models.format import PromptFormat, encode_answer, encode_prompt

IGNORE = -100


@dataclass(frozen=True)
class Encoded:
    prompt: list[int]
    answer: list[int]


def encode_pair(tokenizer, fmt: PromptFormat, question: str, answer: str, max_len: int = 256) -> Encoded:
    p = encode_prompt(tokenizer, fmt, question)
    a = encode_answer(tokenizer, fmt, answer)
    if len(p) + len(a) > max_len:   # keep the answer whole; trim the prompt from the left
        p = p[-max(1, max_len - len(a)):]
    return Encoded(p, a)


def encode_items(tokenizer, fmt: PromptFormat, items: Sequence[QAItem], max_len: int = 256) -> list[Encoded]:
    return [encode_pair(tokenizer, fmt, it.question, it.answer, max_len) for it in items]


def collate(encs: Sequence[Encoded], pad_id: int, *, answer_only: bool = True) -> dict[str, torch.Tensor]:
    """Right-padded batch: input_ids, attention_mask, labels (prompt and padding = -100)."""
    n = len(encs)
    width = max(len(e.prompt) + len(e.answer) for e in encs)
    ids = torch.full((n, width), pad_id, dtype=torch.long)
    mask = torch.zeros((n, width), dtype=torch.long)
    labels = torch.full((n, width), IGNORE, dtype=torch.long)
    for i, e in enumerate(encs):
        seq = e.prompt + e.answer
        ids[i, :len(seq)] = torch.tensor(seq)
        mask[i, :len(seq)] = 1
        start = len(e.prompt) if answer_only else 0
        labels[i, start:len(seq)] = torch.tensor(seq[start:])
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def make_collate_learn(encs: Sequence[Encoded], pad_id: int):
    """Collate for learning: every item goes on the ``retain`` (keep/learn) side."""
    def fn(pairs: list[tuple[int, int]]) -> dict[str, dict[str, torch.Tensor]]:
        idx = [r for _, r in pairs]
        b = collate([encs[i] for i in idx], pad_id)
        b["index"] = torch.tensor(idx)
        return {"retain": b}
    return fn
