"""Batched greedy generation with the KV cache, left padding, and stop at end-of-answer.

All prompts of an evaluation (every set, questions and paraphrased questions) go through
one call, sorted by length into batches. Each answer keeps its token ids (``Generation.ids``),
so a metric on tokens never re-tokenises the decoded text. A batch stops as soon as every
sequence has ended its answer, instead of always running to ``max_new_tokens``: at the chat
template's end-of-turn token (or EOS) in the chat style, at EOS or a newline in the plain
style (``Question: … Answer:`` answers are one line; a chat answer may span several).
The limit may differ per prompt (TOFU's protocol: per set, from its longest answer); a batch
runs to its largest limit and each row is cut at its own, so a row's text does not depend on
its batch. :func:`greedy_generate_ex` also says which generations hit their limit before
they ended (truncated).
"""
from __future__ import annotations

from typing import Sequence

import torch

from oblivio.data.context import model_context
from oblivio.models.format import PromptFormat, end_of_answer, resolve_format


def stop_token_ids(tokenizer, fmt: PromptFormat | None = None) -> list[int]:
    """The tokens that end an answer in ``fmt`` (None: the tokenizer's bound format)."""
    ids = [tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else []
    if resolve_format(tokenizer, fmt).style == "chat":
        return sorted(set(ids + end_of_answer(tokenizer, fmt)[:1]))
    # a token that decodes to a bare newline also ends an answer ("Question:/Answer:" format)
    for t in ("\n", "Ċ"):
        tid = tokenizer.convert_tokens_to_ids(t)
        if isinstance(tid, int) and tid != tokenizer.unk_token_id and tokenizer.decode([tid]) == "\n":
            ids.append(tid)
    return sorted(set(ids))


class Generation(str):
    """A decoded greedy answer (a ``str``: every metric reads it as text) that carries the
    token ids it was decoded from, ``ids``: the new tokens up to the stop token."""

    ids: tuple[int, ...]

    def __new__(cls, text: str, ids: Sequence[int] = ()) -> Generation:
        obj = super().__new__(cls, text)
        obj.ids = tuple(ids)
        return obj


def greedy_generate(model, tokenizer, prompts: Sequence[list[int]], *,
                    max_new_tokens: int | Sequence[int] = 32, batch_size: int = 64,
                    fmt: PromptFormat | None = None) -> list[Generation]:
    """Greedy continuation of each tokenised prompt, decoded and cut at the end of its answer;
    each result carries its token ids (:class:`Generation`)."""
    return greedy_generate_ex(model, tokenizer, prompts, max_new_tokens=max_new_tokens,
                              batch_size=batch_size, fmt=fmt)[0]


@torch.inference_mode()
def greedy_generate_ex(model, tokenizer, prompts: Sequence[list[int]], *,
                       max_new_tokens: int | Sequence[int] = 32,
                       batch_size: int = 64,
                       fmt: PromptFormat | None = None) -> tuple[list[Generation], list[bool]]:
    """(generations, truncated): ``truncated[i]`` is True when prompt i's continuation reached
    its token limit without a stop token (:func:`stop_token_ids`), i.e. the answer may be cut
    short. ``max_new_tokens``: one limit for all prompts, or one per prompt; ``fmt`` (None: the
    tokenizer's bound format) says what ends an answer."""
    from transformers import GenerationConfig

    from oblivio.progress import bar

    limits = [int(max_new_tokens)] * len(prompts) if isinstance(max_new_tokens, int) else \
        [int(x) for x in max_new_tokens]
    if len(limits) != len(prompts):
        raise ValueError(f"{len(limits)} token limits for {len(prompts)} prompts")
    if any(x < 1 for x in limits):
        raise ValueError("max_new_tokens must be >= 1")

    ctx = model_context(model, tokenizer)
    if ctx is not None:
        # positions past the model's context are meaningless to it (and RoPE models answer
        # anything there): a long prompt (a few-shot attack, a judged answer) gets fewer new
        # tokens, and a continuation cut there counts as truncated
        limits = [max(1, min(lim, ctx - len(p))) for lim, p in zip(limits, prompts, strict=True)]
    dev = next(model.parameters()).device
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    stops = stop_token_ids(tokenizer, fmt)
    one_line = resolve_format(tokenizer, fmt).style == "plain"
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    out: list[Generation] = [Generation("")] * len(prompts)
    cut = [False] * len(prompts)
    for s in bar(range(0, len(order), batch_size), desc="greedy answers", unit="batch"):
        idx = order[s:s + batch_size]
        gcfg = GenerationConfig(max_new_tokens=max(limits[i] for i in idx), do_sample=False, use_cache=True,
                                eos_token_id=stops, pad_token_id=pad)
        width = max(len(prompts[i]) for i in idx)
        ids = torch.full((len(idx), width), pad, dtype=torch.long)
        mask = torch.zeros((len(idx), width), dtype=torch.long)
        for r, i in enumerate(idx):
            p = prompts[i]
            ids[r, width - len(p):] = torch.tensor(p)
            mask[r, width - len(p):] = 1
        gen = model.generate(input_ids=ids.to(dev), attention_mask=mask.to(dev), generation_config=gcfg)
        new = gen[:, width:].tolist()
        for r, i in enumerate(idx):
            toks = new[r][:limits[i]]
            for k, t in enumerate(toks):
                if t in stops:
                    toks = toks[:k]
                    break
            else:   # no stop token within the limit: cut short, unless a newline ends a one-line answer
                text = tokenizer.decode(toks, skip_special_tokens=True)
                cut[i] = len(toks) >= limits[i] and not (one_line and "\n" in text)
            text = tokenizer.decode(toks, skip_special_tokens=True)
            out[i] = Generation((text.split("\n")[0] if one_line else text).strip(), toks)
    return out, cut
