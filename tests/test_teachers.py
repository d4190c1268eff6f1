"""TRU's teachers (SPEC §6): template, local model, OpenAI-compatible endpoint on a real
loopback server (tests/chatserver.py), the disk cache, and the leak check."""
from __future__ import annotations

import pytest

from chatserver import ChatServer, model_responder
from oblivio.config import GenConfig
from oblivio.errors import InputError
from oblivio.teachers.base import Request, Target, forbidden_spans, leaked, parse_target, produce_targets
from oblivio.teachers.template import TemplateTeacher


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("OBLIVIO_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "texts"


def test_template_targets_never_leak_and_name_the_subject_only_if_asked(tiny_world):
    data, _ = tiny_world
    targets, rep = produce_targets(GenConfig(), data.forget)
    spans = forbidden_spans(data.forget)
    assert rep.accepted == len(data.forget) and rep.rejected_leak == rep.fallback == 0
    for it, t in zip(data.forget, targets):
        assert not leaked(t.reasoning + " " + t.response, spans, it.question)
        assert it.entity in t.reasoning and "scope" in t.reasoning
        assert "\n" not in t.reasoning + t.response               # an evaluation answer ends at a newline
    # a reverse question ("Who was born in Fendrul?") must not get its answer, the subject, named
    t = TemplateTeacher().target(Request("r1", "Who was born in Fendrul?", "Kroltraim Nounror", "birthplace", ()))
    assert "Kroltraim" not in t.reasoning + t.response and "place of birth" in t.reasoning


class Leaky:
    """A teacher that writes the forget answer of item 0 into every target, except odd items: None."""

    def __init__(self, secret: str) -> None:
        self.secret = secret

    def write(self, reqs):
        return [Target(f"I know it is {self.secret}.", "It is " + self.secret.upper() + "!") if i % 2 == 0 else None
                for i, _ in enumerate(reqs)]


def test_a_leaking_target_is_rejected_counted_and_replaced(tiny_world):
    data, _ = tiny_world
    forget = data.forget[:6]
    secret = forget[0].key
    targets, rep = produce_targets(GenConfig(), forget, teacher=Leaky(secret))
    assert rep.rejected_leak == 3 and rep.rejected_unparseable == 3 and rep.accepted == 0
    assert rep.fallback == 6 and rep.rejected_ids == [it.id for it in forget[::2]]
    want = TemplateTeacher().write([Request(it.id, it.question, it.entity, it.relation, tuple(it.targets))
                                    for it in forget])
    assert targets == want
    assert all(secret.lower() not in (t.reasoning + t.response).lower() for t in targets)


def test_leak_check_is_whole_word_case_insensitive_and_ignores_what_the_question_shows():
    assert leaked("born in FENDRUL, they say", ["Fendrul"]) == "Fendrul"
    assert leaked("born in Fendrulia", ["Fendrul"]) is None                      # another word
    assert leaked("Kroltraim was born", ["Kroltraim"], "Who is Kroltraim?") is None
    assert leaked("It was 1962.", ["1962"]) == "1962"


@pytest.mark.parametrize("text,want", [
    ("Reasoning: A is in scope.\nResponse: I can't say.", Target("A is in scope.", "I can't say.")),
    ("reasoning:  two\nlines here  RESPONSE: ok\n more", Target("two lines here", "ok more")),
    ("Response: only", None), ("", None), (None, None), ("Reasoning: x Response:   ", None),
])
def test_parse_target(text, want):
    assert parse_target(text) == want


def test_endpoint_teacher_serves_the_tiny_model_over_http_and_caches(tiny_world, cache, monkeypatch):
    data, wm = tiny_world
    monkeypatch.setenv("MY_KEY", "sekret")
    forget = data.forget[:4]
    with ChatServer(model_responder(str(wm.base_dir))) as srv:
        cfg = GenConfig(kind="endpoint", url=srv.url, endpoint_model="tiny", api_key_env="MY_KEY", max_new_tokens=24)
        targets, rep = produce_targets(cfg, forget)
        assert len(srv.requests) == 4 and rep.backend == {"generated": 4}
        r = srv.requests[0]
        assert r["auth"] == "Bearer sekret" and r["body"]["model"] == "tiny" and r["body"]["max_tokens"] == 24
        roles = [m["role"] for m in r["body"]["messages"]]
        assert roles == ["system", "user"]
        asked = {m["body"]["messages"][1]["content"] for m in srv.requests}
        assert all(any(it.question in a for a in asked) for it in forget)
        assert all(it.key not in " ".join(asked) for it in forget)          # the teacher never sees the answer
        # the tiny world model writes no "Reasoning: … Response: …": every output is rejected, counted
        assert rep.rejected_unparseable == 4 and rep.fallback == 4 and len(targets) == 4
        again, rep2 = produce_targets(cfg, forget)
        assert len(srv.requests) == 4 and rep2.backend == {"cached": 4} and again == targets
    assert len(list(cache.rglob("*.json"))) == 4


def test_endpoint_teacher_accepts_good_targets_and_rejects_leaks(tiny_world, cache):
    data, _ = tiny_world
    forget = data.forget[:4]
    leak_q = forget[1].question

    def respond(body):
        q = body["messages"][1]["content"]
        if leak_q in q:
            return 200, f"Reasoning: it is {forget[1].key}.\nResponse: {forget[1].key}."
        return 200, "Reasoning: This asks about a person in the unlearning scope.\nResponse: I can't share that."
    with ChatServer(respond) as srv:
        targets, rep = produce_targets(GenConfig(kind="endpoint", url=srv.url), forget)
    assert rep.accepted == 3 and rep.rejected_leak == 1 and rep.rejected_ids == [forget[1].id]
    assert targets[0] == Target("This asks about a person in the unlearning scope.", "I can't share that.")
    assert forget[1].key not in targets[1].response


def test_endpoint_retries_server_errors_and_limits_concurrency(cache):
    from oblivio.teachers.backends import EndpointBackend
    seen: dict[str, int] = {}

    def respond(body):
        q = body["messages"][-1]["content"]
        seen[q] = seen.get(q, 0) + 1
        return (503, "busy") if seen[q] == 1 else (200, "ok " + q)
    with ChatServer(respond, delay=0.05) as srv:
        be = EndpointBackend(srv.url, retries=2, concurrency=2, backoff=0.01)
        out = be.generate([[{"role": "user", "content": f"q{i}"}] for i in range(6)])
    assert out == [f"ok q{i}" for i in range(6)]
    assert len(srv.requests) == 12 and srv.max_in_flight <= 2


def test_endpoint_that_answers_nothing_is_an_input_error(cache):
    from oblivio.teachers.backends import EndpointBackend
    with ChatServer(lambda body: (400, "bad request")) as srv:
        be = EndpointBackend(srv.url, retries=3, backoff=0.01)
        with pytest.raises(InputError, match="answered none of 2"):
            be.generate([[{"role": "user", "content": "a"}], [{"role": "user", "content": "b"}]])
        assert len(srv.requests) == 2            # a 4xx is not retried
    be = EndpointBackend("http://127.0.0.1:9/v1", retries=1, backoff=0.01, timeout=2)
    with pytest.raises(InputError, match="ConnectError"):
        be.generate([[{"role": "user", "content": "a"}]])


def test_hf_teacher_uses_the_local_model_directory(tiny_world, cache):
    data, wm = tiny_world
    cfg = GenConfig(kind="hf", model=str(wm.base_dir), max_new_tokens=8, batch_size=3)
    targets, rep = produce_targets(cfg, data.forget[:4])
    assert rep.backend == {"generated": 4} and rep.rejected_unparseable == 4 and len(targets) == 4


@pytest.mark.parametrize("over,field", [
    ({"kind": "endpoint"}, "unlearn.teacher.url"), ({"kind": "hf"}, "unlearn.teacher.model"),
    ({"kind": "templat"}, "unlearn.teacher.kind"), ({"kind": "endpoint", "url": "ftp://x"}, "unlearn.teacher.url"),
    ({"concurrency": 0}, "unlearn.teacher.concurrency"), ({"timeout": 0.0}, "unlearn.teacher.timeout"),
])
def test_bad_teacher_config_names_the_key(over, field):
    from oblivio.config import load_config
    with pytest.raises(InputError) as ei:
        load_config(overrides={"unlearn": {"teacher": over}})
    assert ei.value.field == field


def test_the_documented_teacher_plugin_runs_by_dotted_path(tiny_world, tmp_path, monkeypatch):
    """docs/extending.md's teacher, written to a folder on sys.path as a user would."""
    import re
    import sys
    from pathlib import Path

    from oblivio.config import load_config
    doc = (Path(__file__).resolve().parents[1] / "docs" / "extending.md").read_text(encoding="utf-8")
    block = re.search(r"```python\n# file: myteachers.py\n(.*?)```", doc, flags=re.S)
    assert block is not None
    (tmp_path / "myteachers.py").write_text(block.group(1), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("myteachers", None)
    from oblivio.registry import TEACHERS
    TEACHERS.discover()
    monkeypatch.setattr(TEACHERS, "_items", dict(TEACHERS._items))
    cfg = load_config(overrides={"unlearn": {"teacher": {"kind": "myteachers:Polite"}}}).unlearn.teacher
    data, _ = tiny_world
    targets, rep = produce_targets(cfg, data.forget[:3])
    assert rep.accepted == 3 and targets[0].response.startswith("I'd rather not say")
    assert targets[0].reasoning == f"{data.forget[0].entity} is in the unlearning scope."
