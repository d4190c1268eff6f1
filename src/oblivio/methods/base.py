"""The method contract: an unlearning method is a registered loss object, not a trainer.

A method is a dataclass (its fields are its arguments, ``unlearn.args``) registered with
``@METHODS.register("name")``, with

* ``uses: ClassVar[frozenset[str]]`` (or a property, when it depends on the arguments) —
  what it reads, a subset of :data:`USES`:
  ``"forget"`` / ``"retain"`` (which sides of each batch are built: a retain batch exists
  iff ``"retain"`` is in ``uses``) and ``"reference"`` (a frozen copy of the model before
  unlearning, or the LoRA-disabled base, is passed as ``ctx.reference``);
* ``loss(ctx, batch) -> LossParts``. ``batch`` is a dict with the ``"forget"`` and
  ``"retain"`` sub-batches it uses (``input_ids``, ``attention_mask``, ``labels`` with the
  prompt masked, ``index`` the item indices for reference caching).

Optional hooks, called by engine/unlearning.py before training: ``prepare(model)`` (e.g. RMU
freezes layers) and ``prepare_data(inputs: RunInputs)`` (the tokenizer, prompt format and
the items, e.g. to encode refusal or teacher-written answers per forget item); after training
``finish(model)``.

The one training loop (engine/loop.py) calls it; a method never steps an optimiser. A
method from outside the package: a dotted path (``--method mypkg.losses:MyLoss``) or an
entry point in group ``oblivio.methods`` (docs/extending.md).

Tensor helpers live in ``methods/ops.py`` and are imported inside ``loss`` so that listing
methods (``oblivio ls``) never imports torch. Notation: NLL = mean answer-token negative log-likelihood;
ℓ = summed answer NLL; log π(y|x) = −ℓ.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from oblivio.registry import METHODS, USES, uses_of

if TYPE_CHECKING:
    import torch


@dataclass
class LossParts:
    total: torch.Tensor
    parts: dict[str, torch.Tensor] = field(default_factory=dict)


@dataclass
class StepContext:
    model: Any
    reference: Any             # engine.reference.Reference when "reference" ∈ uses, else None
    step: int
    max_steps: int


@dataclass
class RunInputs:
    """What ``prepare_data`` receives: everything a method needs to build answers of its own
    for the forget items (``forget[i]`` is the item whose batch ``index`` is i)."""
    tokenizer: Any
    fmt: Any                   # models.format.PromptFormat
    data: Any                  # data.schema.UnlearningData
    forget: list               # the forget items, in batch-index order
    retain: list               # the retain items unlearning may see
    seed: int = 0
    run_dir: Any = None
    options: dict[str, Any] = field(default_factory=dict)   # run-level settings (e.g. the teacher)


__all__ = ["METHODS", "USES", "LossParts", "RunInputs", "StepContext", "uses_of"]
