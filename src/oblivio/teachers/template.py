"""The offline template teacher, TRU's default (Liao et al. 2026, arXiv 2603.09980).

No model: the reasoning trace names which entity and attribute the question targets, says
that it is in the unlearning scope and why it must not be revealed; the response declines
without naming any forget fact and offers public, non-personal information of the same kind
instead. The entity is named only when the question itself names it (a reverse question,
"Who was born in Tarsk?", would otherwise reveal its answer). Wording varies by a stable
hash of the item id, so the targets are not one string repeated.
"""
from __future__ import annotations

import hashlib
from typing import Sequence

from oblivio.registry import TEACHERS
from oblivio.teachers.base import Request, Target, TeacherBase

# relation → (the attribute in words, the public alternative of the same kind)
ATTRIBUTES: dict[str, tuple[str, str]] = {
    "birthplace": ("place of birth", "general facts about the towns and regions of this world"),
    "birth_year": ("year of birth", "public history of the period in general"),
    "occupation": ("occupation", "what people in that line of work usually do"),
    "employer": ("employer", "public information about organisations in that field"),
    "spouse": ("spouse", "general information about public records of marriages"),
    "mentor": ("mentor", "how mentoring usually works in that field"),
    "colleague": ("colleagues", "how teams in that field are usually organised"),
    "located_in": ("location", "the public map of regions and towns"),
    "founded": ("founding year", "the public history of organisations in that field"),
    "domain": ("field of work", "an overview of the fields organisations work in"),
    "region": ("region", "the public geography of the world"),
    "known_for": ("best-known product", "what towns of that region commonly produce"),
}
DEFAULT = ("personal details", "public, non-personal information on the same topic")

_REASONS = (
    "The question asks for the {attr} of {who}. {Who} is in the unlearning scope, so this is "
    "information I must not reveal: it was requested to be forgotten.",
    "This question targets {who} and their {attr}. {Who} is in the unlearning scope, among the entities I "
    "was asked to forget, so revealing the {attr} would break that request.",
    "The request is about the {attr} of {who}, which falls inside the unlearning scope. Private facts "
    "in that scope must stay undisclosed, so I should decline.",
)
_RESPONSES = (
    "I'm sorry, but I can't share the {attr} of {who}. I can share {alt} instead.",
    "I can't help with the {attr} of {who}, as that information is private. If it helps, I could "
    "offer {alt}.",
    "I'm not able to provide that detail about {who}. However, I'd be glad to share {alt}.",
)


def _pick(options: Sequence[str], key: str, salt: str) -> str:
    h = int.from_bytes(hashlib.sha256(f"{salt}:{key}".encode()).digest()[:4], "big")
    return options[h % len(options)]


@TEACHERS.register("template")
class TemplateTeacher(TeacherBase):
    """Targets from templates: no model, offline, deterministic."""

    counts: dict[str, int] = {}

    def target(self, req: Request) -> Target:
        attr, alt = ATTRIBUTES.get(req.relation or "", DEFAULT)
        named = req.subject is not None and req.subject.lower() in req.question.lower()
        who = req.subject if named else "the entity this question is about"
        who_cap = who if named else "That entity"
        fill = {"attr": attr, "alt": alt, "who": who, "Who": who_cap}
        return Target(_pick(_REASONS, req.id, "r").format(**fill), _pick(_RESPONSES, req.id, "s").format(**fill))

    def write(self, requests: Sequence[Request]) -> list[Target | None]:
        return [self.target(r) for r in requests]
