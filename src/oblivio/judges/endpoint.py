"""LLM judge behind an OpenAI-compatible chat-completions endpoint, with our rubric
(judges/llm.py): httpx, timeouts, retries and a concurrency limit (teachers/backends.py);
on this machine unless ``--allow-remote-endpoints``, a bearer key only from the variable named
by ``--judge-key-env``; verdicts cached on disk."""
from __future__ import annotations

from typing import Any

from oblivio.judges.llm import LLMJudge
from oblivio.registry import JUDGES
from oblivio.teachers.backends import EndpointBackend


@JUDGES.register("endpoint")
class EndpointJudge(LLMJudge):
    """A served model grades the responses."""

    @classmethod
    def from_config(cls, cfg: Any) -> EndpointJudge:
        return cls(EndpointBackend.from_config(cfg), use_cache=cfg.cache)
