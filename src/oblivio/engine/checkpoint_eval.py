"""Checkpoint evaluation during unlearning: curves, early stopping, best-checkpoint selection.

Wang et al. 2024/2025 (arXiv 2406.09179) control excessive unlearning by
evaluating checkpoints and selecting one by a rule. :class:`CheckpointEval` is a callback
for ``engine.loop.train(callbacks=...)`` that declares ``evaluates_checkpoints`` (so
run_unlearning refuses a method that builds its model only after the last step):

* every ``rules.eval_every`` optimiser steps, and at each step of ``rules.eval_steps``, it runs
  a *fast* evaluation of the **validation portion** (:mod:`oblivio.roles`) — a fixed subset of
  ``rules.eval_items`` items per set (``EvalConfig.max_items_per_role``, same items every time;
  None: every item) of ``forget_val`` and the held-out
  ``*_val`` retain sets: utility is measured on rows unlearning never trains on, since the
  retain rows it trains on flatter it, and never on a test row, which the reported numbers
  use (every evaluation runs inside :func:`oblivio.roles.selecting`, which refuses one). A data
  set without held-out validation rows falls back to the retain sets unlearning sees, and says
  so (``utility_roles_note`` in the summary). Only cheap metrics: the utility metric (default
  ``model_utility``), the forget metric (default ``accuracy``) and ``rules.metrics`` (what a
  tuning search reads, e.g. ``para_accuracy``) — and records a curve row: the step (the
  weights after that many optimiser steps; 0 = the original), the utility, the forget metric,
  ``per_role`` (set → metric → value) and ``model`` (model-level metric → value). The rows are
  the run's ``curves`` in results.json, so a grid cell's checkpoints can be read back
  (bench/zoo.py's tuning search);
* early-stopping rules (each optional): stop when utility < ``stop_utility_tau`` × the
  original model's utility on the same subset; stop when the forget metric reaches the gold
  model's level (forget metric ≤ gold's + ``gold_margin``; needs a gold model);
* selection rule ``"last_above_tau"`` (ours): the last evaluated checkpoint whose
  utility ≥ ``select_tau`` × original — step 0 (the original model) counts, so if every
  checkpoint falls below, the selection is honest and says so. The selected weights are
  kept in memory (only the *trainable* tensors: the LoRA adapter, or the whole model for
  full fine-tuning) and restored by :meth:`restore`. ``"final"``: record only, keep the
  last weights;
* it measures its own wall time; ``eval_share`` = its seconds / the run's wall seconds.

Use: ``cb.baseline(model)`` before training (evaluates the original on the subset, and the
gold model if given), pass ``cb`` in ``callbacks``, then ``cb.finish(model, steps)`` (also
evaluates the final weights if the last step was not a checkpoint) and ``cb.restore(model)``.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

from oblivio.config import ControlConfig
from oblivio.data.schema import UnlearningData
from oblivio.eval.evaluate import EvalConfig, EvalReport

SELECT_RULES = ("last_above_tau", "final")
SELECTION = "checkpoint evaluation (early stopping and checkpoint selection)"


def _value(rep: EvalReport, metric: str, role: str | None = None) -> float | None:
    """``metric`` (or ``role/metric``) in ``rep``'s portion: ``forget`` reads ``forget_val``."""
    from oblivio.engine.calibrate import portion_set
    if "/" in metric:
        role, metric = metric.split("/", 1)
    return rep.value(metric, None if role is None else portion_set(rep, role))


