"""Secrets and network for the teacher and judge endpoints (issue 21, item 1).

A key comes only from the variable the command line names (``--teacher-key-env`` /
``--judge-key-env``), never from a config file; an endpoint off this machine needs
``--allow-remote-endpoints``; no file a run writes, nor the text cache, holds the key. Proved
with a real chat server on 127.0.0.1 (tests/chatserver.py) that records each request's
``Authorization`` header. Nothing here connects anywhere but loopback: the autouse guard
fails a test at the first attempt.
"""
from __future__ import annotations

import ipaddress
import json
import socket
from pathlib import Path
from typing import Any

import pytest
import yaml

from chatserver import ChatServer
from oblivio.errors import InputError

REMOTE = "http://10.255.255.1:9/v1"
VERDICT_UQ = json.dumps({"relevance": 6, "rejection": 2, "helpfulness": 1})
VERDICT_RQ = "readability: 9, specificity: 6, logic: 9"
TARGET = "Reasoning: This asks about a person in the unlearning scope.\nResponse: I can't share that."


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """Any socket connect to an address other than loopback fails the test (before it leaves)."""
    real = socket.socket.connect
    attempts: list[Any] = []

    def connect(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        try:
            ok = isinstance(host, str) and ipaddress.ip_address(host.split("%")[0]).is_loopback
        except ValueError:
            ok = False
        if not ok:
            attempts.append(address)
            raise AssertionError(f"a connection to {address!r} was attempted")
        return real(self, address)
    monkeypatch.setattr(socket.socket, "connect", connect)
    yield attempts
    assert not attempts


def _no_requests(monkeypatch) -> None:
    import httpx

    def fail(*a: Any, **k: Any) -> Any:
        raise AssertionError("an HTTP request was sent")
    monkeypatch.setattr(httpx.Client, "send", fail)
    monkeypatch.setattr(httpx.Client, "post", fail)


def _respond(body: dict[str, Any]) -> tuple[int, str]:
    """Teacher targets for model "the-teacher", rubric verdicts for the judge."""
    system = body["messages"][0]["content"]
    if body.get("model") == "the-teacher":
        return 200, TARGET
    return 200, VERDICT_UQ if "relevance" in system else VERDICT_RQ


# --- the URL policy -----------------------------------------------------------------------

@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/v1", "http://localhost:8000/v1", "http://LOCALHOST/v1",
                                 "https://127.5.6.7/v1", "http://[::1]:8000/v1", "http://127.0.0.1/"])
def test_loopback_urls_are_allowed(url):
    from oblivio.endpoints import check_endpoint_url
    check_endpoint_url(url, allow_remote=False)


@pytest.mark.parametrize("url", [REMOTE, "http://example.invalid/v1", "http://127.0.0.1.evil.com/v1",
                                 "http://0x7f000001/v1", "http://2130706433/v1", "http://localhost.evil.com/v1",
                                 "http://[::ffff:10.0.0.1]/v1", "http://10.0.0.1#@127.0.0.1/v1"])
def test_other_hosts_need_the_flag(url):
    from oblivio.endpoints import check_endpoint_url
    with pytest.raises(InputError) as ei:
        check_endpoint_url(url, allow_remote=False, field="eval.judge.url")
    assert ei.value.field == "eval.judge.url"
    assert "--allow-remote-endpoints" in str(ei.value) or "#" in url


@pytest.mark.parametrize("url", ["http://user:pass@127.0.0.1:8000/v1", "http://localhost@evil.com/v1",
                                 "http://evil.com\\@127.0.0.1/v1", "http://127.0.0.1:8000/v1?api_key=s3cr3t",
                                 "http://127.0.0.1:8000/v1#x", "http://127.0.0.1\t.evil.com/v1",
                                 "http://127.0.0.1:99999/v1", "ftp://127.0.0.1/v1", "http:///v1"])
