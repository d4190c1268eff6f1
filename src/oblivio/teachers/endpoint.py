"""Teacher behind an OpenAI-compatible chat-completions endpoint given by URL.

httpx, a timeout per request, retries with exponential backoff on transport errors, 429 and
5xx, and at most ``concurrency`` requests in flight (teachers/backends.py). The server is on
this machine unless ``--allow-remote-endpoints``; a bearer key is sent only from the
environment variable named by ``--teacher-key-env``. Outputs are cached on disk by URL +
model + prompt; no network is used unless this teacher is chosen.
"""
from __future__ import annotations

from typing import Any

from oblivio.registry import TEACHERS
from oblivio.teachers.backends import EndpointBackend
from oblivio.teachers.llm import LLMTeacher


@TEACHERS.register("endpoint")
class EndpointTeacher(LLMTeacher):
    """A served model writes the targets."""

    @classmethod
    def from_config(cls, cfg: Any) -> EndpointTeacher:
        return cls(EndpointBackend.from_config(cfg), use_cache=cfg.cache)
