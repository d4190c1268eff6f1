"""The QA item schema shared by every loader, the world generator, training and evaluation.

An item is one question/answer pair with a **set role**. Roles:

* ``forget`` — what must be forgotten;
* retain roles used during unlearning: ``direct`` (facts about entities one relation away
  from a target), ``indirect`` (same domain, not directly linked), ``general`` (unrelated
  knowledge) and ``retain`` (one undifferentiated retain set, e.g. TOFU without a map);
* their held-out rows, learned in training and never shown to unlearning, in a validation
  and a test portion: ``direct_val`` / ``direct_test``, ``indirect_val`` … ``retain_test``;
* ``holdout``: never trained at all (non-members for membership inference);
* evaluation-only knowledge sets ``real_authors`` and ``world_facts`` (TOFU's): what a
  pretrained model knew before fine-tuning; never trained or unlearned here, only scored
  (TOFU's model utility, with its option-normalised probability).

Rows of ``forget``, ``holdout`` and the evaluation-only sets carry their portion in
``QAItem.portion`` (JSONL: ``"set": "forget_val"``); every selection reads the validation
portion, every reported number the test portion (:mod:`oblivio.roles`,
:mod:`oblivio.data.portions`).

Neighbour roles follow Bushipaka et al. 2025 (arXiv 2509.05316), TOFU's fields follow
Maini et al. 2024 (arXiv 2401.06121).
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from oblivio.errors import InputError
from oblivio.roles import (  # noqa: F401  (re-exported)
    EVAL_ROLES,
    HELD_ROLES,
    RETAIN_ROLES,
    ROLES,
    SET_NAMES,
    SPLIT_BASES,
    TEST_ROLES,
    VAL_ROLES,
    eval_name,
    split_set_name,
)


@dataclass(frozen=True)
class QAItem:
    """One question/answer pair. Optional fields feed optional metrics (docs/reference/data-schema.md)."""

    id: str
    question: str
    answer: str
    role: str
    entity: str | None = None                  # the subject the item is about
    mentions: tuple[str, ...] = ()             # every entity named in question or answer
    key: str | None = None                     # the answer span that must appear (accuracy)
    paraphrased_question: str | None = None    # a phrasing never trained (in-scope generalisation)
    paraphrased_question_answer: str | None = None  # its answer sentence (default: answer)
    paraphrased_answer: str | None = None      # TOFU truth-ratio denominator
    perturbed_answers: tuple[str, ...] = ()    # plausible wrong answers (truth ratio)
    targets: tuple[str, ...] = ()              # forget targets this item belongs to / neighbours
    fact: str | None = None                    # items with the same fact share a role and a portion
    # "val" | "test": the portion an evaluated row is in (forget, holdout and evaluation-only
    # rows; a held-out retain row's is its role's suffix); None: not evaluated by portion
    portion: str | None = None
    relation: str | None = None
    # probes that a model learns with the item but unlearning never sees (data/probes.py):
    # the question in a second language (learned), its answer, a second-language phrasing
    # never trained (the cross-lingual attack asks it), the key in that language (default: key)
    xl_question: str | None = None
    xl_answer: str | None = None
    xl_paraphrased_question: str | None = None
    xl_key: str | None = None
    # the reverse query (object -> subject; learned, never unlearned) and its answer span
    reverse_question: str | None = None
    reverse_answer: str | None = None
    reverse_key: str | None = None
    origin: str | None = field(default=None, compare=False)  # "file:line" for messages
    # free-form user data, carried through untouched (the only place for extra fields)
    meta: dict[str, Any] | None = field(default=None, compare=False)

    def to_json(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["set"] = eval_name(d.pop("role"), d.pop("portion"))
        d.pop("origin")
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()
                if v not in (None, (), [])}


# the probe fields (cross-lingual, reverse): learned by base/gold, never unlearned
PROBE_FIELDS = ("xl_question", "xl_answer", "xl_paraphrased_question", "xl_key", "reverse_question",
                "reverse_answer", "reverse_key")
_STR_FIELDS = ("id", "question", "answer", "entity", "key", "paraphrased_question",
               "paraphrased_question_answer", "paraphrased_answer", "fact", "relation", *PROBE_FIELDS)
# a field that needs another: (field, the field it needs, why)
_NEEDS = (("paraphrased_question_answer", "paraphrased_question",
           "the answer of a paraphrased question needs that question"),
          ("xl_question", "xl_answer", "a second-language question needs its answer"),
          ("xl_paraphrased_question", "xl_answer", "a second-language probe needs the answer it is scored on"),
          ("xl_key", "xl_answer", "a second-language key belongs to a second-language answer"),
          ("xl_answer", "xl_question", "the second-language answer is learned with xl_question"),
          ("reverse_question", "reverse_answer", "a reverse question needs its answer"),
          ("reverse_question", "reverse_key", "a reverse question is scored on its key (the subject)"),
          ("reverse_answer", "reverse_question", "a reverse answer needs its question"),
          ("reverse_key", "reverse_question", "a reverse key needs its question"))
_LIST_FIELDS = ("mentions", "perturbed_answers", "targets")
# every field a JSONL row may carry; anything else is an error with a did-you-mean, and
# free-form extras go under "meta" (an object kept as is)
KNOWN_FIELDS = frozenset(("set", *_STR_FIELDS, *_LIST_FIELDS, "meta"))


def item_from_json(obj: Any, *, file: str, line: int, default_role: str | None = None,
                   extra_fields: Iterable[str] = ()) -> QAItem:
    """Validate one parsed JSON object; every problem names file, line and field.

    ``extra_fields``: source-specific fields a loader maps itself (TOFU's ``author``); any
    other field outside :data:`KNOWN_FIELDS` is an error naming the closest known field.
    """
    from oblivio.data.strict import check_fields
    if not isinstance(obj, dict):
        raise InputError("expected a JSON object", file=file, line=line)
    check_fields(obj, KNOWN_FIELDS | frozenset(extra_fields), file=file, line=line)
    for req in ("question", "answer"):
        if req not in obj:
            raise InputError("missing required field", file=file, line=line, field=req)
    role = obj.get("set", default_role)
    if role is None:
        raise InputError("missing required field" if "set" not in obj else "must be a role name, got null",
                         file=file, line=line, field="set")
    if not isinstance(role, str) or role not in SET_NAMES:
        import difflib
        close = difflib.get_close_matches(role, SET_NAMES, n=1) if isinstance(role, str) else []
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise InputError(f"unknown set role {role!r}{hint} (known: {', '.join(SET_NAMES)})",
                         file=file, line=line, field="set")
    role, portion = split_set_name(role)
    kw: dict[str, Any] = {}
    for f in _STR_FIELDS:
        if f not in obj:
            continue
        v = obj[f]
        if not isinstance(v, str):
            got = "null (leave the field out instead)" if v is None else type(v).__name__
            raise InputError(f"expected a string, got {got}", file=file, line=line, field=f)
        kw[f] = v
    for f in _LIST_FIELDS:
        if f not in obj:
            continue
        v = obj[f]
        if isinstance(v, str):
            v = [v]
        if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
            raise InputError("expected a list of strings", file=file, line=line, field=f)
        kw[f] = tuple(v)
    if "meta" in obj:
        if not isinstance(obj["meta"], dict):
            raise InputError(f"expected a JSON object, got {type(obj['meta']).__name__}", file=file,
                             line=line, field="meta")
        kw["meta"] = obj["meta"]
    for f in ("question", "answer", *(f for f in PROBE_FIELDS if f in kw)):
        if not kw[f].strip():
            raise InputError("must not be empty", file=file, line=line, field=f)
    for f, needed, why in _NEEDS:
        if f in kw and needed not in kw:
            raise InputError(f"needs the field '{needed}' ({why})", file=file, line=line, field=f)
    kw.setdefault("id", f"{Path(file).name}:{line}")
    if "entity" in kw and not kw.get("mentions"):
        kw["mentions"] = (kw["entity"],)
    return QAItem(role=role, portion=portion, origin=f"{file}:{line}", **kw)


def jsonl_rows(path: str | Path, *, what: str = "data file") -> list[tuple[int, dict[str, Any]]]:
    """(line number, object) for every non-blank line of a JSONL file. A missing file, a
    directory, a file that is not UTF-8 text, bad JSON, non-finite or oversized numbers,
    nesting too deep, lone surrogates, duplicate keys or a line that is not a JSON object is
    an :class:`InputError` naming file and line (see :mod:`oblivio.textio`)."""
    from oblivio.textio import parse_json_line, read_text_lines
    p = Path(path)
    rows: list[tuple[int, dict[str, Any]]] = []
    for n, raw in read_text_lines(p, what=what):
        if not raw.strip():
            continue
        if not rows and raw.strip() in ("[", "{"):
            raise InputError("a JSON document spread over several lines; the file must be JSONL: one JSON "
                             "object per line", file=str(p), line=n)
        obj = parse_json_line(raw, file=str(p), line=n)
        if not isinstance(obj, dict):
            hint = " (the file must be JSONL: one JSON object per line)" if isinstance(obj, list) else ""
            raise InputError(f"expected a JSON object, got {type(obj).__name__}{hint}", file=str(p), line=n)
        rows.append((n, obj))
    return rows


def read_jsonl(path: str | Path, *, default_role: str | None = None) -> list[QAItem]:
    """Read and validate a JSONL file of QA items (blank lines allowed)."""
    p = Path(path)
    items = [item_from_json(obj, file=str(p), line=n, default_role=default_role) for n, obj in jsonl_rows(p)]
    if not items:
        raise InputError("file holds no items", file=str(p))
    return items


def write_jsonl(items: Iterable[QAItem], path: str | Path) -> None:
    """Write items atomically (temporary file, then rename)."""
    from oblivio.atomic import open_atomic
    with open_atomic(path) as fh:
        for it in items:
            fh.write(json.dumps(it.to_json(), ensure_ascii=False) + "\n")


@dataclass
class UnlearningData:
    """All items of one unlearning problem, with their roles. Validated on construction."""

    items: list[QAItem]
    name: str = "data"
    targets: tuple[str, ...] = ()
    neighbour_roles: bool = True   # False: retain is one undifferentiated role (e.g. TOFU)
    # how the items were generated (the embedded world's full config), when they were: the
    # model cache keys on it, so the same world gives the same key on every path
    source: dict[str, Any] | None = None
    targets_rule: str = ""         # how ``targets`` were chosen (named in the run summary)
    # where the items were read from when that is not a file the user named (TOFU: its folder,
    # or the Hugging Face repository and revision): results.json ``data.provenance``
    provenance: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        self.validate()

    def role(self, role: str) -> list[QAItem]:
        return [it for it in self.items if it.role == role]

    @property
    def forget(self) -> list[QAItem]:
        return self.role("forget")

    def present_roles(self) -> list[str]:
        seen = {it.role for it in self.items}
        return [r for r in ROLES if r in seen]

    def retain_roles(self) -> list[str]:
        """Retain roles usable during unlearning that have items."""
        return [r for r in self.present_roles() if r in RETAIN_ROLES]

    def unlearning_retain(self) -> list[QAItem]:
        """Retain items that unlearning may see (never a held-out ``*_val``/``*_test`` or holdout item)."""
        return [it for it in self.items if it.role in RETAIN_ROLES]

    def trained(self, *, without_forget: bool = False) -> list[QAItem]:
        """What a model of this world is trained on: everything but holdout, the
        evaluation-only sets (and forget)."""
        drop = {"holdout", *EVAL_ROLES} | ({"forget"} if without_forget else set())
        return [it for it in self.items if it.role not in drop]

    def validate(self) -> None:
        """Non-empty forget set, unique ids, forget and retain never share an item."""
        name = self.name
        if not self.forget:
            raise InputError("the forget set is empty (no item has \"set\": \"forget\")",
                             file=name, field="set")
        ids: dict[str, QAItem] = {}
        for it in self.items:
            if it.id in ids:
                raise InputError(f"duplicate id {it.id!r} (also at {ids[it.id].origin or '?'})",
                                 file=it.origin or name, field="id")
            ids[it.id] = it
        forget_keys = {(it.question.strip(), it.answer.strip()): it for it in self.forget}
        forget_facts = {it.fact for it in self.forget if it.fact}
        for it in self.items:
            if it.role == "forget":
                continue
            other = forget_keys.get((it.question.strip(), it.answer.strip()))
            if other is not None:
                raise InputError(f"item {it.id!r} ({it.role}) is also in the forget set as "
                                 f"{other.id!r} ({other.origin or '?'}): forget and retain must not overlap",
                                 file=it.origin or name, field="set")
            if it.fact and it.fact in forget_facts and it.role != "holdout":
                raise InputError(f"item {it.id!r} ({it.role}) states fact {it.fact!r} that is in the forget set",
                                 file=it.origin or name, field="fact")
        self._check_portions()

    def _check_portions(self) -> None:
        """Portions are disjoint by fact: a fact's evaluated rows share one portion, and a fact
        unlearning trains on (``direct`` …) has no held-out row (``direct_test`` …)."""
        seen: dict[tuple[str, str], QAItem] = {}
        for it in self.items:
            where = it.origin or self.name
            if it.role in HELD_ROLES and it.portion not in (None, it.role.rpartition("_")[2]):
                raise InputError(f"item {it.id!r}: role {it.role} with portion {it.portion!r}", file=where,
                                 field="set")
            if it.role not in HELD_ROLES and it.role not in SPLIT_BASES and it.portion is not None:
                raise InputError(f"item {it.id!r}: role {it.role} is seen by unlearning and has no portion "
                                 f"(got {it.portion!r}); held-out rows are {it.role}_val / {it.role}_test",
                                 file=where, field="set")
            if not it.fact or (it.role in SPLIT_BASES and it.portion is None):
                continue      # a split role's row without a portion takes its fact's (data/portions.py)
            group = "retain" if it.role in RETAIN_ROLES or it.role in HELD_ROLES else it.role
            other = seen.setdefault((group, it.fact), it)
            if _mark(other) != _mark(it):
                raise InputError(f"fact {it.fact!r} is in {eval_name(other.role, other.portion)} "
                                 f"({other.origin or other.id}) and in {eval_name(it.role, it.portion)}: validation, "
                                 "test and the rows unlearning trains on are disjoint by fact",
                                 file=where, field="set")


def _mark(it: QAItem) -> str:
    """A row's portion (a held-out retain row's is its role's suffix), "unlearned" for none."""
    return it.portion or (it.role.rpartition("_")[2] if it.role in HELD_ROLES else "unlearned")


def summarize(items: Sequence[QAItem]) -> dict[str, int]:
    """Item count per set (``forget_val``, ``direct``, ``direct_test`` …), in table order."""
    from oblivio.roles import eval_order
    counts = {r: 0 for r in eval_order()}
    for it in items:
        counts[eval_name(it.role, it.portion)] += 1
    return {r: c for r, c in counts.items() if c}
