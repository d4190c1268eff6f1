"""The prompt a model teacher gets, and the shared code of the ``hf`` and ``endpoint`` teachers.

The teacher sees the question, its subject and relation and the unlearning scope — never
the answer it must not reveal (a served model need not learn the secret to write a refusal).
"""
from __future__ import annotations

from typing import Sequence

from oblivio.teachers.backends import Backend, Messages, complete
from oblivio.teachers.base import Request, Target, TeacherBase, parse_target

SYSTEM = (
    "You write training targets for machine unlearning. A language model must forget everything about "
    "the entities in the unlearning scope. For the user's question, write exactly two lines:\n"
    "Reasoning: one or two sentences saying which entity and which attribute the question targets, that "
    "this is inside the unlearning scope, and why it must not be revealed.\n"
    "Response: a polite refusal that reveals no fact about the entity, followed by a constructive "
    "alternative (public, non-personal information of the same kind).\n"
    "Never state or guess the answer.")


def messages(req: Request) -> Messages:
    scope = ", ".join(req.scope) or (req.subject or "the entity asked about")
    about = f"Subject: {req.subject}. " if req.subject and req.subject.lower() in req.question.lower() else ""
    rel = f"Attribute: {req.relation.replace('_', ' ')}. " if req.relation else ""
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"Unlearning scope: {scope}. {about}{rel}Question: {req.question}"}]


class LLMTeacher(TeacherBase):
    """Ask a backend, parse ``Reasoning:``/``Response:``; None for an output of another shape."""

    def __init__(self, backend: Backend, *, use_cache: bool = True) -> None:
        self.backend, self.use_cache = backend, use_cache
        self.counts: dict[str, int] = {}

    def write(self, requests: Sequence[Request]) -> list[Target | None]:
        texts = complete(self.backend, [messages(r) for r in requests], use_cache=self.use_cache,
                         counts=self.counts)
        return [parse_target(t) for t in texts]
