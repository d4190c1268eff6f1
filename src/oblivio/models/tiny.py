"""A tiny randomly initialised `transformers` Llama, sized for a 2-core CPU.

The demo's base and gold models are made here. Sizes are presets; any LlamaConfig field
can be overridden. A first measurement had hidden 256 / 4 layers learning 400 facts in ~2.5 min;
the demo uses smaller shapes and short sequences to meet its time budget.
"""
from __future__ import annotations

from typing import Any

from oblivio.presets import MODEL_SIZES  # noqa: E402  (the presets live with the config)


def tiny_llama_config(vocab_size: int, size: str = "tiny", *, bos_token_id: int = 1, eos_token_id: int = 2,
                      pad_token_id: int = 0, max_position_embeddings: int = 128, **overrides: Any):
    from transformers import LlamaConfig

    from oblivio.errors import InputError
    if size not in MODEL_SIZES:
        raise InputError(f"unknown model size {size!r} (known: {', '.join(MODEL_SIZES)})", field="model.size")
    kw = dict(MODEL_SIZES[size])
    kw.update(overrides)
    return LlamaConfig(vocab_size=vocab_size, max_position_embeddings=max_position_embeddings,
                       bos_token_id=bos_token_id, eos_token_id=eos_token_id, pad_token_id=pad_token_id,
                       tie_word_embeddings=True, attention_dropout=0.0, **kw)


def tiny_llama(vocab_size: int, size: str = "tiny", *, seed: int = 0, **overrides: Any):
    """A freshly initialised ``LlamaForCausalLM`` (deterministic under ``seed``)."""
    import torch
    from transformers import LlamaForCausalLM

    cfg = tiny_llama_config(vocab_size, size, **overrides)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(cfg)
    return model
