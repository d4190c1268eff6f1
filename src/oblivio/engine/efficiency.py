"""The efficiency account of a run (survey of Liu et al. 2024, arXiv 2402.08787: wall time,
FLOPs or tokens processed, peak memory): results.json's ``efficiency`` record.

Convention (Kaplan et al. 2020, "Scaling laws for neural language models", arXiv 2001.08361,
§2.1): a forward pass costs ≈ 2·N FLOPs per token and a training step (forward + backward)
≈ 6·N, with N the model's parameter count (embeddings included, as counted by
``model.parameters()``). So training FLOPs ≈ 6·N·T_train, inference FLOPs ≈ 2·N·T_infer, where

* T_train = the non-padding tokens the unlearning loop trained on, over all processes
  (``training.tokens_per_process`` × ``training.processes``: every process trains an equal
  shard); a reference model's extra forward passes (NPO, KL, …)
  and attention's quadratic term are not counted;
* T_infer = the tokens fed to the models during evaluation and the audit, counted by a
  forward hook (:func:`count_tokens`): a batch's non-padding tokens, and during cached
  generation one token per sequence and step.

Phases (wall seconds): ``learn_*`` (base/gold training, only when not cached), the reference
evaluation (``eval_before``: base and gold before unlearning), ``training`` (unlearning),
``post_steps`` (when any ran), ``eval_after`` and ``audit``. Peak memory is the process's
peak RSS (and CUDA's peak allocation when present).
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

CONVENTION = ("FLOPs ≈ 6·N·tokens for training (forward + backward) and 2·N·tokens for inference "
              "(forward), N = parameter count incl. embeddings (Kaplan et al. 2020, arXiv 2001.08361); "
              "reference-model forwards and attention's quadratic term not counted")


@dataclass
class TokenCount:
    tokens: int = 0
    calls: int = 0


def _batch_tokens(args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    ids = kwargs.get("input_ids", args[0] if args else None)
    if ids is None:
        emb = kwargs.get("inputs_embeds")
        return int(emb.shape[0] * emb.shape[1]) if emb is not None else 0
    mask = kwargs.get("attention_mask")
    if mask is not None and tuple(mask.shape) == tuple(ids.shape):
        return int(mask.sum())
    return int(ids.numel())        # cached generation: the mask also spans the past positions


@contextlib.contextmanager
def count_tokens(*models: Any) -> Iterator[TokenCount]:
    """Count the tokens every forward call of ``models`` processes while the block runs."""
    count = TokenCount()

    def hook(module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        count.tokens += _batch_tokens(args, kwargs)
        count.calls += 1
    handles = [m.register_forward_pre_hook(hook, with_kwargs=True) for m in dict.fromkeys(models)
               if m is not None and hasattr(m, "register_forward_pre_hook")]
    try:
        yield count
    finally:
        for h in handles:
            h.remove()


def n_parameters(model: Any) -> int:
    return int(sum(p.numel() for p in model.parameters()))


PHASES = (("eval_before", "reference_eval"), ("unlearn", "training"), ("eval_after", "eval_after"),
          ("audit", "audit"), ("total", "total"))


def _train_tokens(training: dict[str, Any]) -> int:
    tp = training.get("tokens_per_process") or 0
    if isinstance(tp, (list, tuple)):
        return int(sum(tp))
    return int(tp) * int(training.get("processes") or 1)


def efficiency_record(*, n_params: int, timings: dict[str, float], training: dict[str, Any],
                      inference_tokens: int, memory: dict[str, float],
                      previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``efficiency`` record (module docstring). ``previous``: an earlier record of the same
    run (the audit adds its phase and tokens to the run's own)."""
    phases = dict((previous or {}).get("phases", {}))
    for k, v in timings.items():
        if k.startswith(("learn_", "post_")):
            phases[k] = round(float(v), 3)
    for src, dst in PHASES:
        if src in timings:
            phases[dst] = round(float(timings[src]), 3)
    t_train = _train_tokens(training) if training else int((previous or {}).get("tokens", {}).get("training", 0))
    t_inf = int(inference_tokens) + int((previous or {}).get("tokens", {}).get("inference", 0))
    peak = {k: max(float(v), float((previous or {}).get("memory", {}).get(k, 0.0))) for k, v in memory.items()}
    return {"convention": CONVENTION, "parameters": n_params, "phases": phases,
            "tokens": {"training": t_train, "inference": t_inf},
            "flops": {"training": float(6 * n_params * t_train), "inference": float(2 * n_params * t_inf),
                      "total": float(6 * n_params * t_train + 2 * n_params * t_inf)},
            "memory": peak}
