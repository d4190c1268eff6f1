"""Alternate answers for the forget items: a refusal (IDK, DPO/IdkPO) or a teacher's target (TRU).

Built once in a method's ``prepare_data`` hook: item i of the forget set gets the prompt of
its own question and an answer of the method's choosing, encoded like every other answer
(models/format.py: answer-only labels, EOS appended). In ``loss``, the forget sub-batch's
``index`` selects the same items, so a step sees the alternate answers of exactly the forget
items it was given. An answer may be given as several segments (TRU: reasoning, then
response); they are tokenised separately and concatenated, so the summed log-likelihood is
exactly log π(r|x) + log π(s|x, r).
"""
from __future__ import annotations

from typing import Sequence

import torch

from oblivio.data.collate import Encoded, Rows
from oblivio.models.format import cached_answer, cached_prompt

# the reference caches sequence log-likelihoods by item index: alternates get their own keys
INDEX_OFFSET = 1_000_000_000
# the extra tokens a generated answer may have past its forget item's answer length (eval's margin)
GEN_MARGIN = 8


def greedy_answers(model, inputs, asked: Sequence[tuple[str, int]]) -> list[str]:
    """The model's greedy answer, stripped, to each (question, forget item index) of ``asked``,
    up to that forget item's answer length plus :data:`GEN_MARGIN` tokens; the model answers in
    eval mode and is returned to the mode it was in."""
    from oblivio.eval.generate import greedy_generate
    if not asked:
        return []
    prompts = [cached_prompt(inputs.tokenizer, inputs.fmt, q) for q, _ in asked]
    limits = [len(cached_answer(inputs.tokenizer, inputs.fmt, inputs.forget[i].answer)) + GEN_MARGIN for _, i in asked]
    was_training = model.training
    model.eval()
    with torch.no_grad():
        gens = greedy_generate(model, inputs.tokenizer, prompts, max_new_tokens=limits, fmt=inputs.fmt)
    model.train(was_training)
    return [str(g).strip() for g in gens]


class AltAnswers:
    """Per forget item, (its prompt, an alternate answer) as token rows; see module docstring."""

    def __init__(self, tokenizer, fmt, questions: Sequence[str], answers: Sequence[str | Sequence[str]],
                 pad_id: int | None = None, max_len: int = 512) -> None:
        encs = []
        for q, a in zip(questions, answers, strict=True):
            segs = [a] if isinstance(a, str) else list(a)
            ids: list[int] = []
            for k, seg in enumerate(segs):          # EOS only after the last segment
                ids += cached_answer(tokenizer, fmt, seg, eos=k == len(segs) - 1)
            p = cached_prompt(tokenizer, fmt, q)
            p = p[-max(1, max_len - len(ids)):]
            encs.append(Encoded(p, ids))
        self.rows = Rows(encs)
        if pad_id is None:
            pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        self.pad_id = int(pad_id)

    @classmethod
    def from_ids(cls, rows: Sequence[tuple[list[int], int]], pad_id: int) -> AltAnswers:
        """From (token ids, prompt length) rows directly (tests, custom encodings)."""
        self = cls.__new__(cls)
        self.rows = Rows([Encoded(list(s[:p]), list(s[p:])) for s, p in rows])
        self.pad_id = int(pad_id)
        return self

    def __len__(self) -> int:
        return len(self.rows.seqs)

    def batch(self, forget_sub: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The alternate answers of the items in ``forget_sub`` (same order, same device)."""
        idx = forget_sub["index"].tolist()
        out = self.rows.batch(idx, self.pad_id)
        out["index"] = out["index"] + INDEX_OFFSET
        dev = forget_sub["input_ids"].device
        return {k: v.to(dev) for k, v in out.items()}


def refusal_answers(inputs, source: str = "auto") -> AltAnswers:
    """One refusal per forget item (data/refusals.py), for IDK and DPO/IdkPO."""
    from oblivio.data.refusals import assign, refusals_for
    # TOFU's idk.jsonl is read from the folder the data came from (data/tofu_source.py)
    provenance = getattr(inputs.data, "provenance", None) or {}
    folder = provenance.get("path") or provenance.get("converted_to")
    refusals = refusals_for(getattr(inputs.data, "name", ""), source, tofu_dir=folder)
    answers = assign([it.id for it in inputs.forget], refusals, seed=inputs.seed)
    return AltAnswers(inputs.tokenizer, inputs.fmt, [it.question for it in inputs.forget], answers)


def require(alt: AltAnswers | None, method: str) -> AltAnswers:
    if alt is None:
        raise RuntimeError(f"{method}: prepare_data() was not called (engine/unlearning.py calls it; "
                           "in your own loop call it with a RunInputs, or set .alt to an AltAnswers)")
    return alt
