"""Checkpoint curves (engine/checkpoint_eval.py, config ``control``): which steps are evaluated
(``eval_every`` and ``eval_steps``), which metrics (``control.metrics``), and that a run's
results.json ``curves`` hold, per checkpoint, the values of the weights saved at that step —
what a grid's tuning search (bench/zoo.py) reads back instead of evaluating inside training."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from oblivio.eval.evaluate import EvalReport
from oblivio.metrics.base import MetricResult


class Knob(torch.nn.Module):
    def __init__(self, w: float) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor(w))


@pytest.fixture()
def stub_eval(monkeypatch):
    """evaluate_model replaced: every set's accuracy = w, para_accuracy = w / 2; the configs seen."""
    import oblivio.eval.evaluate as E
    seen: list = []

    def ev(model, tokenizer, data, *, cfg=None, name="m", portion=None, **kw):
        seen.append(cfg)
        w = model.w.item()
        sets = {s: {"accuracy": MetricResult(w), "para_accuracy": MetricResult(w / 2)}
                for s in ("forget_val", "direct_val")}
        rep = EvalReport(name=name, sets=sets, model={"model_utility": MetricResult(w)}, item_ids={},
                         generations={}, seconds=0.0)
        rep.portion = portion
        return rep
    monkeypatch.setattr(E, "evaluate_model", ev)
    return seen


def _train(cb, steps: int) -> None:
    """Simulated training: after optimiser step k the weight is 1 − k/10."""
    model = Knob(1.0)
    cb.baseline(model)
    for step in range(1, steps + 1):
        with torch.no_grad():
            model.w.fill_(1 - step / 10)
        cb(step, model)
    cb.finish(model, steps)


@pytest.mark.parametrize("every, steps_at, want", [(0, [2, 5], [0, 2, 5, 7]), (3, [2], [0, 2, 3, 6, 7]),
                                                   (3, None, [0, 3, 6, 7])])
def test_checkpoint_steps_are_every_kth_and_the_named_ones(stub_eval, every, steps_at, want) -> None:
    from oblivio.config import ControlConfig
    from oblivio.engine.checkpoint_eval import CheckpointEval
    cb = CheckpointEval(None, None, ControlConfig(eval_every=every, eval_steps=steps_at, select="final"))
    _train(cb, 7)
    assert [r["step"] for r in cb.curves] == want              # the last step is evaluated by finish()
    # each row holds the weights after that step (1 − step/10), not the step before or after
    for r in cb.curves:
        assert r["per_role"]["forget_val"]["accuracy"] == pytest.approx(1 - r["step"] / 10)
        assert r["model"]["model_utility"] == pytest.approx(1 - r["step"] / 10)


def test_checkpoint_metrics_and_every_item(stub_eval) -> None:
    """``control.metrics`` join the evaluation; ``eval_items: None`` evaluates every item."""
    from oblivio.config import ControlConfig
    from oblivio.engine.checkpoint_eval import CheckpointEval
    cb = CheckpointEval(None, None, ControlConfig(eval_every=1, eval_items=None, metrics=["para_accuracy"],
                                                  utility_metric="direct/accuracy"))
    _train(cb, 2)
    assert set(stub_eval[0].metrics) == {"accuracy", "para_accuracy"} and stub_eval[0].max_items_per_role is None
    assert cb.curves[1]["per_role"]["forget_val"]["para_accuracy"] == pytest.approx(0.45)
    assert cb.curves[1]["utility"] == pytest.approx(0.9)            # direct/accuracy on direct_val


def test_checkpoint_evaluation_off_and_bad_config() -> None:
    from oblivio.config import ControlConfig, load_config
    from oblivio.errors import InputError
    assert not ControlConfig().evaluates() and ControlConfig(eval_steps=[4]).evaluates()
    with pytest.raises(InputError, match="control.eval_steps"):
        load_config(overrides={"control": {"eval_steps": [0, 4]}})
    with pytest.raises(InputError, match="control.metrics"):
        load_config(overrides={"control": {"metrics": ["no_such_metric"]}})


def test_run_curves_equal_the_saved_weights_of_each_step(tiny_cfg, tiny_world, tmp_path: Path) -> None:
    """A 3-step run evaluated at every step: results.json ``curves`` has steps 0–3 with the
    configured metrics on the validation sets, and each row equals an evaluation of the weights
    saved at that step (the resumable checkpoints, the base, the final model) on the same subset:
    a curve recorded one step off, or from the test portion, fails."""
    from oblivio import api
    from oblivio.config import load_config, to_dict
    from oblivio.engine.checkpoint_eval import CheckpointEval
    from oblivio.models.io import load_model
    data, wm = tiny_world
    cfg = load_config(overrides={
        "unlearn": {"method": "graddiff", "train": {"max_steps": 3, "lr": 3e-3, "checkpoint_every": 1}},
        "control": {"eval_every": 1, "eval_items": 6, "metrics": ["para_accuracy"], "select": "final",
                    "utility_metric": "direct/accuracy"},
        "eval": {"enabled": False}}, base=to_dict(tiny_cfg))
    api.unlearn(str(wm.base_dir), data, config=cfg, run_dir=tmp_path / "run", progress=False, log=lambda m: None)
    rec = json.loads((tmp_path / "run" / "results.json").read_text())
    curves = rec["curves"]
    assert [r["step"] for r in curves] == [0, 1, 2, 3]
    sets = {"forget_val", "direct_val", "indirect_val", "general_val"}
    for r in curves:
        assert set(r["per_role"]) == sets and all(set(v) == {"accuracy", "para_accuracy"}
                                                  for v in r["per_role"].values())
    ckpt = tmp_path / "run" / "checkpoints"
    saved = {0: wm.base_dir, 1: ckpt / "step-1", 2: ckpt / "step-2", 3: tmp_path / "run" / "model"}
    judge = CheckpointEval(wm.tokenizer, data, cfg.control, eval_cfg=cfg.eval)
    values = []
    for step, folder in saved.items():
        model, _ = load_model(folder)
        rep = judge._evaluate(model, f"step-{step}")
        got = {s: {m: r.value for m, r in ms.items()} for s, ms in rep.sets.items()}
        assert got == curves[step]["per_role"], step
        values.append(got)
    assert values[0] != values[3]        # the run changed the model: equal rows would test nothing
