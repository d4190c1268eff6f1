"""The unlearning learning rate and budget by model scale (engine/defaults.py): a rate left to
the model is the default recipe's 5e-4 for a small model, 1e-5 (full) or 3e-5 (LoRA) for a
pretrained-size one; a budget left to it is the recipe's 240 steps for a small model, 5 epochs
for a pretrained one; a given rate or budget is used as is; both rules reach results.json."""
from __future__ import annotations

import pytest

from oblivio.config import TrainConfig, load_config
from oblivio.engine.defaults import (
    PRETRAINED_EPOCHS,
    PRETRAINED_FULL_LR,
    PRETRAINED_LORA_LR,
    PRETRAINED_PARAMETERS,
    TINY_LR,
    TINY_STEPS,
    default_budget,
    default_lr,
    parameter_count,
    with_budget,
    with_lr,
)
from oblivio.errors import InputError


def _llama(vocab: int, hidden: int):
    from oblivio.models.tiny import tiny_llama
    return tiny_llama(vocab, num_hidden_layers=1, hidden_size=hidden, intermediate_size=2 * hidden,
                      num_attention_heads=4, num_key_value_heads=4)


def test_rate_by_scale_at_the_boundary():
    small = _llama(1000, 64)
    assert parameter_count(small) < PRETRAINED_PARAMETERS
    assert default_lr(small, lora=False)[0] == default_lr(small, lora=True)[0] == TINY_LR == 5e-4
    big = _llama(20_000, 512)     # tied embeddings are one tensor: counted once
    n = parameter_count(big)
    assert n >= PRETRAINED_PARAMETERS and n == sum(p.numel() for p in big.parameters())
    assert default_lr(big, lora=False)[0] == PRETRAINED_FULL_LR == 1e-5
    lr, rule = default_lr(big, lora=True)
    assert lr == PRETRAINED_LORA_LR == 3e-5 and "LoRA" in rule


def test_lora_adapters_do_not_count_and_a_given_rate_is_kept():
    from peft import LoraConfig, get_peft_model
    small = _llama(1000, 64)
    n = parameter_count(small)
    wrapped = get_peft_model(small, LoraConfig(r=8, target_modules=["q_proj", "v_proj"]))
    assert parameter_count(wrapped) == n
    cfg, rule = with_lr(TrainConfig(lr=None), small, lora=False)
    assert cfg.lr == TINY_LR and "small model" in rule
    cfg, rule = with_lr(TrainConfig(lr=3e-4), _llama(20_000, 512), lora=False)
    assert cfg.lr == 3e-4 and rule == "given"


def test_budget_by_scale_and_a_given_budget_is_kept():
    small, big = _llama(1000, 64), _llama(20_000, 512)
    assert default_budget(small)[0] == {"max_steps": TINY_STEPS} and TINY_STEPS == 240
    assert default_budget(big)[0] == {"epochs": PRETRAINED_EPOCHS} and PRETRAINED_EPOCHS == 5
    cfg, rule = with_budget(TrainConfig(lr=None, max_steps=None, epochs=None), small)
    assert (cfg.max_steps, cfg.epochs) == (240, None) and "240 steps" in rule
    cfg, rule = with_budget(TrainConfig(lr=None, max_steps=None, epochs=None), big)
    assert (cfg.max_steps, cfg.epochs) == (None, 5.0) and "5 epochs" in rule
    # a given epoch count is not replaced by the small model's step count, nor given steps by epochs
    cfg, rule = with_budget(TrainConfig(max_steps=None, epochs=2.0), small)
    assert (cfg.max_steps, cfg.epochs, rule) == (None, 2.0, "given")
    cfg, rule = with_budget(TrainConfig(max_steps=7, epochs=None), big)
    assert (cfg.max_steps, cfg.epochs, rule) == (7, None, "given")


def test_a_real_models_config_keeps_its_scale_rules():
    """The default recipe's 5e-4 and 240 steps are the tiny scale's: a real model's config (the
    SmolLM2 demo, or `oblivio unlearn --model smollm2-135m-instruct`) leaves rate and budget to the
    rule, which gives a 135 M model 1e-5 (3e-5 through LoRA) and 5 epochs, never 5e-4."""
    from oblivio.presets import REAL_DEMOS
    for cfg in (load_config(base=REAL_DEMOS["smollm2"]),
                load_config(overrides={"model": {"path": "smollm2-135m-instruct"}})):
        tc = cfg.unlearn.train
        assert (tc.max_steps, tc.epochs) == (None, None)
        assert tc.lr is None or tc.lr == PRETRAINED_LORA_LR
    big = _llama(20_000, 512)
    assert with_lr(TrainConfig(lr=None), big, lora=False)[0].lr == 1e-5
    assert with_budget(load_config().unlearn.train, big)[0].epochs == 5.0


def test_config_lets_only_unlearning_leave_the_rate_to_the_model():
    assert load_config().unlearn.train.lr is None
    assert load_config(overrides={"unlearn": {"train": {"lr": 2e-5}}}).unlearn.train.lr == 2e-5
    with pytest.raises(InputError, match="learn.lr"):
        load_config(overrides={"learn": {"lr": None}})
    with pytest.raises(InputError, match="unlearn.train.lr"):
        load_config(overrides={"unlearn": {"train": {"lr": 0}}})
    # nor the budget: learning needs epochs (or steps)
    with pytest.raises(InputError, match="learn.epochs"):
        load_config(overrides={"learn": {"epochs": None}})
    assert load_config(overrides={"learn": {"epochs": None, "max_steps": 3}}).learn.max_steps == 3


def test_run_unlearning_uses_and_reports_the_scale_rate(tiny_world, fresh_base):
    from oblivio.config import build_method
    from oblivio.engine.unlearning import run_unlearning
    data, _ = tiny_world
    model, tok = fresh_base
    _, res = run_unlearning(model, tok, data, build_method("ga", {}), sampler="one_to_one_random",
                            train_cfg=TrainConfig(lr=None, max_steps=1, batch_size=4, progress=False))
    assert res.lr == TINY_LR and "small model" in res.lr_rule and res.history[0]["lr"] <= TINY_LR
    assert res.steps == 1 and res.budget_rule == "given"


def test_the_loop_refuses_a_missing_rate():
    from oblivio.engine.loop import _rate
    with pytest.raises(ValueError, match="needs a learning rate"):
        _rate(TrainConfig(lr=None))
    assert _rate(TrainConfig(lr=2e-5)) == 2e-5
    from oblivio.engine.loop import total_steps
    with pytest.raises(ValueError, match="needs a budget"):
        total_steps(TrainConfig(max_steps=None, epochs=None), 10)
    assert total_steps(TrainConfig(max_steps=None, epochs=1.5), 10) == 15


def test_run_unlearning_takes_the_scale_budget(tiny_world, fresh_base):
    """A budget left to the model: the tiny model runs the recipe's 240 steps (not 5 epochs of
    pairs, nor one step), and results say by which rule."""
    from oblivio.config import build_method
    from oblivio.engine.unlearning import run_unlearning
    data, _ = tiny_world
    model, tok = fresh_base
    _, res = run_unlearning(model, tok, data, build_method("graddiff", {}), sampler="one_to_one_random",
                            train_cfg=TrainConfig(lr=1e-4, max_steps=None, epochs=None, batch_size=4,
                                                  progress=False))
    assert res.steps == TINY_STEPS == 240 and "240 steps" in res.budget_rule and res.lr_rule == "given"
