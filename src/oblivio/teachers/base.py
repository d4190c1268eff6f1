"""TRU's targets: what a teacher writes, how it is checked, and the one entry point.

Liao et al. 2026 (arXiv 2603.09980, "Explainable LLM Unlearning through Reasoning"):
for each forget prompt a teacher writes a reasoning trace r (what the question
targets, that it is in the unlearning scope, why it must not be revealed) and a response s
(a refusal that reveals nothing of the scope, with a constructive alternative).

:func:`produce_targets` asks the configured teacher for every forget item and **validates**
each target: one that contains a forget answer (an item's ``key``, or a short answer) that
its own question does not already show is *rejected*, as is an output that does not parse;
both are counted, and the item gets the template teacher's target instead (which is
validated too). The counts go to the run's results (``training.method_report``).

A teacher class inherits :class:`TeacherBase` (the default ``from_config``); one from
outside that does not is given it by the registry.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Protocol, Self, Sequence, cast

from oblivio.data.schema import QAItem
from oblivio.registry import TEACHERS


@dataclass(frozen=True)
class Target:
    reasoning: str
    response: str


@dataclass(frozen=True)
class Request:
    """One forget prompt for a teacher: the question and what it is about (never its answer)."""
    id: str
    question: str
    subject: str | None          # the entity asked about, when the data says (``entity``)
    relation: str | None
    scope: tuple[str, ...]       # the forget targets


@dataclass
class TeacherReport:
    teacher: str
    items: int = 0
    accepted: int = 0
    rejected_leak: int = 0
    rejected_unparseable: int = 0
    fallback: int = 0                              # items given the template's target instead
    backend: dict[str, int] = field(default_factory=dict)   # cached / generated / failed
    rejected_ids: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _norm(text: str) -> str:
    return " " + re.sub(r"[^0-9a-z]+", " ", text.lower()).strip() + " "


def forbidden_spans(forget: Sequence[QAItem]) -> list[str]:
    """The forget answers a target must not contain: each item's ``key``, else its answer
    when short (≤ 4 words; a sentence-long answer such as TOFU's cannot be matched as a whole)."""
    spans = {it.key or (it.answer if len(it.answer.split()) <= 4 else "") for it in forget}
    return sorted(s for s in spans if s.strip())


def leaked(text: str, spans: Sequence[str], question: str = "") -> str | None:
    """The first span found in ``text`` (whole words, case and punctuation ignored) that the
    question itself does not contain; None when the text reveals none."""
    t, q = _norm(text), _norm(question)
    for s in spans:
        n = _norm(s)
        if n.strip() and n in t and n not in q:
            return s
    return None


def request_of(it: QAItem) -> Request:
    return Request(it.id, it.question, it.entity, it.relation, tuple(it.targets))


_PARSE = re.compile(r"reasoning\s*[:：]\s*(?P<r>.+?)\s*response\s*[:：]\s*(?P<s>.+)", re.I | re.S)


def parse_target(text: str | None) -> Target | None:
    """``Reasoning: … Response: …`` → Target (whitespace collapsed to one line: an evaluation
    answer ends at a newline); None when the text has not that shape."""
    if not text:
        return None
    m = _PARSE.search(text)
    if m is None:
        return None
    r, s = (" ".join(m.group(g).split()) for g in ("r", "s"))
    return Target(r, s) if r and s else None


class Teacher(Protocol):
    """A teacher (docs/extending.md): ``write`` is required, ``from_config`` has a default."""

    @classmethod
    def from_config(cls, cfg: Any) -> Self:
        """The teacher of the ``unlearn.teacher`` section (a config.GenConfig); by default
        built without arguments."""
        return cls()

    def write(self, requests: Sequence[Request]) -> list[Target | None]:
        """One target per request, None where it has none."""
        ...


class TeacherBase(Teacher):
    """The defaults of :class:`Teacher` as a base class (every built-in teacher inherits it)."""


def make_teacher(cfg: Any) -> Teacher:
    """The teacher of a config.GenConfig (``kind`` names a registered teacher)."""
    cls = cast("type[Teacher]", TEACHERS.get(cfg.kind, field="unlearn.teacher.kind"))   # TEACHERS: TeacherBase's
    return cls.from_config(cfg)


def produce_targets(cfg: Any, forget: Sequence[QAItem], *, teacher: Any = None) -> tuple[list[Target], TeacherReport]:
    """One validated target per forget item (see module docstring)."""
    teacher = teacher if teacher is not None else make_teacher(cfg)
    reqs = [request_of(it) for it in forget]
    spans = forbidden_spans(forget)
    rep = TeacherReport(teacher=getattr(cfg, "kind", type(teacher).__name__), items=len(reqs))
    got = teacher.write(reqs)
    rep.backend = dict(getattr(teacher, "counts", {}))
    fallback = TEACHERS.get("template")()     # by name: template.py imports this module
    out: list[Target] = []
    for req, t in zip(reqs, got, strict=True):
        if t is None:
            rep.rejected_unparseable += 1
        elif leaked(f"{t.reasoning} {t.response}", spans, req.question):
            rep.rejected_leak += 1
            rep.rejected_ids.append(req.id)
            t = None
        else:
            rep.accepted += 1
        if t is None:
            rep.fallback += 1
            t = fallback.write([req])[0]
            assert t is not None
            if leaked(f"{t.reasoning} {t.response}", spans, req.question):
                t = fallback.write([Request(req.id, req.question, None, req.relation, ())])[0]
                assert t is not None
        out.append(t)
    return out, rep
