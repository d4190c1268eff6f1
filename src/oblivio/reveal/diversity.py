"""Diversity of responses: the Vendi score of their embeddings (:mod:`.vendi`).

Reveal and Release (Xie et al., Findings of EMNLP 2025, arXiv 2509.14624) embeds responses
with a sentence encoder. Backends, in order: ``minilm`` — all-MiniLM-L6-v2 sentence
embeddings when its package is installed (``oblivio[embed]``, eval/embed.py); else
``hidden`` — the model's own last hidden state, mean-pooled over the text's tokens. Which one
ran is reported (``Diversity.backend``) everywhere a score is shown. NeuralUCB's instruction
features are always the model's mean hidden states (:func:`mean_hidden`).
"""
from __future__ import annotations

from typing import Any, Sequence

import torch

from oblivio.reveal.vendi import vendi_score


@torch.inference_mode()
def mean_hidden(model: Any, tokenizer: Any, texts: Sequence[str], *, batch_size: int = 64) -> torch.Tensor:
    """[len(texts), hidden] mean last hidden state over each text's tokens (BOS included, so
    an empty text has an embedding too)."""
    from oblivio.models.format import cached_text
    dev = next(model.parameters()).device
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    bos = [tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []
    enc = [(bos + cached_text(tokenizer, t))[:128] or [pad] for t in texts]
    was = model.training
    model.eval()
    out = []
    try:
        for s in range(0, len(enc), batch_size):
            chunk = enc[s:s + batch_size]
            w = max(len(e) for e in chunk)
            ids = torch.full((len(chunk), w), pad, dtype=torch.long)
            mask = torch.zeros((len(chunk), w), dtype=torch.long)
            for r, e in enumerate(chunk):
                ids[r, :len(e)] = torch.tensor(e)
                mask[r, :len(e)] = 1
            h = model(input_ids=ids.to(dev), attention_mask=mask.to(dev), output_hidden_states=True).hidden_states[-1]
            m = mask.to(dev).unsqueeze(-1).to(h.dtype)
            out.append(((h * m).sum(1) / m.sum(1)).float().cpu())
    finally:
        model.train(was)
    return torch.cat(out)


class Diversity:
    """Vendi score / n of responses, with the best embedding backend available."""

    def __init__(self, model: Any, tokenizer: Any, *, backend: str = "auto") -> None:
        self.model, self.tokenizer = model, tokenizer
        self.embedder = None
        if backend in ("auto", "minilm"):
            from oblivio.eval.embed import model_dir
            d = model_dir()
            if d is not None:
                from oblivio.eval.embed import Embedder
                self.embedder = Embedder(d)
            elif backend == "minilm":
                from oblivio.errors import InputError
                raise InputError("the MiniLM embedder is not installed (pip install 'oblivio[embed]')",
                                 field="reveal.embedder")
        self.backend = "minilm" if self.embedder is not None else "hidden"

    def embed(self, texts: Sequence[str]) -> torch.Tensor:
        if self.embedder is not None:
            return self.embedder.encode(list(texts))
        return mean_hidden(self.model, self.tokenizer, texts)

    def score(self, responses: Sequence[str]) -> float:
        """Vendi score of the responses divided by their number: in [1/n, 1]."""
        if not responses:
            return 0.0
        return vendi_score(self.embed(responses)) / len(responses)
