"""What the config leaves to the model: the unlearning learning rate (``unlearn.train.lr:
null``) and the unlearning budget (``unlearn.train.max_steps`` and ``epochs`` both null), by the
model's scale and whether a LoRA adapter is trained. Both are the config's defaults.

Rate:

* a model under 10 M parameters — the embedded world's tiny models and those ``oblivio
  learn`` trains from scratch on a user's data — 5e-4, the default recipe's
  (presets.DEFAULT_RECIPE): bench/default_protocol.py chose that recipe on the validation
  worlds 101 and 102 among candidates that all ran at 5e-4 (bench/results/default_protocol/
  tuned.json), so this rate is the one the recipe was chosen at, not itself chosen among rates;
* a pretrained model (10 M parameters or more), full fine-tuning: 1e-5, the range of TOFU's
  and OpenUnlearning's unlearning scripts (1e-5 to 2e-5); 1e-3 destroys such a model in one
  step (SmolLM2-135M-Instruct's retain loss 0.98 → 10.4 with NPO). On that model, 55 NPO steps
  at 1e-5 still over-unlearn the neighbours (bench/results/real/tune.md); lower full rates are
  not measured yet;
* a pretrained model through a LoRA adapter (rank 8): 3e-5, chosen on the validation portion
  of the real-knowledge set with NPO on SmolLM2-135M-Instruct among 1e-5, 3e-5 and 1e-4
  (bench/real/tune.py, bench/results/real/tune.md: 1e-4 halved neighbour accuracy).

Budget: a model under 10 M parameters, the default recipe's 240 steps (batch 8 + 8), chosen
with it (bench/default_protocol.py tried 40, 80, 120, 160 and 240 steps over its rounds); a pretrained one,
5 epochs, as TOFU's unlearning scripts, and the budget bench/real/tune.py chose its rates at.

The rate and budget used, and the rules that chose them, are recorded in results.json
(``training.lr``, ``training.lr_rule``, ``training.steps``, ``training.budget_rule``). A rate,
a step count or an epoch count given in the config or on the command line is always used as is.
"""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from oblivio.presets import DEFAULT_RECIPE, PRETRAINED_UNLEARN

if TYPE_CHECKING:
    from oblivio.config import TrainConfig

PRETRAINED_PARAMETERS = 10_000_000
TINY_LR: float = DEFAULT_RECIPE["train"]["lr"]
TINY_STEPS: int = DEFAULT_RECIPE["train"]["max_steps"]
PRETRAINED_FULL_LR = PRETRAINED_UNLEARN["lr_full"]
PRETRAINED_LORA_LR = PRETRAINED_UNLEARN["lr_lora"]
PRETRAINED_EPOCHS = PRETRAINED_UNLEARN["epochs"]


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


def default_budget(model: Any) -> tuple[dict[str, Any], str]:
    """(``max_steps``/``epochs`` to set, the rule in words) for ``model`` (the module docstring)."""
    n = parameter_count(model)
    if n < PRETRAINED_PARAMETERS:
        return {"max_steps": TINY_STEPS}, f"a small model ({n / 1e6:.2f} M parameters < 10 M): {TINY_STEPS} steps"
    return {"epochs": PRETRAINED_EPOCHS}, (f"a pretrained model ({n / 1e6:.0f} M parameters): "
                                           f"{PRETRAINED_EPOCHS:g} epochs")


def with_lr(cfg: TrainConfig, model: Any, lora: bool) -> tuple[TrainConfig, str]:
    """``cfg`` with its rate set by :func:`default_lr` when it has none, and the rule used."""
    if cfg.lr is not None:
        return cfg, "given"
    lr, rule = default_lr(model, lora=lora)
    return dataclasses.replace(cfg, lr=lr), rule


def with_budget(cfg: TrainConfig, model: Any) -> tuple[TrainConfig, str]:
    """``cfg`` with its budget set by :func:`default_budget` when it has neither a step count
    nor an epoch count, and the rule used ("given" otherwise)."""
    if cfg.max_steps is not None or cfg.epochs is not None:
        return cfg, "given"
    budget, rule = default_budget(model)
    return dataclasses.replace(cfg, **budget), rule