def test_credentials_and_odd_urls_are_refused_even_when_remote_is_allowed(url):
    from oblivio.endpoints import check_endpoint_url
    with pytest.raises(InputError) as ei:
        check_endpoint_url(url, allow_remote=True, field="unlearn.teacher.url")
    assert ei.value.field == "unlearn.teacher.url"
    if "@" in url and "\\" not in url:
        assert "user name or password" in str(ei.value)


def test_remote_with_permission_passes_the_check():
    from oblivio.endpoints import check_endpoint_url
    from oblivio.teachers.backends import EndpointBackend
    assert check_endpoint_url(REMOTE, allow_remote=True) == "10.255.255.1"
    EndpointBackend(REMOTE, allow_remote=True)      # built; nothing sent


# --- the backend: key and host ------------------------------------------------------------

def test_backend_sends_a_key_only_from_the_variable_it_is_given(monkeypatch, tmp_path):
    from oblivio.teachers.backends import EndpointBackend
    monkeypatch.setenv("OBLIVIO_CACHE", str(tmp_path / "c"))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-the-old-default")      # no longer read by default
    monkeypatch.setenv("OBLIVIO_T_KEY", "sk-named-on-the-command-line")
    msgs = [[{"role": "user", "content": "hi"}]]
    with ChatServer(lambda body: (200, "ok")) as srv:
        assert EndpointBackend(srv.url).generate(msgs) == ["ok"]
        assert EndpointBackend(srv.url, api_key_env="OBLIVIO_T_KEY").generate(msgs) == ["ok"]
        monkeypatch.delenv("OBLIVIO_T_KEY")
        with pytest.raises(InputError) as ei:      # named but unset: an error, not a request without the key
            EndpointBackend(srv.url, api_key_env="OBLIVIO_T_KEY")
        assert "OBLIVIO_T_KEY" in str(ei.value) and "not set" in str(ei.value)
    assert [r["auth"] for r in srv.requests] == [None, "Bearer sk-named-on-the-command-line"]


def test_backend_refuses_a_remote_url_before_any_request(monkeypatch):
    from oblivio.config import GenConfig
    from oblivio.judges.base import make_judge
    from oblivio.teachers.backends import EndpointBackend
    from oblivio.teachers.base import make_teacher
    _no_requests(monkeypatch)
    monkeypatch.setenv("OBLIVIO_T_KEY", "sk-never-sent")
    for build in (lambda: EndpointBackend(REMOTE, api_key_env="OBLIVIO_T_KEY"),
                  lambda: make_teacher(GenConfig(kind="endpoint", url=REMOTE, api_key_env="OBLIVIO_T_KEY")),
                  lambda: make_judge(GenConfig(kind="endpoint", url=REMOTE))):
        with pytest.raises(InputError, match="--allow-remote-endpoints"):
            build()
    # the Python API's switch reaches both endpoints
    from oblivio.config import Config, EvalConfig, UnlearnConfig
    cfg = Config(allow_remote_endpoints=True, unlearn=UnlearnConfig(teacher=GenConfig(kind="endpoint", url=REMOTE)),
                 eval=EvalConfig(judge=GenConfig(kind="endpoint", url=REMOTE)))
    assert cfg.unlearn.teacher.allow_remote and cfg.eval.judge.allow_remote
    make_teacher(cfg.unlearn.teacher)
    make_judge(cfg.eval.judge)


def test_an_error_echoing_the_key_does_not_carry_it(monkeypatch, tmp_path):
    from oblivio.teachers.backends import EndpointBackend
    monkeypatch.setenv("OBLIVIO_CACHE", str(tmp_path / "c"))
    monkeypatch.setenv("OBLIVIO_T_KEY", "sk-echoed-back-by-the-server")
    srv = ChatServer(lambda body: (400, f"bad key {srv.requests[-1]['auth']}"))
    with srv, pytest.raises(InputError) as ei:
        EndpointBackend(srv.url, api_key_env="OBLIVIO_T_KEY", concurrency=1).generate(
            [[{"role": "user", "content": "hi"}]])
    assert "bad key Bearer ***" in str(ei.value) and "sk-echoed" not in str(ei.value)