@dataclass
class CheckpointEval:
    evaluates_checkpoints: ClassVar[bool] = True     # engine.loop.StepCallback

    tokenizer: Any
    data: UnlearningData
    rules: ControlConfig                      # when to evaluate, stop and select (config.control)
    eval_cfg: EvalConfig | None = None        # batch size / max_new_tokens; metrics are set here
    roles: tuple[str, ...] | None = None      # evaluated validation sets; None: forget_val + the retain ones
    lora: bool = False                        # the run trains a LoRA adapter (step 0 = adapter zeroed)
    log: Any = None

    curves: list[dict[str, Any]] = field(default_factory=list)
    select_tau: float = field(init=False, default=0.9)
    original_utility: float | None = None
    gold_forget: float | None = None
    selected_step: int | None = None
    stop_reason: str | None = None
    seconds: float = 0.0
    utility_roles_note: str | None = None     # which validation rows utility is measured on
    _best_state: dict[str, Any] | None = field(default=None, repr=False)
    _last_step: int = -1

    def __post_init__(self) -> None:
        r = self.rules
        if not r.evaluates():
            raise ValueError("eval_every must be ≥ 1, or eval_steps name a step")
        if r.select not in SELECT_RULES:
            raise ValueError(f"select must be one of {SELECT_RULES}, got {r.select!r}")
        # the rule's default is resolved here, not written back into the user's config
        self.select_tau = r.select_tau if r.select_tau is not None else (
            r.stop_utility_tau if r.stop_utility_tau is not None else 0.9)
        base = self.eval_cfg or EvalConfig()
        names = [self.rules.utility_metric.split("/", 1)[-1], self.rules.forget_metric.split("/", 1)[-1],
                 *self.rules.metrics]
        self._cfg = EvalConfig(batch_size=base.batch_size, max_new_tokens=base.max_new_tokens,
                               gen_margin=base.gen_margin,
                               metrics=list(dict.fromkeys(names)), max_items_per_role=self.rules.eval_items,
                               seed=base.seed, bootstrap=0)   # selection reads values only: no intervals
        if self.data is not None:   # the fixed subset's sets (holdout costs time, adds nothing here)
            from oblivio.data.portions import portioned
            from oblivio.roles import eval_name
            data = portioned(self.data)
            keep = set(self.roles) if self.roles else {"forget_val", *self.utility_roles(data)}
            if self.log and not self.roles:
                self.log(f"checkpoint evaluation: {self.utility_roles_note}")
            if not any(it.role == "forget" and it.portion == "val" for it in data.items):
                from oblivio.errors import InputError
                raise InputError(f"checkpoint evaluation reads the validation portion, and no forget fact of "
                                 f"'{data.name}' is in it ({len({it.fact or it.id for it in data.forget})} forget "
                                 "fact(s)): give more forget facts, or mark some forget rows \"set\": "
                                 "\"forget_val\"", file=data.name, field="control.eval_every")
            self.data = UnlearningData([it for it in data.items if eval_name(it.role, it.portion) in keep],
                                       name=data.name, targets=data.targets, neighbour_roles=data.neighbour_roles)

    def utility_roles(self, data: UnlearningData) -> list[str]:
        """The validation sets utility is read on (:func:`oblivio.roles.selection_roles`): the
        held-out ``*_val`` retain sets; without any, the retain roles unlearning sees, with the
        reason in ``utility_roles_note``."""
        from oblivio.data.portions import set_names
        from oblivio.roles import base_role, selection_roles, visible_fallback
        sel = [r for r in selection_roles(set_names(data)) if base_role(r) not in ("forget", "holdout")]
        if visible_fallback(sel):
            self.utility_roles_note = ("no held-out validation rows (*_val) in the data: utility measured on the "
                                       "retain rows unlearning trains on (flattering)")
        else:
            self.utility_roles_note = ("utility on held-out validation rows never used by unlearning (test rows are "
                                       f"left for the reported numbers): {', '.join(sel)}")
        return sel

    # --- evaluation --------------------------------------------------------------------
    def _evaluate(self, model, name: str, tokenizer=None) -> EvalReport:
        from oblivio.eval.evaluate import evaluate_model
        from oblivio.roles import selecting
        t0 = time.perf_counter()
        with selecting(SELECTION):
            rep = evaluate_model(model, tokenizer or self.tokenizer, self.data, cfg=self._cfg, name=name,
                                 portion="val")
        self.seconds += time.perf_counter() - t0
        return rep

    def baseline(self, model, gold_model=None, gold_tokenizer=None) -> None:
        """Evaluate the original (step 0) and, for ``stop_at_gold``, the gold model."""
        rep = self._evaluate(model, "step-0")
        self.original_utility = _value(rep, self.rules.utility_metric)
        self._record(0, rep, model)
        if gold_model is not None:
            g = self._evaluate(gold_model, "gold (validation)", gold_tokenizer)
            self.gold_forget = _value(g, self.rules.forget_metric, "forget")

    def _utility_ok(self, u: float | None, tau: float | None) -> bool:
        if tau is None or u is None or self.original_utility is None:
            return True
        return u >= tau * self.original_utility

    def _record(self, step: int, rep: EvalReport, model) -> dict[str, Any]:
        u = _value(rep, self.rules.utility_metric)
        f = _value(rep, self.rules.forget_metric, "forget")
        row: dict[str, Any] = {"step": step, "utility": u, "forget_" + self.rules.forget_metric.split("/")[-1]: f,
                               "per_role": {role: {m: r.value for m, r in ms.items()}
                                            for role, ms in rep.sets.items()},
                               "model": {m: r.value for m, r in rep.model.items()}}
        self.curves.append(row)
        self._last_step = step
        if self.rules.select == "last_above_tau" and self._utility_ok(u, self.select_tau):
            self.selected_step = step
            t0 = time.perf_counter()
            if step == 0 and self.lora:
                self._best_state = {}           # the original = the adapter's delta set to zero
            else:   # step 0 of full fine-tuning: every weight; later: the trained ones
                self._best_state = {n: p.detach().to("cpu", copy=True)
                                    for n, p in model.named_parameters() if p.requires_grad or step == 0}
            self.seconds += time.perf_counter() - t0
        return row

    def __call__(self, step: int, model) -> str | None:
        if not self.rules.is_checkpoint(step):
            return None
        rep = self._evaluate(model, f"step-{step}")
        row = self._record(step, rep, model)
        u, f = row["utility"], row["forget_" + self.rules.forget_metric.split("/")[-1]]
        if self.log:
            self.log(f"checkpoint step {step}: utility {u if u is None else round(u, 4)}, forget "
                     f"{self.rules.forget_metric} {f if f is None else round(f, 4)}")
        if self.rules.stop_utility_tau is not None and not self._utility_ok(u, self.rules.stop_utility_tau):
            self.stop_reason = (f"early stop: utility {u:.4f} < {self.rules.stop_utility_tau:g} × original "
                                f"{self.original_utility:.4f} at step {step}")
            return self.stop_reason
        if self.rules.stop_at_gold and self.gold_forget is not None and f is not None \
                and f <= self.gold_forget + self.rules.gold_margin:
            self.stop_reason = (f"early stop: forget {self.rules.forget_metric} {f:.4f} ≤ gold's "
                                f"{self.gold_forget:.4f} + {self.rules.gold_margin:g} at step {step}")
            return self.stop_reason
        return None

    def finish(self, model, steps: int) -> int | None:
        """Evaluate the final weights unless step ``steps`` was just evaluated; return the selection."""
        if steps != self._last_step:
            self._record(steps, self._evaluate(model, f"step-{steps}"), model)
        if self.rules.select == "final":
            self.selected_step = steps
        return self.selected_step

    def restore(self, model) -> bool:
        """Load the selected checkpoint's weights into ``model`` if they are not the last ones."""
        if self.rules.select != "last_above_tau" or self.selected_step is None or self._best_state is None \
                or self.selected_step == self._last_step:
            return False
        import torch
        params = dict(model.named_parameters())
        with torch.no_grad():
            if not self._best_state:                # LoRA, step 0: zero every adapter delta
                from oblivio.engine.mixing import mix_lora
                mix_lora(model, 1.0, inplace=True)
                return True
            missing = [n for n in self._best_state if n not in params]
            if missing:
                raise RuntimeError(f"cannot restore checkpoint of step {self.selected_step}: "
                                   f"parameters {missing[:3]} not in the model")
            for n, v in self._best_state.items():
                params[n].copy_(v.to(params[n].device))
        return True

    def summary(self, run_seconds: float | None = None) -> dict[str, Any]:
        share = None if not run_seconds else self.seconds / run_seconds
        return {"curves": self.curves, "selected_step": self.selected_step,
                "eval_share": share, "eval_seconds": round(self.seconds, 3),
                "control": {**dataclasses.asdict(self.rules), "select_tau": self.select_tau,
                            "original_utility": self.original_utility, "gold_forget": self.gold_forget,
                            "stop_reason": self.stop_reason, "utility_roles": self.utility_roles_note}}
