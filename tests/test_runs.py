"""Safe run folders (marker, --overwrite, lock, SIGTERM) and resume after interruption (issue 9).

The subprocess tests run with OMP_NUM_THREADS=1 everywhere, so that the interrupted and
resumed run and the uninterrupted one use the same thread count: their final weights must
then be bitwise equal.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clirun import quiet, run_cli
from oblivio.errors import InputError
from oblivio.report.rundir import LOCK, MARKER, checkpoints_in, lock_holder, run_folder


def cfg_with(tiny_cfg, **train):
    from oblivio.config import load_config, to_dict
    return load_config(overrides={"unlearn": {"train": train}}, base=to_dict(tiny_cfg))


def tensors(model_dir: Path) -> dict:
    from safetensors.torch import load_file
    return load_file(model_dir / "model.safetensors")


def assert_bitwise(a: Path, b: Path) -> None:
    ta, tb = tensors(a), tensors(b)
    assert ta.keys() == tb.keys() and ta
    import torch
    diff = [k for k in ta if not torch.equal(ta[k], tb[k])]
    assert not diff, f"{len(diff)} of {len(ta)} tensors differ, e.g. {diff[:3]}"


# ---------------------------------------------------------------------------- marker, overwrite

def test_overwrite_never_deletes_a_folder_that_is_not_a_run(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.txt").write_text("four years of work")
    code, _, err = run_cli(["unlearn", "--out", str(out), "--overwrite", "--quiet"], capsys)
    assert code == 2 and str(out) in err and "not one" in err and MARKER in err
    assert (out / "thesis.txt").read_text() == "four years of work"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


def test_overwrite_replaces_a_marked_run_and_keeps_its_marker(tmp_path):
    out = tmp_path / "run"
    with run_folder(out, kind="unlearn") as work:
        (work / "old.txt").write_text("old")
    assert (out / MARKER).is_file() and json.loads((out / MARKER).read_text())["kind"] == "unlearn"
    assert not (out / LOCK).exists()
    with pytest.raises(InputError, match="already exists"), run_folder(out):
        pass
    with run_folder(out, overwrite=True) as work:
        (work / "new.txt").write_text("new")
    assert (out / "new.txt").is_file() and not (out / "old.txt").exists() and (out / MARKER).is_file()


@pytest.mark.parametrize("out, expect", [("", "--out"), ("/proc/oblivio-run", "cannot write"),
                                         ("FILE", "not a folder")])
def test_out_checked_before_any_work(tmp_path, capsys, out, expect):
    if out == "FILE":
        out = str(tmp_path / "file")
        Path(out).write_text("x")
    code, _, err = run_cli(["unlearn", "--out", out, "--quiet"], capsys)
    assert code == 2 and expect in err and "Traceback" not in err


def test_input_error_in_a_fresh_run_leaves_nothing(tmp_path):
    with pytest.raises(InputError), run_folder(tmp_path / "run"):
        raise InputError("bad")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------- locks

def test_second_run_refused_while_first_holds_the_lock(tmp_path, capsys):
    out = tmp_path / "run"
    with run_folder(out) as work:
        (work / "weights.bin").write_text("first run's work")
        assert lock_holder(work) == os.getpid()
        for extra in ([], ["--overwrite"]):
            code, _, err = run_cli(["unlearn", "--out", str(out), "--quiet", *extra], capsys)
            assert code == 2 and f"pid {os.getpid()}" in err and "run.partial" in err
            assert (work / "weights.bin").read_text() == "first run's work"
    assert (out / "weights.bin").is_file()


def test_stale_lock_of_a_dead_run_is_recovered(tmp_path):
    out = tmp_path / "run"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / "run.partial"
    stale.mkdir()
    (stale / MARKER).write_text("{}")
    (stale / LOCK).write_text(f"{dead.pid}\n")    # the file of a dead run; nobody holds the lock
    assert lock_holder(stale) is None
    with run_folder(out) as work:
        assert work == stale and not (work / "x").exists() and lock_holder(work) == os.getpid()
    assert out.is_dir()


def test_partial_with_checkpoints_is_not_silently_deleted(tmp_path, capsys):
    part = tmp_path / "run.partial"
    ck = part / "checkpoints" / "step-2"
    ck.mkdir(parents=True)
    (part / MARKER).write_text("{}")
    (ck / "trainer_state.json").write_text("{}")
    code, _, err = run_cli(["unlearn", "--out", str(tmp_path / "run"), "--quiet"], capsys)
    assert code == 2 and "--resume" in err and "--overwrite" in err and "step-2" in err
    assert checkpoints_in(part) == [ck]


def test_partial_without_marker_is_not_touched(tmp_path, capsys):
    part = tmp_path / "run.partial"
    part.mkdir()
    (part / "notes.txt").write_text("mine")
    code, _, err = run_cli(["unlearn", "--out", str(tmp_path / "run"), "--overwrite", "--quiet"], capsys)
    assert code == 2 and "not an oblivio run folder" in err and (part / "notes.txt").is_file()


# ---------------------------------------------------------------------------- resume (in process)

def test_interrupted_run_resumed_via_api_is_bitwise_identical(tiny_cfg, tiny_world, tmp_path):
    """Ctrl-C at step 5 (checkpoints at 2 and 4) → .failed; api.unlearn(resume=...) finishes it.
    PDU: its dual variable λ is method state that the checkpoint must carry."""
    from oblivio import api
    from oblivio.config import load_config, to_dict
    cfg = load_config(overrides={"unlearn": {"method": "pdu"}}, base=to_dict(cfg_with(
        tiny_cfg, max_steps=7, checkpoint_every=2)))
    full = api.unlearn(None, None, config=cfg, run_dir=tmp_path / "full", evaluate_models=False,
                       progress=False, log=quiet)

    def interrupt(step, model):
        if step == 5:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        api.unlearn(None, None, config=cfg, run_dir=tmp_path / "cut", evaluate_models=False, progress=False,
                    log=quiet, callbacks=[interrupt])
    failed = tmp_path / "cut.failed"
    assert [p.name for p in checkpoints_in(failed)] == ["step-2", "step-4"]
    assert "--resume" in (failed / "error.txt").read_text()
    # a checkpoint is a loadable HF directory (weights + tokenizer)
    from oblivio.models.io import load_model
    load_model(failed / "checkpoints" / "step-4")
    res = api.unlearn(resume=failed, progress=False, log=quiet)
    assert res.run_dir == tmp_path / "cut" and not failed.exists() and (tmp_path / "cut" / MARKER).is_file()
    assert res.training["resumed_from"] == "step-4"
    assert res.training["history"] == full.training["history"]
    assert len({h["lambda"] for h in full.training["history"]}) > 1      # λ moved during the run
    assert_bitwise(tmp_path / "full" / "model", tmp_path / "cut" / "model")
    with pytest.raises(InputError, match="finished"):
        api.unlearn(resume=tmp_path / "cut", progress=False, log=quiet)


def test_resume_lora_npo_with_accumulation(tiny_cfg, tiny_world, tmp_path):
    """LoRA adapter checkpoints, NPO (reference log-likelihood cache), two-step accumulation
    and a warm-up + cosine schedule; both runs in one process (LoRA init seeded)."""
    from oblivio import api
    from oblivio.config import load_config, to_dict
    cfg = load_config(overrides={"model": {"lora_r": 4}, "unlearn": {"method": "npo", "train": {
        "max_steps": 9, "checkpoint_every": 3, "grad_accum": 2, "schedule": "cosine", "warmup": 2}}},
        base=to_dict(tiny_cfg))
    full = api.unlearn(None, None, config=cfg, run_dir=tmp_path / "full", evaluate_models=False,
                       progress=False, log=quiet)

    def interrupt(step, model):
        if step == 8:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        api.unlearn(None, None, config=cfg, run_dir=tmp_path / "cut", evaluate_models=False, progress=False,
                    log=quiet, callbacks=[interrupt])
    res = api.unlearn(resume=tmp_path / "cut", progress=False, log=quiet)
    assert res.training["resumed_from"] == "step-6"
    assert res.training["history"] == full.training["history"]
    assert_bitwise(tmp_path / "full" / "model", tmp_path / "cut" / "model")


def test_resume_refuses_changed_data_and_continues_on_the_same(tiny_cfg, tiny_world, tmp_path, capsys):
    """A run on a JSONL file is interrupted after its step-2 checkpoint and the file is edited:
    `--resume` refuses (exit 2: the file, both hash prefixes, what to do), nothing touched;
    the file restored, the resume finishes from step-2."""
    from oblivio import api
    from oblivio.config import load_config, to_dict
    from oblivio.data.schema import write_jsonl
    data, wm = tiny_world
    f = tmp_path / "data.jsonl"
    write_jsonl(data.items, f)
    original = f.read_bytes()
    cfg = load_config(overrides={"data": {"targets": list(data.targets)}},
                      base=to_dict(cfg_with(tiny_cfg, max_steps=4, checkpoint_every=2)))

    def interrupt(step, model):
        if step == 3:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        api.unlearn(wm.base_dir, f, config=cfg, run_dir=tmp_path / "cut", evaluate_models=False, progress=False,
                    log=quiet, callbacks=[interrupt])
    failed = tmp_path / "cut.failed"
    then = json.loads((failed / "inputs.json").read_text())["data_sha256"]
    edited = original.replace(b'"answer": "', b'"answer": "Edited. ', 1)
    assert edited != original
    f.write_bytes(edited)
    before = sorted(str(p) for p in failed.rglob("*"))
    code, _, err = run_cli(["unlearn", "--resume", str(failed), "--quiet"], capsys)
    assert code == 2, err
    assert str(f.resolve()) in err and "data changed" in err and then[:12] in err
    assert "start a new run or restore the file" in err.lower()
    assert sorted(str(p) for p in failed.rglob("*")) == before
    f.write_bytes(original)
    res = api.unlearn(resume=failed, progress=False, log=quiet)
    assert res.training["resumed_from"] == "step-2" and (tmp_path / "cut" / "model").is_dir()


def test_resume_refuses_changed_flags_and_missing_runs(tmp_path, capsys):
    code, _, err = run_cli(["unlearn", "--resume", str(tmp_path / "x"), "--steps", "3"], capsys)
    assert code == 2 and "--steps" in err
    code, _, err = run_cli(["unlearn", "--resume", str(tmp_path / "x")], capsys)
    assert code == 2 and "no interrupted run" in err


# ---------------------------------------------------------------------------- real processes

CHILD = """
import json, sys, time
from oblivio import api
from oblivio.config import load_config
cfg = load_config(sys.argv[1])
out, block, go = sys.argv[2], int(sys.argv[3]), sys.argv[4]
def hold(step, model):
    # blocks after step `block` (its checkpoint, if any, is already written) until `go` exists
    if step == block:
        open(go + ".at", "w").close()
    while step == block and not __import__("os").path.exists(go):
        time.sleep(0.05)
