"""A hostile environment: concurrent writers, links and devices as outputs, a full disk, names
too long, a cache path that is a file, damaged results and checkpoints, interruption while a
run is replaced. Every case ends in one clear line (exit 2 for bad input, 1 for the
environment) and no file is lost."""
from __future__ import annotations

import errno
import json
import os
import pickle
import threading
from pathlib import Path

import pytest

from clirun import quiet, run_cli
from oblivio import atomic
from oblivio.cli import main
from oblivio.errors import InputError, OutputProblem
from oblivio.report.rundir import MARKER, checkpoints_in, default_run_dir, run_folder

# ---------------------------------------------------------------------------- atomic writes

def test_concurrent_writers_of_one_file_never_mix_or_fail(tmp_path):
    """Eight threads write the same file at once (a fixed temporary name makes them collide:
    FileNotFoundError or a mixed file); every write succeeds and the file is one of them."""
    dest = tmp_path / "world.jsonl"
    texts = [(f"{i}" * 200_000) + "\n" for i in range(8)]
    errors: list[BaseException] = []

    def write(t: str) -> None:
        try:
            for _ in range(5):
                atomic.write_text(dest, t)
        except BaseException as e:   # noqa: BLE001 - collected and asserted below
            errors.append(e)
    threads = [threading.Thread(target=write, args=(t,)) for t in texts]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors[:2]
    assert dest.read_text() in texts
    assert sorted(p.name for p in tmp_path.iterdir()) == ["world.jsonl"]   # no temporary left behind


def test_two_world_commands_on_one_file_give_a_whole_file(tmp_path):
    """Two `oblivio world --out same --overwrite` processes at once: both exit 0, the file is a
    complete world (every line parses)."""
    import subprocess
    import sys
    out = tmp_path / "same.jsonl"
    cmd = [sys.executable, "-m", "oblivio", "world", "--preset", "tiny", "--out", str(out), "--overwrite"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-1500:]
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows and all("question" in r for r in rows)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["same.jsonl"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    dest = tmp_path / "results.json"
    dest.write_text("old")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(atomic.os, "fsync", full)
    with pytest.raises(OutputProblem, match="no space left") as ei:
        atomic.write_text(dest, "new")
    assert str(dest) in str(ei.value)
    assert dest.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_never_replaces_a_link_or_a_device(tmp_path):
    target = tmp_path / "precious.txt"
    target.write_text("keep")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    with pytest.raises(InputError, match="symbolic link"):
        atomic.write_text(link, "x")
    assert link.is_symlink() and target.read_text() == "keep"
    with pytest.raises(InputError, match="device or special file"):
        atomic.write_text("/dev/null", "x")
    assert Path("/dev/null").is_char_device()
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="special file"):
        atomic.write_text(fifo, "x")


