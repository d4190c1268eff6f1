"""The unlearning learning rate by model scale (engine/defaults.py): a rate left to the model is
1e-3 for a small model, 1e-5 (full) or 3e-5 (LoRA) for a pretrained-size one; a given rate is
used as is; the rate and its rule reach results.json."""
from __future__ import annotations

import pytest

from oblivio.config import TrainConfig, load_config
from oblivio.engine.defaults import (
    PRETRAINED_FULL_LR,
    PRETRAINED_LORA_LR,
    PRETRAINED_PARAMETERS,
    TINY_LR,
    default_lr,
    parameter_count,
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
    assert default_lr(small, lora=False)[0] == default_lr(small, lora=True)[0] == TINY_LR == 1e-3
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


def test_config_lets_only_unlearning_leave_the_rate_to_the_model():
    assert load_config().unlearn.train.lr is None
    assert load_config(overrides={"unlearn": {"train": {"lr": 2e-5}}}).unlearn.train.lr == 2e-5
    with pytest.raises(InputError, match="learn.lr"):
        load_config(overrides={"learn": {"lr": None}})
    with pytest.raises(InputError, match="unlearn.train.lr"):
        load_config(overrides={"unlearn": {"train": {"lr": 0}}})


def test_run_unlearning_uses_and_reports_the_scale_rate(tiny_world, fresh_base):
    from oblivio.config import build_method
    from oblivio.engine.unlearning import run_unlearning
    data, _ = tiny_world
    model, tok = fresh_base
    _, res = run_unlearning(model, tok, data, build_method("ga", {}), sampler="one_to_one_random",
                            train_cfg=TrainConfig(lr=None, max_steps=1, batch_size=4, progress=False))
    assert res.lr == TINY_LR and "small model" in res.lr_rule and res.history[0]["lr"] <= TINY_LR


def test_the_loop_refuses_a_missing_rate():
    from oblivio.engine.loop import _rate
    with pytest.raises(ValueError, match="needs a learning rate"):
        _rate(TrainConfig(lr=None))
    assert _rate(TrainConfig(lr=2e-5)) == 2e-5
