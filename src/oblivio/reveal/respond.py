"""Asking a model instructions: greedy answers, or several sampled answers per instruction.

The reveal step of Reveal and Release (Xie et al., Findings of EMNLP 2025, arXiv 2509.14624)
scores an instruction by the relevance and the diversity of the model's responses to it, so
it needs several responses per prompt: ``n > 1`` samples them (temperature, seeded, so a
search is reproducible); ``n == 1`` with ``temperature == 0`` is the evaluator's batched
greedy decoding (eval/generate.py). Prompts use the run's question/answer format.
"""
from __future__ import annotations

from typing import Sequence

import torch

from oblivio.models.format import PromptFormat, cached_prompt, resolve_format


def respond(model, tokenizer, questions: Sequence[str], *, n: int = 1, temperature: float = 0.0,
            max_new_tokens: int = 64, seed: int = 0, batch_size: int = 64,
            fmt: PromptFormat | None = None) -> list[list[str]]:
    """``n`` responses to every question (one list per question), cut at the first newline."""
    from oblivio.eval.generate import greedy_generate
    fmt = resolve_format(tokenizer, fmt)
    prompts = [cached_prompt(tokenizer, fmt, q) for q in questions]
    # never past the model's context (the tiny world models have 128 positions)
    ctx = getattr(getattr(model, "config", None), "max_position_embeddings", None)
    if isinstance(ctx, int) and prompts:
        max_new_tokens = max(1, min(max_new_tokens, ctx - max(len(p) for p in prompts)))
    was_training = model.training
    model.eval()
    try:
        if temperature <= 0:
            g = greedy_generate(model, tokenizer, prompts, max_new_tokens=max_new_tokens, batch_size=batch_size,
                                fmt=fmt)
            return [[str(x)] * n for x in g]
        return _sample(model, tokenizer, prompts, n=n, temperature=temperature,
                       max_new_tokens=max_new_tokens, seed=seed, batch_size=batch_size, fmt=fmt)
    finally:
        model.train(was_training)


@torch.inference_mode()
def _sample(model, tokenizer, prompts: list[list[int]], *, n: int, temperature: float, max_new_tokens: int,
            seed: int, batch_size: int, fmt: PromptFormat) -> list[list[str]]:
    from transformers import GenerationConfig

    from oblivio.eval.generate import stop_token_ids
    dev = next(model.parameters()).device
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    gcfg = GenerationConfig(max_new_tokens=max_new_tokens, do_sample=True, temperature=temperature, top_k=0,
                            top_p=1.0, use_cache=True, eos_token_id=stop_token_ids(tokenizer, fmt), pad_token_id=pad)
    flat = [p for p in prompts for _ in range(n)]
    one_line = fmt.style == "plain"   # a chat answer may span lines (eval/generate.py)
    texts: list[str] = []
    # a private RNG stream: sampling here never moves the global torch RNG of a training run
    with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
        torch.manual_seed(seed)
        for s in range(0, len(flat), batch_size):
            chunk = flat[s:s + batch_size]
            width = max(len(p) for p in chunk)
            ids = torch.full((len(chunk), width), pad, dtype=torch.long)
            mask = torch.zeros((len(chunk), width), dtype=torch.long)
            for r, p in enumerate(chunk):
                ids[r, width - len(p):] = torch.tensor(p)
                mask[r, width - len(p):] = 1
            gen = model.generate(input_ids=ids.to(dev), attention_mask=mask.to(dev), generation_config=gcfg)
            for row in gen[:, width:].tolist():
                text = tokenizer.decode(row, skip_special_tokens=True)
                texts.append((text.split("\n")[0] if one_line else text).strip())
    return [texts[i * n:(i + 1) * n] for i in range(len(prompts))]


def value_recall(model, tokenizer, rows) -> dict[str, float]:
    """Per group (``<task>/trained`` or ``<task>/heldout``), the mean fraction of a row's
    ``meta["values"]`` that its greedy response contains: what a model knows of the world's
    instruction and arithmetic rows (world/extras.py)."""
    from collections import defaultdict
    resp = respond(model, tokenizer, [r.question for r in rows], max_new_tokens=72)
    acc: dict[str, list[float]] = defaultdict(list)
    for r, (text,) in zip(rows, resp):
        vals = r.meta["values"]
        acc[r.meta["task"] + ("/heldout" if r.meta.get("heldout") else "/trained")].append(
            sum(v in text for v in vals) / len(vals))
    return {k: sum(v) / len(v) for k, v in sorted(acc.items())}
