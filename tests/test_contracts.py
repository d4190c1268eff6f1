"""Contracts over the registries: every method with every sampler, with the controls, and in a
two-process `accelerate launch` (issue #14 "Must hold"). Kept cheap: one or two optimiser steps
on the tiny world; what each method computes is tested by hand in test_zoo.py/test_losses_hand.py.

A new method file is picked up by these tests without an edit here (the registry is the list).
"""
from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
import torch

import oblivio.methods  # noqa: F401
from oblivio.config import build_method
from oblivio.registry import METHODS, SAMPLERS

# finetune learns (it is the base model's recipe), every other method unlearns
UNLEARNING = [n for n in METHODS.names() if n != "finetune"]


def _forget_logprob(model, tok, data) -> float:
    from oblivio.data.collate import encode_items, make_collate
    from oblivio.methods.ops import mean_nll
    from oblivio.models.format import PromptFormat
    enc = encode_items(tok, PromptFormat(), data.forget)
    batch = make_collate(enc, [], tok.pad_token_id, use_forget=True, use_retain=False)(
        [(i, -1) for i in range(len(enc))])
    with torch.no_grad():
        return -float(mean_nll(model, batch["forget"]))


# the default suite pairs every method with one sampler in rotation (so every sampler meets
# several methods of each kind); the full cross product is the `slow` test below
_SAMPLERS = SAMPLERS.names()
ROTATION = [(n, _SAMPLERS[i % len(_SAMPLERS)]) for i, n in enumerate(UNLEARNING)]
CROSS = [pytest.param(n, s, marks=pytest.mark.slow) for n in UNLEARNING for s in _SAMPLERS
         if (n, s) not in ROTATION]


def test_rotation_covers_every_method_and_sampler():
    assert {n for n, _ in ROTATION} == set(UNLEARNING) and {s for _, s in ROTATION} == set(_SAMPLERS)


@pytest.mark.parametrize(("name", "sampler"), [*ROTATION, *CROSS])
def test_every_method_runs_with_every_sampler(name, sampler, tiny_world, fresh_base):
    from oblivio.engine.loop import TrainConfig
    from oblivio.engine.unlearning import run_unlearning
    data, _ = tiny_world
    model, tok = fresh_base
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model, res = run_unlearning(model, tok, data, build_method(name, {}), sampler=sampler,
                                train_cfg=TrainConfig(lr=1e-3, max_steps=1, batch_size=4, progress=False))
    assert res.steps == 1 and all(math.isfinite(h["loss"]) for h in res.history)
    after = model.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)   # the step changed the model


@pytest.mark.parametrize("name", ["ga", "graddiff", "kl"])
def test_capping_applies_to_the_ga_family(name, tiny_world, fresh_base):
    """With capping at a forget NLL below the model's, the capped forget term has no gradient:
    the step changes nothing (without capping, the same step changes the model)."""
    from oblivio.engine.loop import TrainConfig
    from oblivio.engine.unlearning import run_unlearning
    data, _ = tiny_world
    model, tok = fresh_base
    before = {k: v.clone() for k, v in model.state_dict().items()}
    args = {"cap_delta": 1e-6} | ({"alpha": 0.0} if name != "ga" else {})
    model, _ = run_unlearning(model, tok, data, build_method(name, args), sampler="one_to_one_random",
                              train_cfg=TrainConfig(lr=1e-2, max_steps=1, batch_size=4, progress=False))
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


