"""The logit lens of a causal LM: an intermediate layer's hidden state read as next-token
logits through the model's own final norm and output head (nostalgebraist 2020, "interpreting
GPT: the logit lens"; Patil et al. 2024, arXiv 2309.17410, use it to recover "deleted" facts).

Owned here because two layers read it: the logit-lens attack (attacks/logit_lens.py) and a
method that unlearns against it (``npo_me``'s ``lens`` term). Both must decode a layer the
same way, or the defence trains against a readout the attack does not use.
"""
from __future__ import annotations

from typing import Any

# the final norm's attribute on the decoder stack, by architecture family (Llama, Mistral,
# Qwen, SmolLM: ``norm``; GPT-2: ``ln_f``; Phi, GPT-NeoX: ``final_layernorm`` / ``final_layer_norm``)
_NORM_NAMES = ("norm", "ln_f", "final_layernorm", "final_layer_norm")


def final_norm(model: Any) -> Any:
    """The module that normalises the last hidden state before the output head."""
    decoder = model.get_decoder() if callable(getattr(model, "get_decoder", None)) else model.base_model
    for name in _NORM_NAMES:
        mod = getattr(decoder, name, None)
        if mod is not None:
            return mod
    raise ValueError(f"{type(model).__name__}: no final norm found on its decoder "
                     f"(looked for {', '.join(_NORM_NAMES)}); the logit lens needs one")


def lens_logits(model: Any, hidden: Any) -> Any:
    """``hidden`` (an intermediate layer's output, [..., d]) decoded as next-token logits."""
    return model.get_output_embeddings()(final_norm(model)(hidden))
