"""The run pipeline's post-steps (pipeline/post.py): a class named in the config's
``post_steps`` (here by dotted path, from outside the package) runs after training with the
unlearned model, the reports and a fresh copy of the model before unlearning; what it
returns lands in results.json. An unknown name fails before any work."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

PROBE = '''
import torch

class Probe:
    """Distance between the unlearned weights and the reference's, and the data it saw."""

    def run(self, ctx):
        ref, _ = ctx.reference()
        moved = sum(float((p - q).abs().sum()) for p, q in zip(ctx.model.parameters(), ref.parameters()))
        return {"moved": moved, "forget_items": len(ctx.data.forget), "reports": sorted(ctx.reports),
                "in_run_folder": ctx.work is not None and (ctx.work / "config.yaml").is_file()}
'''


def test_post_step_by_dotted_path_via_cli(tiny_cfg, tiny_world, tmp_path, capsys, monkeypatch):
    import yaml

    from oblivio.cli import main
    from oblivio.config import to_dict
    (tmp_path / "myprobe.py").write_text(PROBE)
    monkeypatch.syspath_prepend(str(tmp_path))
    cfg = to_dict(tiny_cfg)
    cfg["unlearn"]["train"]["max_steps"] = 2
    cfg["eval"].update({"metrics": ["accuracy"], "bootstrap": 0})
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    with pytest.raises(SystemExit) as ei:
        main(["unlearn", "--config", str(tmp_path / "c.yaml"), "--set", "post_steps=[myprobe:Probe]",
              "--out", str(tmp_path / "run"), "--quiet"])
    assert ei.value.code == 0, capsys.readouterr().err
    rec = json.loads((tmp_path / "run" / "results.json").read_text())
    got = rec["post_steps"]["myprobe:Probe"]
    data, _ = tiny_world
    assert got["forget_items"] == len(data.forget) and got["reports"] == ["base", "gold", "unlearned"]
    assert got["moved"] > 0          # the reference is the model before unlearning, not the trained one
    duration = got["seconds"]                   # its type: the record's shape, not a time bound
    assert got["in_run_folder"] and isinstance(duration, float)
    assert rec["config"]["post_steps"] == ["myprobe:Probe"]     # config.yaml reruns it


def test_unknown_post_step_fails_before_any_work(tiny_cfg, tmp_path):
    from oblivio import api
    from oblivio.config import load_config, to_dict
    from oblivio.errors import InputError
    cfg = load_config(overrides={"post_steps": ["no_such_step"]}, base=to_dict(tiny_cfg))
    with pytest.raises(InputError) as ei:
        api.unlearn(None, None, config=cfg, run_dir=tmp_path / "run", progress=False, log=lambda m: None)
    assert ei.value.field == "post_steps"
    assert not (tmp_path / "run").exists() and not (tmp_path / "run.partial").exists()


STEPS = '''
class Boom:
    def run(self, ctx):
        (ctx.work / "half.txt").write_text("written before the failure")
        raise RuntimeError("post-step failed")

class Note:
    def run(self, ctx):
        (ctx.work / "note.txt").write_text("added")
        ctx.extra["note"] = {"forget": len(ctx.data.forget)}
        return {"ok": True}
'''


def test_post_steps_on_a_finished_folder_replace_it_whole_or_not_at_all(tiny_cfg, tmp_path, monkeypatch):
    """`apply_post_steps` (what `oblivio audit --run` does): a failing post-step leaves the run
    folder byte for byte as it was, with no leftovers beside it; a succeeding one gives a new
    version with its file and results, whose model is the old file (a hard link, not a copy)."""
    from oblivio import api
    from oblivio.config import load_config, to_dict
    from oblivio.pipeline.run import apply_post_steps
    (tmp_path / "steps.py").write_text(STEPS)
    monkeypatch.syspath_prepend(str(tmp_path))
    cfg = load_config(overrides={"unlearn": {"train": {"max_steps": 1}}, "eval": {"enabled": False}},
                      base=to_dict(tiny_cfg))
    run = tmp_path / "runs" / "r"
    api.unlearn(None, None, config=cfg, run_dir=run, progress=False, log=lambda m: None)
    before = {p.relative_to(run): p.read_bytes() for p in run.rglob("*") if p.is_file()}
    weights = next(run.glob("model/*.safetensors"))
    inode = weights.stat().st_ino
    with pytest.raises(RuntimeError):
        apply_post_steps(run, ["steps:Boom"], progress=False, log=lambda m: None)
    assert {p.relative_to(run): p.read_bytes() for p in run.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in run.parent.iterdir()) == ["r"]
    rec = apply_post_steps(run, ["steps:Note"], progress=False, log=lambda m: None)
    assert (run / "note.txt").read_text() == "added" and not (run / "half.txt").exists()
    saved = json.loads((run / "results.json").read_text())
    assert saved["note"] == rec["note"] and saved["post_steps"]["steps:Note"]["ok"] is True
    assert saved["training"] == json.loads(before[Path("results.json")])["training"]
    assert weights.stat().st_ino == inode and weights.stat().st_nlink == 1   # linked, and the old version gone
    assert sorted(p.name for p in run.parent.iterdir()) == ["r"]


def test_a_loaded_reference_is_handed_out_once_then_copied() -> None:
    """On a finished folder the base is loaded already: the first post-step gets it, later ones a
    copy, so a step that changes its reference cannot change another step's."""
    import torch

    from oblivio.pipeline.run import _handout
    base = torch.nn.Linear(2, 2)
    ref = _handout(base, "tok")
    first, tok = ref()
    assert first is base and tok == "tok"
    second, _ = ref()
    assert second is not base and torch.equal(second.weight, base.weight)
    with torch.no_grad():
        second.weight.add_(1.0)
    assert not torch.equal(second.weight, base.weight)
