"""Teacher from a local Hugging Face model directory: chat template if the tokenizer
has one, batched greedy generation, outputs cached on disk (teachers/backends.py).

The model is asked for ``Reasoning: …`` and ``Response: …`` (the prompt: teachers/llm.py);
an output of another shape, or one that reveals a forget answer, is rejected and counted by
:func:`oblivio.teachers.base.produce_targets`.
"""
from __future__ import annotations

from typing import Any

from oblivio.registry import TEACHERS
from oblivio.teachers.backends import HFBackend
from oblivio.teachers.llm import LLMTeacher


@TEACHERS.register("hf")
class HFTeacher(LLMTeacher):
    """A local model writes the targets."""

    @classmethod
    def from_config(cls, cfg: Any) -> HFTeacher:
        return cls(HFBackend.from_config(cfg), use_cache=cfg.cache)
