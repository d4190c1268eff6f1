"""Tokenised items and padded batches (answer-only labels).

Every item is encoded once (``EncodedSet``) and reused by every epoch and every metric.
``Rows`` is the one collator (right padding, answer-only labels) for teacher forcing, learning
and unlearning; generation uses left padding (eval/generate.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import torch

from oblivio.data.schema import QAItem
from oblivio.models.format import PromptFormat, cached_answer, cached_prompt

IGNORE = -100


@dataclass(frozen=True)
class Encoded:
    prompt: list[int]
    answer: list[int]


def encode_pair(tokenizer, fmt: PromptFormat, question: str, answer: str, max_len: int = 256) -> Encoded:
    p = cached_prompt(tokenizer, fmt, question)      # each text tokenised once per tokenizer (models/format.py)
    a = cached_answer(tokenizer, fmt, answer)
    if len(p) + len(a) > max_len:   # keep the answer whole; trim the prompt from the left
        p = p[-max(1, max_len - len(a)):]
    return Encoded(p, a)


def encode_items(tokenizer, fmt: PromptFormat, items: Sequence[QAItem], max_len: int = 256) -> list[Encoded]:
    return [encode_pair(tokenizer, fmt, it.question, it.answer, max_len) for it in items]


class Rows:
    """Encoded items kept as token rows; ``batch`` builds one right-padded tensor per field.

    The one collator: teacher forcing (eval/passes.py), learning and unlearning batches all
    come from here. Rows are concatenated once; a batch is built from Python lists and
    turned into tensors once per field (a tensor per row was most of the training loop's own
    per-step cost on a small model, bench/loop_overhead.py).
    """

    def __init__(self, encs: Sequence[Encoded]) -> None:
        self.seqs = [list(e.prompt) + list(e.answer) for e in encs]
        self.starts = [len(e.prompt) for e in encs]

    def batch(self, idx: Sequence[int], pad_id: int, *, with_index: bool = True) -> dict[str, torch.Tensor]:
        """input_ids, attention_mask, labels (prompt and padding = -100) and, by default,
        ``index`` (the rows' indices: the reference caches per item by it)."""
        seqs = [self.seqs[i] for i in idx]
        width = max(len(s) for s in seqs)
        ids, mask, labels = [], [], []
        for i, s in zip(idx, seqs):
            fill = width - len(s)
            st = self.starts[i]
            ids.append(s + [pad_id] * fill)
            mask.append([1] * len(s) + [0] * fill)
            labels.append([IGNORE] * st + s[st:] + [IGNORE] * fill)
        out = {"input_ids": torch.tensor(ids, dtype=torch.long),
               "attention_mask": torch.tensor(mask, dtype=torch.long),
               "labels": torch.tensor(labels, dtype=torch.long)}
        if with_index:
            out["index"] = torch.tensor(list(idx), dtype=torch.long)
        return out


def collate(encs: Sequence[Encoded], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-padded batch: input_ids, attention_mask, labels (prompt and padding = -100)."""
    return Rows(encs).batch(range(len(encs)), pad_id, with_index=False)


def make_collate(forget: Sequence[Encoded], retain: Sequence[Encoded], pad_id: int,
                 *, use_forget: bool, use_retain: bool) -> Callable[[list[tuple[int, int]]], dict[str, Any]]:
    """Collate (forget index, retain index) pairs (engine.loop.PairSource; -1 = none) into
    ``{"forget": batch, "retain": batch}``; a side the method does not use is never built."""
    f_rows, r_rows = Rows(forget if use_forget else []), Rows(retain if use_retain else [])

    def fn(pairs: list[tuple[int, int]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        fi = [f for f, _ in pairs if f >= 0]
        ri = [r for _, r in pairs if r >= 0]
        if use_forget and fi:
            out["forget"] = f_rows.batch(fi, pad_id)
        if use_retain and ri:
            out["retain"] = r_rows.batch(ri, pad_id)
        return out
    return fn


def make_collate_learn(encs: Sequence[Encoded], pad_id: int) -> Callable[[list[tuple[int, int]]], dict[str, Any]]:
    """Collate for learning: every item goes on the ``retain`` (keep/learn) side."""
    return make_collate([], encs, pad_id, use_forget=False, use_retain=True)
