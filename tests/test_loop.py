"""The one training loop: NaN guard, accumulation, checkpoints, callbacks, determinism."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import pytest
import torch

from oblivio.data.collate import make_collate
from oblivio.engine.loop import PairSource, TrainConfig, train
from oblivio.errors import TrainingDiverged
from oblivio.methods.base import LossParts


def _setup(tiny_world, fresh_base):
    from oblivio.data.collate import encode_items
    from oblivio.models.format import PromptFormat
    data, _ = tiny_world
    model, tok = fresh_base
    encs = encode_items(tok, PromptFormat(), data.trained())
    src = PairSource(lambda e: [(-1, i) for i in range(len(encs))])
    return model, tok, src, make_collate([], encs, tok.pad_token_id, use_forget=False, use_retain=True)


@dataclass
class NaNAt:
    at: int
    uses: ClassVar[frozenset[str]] = frozenset({"retain"})

    def loss(self, ctx, batch):
        from oblivio.methods.ops import mean_nll
        nll = mean_nll(ctx.model, batch["retain"])
        if ctx.step + 1 == self.at:
            nll = nll * float("nan")
        return LossParts(nll, {"nll": nll})


def test_nan_guard_names_step_and_stops(tiny_world, fresh_base):
    model, _, src, coll = _setup(tiny_world, fresh_base)
    seen = []
    with pytest.raises(TrainingDiverged) as ei:
        train(model, NaNAt(3), src, coll, TrainConfig(lr=1e-3, max_steps=10, batch_size=8, progress=False),
              callbacks=[lambda s, m: seen.append(s)])
    assert ei.value.step == 3 and "step 3" in str(ei.value)
    assert seen == [1, 2]   # no update was applied at or after the bad step
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_grad_accumulation_counts_optimizer_steps(tiny_world, fresh_base):
    model, _, src, coll = _setup(tiny_world, fresh_base)
    n_batches = math.ceil(len(src) / 8)
    res = train(model, NaNAt(-1), src, coll, TrainConfig(lr=1e-3, epochs=1, batch_size=8, grad_accum=2,
                                                         progress=False))
    assert res.steps == math.ceil(n_batches / 2)


def test_checkpoints_are_safetensors_and_callbacks_stop(tiny_world, fresh_base, tmp_path):
    model, _, src, coll = _setup(tiny_world, fresh_base)
    res = train(model, NaNAt(-1), src, coll, TrainConfig(lr=1e-3, max_steps=6, batch_size=8, checkpoint_every=2,
                                                         progress=False),
                run_dir=tmp_path, callbacks=[lambda s, m: "enough" if s == 4 else None])
    assert res.stop_reason == "enough" and res.steps == 4
    assert (tmp_path / "checkpoints" / "step-2" / "model.safetensors").is_file()
    assert (tmp_path / "checkpoints" / "step-4" / "model.safetensors").is_file()


def test_same_seed_same_history(tiny_world):
    from oblivio.models.io import load_model
    _, wm = tiny_world
    hist = []
    for _ in range(2):
        model, tok = load_model(wm.base_dir)
        model, _, src, coll = _setup(tiny_world, (model, tok))
        res = train(model, NaNAt(-1), src, coll, TrainConfig(lr=1e-3, max_steps=3, batch_size=8, progress=False))
        hist.append([h["loss"] for h in res.history])
    assert hist[0] == hist[1]
