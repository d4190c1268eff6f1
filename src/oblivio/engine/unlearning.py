"""One unlearning run on a model: method + sampler + (optional LoRA) through the one loop.

The forget and retain items are encoded once; the sampler decides each epoch's
(forget, retain) pairs; only retain items that unlearning may see are ever
passed to it. With LoRA the reference model is the base with the adapter disabled, so
methods that need π_ref (NPO, KL) do not hold a second copy of the model.

The method is any object of the contract (engine/contract.py): its hooks are called
unconditionally, the defaults doing nothing; this module never imports the methods package.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import torch

from oblivio.data.collate import encode_items, make_collate
from oblivio.data.samplers import get_sampler
from oblivio.data.schema import UnlearningData
from oblivio.engine.contract import RunInputs, as_method
from oblivio.engine.defaults import with_budget, with_lr
from oblivio.engine.loop import LoopResult, PairSource, StepCallback, TrainConfig, evaluates_checkpoints, train
from oblivio.engine.reference import Reference
from oblivio.errors import InputError
from oblivio.models.format import PromptFormat, resolve_format
from oblivio.registry import uses_of


@dataclass
class LoraSpec:
    r: int = 0
    alpha: int = 16
    targets: Sequence[str] = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def wrap_lora(model, spec: LoraSpec):
    from peft import LoraConfig, get_peft_model
    names = {n.split(".")[-1] for n, _ in model.named_modules()}
    targets = [t for t in spec.targets if t in names]
    if not targets:
        raise InputError(f"none of the LoRA target modules {list(spec.targets)} exist in this model",
                         field="model.lora_targets")
    cfg = LoraConfig(r=spec.r, lora_alpha=spec.alpha, target_modules=targets, lora_dropout=0.0, bias="none")
    return get_peft_model(model, cfg)


def run_unlearning(model, tokenizer, data: UnlearningData, method, *, sampler: str, train_cfg: TrainConfig,
                   lora: LoraSpec | None = None, fmt: PromptFormat | None = None, run_dir=None,
                   callbacks: Sequence[StepCallback] = (), merge_lora: bool = True, resume_from=None,
                   options: dict[str, Any] | None = None) -> tuple[Any, LoopResult]:
    """Unlearn in place; returns (model, loop result). A LoRA model is merged unless asked not to.

    ``resume_from``: a checkpoint of an interrupted run of the same model, data and config;
    ``model`` is the original (pre-unlearning) model, so the reference π_ref is too.
    ``options``: run-level settings handed to a method's ``prepare_data`` (e.g. TRU's teacher).
    ``method``: an object of the contract (engine/contract.py); one built by hand whose class
    does not inherit MethodBase gets the default hooks here (``as_method``, in place).
    """
    method = as_method(method)
    fmt = resolve_format(tokenizer, fmt)
    train_cfg, lr_rule = with_lr(train_cfg, model, lora is not None)
    train_cfg, budget_rule = with_budget(train_cfg, model)
    if method.builds_model_at_finish and any(evaluates_checkpoints(c) for c in callbacks):
        # the weights are not the unlearned model until finish() (a task vector negates at the
        # end): checkpoints would evaluate, and selection restore, an unfinished model
        raise InputError(f"method {type(method).__name__} builds its model after the last step; checkpoint "
                         "evaluation and selection do not apply to it (set control.eval_every=0, no "
                         "control.eval_steps)",
                         field="control.eval_every")
    if method.runs_own_rounds:          # reveal_release: rounds of its own, no forget rows trained
        model, res = method.release(model, tokenizer, data, train_cfg=train_cfg, lora=lora)
        res.lr, res.lr_rule, res.budget_rule = train_cfg.lr, lr_rule, budget_rule
        return model, res
    forget_items = data.forget
    retain_items = data.unlearning_retain()
    uses = uses_of(method)
    if "retain" in uses and not retain_items:
        raise InputError(f"method {type(method).__name__} needs retain items and the data has none",
                         file=data.name, field="set")
    smp = get_sampler(sampler)
    # validate the sampler against the data now (clear error before any training)
    smp.epoch_pairs(forget_items, retain_items, epoch=0, seed=train_cfg.seed)
    f_enc = encode_items(tokenizer, fmt, forget_items)
    r_enc = encode_items(tokenizer, fmt, retain_items)
    source = PairSource(lambda e: smp.epoch_pairs(forget_items, retain_items, epoch=e, seed=train_cfg.seed))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    collate_fn = make_collate(f_enc, r_enc, pad, use_forget="forget" in uses, use_retain="retain" in uses)
    use_lora = lora is not None and lora.r > 0
    if lora is not None and use_lora:
        # the adapter's random init draws from the global RNG: seed it, so that a LoRA run is a
        # function of its seed and not of what the process did before (two runs in one process)
        torch.manual_seed(train_cfg.seed)
        model = wrap_lora(model, lora)
    reference = None
    if "reference" in uses:
        reference = Reference(model, "lora" if use_lora else "copy")
    for p in model.parameters():
        if not use_lora:
            p.requires_grad_(True)
    method.prepare(model)               # e.g. RMU trains a few layers, a task vector keeps θ₀
    # e.g. IDK's refusals, TRU's teacher targets per forget item
    method.prepare_data(RunInputs(tokenizer=tokenizer, fmt=fmt, data=data, forget=list(forget_items),
                                  retain=list(retain_items), seed=train_cfg.seed, run_dir=run_dir,
                                  options=dict(options or {})))
    res = train(model, method, source, collate_fn, train_cfg, reference=reference, run_dir=run_dir,
                callbacks=callbacks, desc=f"unlearn {type(method).__name__}", tokenizer=tokenizer,
                resume_from=resume_from)
    model = res.model
    res.lr, res.lr_rule, res.budget_rule = train_cfg.lr, lr_rule, budget_rule
    method.finish(model)                # e.g. the task vector's negation θ₀ − λ·(θ − θ₀)
    if use_lora and merge_lora:
        model = model.merge_and_unload()
    return model, res
