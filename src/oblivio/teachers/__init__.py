"""Teachers: pluggable writers of TRU's reasoning-based unlearning targets (Liao et al. 2026, arXiv 2603.09980).

One file per kind, registered in ``oblivio.registry.TEACHERS`` and discovered like methods:
``template`` (offline, no model; the default), ``hf`` (a local Hugging Face model directory)
and ``endpoint`` (an OpenAI-compatible chat-completions server). ``base`` holds the target
type, the leak check and :func:`~oblivio.teachers.base.produce_targets`; ``backends`` the two
text generators that the model teachers and the LLM judge share, with the on-disk cache.
"""
from oblivio.registry import TEACHERS

NOT_PLUGINS = ("base", "backends", "llm")

__all__ = ["TEACHERS"]