api.unlearn(None, None, config=cfg, run_dir=out, evaluate_models=False, progress=False, callbacks=[hold])
"""


@pytest.fixture()
def child(tiny_cfg, tiny_world, tmp_path):
    """Start the tiny-world unlearning as a separate process (1 thread), blocked at a step."""
    import yaml

    from oblivio.config import to_dict
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", TQDM_DISABLE="1")

    def config(**train) -> Path:
        path = tmp_path / f"cfg-{len(list(tmp_path.glob('cfg-*')))}.yaml"
        path.write_text(yaml.safe_dump(to_dict(cfg_with(tiny_cfg, **train))))
        return path

    def start(cfg_file: Path, out: Path, block: int = -1, go: Path | None = None) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, str(script), str(cfg_file), str(out), str(block),
                                 str(go or tmp_path / "never")], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    start.config, start.env = config, env
    return start


def wait_for(cond, proc: subprocess.Popen, timeout: float = 240) -> None:
    t0 = time.monotonic()
    while not cond():
        if proc.poll() is not None:
            raise AssertionError(f"child exited {proc.returncode}: {proc.stderr.read()[-2000:]}")
        if time.monotonic() - t0 > timeout:
            proc.kill()
            raise AssertionError("child did not get there in time")
        time.sleep(0.1)


def test_two_processes_on_one_out_second_refused_first_intact(child, tmp_path):
    out, go = tmp_path / "run", tmp_path / "go"
    first = child(child.config(max_steps=4), out, block=2, go=go)
    try:
        wait_for(lambda: lock_holder(tmp_path / "run.partial") == first.pid, first)
        # even --overwrite (the in-process test covers the plain rerun)
        second = subprocess.run([sys.executable, "-m", "oblivio", "unlearn", "--out", str(out), "--quiet",
                                 "--overwrite"], env=child.env, capture_output=True, text=True, timeout=300,
                                check=False)
        assert second.returncode == 2, second.stderr
        assert f"pid {first.pid}" in second.stderr and "Traceback" not in second.stderr
        assert (tmp_path / "run.partial" / "config.yaml").is_file()
        go.touch()
        assert first.wait(timeout=300) == 0, first.stderr.read()
    finally:
        first.kill()
    assert (out / "model" / "model.safetensors").is_file() and (out / "results.json").is_file()
    assert json.loads((out / "results.json").read_text())["training"]["steps"] == 4


def test_sigterm_leaves_failed_with_checkpoints(child, tmp_path):
    out = tmp_path / "run"
    cfg_file = child.config(max_steps=6, checkpoint_every=2)
    proc = subprocess.Popen([sys.executable, "-m", "oblivio", "unlearn", "--config", str(cfg_file), "--out",
                             str(out), "--no-eval", "--quiet", "--steps", "100000"], env=child.env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: checkpoints_in(tmp_path / "run.partial"), proc)
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=120)
    finally:
        proc.kill()
    err = proc.stderr.read()
    assert code == 143 and "SIGTERM" in err and "Traceback" not in err
    failed = tmp_path / "run.failed"
    assert not (tmp_path / "run.partial").exists() and not out.exists()
    assert "Terminated" in (failed / "error.txt").read_text() and checkpoints_in(failed)
    assert lock_holder(failed) is None and (failed / MARKER).is_file()


def test_kill9_then_resume_is_bitwise_identical(child, tmp_path):
    """SIGKILL at step 5 (last checkpoint: step 3), `oblivio unlearn --resume` → same weights."""
    cfg_file = child.config(max_steps=8, checkpoint_every=3)
    full = child(cfg_file, tmp_path / "full")
    go = tmp_path / "never"
    cut = child(cfg_file, tmp_path / "cut", block=5, go=go)
    try:
        assert full.wait(timeout=300) == 0, full.stderr.read()
        wait_for(lambda: Path(str(go) + ".at").exists(), cut)   # steps 4 and 5 done, not checkpointed
        assert [p.name for p in checkpoints_in(tmp_path / "cut.partial")] == ["step-3"]
        cut.send_signal(signal.SIGKILL)
        assert cut.wait(timeout=60) == -signal.SIGKILL
    finally:
        full.kill()
        cut.kill()
    assert (tmp_path / "cut.partial").is_dir()      # no handler ran: the folder stays .partial
    r = subprocess.run([sys.executable, "-m", "oblivio", "unlearn", "--resume", str(tmp_path / "cut.partial")],
                       env=child.env, capture_output=True, text=True, timeout=300, check=False)
    assert r.returncode == 0, r.stderr
    assert "resumed from step-3" in r.stderr      # progress (stderr)
    assert_bitwise(tmp_path / "full" / "model", tmp_path / "cut" / "model")
    h_full = json.loads((tmp_path / "full" / "results.json").read_text())["training"]["history"]
    h_cut = json.loads((tmp_path / "cut" / "results.json").read_text())["training"]["history"]
    assert h_cut == h_full and len(h_cut) == 8