@pytest.mark.parametrize("name", UNLEARNING)
def test_every_method_with_checkpoint_selection_and_calibration(name, tiny_world, tiny_cfg):
    """Checkpoint evaluation + selection, then calibration by mixing to τ = 0.9, for every method."""
    from oblivio import api
    from oblivio.config import load_config, to_dict
    from oblivio.engine.calibrate import calibrate
    from oblivio.eval.evaluate import EvalConfig
    from oblivio.models.io import load_model
    data, wm = tiny_world
    model, tok = load_model(wm.base_dir)
    cfg = load_config(overrides={"unlearn": {"method": name, "train": {"max_steps": 2, "batch_size": 4}},
                                 "control": {"eval_every": 1, "eval_items": 2, "stop_utility_tau": 0.2,
                                             "select": "last_above_tau", "select_tau": 0.5}},
                      base=to_dict(tiny_cfg))
    if build_method(name, {}).builds_model_at_finish:
        from oblivio.errors import InputError
        with pytest.raises(InputError, match="control.eval_every"):   # refused, not silently wrong
            api.unlearn(model, data, tokenizer=tok, config=cfg, evaluate_models=False, progress=False,
                        log=lambda m: None)
        cfg = load_config(overrides={"control": {"eval_every": 0}}, base=to_dict(cfg))
        model, tok = load_model(wm.base_dir)
    res = api.unlearn(model, data, tokenizer=tok, config=cfg, evaluate_models=False, progress=False,
                      log=lambda m: None)
    if cfg.control.eval_every:
        assert res.control is not None and res.control["selected_step"] in range(0, res.training["steps"] + 1)
    ref, _ = load_model(wm.base_dir)
    # the kept weights are an unlearned model (or the original when nothing qualified), never
    # an intermediate that the method had not finished (a task vector's fine-tuned θ)
    # RMU steers activations and reveal_release unlearns self-generated text, not these rows:
    # two steps of either need not lower these rows' answer likelihood
    if name not in ("rmu", "reveal_release"):
        assert _forget_logprob(res.model, tok, data) <= _forget_logprob(ref, tok, data) + 1e-6
    # a small slice of the world keeps the bisection cheap: forget + general, tol 0.2
    from oblivio.data.schema import UnlearningData
    part = UnlearningData([i for i in data.items if i.role in ("forget", "general")][:40], name="slice",
                          targets=data.targets)
    ecfg = EvalConfig(metrics=["accuracy"], batch_size=64, max_new_tokens=12)
    cal = calibrate(ref, res.model, tok, part, tau=0.9, utility_metric="general/accuracy",
                    eval_cfg=ecfg, tol=0.2)
    assert 0.0 <= cal.alpha <= 1.0 and cal.utility >= cal.target - 1e-9


MP_SCRIPT = r"""
import json, sys, torch
import oblivio.methods
from oblivio.config import build_method
from oblivio.data.schema import UnlearningData, read_jsonl
from oblivio.engine.loop import TrainConfig
from oblivio.engine.unlearning import LoraSpec, run_unlearning
from oblivio.models.io import load_model
from oblivio.registry import METHODS
model_dir, data_path, out = sys.argv[1:4]
data = UnlearningData(read_jsonl(data_path), name='mp')
rec = {}
for name in [n for n in METHODS.names() if n not in ("finetune", "reveal_release")]:
    for lora in (None, LoraSpec(r=4)):
        model, tok = load_model(model_dir)
        before = [p.detach().clone() for p in model.parameters()]
        model, res = run_unlearning(model, tok, data, build_method(name, {}), sampler="one_to_one_random",
                                    train_cfg=TrainConfig(lr=1e-2, max_steps=2, batch_size=2, progress=False),
                                    lora=lora)
        changed = any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
        # the replicas must agree after every step (DDP averages gradients)
        flat = torch.cat([p.detach().flatten() for p in model.parameters()])
        rec[f"{name}{'+lora' if lora else ''}"] = [res.steps, res.processes, changed, float(flat.sum())]
import os
with open(f"{out}.{os.environ.get('RANK', '0')}.json", "w") as f:
    json.dump(rec, f)
"""


def test_every_method_under_two_process_accelerate_launch(tmp_path):
    """`accelerate launch --multi_gpu --num_processes 2` (gloo on CPU): every method, full and
    LoRA, trains 2 steps in both processes and the two replicas end bitwise-equal."""
    from test_multiprocess import tiny_jsonl_and_model
    data, model_dir = tiny_jsonl_and_model(tmp_path)
    script = tmp_path / "all_methods.py"
    script.write_text(MP_SCRIPT)
    out = tmp_path / "rec"
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
           "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no", str(script),
           str(model_dir), str(data), str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-4000:]
    recs = [json.loads((tmp_path / f"rec.{k}.json").read_text()) for k in (0, 1)]
    # reveal_release needs a target whose values it can reveal (this data has none) and runs its
    # own generation rounds: not covered under DDP here (README, Reveal and Release)
    assert set(recs[0]) == {f"{n}{s}" for n in UNLEARNING if n != "reveal_release" for s in ("", "+lora")}
    for key, (steps, procs, changed, total) in recs[0].items():
        assert (steps, procs, changed) == (2, 2, True), key
        assert recs[1][key][3] == total, key
