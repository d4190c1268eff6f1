"""LLM judge through a local Hugging Face model directory, with our rubric (judges/llm.py).
Chat template when the tokenizer has one; verdicts cached on disk."""
from __future__ import annotations

from typing import Any

from oblivio.judges.llm import LLMJudge
from oblivio.registry import JUDGES
from oblivio.teachers.backends import HFBackend


@JUDGES.register("hf")
class HFJudge(LLMJudge):
    """A local model grades the responses."""

    @classmethod
    def from_config(cls, cfg: Any) -> HFJudge:
        return cls(HFBackend.from_config(cfg), use_cache=cfg.cache)