@pytest.mark.parametrize("cmd", [["world", "--preset", "tiny"], ["eval", "--model", "models/base"]])
def test_out_a_device_or_link_is_refused_even_with_overwrite(cmd, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "mine.json"
    target.write_text("mine")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    for out in ("/dev/null", str(link)):
        code, _, err = run_cli([*cmd, "--out", out, "--overwrite", "--quiet"], capsys)
        assert code == 2 and out in err, err
    assert Path("/dev/null").is_char_device() and link.is_symlink() and target.read_text() == "mine"


# ---------------------------------------------------------------------------- run folders

def test_overwrite_interrupted_while_the_old_run_is_deleted_leaves_the_new_run(tmp_path, monkeypatch):
    """Ctrl-C while the replaced run is being deleted: the new run is complete under the run's
    name (the old one went aside in one step first), nothing is stranded in .partial."""
    out = tmp_path / "run"
    with run_folder(out, kind="unlearn") as work:
        (work / "results.json").write_text("old")
        (work / "model").mkdir()
        (work / "model" / "w").write_text("old weights")

    def interrupted(path, *a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(atomic.shutil, "rmtree", interrupted)
    with pytest.raises(KeyboardInterrupt), run_folder(out, overwrite=True, kind="unlearn") as work:
        (work / "results.json").write_text("new")
        (work / "model").mkdir()
        (work / "model" / "w").write_text("new weights")
    assert (out / "results.json").read_text() == "new" and (out / "model" / "w").read_text() == "new weights"
    assert (out / MARKER).is_file()
    assert not (tmp_path / "run.partial").exists() and not (tmp_path / "run.failed").exists()


def test_out_a_symlink_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    real = tmp_path / "real"
    with run_folder(real, kind="unlearn") as work:
        (work / "results.json").write_text("{}")
    link = tmp_path / "link"
    link.symlink_to(real)
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(["unlearn", "--out", str(link), "--overwrite", "--quiet"], capsys)
    assert code == 2 and "symbolic link" in err
    assert link.is_symlink() and (real / "results.json").is_file()


def test_learn_out_never_writes_into_a_users_folder(tiny_world, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    mine = tmp_path / "models"
    (mine / "base").mkdir(parents=True)
    (mine / "base" / "config.json").write_text("my own model")
    code, _, err = run_cli(["learn", "--preset", "tiny", "--out", str(mine), "--quiet"], capsys)
    assert code == 2 and str(mine) in err
    code, _, err = run_cli(["learn", "--preset", "tiny", "--out", str(mine), "--overwrite", "--quiet"], capsys)
    assert code == 2 and "not one" in err
    assert (mine / "base" / "config.json").read_text() == "my own model"


def test_learn_out_is_an_oblivio_folder_replaced_only_with_overwrite(tiny_cfg, tiny_world, tmp_path, capsys,
                                                                    monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = _tiny_config_file(tiny_cfg, tmp_path)
    out = tmp_path / "models"
    code, _, err = run_cli(["learn", "--config", str(cfg), "--out", str(out), "--quiet"], capsys)
    assert code == 0, err
    assert (out / MARKER).is_file() and (out / "base" / "config.json").is_file() and (out / "gold").is_dir()
    code, _, err = run_cli(["learn", "--config", str(cfg), "--out", str(out), "--quiet"], capsys)
    assert code == 2 and "--overwrite" in err
    code, _, err = run_cli(["learn", "--config", str(cfg), "--out", str(out), "--overwrite", "--quiet"], capsys)
    assert code == 0, err


def test_default_run_names_are_unique_within_one_second():
    names = {str(default_run_dir("unlearn")) for _ in range(50)}
    assert len(names) > 40


@pytest.mark.parametrize("name", ["x" * 300, "y" * 240])
def test_names_too_long_are_refused_before_any_work(name, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(["unlearn", "--out", str(tmp_path / name), "--quiet"], capsys)
    assert code == 2 and "too long" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_cache_path_that_is_a_file_is_a_clear_error(tmp_path, capsys, monkeypatch):
    f = tmp_path / "cache"
    f.write_text("not a folder")
    monkeypatch.setenv("OBLIVIO_CACHE", str(f))
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(["learn", "--preset", "tiny", "--quiet"], capsys)
    assert code == 2 and "OBLIVIO_CACHE" in err and "is a file" in err
    assert f.read_text() == "not a folder"


# ---------------------------------------------------------------------------- full disk, failures

def _tiny_config_file(tiny_cfg, tmp_path: Path) -> Path:
    import yaml

    from oblivio.config import to_dict
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(yaml.safe_dump(to_dict(tiny_cfg)))
    return cfg


def test_disk_full_while_saving_the_model_ends_failed_with_error_txt(tiny_cfg, tiny_world, tmp_path, capsys,
                                                                     monkeypatch):
    import oblivio.models.save as mio
    monkeypatch.chdir(tmp_path)
    cfg = _tiny_config_file(tiny_cfg, tmp_path)

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(mio, "save_into", full)
    out = tmp_path / "run"
    code, _, err = run_cli(["unlearn", "--config", str(cfg), "--steps", "1", "--no-eval", "--out", str(out),
                            "--quiet"], capsys)
    assert code == 1 and "no space left" in err and "Traceback" not in err
    assert (tmp_path / "run.failed" / "error.txt").is_file() and not out.exists()
    assert not (tmp_path / "run.partial").exists()


def test_disk_full_while_writing_error_txt_still_ends_failed(tmp_path, monkeypatch):
    out = tmp_path / "run"
    real_write = Path.write_text

    def full(self, *a, **k):
        if self.name == "error.txt":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(self, *a, **k)
    monkeypatch.setattr(Path, "write_text", full)
    with pytest.raises(RuntimeError), run_folder(out, kind="unlearn"):
        raise RuntimeError("training broke")
    assert (tmp_path / "run.failed").is_dir() and not (tmp_path / "run.partial").exists()


def test_unexpected_error_is_one_line_and_debug_shows_the_traceback(tmp_path, capsys, monkeypatch):
    import oblivio.api as api
    monkeypatch.chdir(tmp_path)

    def boom(*a, **k):
        raise ZeroDivisionError("a bug")
    monkeypatch.setattr(api, "learn", boom)
    code, _, err = run_cli(["learn", "--preset", "tiny", "--quiet"], capsys)
    assert code == 1 and "ZeroDivisionError: a bug" in err and "--debug" in err and "Traceback" not in err
    with pytest.raises(ZeroDivisionError):
        main(["learn", "--preset", "tiny", "--quiet", "--debug"])


# ---------------------------------------------------------------------------- damaged results

def _finished(tmp_path: Path, rec: object, name: str = "run") -> Path:
    out = tmp_path / name
    with run_folder(out, kind="unlearn") as work:
        (work / "results.json").write_text(rec if isinstance(rec, str) else json.dumps(rec))
    return out


@pytest.mark.parametrize("rec, expect", [
    ('{"oblivio_results": 1, "models": ', "not valid JSON"),
    ({"oblivio_results": 1, "models": []}, "'models'"),
    ({"oblivio_results": 1, "models": {"base": 3}}, "'models'"),
    ([1, 2], "marker"),
])
def test_damaged_results_are_a_clear_error(rec, expect, tmp_path, capsys):
    run = _finished(tmp_path, rec)
    code, _, err = run_cli(["report", str(run), "--out", str(tmp_path / "r.html")], capsys)
    assert code == 2 and expect in err and "results.json" in err and "Traceback" not in err
    assert not (tmp_path / "r.html").exists()


def test_damaged_calibrated_sub_run_is_a_clear_error(tmp_path, capsys):
    run = _finished(tmp_path, {"oblivio_results": 1})
    (run / "calibrated-0.9").mkdir()
    (run / "calibrated-0.9" / "results.json").write_text('{"oblivio_results": 1, "models": [1]}')
    code, _, err = run_cli(["report", str(run), "--out", str(tmp_path / "r.html")], capsys)
    assert code == 2 and "calibrated-0.9" in err and "Traceback" not in err


# ---------------------------------------------------------------------------- damaged checkpoints

class _Payload:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def _interrupted_run(tiny_cfg, tmp_path: Path) -> Path:
    from oblivio import api
    from oblivio.config import load_config, to_dict
    cfg = load_config(overrides={"unlearn": {"train": {"max_steps": 7, "checkpoint_every": 2}}},
                      base=to_dict(tiny_cfg))

    def interrupt(step, model):
        if step == 5:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        api.unlearn(None, None, config=cfg, run_dir=tmp_path / "cut", evaluate_models=False, progress=False,
                    log=quiet, callbacks=[interrupt])
    return tmp_path / "cut.failed"


@pytest.mark.parametrize("damage", ["trainer_state", "weights", "hostile_pickle"])
def test_resume_falls_back_past_a_damaged_checkpoint(damage, tiny_cfg, tiny_world, tmp_path, capsys, monkeypatch):
    from oblivio import api
    monkeypatch.chdir(tmp_path)
    failed = _interrupted_run(tiny_cfg, tmp_path)
    cks = checkpoints_in(failed)
    assert [c.name for c in cks] == ["step-2", "step-4"]
    last = cks[-1]
    if damage == "trainer_state":
        (last / "trainer_state.json").write_text('{"step": 4')
    elif damage == "weights":
        w = last / "model.safetensors"
        w.write_bytes(w.read_bytes()[: w.stat().st_size // 2])
    else:
        with (last / "training_state.pt").open("wb") as fh:
            pickle.dump(_Payload(), fh)
    res = api.unlearn(resume=tmp_path / "cut", progress=False, log=quiet)
    assert res.training["resumed_from"] == "step-2"
    err = capsys.readouterr().err
    assert "step-4" in err and "cannot be resumed from" in err
    assert not (tmp_path / "PWNED").exists()


def test_resume_with_every_checkpoint_damaged_is_a_clear_error(tiny_cfg, tiny_world, tmp_path, capsys,
                                                               monkeypatch):
    monkeypatch.chdir(tmp_path)
    failed = _interrupted_run(tiny_cfg, tmp_path)
    for ck in checkpoints_in(failed):
        (ck / "trainer_state.json").write_text("[]")
    code, _, err = run_cli(["unlearn", "--resume", str(failed), "--quiet"], capsys)
    assert code == 2 and "none of its 2 checkpoint" in err and "Traceback" not in err
    assert checkpoints_in(failed)          # nothing deleted


def test_an_input_name_too_long_is_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(["eval", "--model", "m" * 300, "--data", "d" * 300 + ".jsonl", "--quiet"], capsys)
    assert code == 2 and "too long" in err and "Traceback" not in err


def test_report_out_a_fifo_or_device_is_refused_without_reading_it(tmp_path, capsys):
    run = _finished(tmp_path, {"oblivio_results": 1})
    fifo = tmp_path / "pipe.html"
    os.mkfifo(fifo)
    for out in (str(fifo), "/dev/null"):
        for extra in ([], ["--overwrite"]):
            code, _, err = run_cli(["report", str(run), "--out", out, *extra], capsys)
            assert code == 2 and "special file" in err, err
    assert fifo.is_fifo()


def test_written_files_carry_the_users_permissions_not_mkstemps(tmp_path):
    old = os.umask(0o027)
    try:
        import importlib
        importlib.reload(atomic)          # the mask is read once, at import
        atomic.write_text(tmp_path / "r.json", "{}")
    finally:
        os.umask(old)
        importlib.reload(atomic)
    assert (tmp_path / "r.json").stat().st_mode & 0o777 == 0o640
