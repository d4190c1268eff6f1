"""The frozen reference model π_ref that NPO, KL and other methods compare against.

Two ways to provide it, so no method needs to know which:

* ``lora``: the model being trained is a PEFT/LoRA model; the reference is the same
  weights with the adapter disabled — no second copy of the model in memory;
* ``copy``: a frozen deep copy (full fine-tuning).

Sequence log-likelihoods of a fixed item never change under a frozen reference, so they
are cached per item index: NPO runs the reference once per forget item, not once per step.
"""
from __future__ import annotations

import contextlib
import copy
from typing import Any

import torch

from oblivio.engine.logprobs import token_logprobs


class Reference:
    def __init__(self, model: Any, mode: str = "copy") -> None:
        self.mode = mode
        if mode == "lora":
            self._model = model          # PeftModel; adapter disabled on every call
        elif mode == "copy":
            self._model = copy.deepcopy(model).eval()
            for p in self._model.parameters():
                p.requires_grad_(False)
        else:
            raise ValueError(f"unknown reference mode {mode!r}")
        self._seq_cache: dict[int, float] = {}

    def cache_state(self) -> dict[int, float]:
        """The cached sequence log-likelihoods, for a resumable checkpoint (engine/checkpoint.py):
        recomputing them in other batches could differ in the last bits."""
        return dict(self._seq_cache)

    def load_cache_state(self, cache: dict[int, float]) -> None:
        self._seq_cache = {int(k): float(v) for k, v in cache.items()}

    def bind(self, model: Any) -> None:
        """Point a LoRA reference at the (possibly wrapped) training model."""
        if self.mode == "lora":
            self._model = model

    def _ctx(self):
        if self.mode == "lora":
            m = self._model.module if hasattr(self._model, "module") else self._model
            return m.disable_adapter()
        return contextlib.nullcontext()

    def _net(self) -> Any:
        """The module the reference's forward runs: under data parallelism, not the wrapper. A
        wrapper's forward is a collective (buffers broadcast), and a method may read the
        reference on some processes only in a step (a batch without the rows it needs)."""
        from torch.nn.parallel import DistributedDataParallel
        return self._model.module if isinstance(self._model, DistributedDataParallel) else self._model

    @torch.no_grad()
    def logits(self, sub: dict[str, torch.Tensor]) -> torch.Tensor:
        with self._ctx():
            return self._net()(input_ids=sub["input_ids"], attention_mask=sub["attention_mask"]).logits

    @torch.no_grad()
    def hidden(self, sub: dict[str, torch.Tensor], index: int) -> torch.Tensor:
        """``output_hidden_states[index]`` of the reference (RMU's retain anchor)."""
        with self._ctx():
            out = self._net()(input_ids=sub["input_ids"], attention_mask=sub["attention_mask"],
                              output_hidden_states=True)
        return out.hidden_states[index]

    @torch.no_grad()
    def seq_logprob(self, sub: dict[str, torch.Tensor]) -> torch.Tensor:
        """Summed answer log-likelihood per sequence, cached by item index."""
        idx = sub["index"].tolist()
        missing = [i for i, k in enumerate(idx) if k not in self._seq_cache]
        if missing:
            sel = torch.tensor(missing, device=sub["input_ids"].device)
            part = {k: v.index_select(0, sel) for k, v in sub.items() if k != "index"}
            lp, _ = token_logprobs(self.logits(part), part["labels"])
            for i, v in zip(missing, lp.sum(-1).tolist()):
                self._seq_cache[idx[i]] = v
        return torch.tensor([self._seq_cache[k] for k in idx], device=sub["input_ids"].device)
