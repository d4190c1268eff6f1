"""The run pipeline's post-steps (pipeline/post.py): a class named in the config's
``post_steps`` (here by dotted path, from outside the package) runs after training with the
unlearned model, the reports and a fresh copy of the model before unlearning; what it
returns lands in results.json. An unknown name fails before any work. The one model loader
(pipeline/models.py ``ModelSource``): a grid's copies never touch the caller's model."""
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


class _Tok:
    """A stand-in tokenizer (plain prompts: no chat template)."""
    chat_template = None


def _linear(seed: int):
    import torch
    torch.manual_seed(seed)
    return torch.nn.Linear(3, 2)


def test_a_grids_model_source_never_hands_out_the_callers_model_or_its_own() -> None:
    """copy=True (a grid): every load is a new copy of the weights as given; changing one copy
    (unlearning is in place) changes neither the caller's model nor the next cell's copy."""
    import torch

    from oblivio.config import Config
    from oblivio.pipeline.models import ModelSource
    mine, tok = _linear(0), _Tok()
    given = {k: v.clone() for k, v in mine.state_dict().items()}
    src = ModelSource.resolve(Config(), None, model=mine, tokenizer=tok, copy=True)
    with torch.no_grad():
        mine.weight.add_(5.0)             # the caller changes its model after the grid started
    first, t1 = src.load()
    assert first is not mine and t1 is tok and torch.equal(first.weight, given["weight"])
    with torch.no_grad():
        first.weight.mul_(-1.0)           # cell 1 unlearns its copy in place
    second, _ = src.load()
    assert second is not first and torch.equal(second.weight, given["weight"])
    assert torch.equal(mine.weight, given["weight"] + 5.0)
    assert src.reloadable and src.reference() is not None


def test_a_single_runs_model_object_is_lent_once_and_cannot_be_reloaded() -> None:
    """copy=False (api.unlearn): the caller's object itself, once; the model before unlearning is
    then gone, so the source says so (RunContext.reference gives None) instead of a changed copy."""
    from oblivio.config import Config
    from oblivio.pipeline.models import ModelSource
    mine, tok = _linear(1), _Tok()
    src = ModelSource.resolve(Config(), None, model=mine, tokenizer=tok)
    assert src.load() == (mine, tok)
    assert not src.reloadable and src.reference() is None
    with pytest.raises(RuntimeError, match="once"):
        src.load()


def test_model_source_refuses_what_it_cannot_load(tmp_path) -> None:
    from oblivio.config import Config
    from oblivio.data.neighbours import load_jsonl_data
    from oblivio.errors import InputError
    from oblivio.pipeline.models import ModelSource
    with pytest.raises(InputError, match="needs its tokenizer"):
        ModelSource.resolve(Config(), None, model=_linear(2))
    with pytest.raises(InputError, match="gold=\\(model, tokenizer\\)"):
        ModelSource.resolve(Config(), None, model=_linear(2), tokenizer=_Tok(), gold=_linear(3))
    f = tmp_path / "d.jsonl"
    f.write_text(json.dumps({"question": "Q?", "answer": "A", "set": "forget"}) + "\n")
    with pytest.raises(InputError, match="oblivio learn --data") as ei:   # no world: nothing to train from
        ModelSource.resolve(Config(), load_jsonl_data(str(f)))
    assert ei.value.field == "model"
