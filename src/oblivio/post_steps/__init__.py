"""The built-in post-steps, one file each (pipeline/post.py holds the contract): ``audit``
(the robustness audit), ``calibrate`` (mixing with the reference to equal utility),
``base_recall`` (how much of its training the base model recalls; the demo's). A config names
the ones a run executes in ``post_steps``; every module here is imported on first lookup of
``registry.POST_STEPS``, so a new post-step is one new file."""
from oblivio.registry import POST_STEPS

__all__ = ["POST_STEPS"]
