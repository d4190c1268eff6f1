"""Reveal and Release (Xie, Teng, Ke, Wen, Wang, Findings of EMNLP 2025, arXiv 2509.14624):
unlearning from self-generated data, no forget rows needed.

The forget set is *revealed* by the model itself — instructions about the task found by a
NeuralUCB search (``budget`` queries) and scored by relevance and Vendi diversity — and
*released* in ``rounds`` of forget LoRAs trained with an O-LoRA term against a retain LoRA
and negated (``oblivio.reveal``). Forget rows in the data are never trained on: they serve
only evaluation. Tasks: ``entity`` (``target``, default the data's first forget target),
``attribute`` (``relation`` of every person; embedded world), ``capability`` (the world's
sums). Outside the world an entity's relevance uses ``keywords`` or a ``scorer`` callable by
dotted path; without either, the types of the target's attributes learned from the other
entities' rows (:func:`oblivio.reveal.tasks.data_entity_task`; never the target's own answers). The loss of a round
is a registered method, ``inner`` (default ``task_vector``: the paper's PEM negation; ``ga``,
``npo``: ablations). ``unlearn.train.max_steps`` is the total over rounds. The search's
defaults are the reveal step's own (config ``reveal``: one source, so ``oblivio reveal`` and this
method search alike); the release's are ours, set on the tiny world, except ``lam_neg`` = 5: a PEM
fine-tuned on text the model already reproduces (NLL about 0.05-0.1) is small, and negated once
(λ_neg = 1, the paper's) it left the embedded world's forget accuracy at 1.0; 5 was chosen on the
``forget_val`` facts of validation worlds 101 and 102 at the default rate and budget
(docs/results/reveal-release.md, "A re-measurement").
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from oblivio.config import RevealConfig
from oblivio.methods.base import METHODS, LossParts, MethodBase, StepContext
from oblivio.progress import say

_SEARCH = RevealConfig()      # the reveal step's defaults


@METHODS.register("reveal_release")
@dataclass
class RevealRelease(MethodBase):
    """Reveal the task with a bandit instruction search, release it with negated LoRAs."""

    task: str = _SEARCH.task
    target: str = ""
    relation: str = _SEARCH.relation
    keywords: list[str] = field(default_factory=lambda: list(_SEARCH.keywords))
    scorer: str = ""
    strategy: str = _SEARCH.strategy
    budget: int = _SEARCH.budget
    top_k: int = _SEARCH.top_k
    samples: int = _SEARCH.samples
    threshold: float = _SEARCH.threshold
    nu: float = _SEARCH.nu
    rounds: int = 3
    rank: int = 8
    ortho: float = 0.1
    lam_neg: float = 5.0          # chosen on validation worlds 101, 102 (module docstring)
    inner: str = "task_vector"
    stop_relevance: float = 0.05
    tau: float = 0.8
    add_retain: bool = False
    retain_steps: int = 30

    uses: ClassVar[frozenset[str]] = frozenset({"retain"})
    runs_own_rounds: ClassVar[bool] = True
    rounds_log: list[dict[str, Any]] = field(default_factory=list, init=False, repr=False)

    def loss(self, ctx: StepContext, batch: Any) -> LossParts:
        raise RuntimeError("reveal_release trains in rounds (release()); it has no single loss")

    def record(self) -> dict[str, Any]:
        return {"release": self.rounds_log} if self.rounds_log else {}      # one record per round

    def release(self, model: Any, tokenizer: Any, data: Any, *, train_cfg: Any, lora: Any = None,
                log: Any = say) -> tuple[Any, Any]:
        """Called by engine/unlearning.py instead of one training loop (``runs_own_rounds``)."""
        from oblivio.reveal.release import ReleaseConfig, release
        from oblivio.reveal.tasks import data_entity_task, user_entity_task, world_task
        target = self.target or (data.targets[0] if data.targets else "")
        if data.source is not None and "n_people" in data.source:
            task = world_task(self.task, data.source, target=target or None, relation=self.relation)
        elif self.keywords or self.scorer:
            task = user_entity_task(target, keywords=self.keywords, scorer=self.scorer or None)
        else:
            task = data_entity_task(data, target)
        cfg = ReleaseConfig(rounds=self.rounds, rank=lora.r if lora else self.rank, ortho=self.ortho,
                            lam_neg=self.lam_neg, inner=self.inner, stop_relevance=self.stop_relevance,
                            tau=self.tau, add_retain=self.add_retain, retain_steps=self.retain_steps,
                            **({"targets": tuple(lora.targets), "alpha": lora.alpha} if lora else {}))
        kw = dict(strategy=self.strategy, budget=self.budget, top_k=self.top_k, n=self.samples,
                  threshold=self.threshold, nu=self.nu, seed=train_cfg.seed)
        progress = getattr(train_cfg, "progress", True)
        model, res, rounds = release(model, tokenizer, task, data.unlearning_retain(), cfg=cfg,
                                     train_cfg=train_cfg, reveal_kw=kw,
                                     log=log if progress else (lambda _m: None))
        self.rounds_log = rounds
        return model, res