# --- config files and the command line ----------------------------------------------------

def _config_file(tmp_path: Path, tiny_cfg: Any, judge: dict[str, Any], **top: Any) -> Path:
    from oblivio.config import to_dict
    d = to_dict(tiny_cfg)
    d["eval"].update({"metrics": ["uq", "rq"], "max_items_per_role": 2, "bootstrap": 0})
    d["eval"]["judge"].update(judge)
    d.update(top)
    f = tmp_path / "shared.yaml"
    f.write_text(yaml.safe_dump(d))
    return f


def _main(argv: list[str]) -> int:
    from oblivio.cli import main
    with pytest.raises(SystemExit) as ei:
        main(argv)
    return int(ei.value.code or 0)


def test_a_config_file_cannot_allow_a_remote_endpoint(tiny_cfg, tmp_path, monkeypatch, capsys):
    from oblivio.cli import _config, build_parser
    _no_requests(monkeypatch)
    f = _config_file(tmp_path, tiny_cfg, {"kind": "endpoint", "url": REMOTE, "allow_remote": True},
                     allow_remote_endpoints=True)
    assert _main(["unlearn", "--config", str(f), "--steps", "1", "--out", str(tmp_path / "run"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "eval.judge.url" in err and "--allow-remote-endpoints" in err and "10.255.255.1" in err
    assert "allow_remote_endpoints: true is ignored" in err and "eval.judge.allow_remote: true is ignored" in err
    assert not (tmp_path / "run").exists()
    # the teacher's URL likewise; the flag on the command line lets both pass validation (nothing is sent)
    f2 = _config_file(tmp_path, tiny_cfg, {"kind": "endpoint", "url": REMOTE})
    raw = yaml.safe_load(f2.read_text())
    raw["unlearn"]["teacher"].update({"kind": "endpoint", "url": "http://example.invalid/v1"})
    f2.write_text(yaml.safe_dump(raw))
    assert _main(["unlearn", "--config", str(f2), "--method", "tru", "--out", str(tmp_path / "run")]) == 2
    assert "unlearn.teacher.url" in capsys.readouterr().err
    cfg = _config(build_parser().parse_args(["unlearn", "--config", str(f2), "--allow-remote-endpoints"]))
    assert cfg.allow_remote_endpoints and cfg.eval.judge.allow_remote and cfg.unlearn.teacher.allow_remote


def test_userinfo_in_a_config_url_is_refused(tiny_cfg, tmp_path, monkeypatch, capsys):
    _no_requests(monkeypatch)
    f = _config_file(tmp_path, tiny_cfg, {"kind": "endpoint", "url": "http://me:s3cr3t@127.0.0.1:1/v1"})
    assert _main(["unlearn", "--config", str(f), "--allow-remote-endpoints", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "eval.judge.url" in err and "user name or password" in err


def test_a_named_but_unset_key_variable_is_an_input_error(tiny_cfg, tmp_path, monkeypatch, capsys):
    _no_requests(monkeypatch)
    monkeypatch.delenv("OBLIVIO_UNSET_KEY", raising=False)
    f = _config_file(tmp_path, tiny_cfg, {"kind": "endpoint", "url": "http://127.0.0.1:1/v1"})
    assert _main(["unlearn", "--config", str(f), "--judge-key-env", "OBLIVIO_UNSET_KEY",
                  "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "eval.judge.api_key_env" in err and "OBLIVIO_UNSET_KEY" in err and "--judge-key-env" in err
    assert _main(["unlearn", "--config", str(f), "--teacher-key-env", "NOT A NAME",
                  "--out", str(tmp_path / "r")]) == 2
    assert "unlearn.teacher.api_key_env" in capsys.readouterr().err


def test_eval_with_a_config_file_naming_a_key_sends_none(tiny_cfg, tiny_world, tmp_path, monkeypatch, capsys):
    """The measured bug: a shared config naming AWS_SECRET_ACCESS_KEY made the judge send it."""
    _, wm = tiny_world
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-secret-from-the-environment")
    with ChatServer(_respond) as srv:
        f = _config_file(tmp_path, tiny_cfg, {"kind": "endpoint", "url": srv.url,
                                               "api_key_env": "AWS_SECRET_ACCESS_KEY"})
        code = _main(["eval", "--config", str(f), "--model", str(wm.base_dir), "--quiet",
                      "--out", str(tmp_path / "e.json")])
    err = capsys.readouterr().err
    assert code == 0, err
    assert srv.requests and all(r["auth"] is None for r in srv.requests)
    assert "eval.judge.api_key_env: 'AWS_SECRET_ACCESS_KEY' is ignored" in err and "--judge-key-env" in err


def _files_holding(root: Path, secrets: list[str]) -> list[str]:
    hits = []
    for p in root.rglob("*"):
        if p.is_file():
            data = p.read_bytes()
            hits += [f"{p}: {s}" for s in secrets if s.encode() in data]
    return hits


def test_cli_keys_reach_teacher_and_judge_and_no_run_file_holds_them(tiny_cfg, tiny_world, tmp_path, monkeypatch,
                                                                      capsys):
    """One TRU run: teacher and judge on a loopback server, each with the key named on the
    command line; the config file's key variable is ignored; then every file of the run
    folder, the whole cache and the output are searched for each secret."""
    from oblivio.config import load_config
    from oblivio.models.cache import cache_root
    secrets = {"AWS_SECRET_ACCESS_KEY": "aws-secret-3f9c1e", "OBLIVIO_TEACHER_KEY": "teacher-secret-8a2d7b",
               "OBLIVIO_JUDGE_KEY": "judge-secret-51e0c4"}
    for k, v in secrets.items():
        monkeypatch.setenv(k, v)
    out = tmp_path / "run"
    with ChatServer(_respond) as srv:
        f = _config_file(tmp_path, tiny_cfg, {"kind": "endpoint", "url": srv.url, "endpoint_model": "the-judge",
                                               "api_key_env": "AWS_SECRET_ACCESS_KEY"})
        code = _main(["unlearn", "--config", str(f), "--method", "tru", "--steps", "1", "--teacher", "endpoint",
                      "--teacher-url", srv.url, "--set", "unlearn.teacher.endpoint_model=the-teacher",
                      "--teacher-key-env", "OBLIVIO_TEACHER_KEY", "--judge-key-env", "OBLIVIO_JUDGE_KEY",
                      "--out", str(out), "--quiet"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    by_model: dict[str, set[Any]] = {}
    for r in srv.requests:
        by_model.setdefault(r["body"]["model"], set()).add(r["auth"])
    assert by_model == {"the-teacher": {"Bearer teacher-secret-8a2d7b"}, "the-judge": {"Bearer judge-secret-51e0c4"}}
    assert "AWS_SECRET_ACCESS_KEY" in captured.err and "is ignored" in captured.err
    rec = json.loads((out / "results.json").read_text())
    assert rec["training"]["method_report"]["accepted"] > 0           # the served targets were used
    assert rec["judge"]["judge"] == {"kind": "endpoint", "url": srv.url, "endpoint_model": "the-judge"}
    assert {p.name for p in out.iterdir()} >= {"results.json", "config.yaml", "summary.md"}
    assert _files_holding(out, list(secrets.values())) == []
    assert _files_holding(cache_root(), list(secrets.values())) == []
    assert (cache_root() / "texts").is_dir()
    assert not any(s in captured.out + captured.err for s in secrets.values())
    # the run folder, handed to someone else, carries no key variable and no permission
    again = load_config(out / "config.yaml")
    assert again.eval.judge.api_key_env is None and again.unlearn.teacher.api_key_env is None
