"""The method contract: an unlearning method is a registered loss object, not a trainer.

A method is a dataclass (its fields are its arguments, ``unlearn.args``) that inherits
:class:`MethodBase`, registered with ``@METHODS.register("name")``, with

* ``uses: ClassVar[frozenset[str]]`` (or a property, when it depends on the arguments) —
  what it reads, a subset of :data:`USES`:
  ``"forget"`` / ``"retain"`` (which sides of each batch are built: a retain batch exists
  iff ``"retain"`` is in ``uses``) and ``"reference"`` (a frozen copy of the model before
  unlearning, or the LoRA-disabled base, is passed as ``ctx.reference``);
* ``loss(ctx, batch) -> LossParts``. ``batch`` is a dict with the ``"forget"`` and
  ``"retain"`` sub-batches it uses (``input_ids``, ``attention_mask``, ``labels`` with the
  prompt masked, ``index`` the item indices for reference caching).

Optional hooks, with defaults that do nothing: before training ``prepare(model)`` (e.g. RMU
freezes layers) and ``prepare_data(inputs: RunInputs)`` (the tokenizer, prompt format and
the items, e.g. to encode refusal or teacher-written answers per forget item); after training
``finish(model)``; ``record()``, what the method reports into results.json ``training``
(TRU's teacher counts). Two declared flags, False by default: ``builds_model_at_finish``
(the weights are the unlearned model only after ``finish``, so checkpoint evaluation refuses
the method) and ``runs_own_rounds`` (it trains in ``release(...)`` instead of the one loop).

The contract (:class:`Method`, :class:`MethodBase`, :class:`LossParts`, :class:`StepContext`,
:class:`RunInputs`) is defined in engine/contract.py, so that the engine never imports this
package, and re-exported here. A method inherits :class:`MethodBase` (every built-in does);
one from outside that does not is given the default hooks by the registry
(``registry.with_defaults``), or by ``engine.contract.as_method`` when built by hand.

The one training loop (engine/loop.py) calls it; a method never steps an optimiser. A
method from outside the package: a dotted path (``--method mypkg.losses:MyLoss``) or an
entry point in group ``oblivio.methods`` (docs/extending.md).

Tensor helpers live in ``methods/ops.py`` and are imported inside ``loss`` so that listing
methods (``oblivio ls``) never imports torch. Notation: NLL = mean answer-token negative log-likelihood;
ℓ = summed answer NLL; log π(y|x) = −ℓ.
"""
from __future__ import annotations

from oblivio.engine.contract import LossParts, Method, MethodBase, RunInputs, StepContext, as_method
from oblivio.registry import METHODS, USES, uses_of

__all__ = ["METHODS", "USES", "LossParts", "Method", "MethodBase", "RunInputs", "StepContext", "as_method",
           "uses_of"]
