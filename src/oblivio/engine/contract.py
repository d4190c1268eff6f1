"""The method contract: what the training loop and ``run_unlearning`` hand a method and call on it.

The engine owns the contract it calls; the methods implement it (``oblivio.methods``
re-exports every name here, and methods/base.py says how to write one). So the engine never
imports the methods package: it receives a method object, or a name through the registry
(``config.build_method``). Nothing here imports torch: listing methods stays light.

:class:`Method` declares every member. ``uses`` and ``loss`` are required; the hooks have
defaults that do nothing (PEP 544: a class that inherits a Protocol inherits its method
bodies). Every built-in method inherits :class:`MethodBase`; a class from outside that does
not is given the defaults once, by the registry when it is registered or loaded (dotted path,
entry point; ``registry.with_defaults``) or by :func:`as_method` when an object built by hand
reaches the engine. Callers then call the hooks unconditionally.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from oblivio.registry import with_defaults

if TYPE_CHECKING:
    import torch

    from oblivio.engine.loop import LoopResult


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


class Method(Protocol):
    """An unlearning method as the engine sees it (methods/base.py: how to write one)."""

    # no instance layout of its own, so that an object of a class with ``__slots__`` can take
    # the defaults in place (as_method)
    __slots__ = ()

    @property
    def uses(self) -> frozenset[str]:
        """What it reads, a non-empty subset of ``registry.USES`` (a ClassVar or a property)."""
        ...

    def loss(self, ctx: StepContext, batch: Any) -> LossParts:
        """The loss of one batch; ``total`` is minimised, ``parts`` are logged."""
        ...

    @property
    def builds_model_at_finish(self) -> bool:
        """True when the trained weights become the unlearned model only in :meth:`finish`
        (a task vector negates at the end): checkpoint evaluation and selection refuse it."""
        return False

    @property
    def runs_own_rounds(self) -> bool:
        """True when it trains in rounds of its own (:meth:`release`) instead of the one loop."""
        return False

    def prepare(self, model: Any) -> None:
        """Before training, on the model to train (e.g. RMU chooses the trained layers)."""
        return None

    def prepare_data(self, inputs: RunInputs) -> None:
        """Before training: answers of its own for the forget items (IDK's refusals, TRU's targets)."""
        return None

    def finish(self, model: Any) -> None:
        """After the last step, on the trained model (the task vector's negation)."""
        return None

    def release(self, model: Any, tokenizer: Any, data: Any, *, train_cfg: Any,
                lora: Any = None) -> tuple[Any, LoopResult]:
        """All of the training, when :attr:`runs_own_rounds` (reveal_release)."""
        # not NotImplementedError: type checkers would read the hook as abstract, i.e. required
        raise TypeError(f"method {type(self).__name__} declares runs_own_rounds but has no release()")

    def record(self) -> dict[str, Any]:
        """What it reports of its run, added to results.json ``training`` beside the loop's own
        entries (which win on a shared key): TRU's ``method_report``, reveal_release's ``release``."""
        return {}


class MethodBase(Method):
    """The default hooks of :class:`Method` as a base class (every built-in method inherits it)."""

    __slots__ = ()


def as_method(method: Any) -> Method:
    """``method`` with every hook: itself when its class inherits :class:`MethodBase`; else
    (an object built by hand, not through the registry) re-classed in place to the class the
    registry would have made of its class (``registry.with_defaults``): a subclass, so its own
    hooks and state stay and the missing hooks do nothing."""
    if isinstance(method, MethodBase):
        return method
    cls = with_defaults(type(method), MethodBase)
    try:
        object.__setattr__(method, "__class__", cls)   # object's: a frozen dataclass refuses setattr
    except TypeError as e:
        raise TypeError(f"method {type(method).__name__} cannot take the default hooks ({e}); "
                        "make its class inherit oblivio.methods.MethodBase") from None
    return method
