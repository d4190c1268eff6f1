"""The unlearning learning rate when the config leaves it to the model (``unlearn.train.lr:
null``, the default): by the model's scale and whether a LoRA adapter is trained.

* a model under 10 M parameters — the embedded world's tiny models and those ``oblivio
  learn`` trains from scratch on a user's data — 1e-3: such a model learned its facts at
  3e-3 and gives them up only at a comparable rate;
* a pretrained model (10 M parameters or more), full fine-tuning: 1e-5, the range of TOFU's
  and OpenUnlearning's unlearning scripts (1e-5 to 2e-5); 1e-3 destroys such a model in one
  step (SmolLM2-135M-Instruct's retain loss 0.98 → 10.4 with NPO). On that model, 55 NPO steps
  at 1e-5 still over-unlearn the neighbours (bench/results/real/tune.md); lower full rates are
  not measured yet;
* a pretrained model through a LoRA adapter (rank 8): 3e-5, chosen on the validation portion
  of the real-knowledge set with NPO on SmolLM2-135M-Instruct among 1e-5, 3e-5 and 1e-4
  (bench/real/tune.py, bench/results/real/tune.md: 1e-4 halved neighbour accuracy).

The rate used, and the rule that chose it, are recorded in results.json (``training.lr``,
``training.lr_rule``). A rate given in the config or on the command line is always used as is.
"""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from oblivio.config import TrainConfig

PRETRAINED_PARAMETERS = 10_000_000
TINY_LR = 1e-3
PRETRAINED_FULL_LR = 1e-5
PRETRAINED_LORA_LR = 3e-5


def parameter_count(model: Any) -> int:
    """Parameters of the model itself (adapters excluded); tied embeddings counted once."""
    return sum(p.numel() for n, p in model.named_parameters() if "lora_" not in n)


def default_lr(model: Any, *, lora: bool) -> tuple[float, str]:
    """(learning rate, the rule in words) for ``model`` (see the module docstring)."""
    n = parameter_count(model)
    if n < PRETRAINED_PARAMETERS:
        return TINY_LR, f"a small model ({n / 1e6:.2f} M parameters < 10 M): {TINY_LR:g}"
    if lora:
        return PRETRAINED_LORA_LR, f"a pretrained model ({n / 1e6:.0f} M parameters), LoRA: {PRETRAINED_LORA_LR:g}"
    return PRETRAINED_FULL_LR, (f"a pretrained model ({n / 1e6:.0f} M parameters), full fine-tuning: "
                                f"{PRETRAINED_FULL_LR:g}")


def with_lr(cfg: TrainConfig, model: Any, lora: bool) -> tuple[TrainConfig, str]:
    """``cfg`` with its rate set by :func:`default_lr` when it has none, and the rule used."""
    if cfg.lr is not None:
        return cfg, "given"
    lr, rule = default_lr(model, lora=lora)
    return dataclasses.replace(cfg, lr=lr), rule
