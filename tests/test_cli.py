"""CLI: bad input gets one clear message naming file/line/field, exit code 2, no output."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from clirun import run_cli


def write(path, rows):
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


GOOD = [{"question": "Who is A?", "answer": "A is a baker.", "set": "forget", "entity": "A"},
        {"question": "Who is B?", "answer": "B is a pilot.", "set": "retain", "entity": "B"}]


@pytest.mark.parametrize("rows, expect", [
    ([GOOD[0], GOOD[1], "{not json"], ["data.jsonl:3", "invalid JSON"]),
    ([GOOD[0], {"question": "Q?", "set": "retain"}], ["data.jsonl:2", "field 'answer'"]),
    ([GOOD[0], {"question": "Q?", "answer": "x", "set": "keep"}], ["data.jsonl:2", "field 'set'", "unknown set role"]),
    ([GOOD[1]], ["forget set is empty"]),
    ([GOOD[0], GOOD[1], dict(GOOD[0], set="retain")], ["data.jsonl:3", "must not overlap"]),
    ([GOOD[0], {"question": 3, "answer": "x", "set": "retain"}], ["data.jsonl:2", "field 'question'"]),
])
def test_bad_jsonl(tmp_path, capsys, rows, expect):
    data = write(tmp_path / "data.jsonl", rows)
    out = tmp_path / "run"
    code, _, err = run_cli(["unlearn", "--model", str(tmp_path), "--data", str(data), "--out", str(out)], capsys)
    # the model dir is checked after the data, so the data error is what is reported
    assert code == 2, err
    for e in expect:
        assert e in err
    assert not out.exists() and not (tmp_path / "run.partial").exists()


def test_missing_model_dir(tmp_path, capsys):
    data = write(tmp_path / "data.jsonl", GOOD)
    code, _, err = run_cli(["unlearn", "--model", str(tmp_path / "nope"), "--data", str(data),
                            "--out", str(tmp_path / "run")], capsys)
    assert code == 2 and "nope" in err and "model directory not found" in err
    assert not (tmp_path / "run").exists()


def test_unknown_method_suggests(capsys):
    code, _, err = run_cli(["demo", "--method", "npoo"], capsys)
    assert code == 2 and "unknown method 'npoo'" in err and "did you mean 'npo'" in err


@pytest.mark.parametrize("yaml_text, key", [
    ("unlearn:\n  train:\n    lrr: 0.1\n", "unlearn.train.lrr"),
    ("unlearn:\n  train:\n    lr: fast\n", "unlearn.train.lr"),
    ("eval:\n  metrics: [accuracy, nonsense]\n", "eval.metrics"),
    ("unlearn:\n  sampler: melo\n", "unlearn.sampler"),
    ("unlearn:\n  method: npo\n  args:\n    betta: 1\n", "unlearn.args.betta"),
    ("world:\n  n_people: -3\n", "n_people"),
])
def test_bad_config(tmp_path, capsys, yaml_text, key):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml_text)
    code, _, err = run_cli(["demo", "--config", str(cfg), "--out", str(tmp_path / "run")], capsys)
    assert code == 2, err
    assert key in err
    assert not (tmp_path / "run").exists()


def test_bad_override(capsys):
    code, _, err = run_cli(["demo", "--set", "learn.epoch=3"], capsys)
    assert code == 2 and "learn.epoch" in err and "did you mean 'epochs'" in err


def test_help_and_ls_are_fast_and_list_everything():
    env = dict(os.environ)
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "oblivio", "--help"], capture_output=True, text=True, env=env)
    assert r.returncode == 0 and "unlearn" in r.stdout
    t_help = time.perf_counter() - t0
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "oblivio", "ls"], capture_output=True, text=True, env=env)
    t_ls = time.perf_counter() - t0
    assert r.returncode == 0
    for name in ("graddiff", "npo", "ga", "kl", "melu", "truth_ratio", "forget_quality", "mia_minkpp"):
        assert name in r.stdout
    assert "torch" not in r.stderr
    # generous bounds for a loaded CI machine; bench/ measures the real numbers
    assert t_help < 3 and t_ls < 4


def test_real_exit_code_from_process(tmp_path):
    bad = write(tmp_path / "d.jsonl", ["{oops"])
    r = subprocess.run([sys.executable, "-m", "oblivio", "eval", "--model", str(tmp_path), "--data", str(bad)],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "d.jsonl:1" in r.stderr


def test_demo_method_override_drops_the_default_methods_arguments() -> None:
    # the default recipe's arguments (its retain weight alpha) must not leak into another method
    from oblivio.api import DEFAULT_RECIPE
    from oblivio.cli import _config, build_parser
    d = DEFAULT_RECIPE
    c = _config(build_parser().parse_args(["demo"]))
    assert (c.unlearn.method, c.unlearn.args) == (d["method"], d["args"])
    c = _config(build_parser().parse_args(["demo", "--method", "ga", "--steps", "7"]))
    assert c.unlearn.method == "ga" and c.unlearn.args == {} and c.unlearn.train.max_steps == 7
