"""Experiment tracking through Accelerate's trackers: a real TensorBoard event file per run."""
from __future__ import annotations

import pytest

pytest.importorskip("tensorboard")


def _scalars(folder):
    """Every scalar of every event file under ``folder`` (the hyper-parameters get their own)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    files = sorted(folder.rglob("events.out.tfevents*"))
    assert files, f"no event file under {folder}"
    out = {}
    for f in files:
        acc = EventAccumulator(str(f))
        acc.Reload()
        for tag in acc.Tags()["scalars"]:
            out.setdefault(tag, []).extend((e.step, e.value) for e in acc.Scalars(tag))
    return out


def test_tensorboard_logs_loss_parts_lr_and_checkpoint_metrics(tiny_world, tiny_cfg, tmp_path):
    from oblivio import api
    from oblivio.config import load_config, to_dict
    data, _ = tiny_world
    cfg = load_config(overrides={"unlearn": {"train": {"log_with": ["tensorboard"], "max_steps": 4}},
                                 "control": {"eval_every": 2, "eval_items": 4}, "eval": {"enabled": False}},
                      base=to_dict(tiny_cfg))
    res = api.unlearn(None, data, config=cfg, method="graddiff", run_dir=tmp_path / "run", progress=False,
                      log=lambda m: None)
    sc = _scalars(tmp_path / "run" / "tracking")
    hist = res.training["history"]
    assert [s for s, _ in sc["loss"]] == [1, 2, 3, 4]
    # the logged values are the run's own loss history, part by part
    for part in ("loss", "forget", "retain", "lr"):
        assert [v for _, v in sc[part]] == pytest.approx([h[part] for h in hist], rel=1e-6)
    assert [s for s, _ in sc["checkpoint/utility"]] == [2, 4]
    assert any(t.startswith("checkpoint/forget_val/") for t in sc)


def test_unknown_tracker_is_an_input_error(tiny_world, tmp_path):
    from oblivio.cli import main
    with pytest.raises(SystemExit) as e:
        main(["unlearn", "--data", "world:tiny", "--log-with", "tensorbored", "--steps", "1",
              "--out", str(tmp_path / "r")])
    assert e.value.code == 2
    assert not (tmp_path / "r").exists()
