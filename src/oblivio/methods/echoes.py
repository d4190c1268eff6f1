"""Neighbour echoes: each forget question asked about its target's neighbours, answered once by
the model before unlearning, as extra retain rows (``npo_swap``'s ``echo`` term).

Why. The retain rows protect what they state, and little else: a run that only fine-tunes on
them keeps the neighbours' held-out facts, while the forget terms, which lower the forget answers,
also lower the neighbours' facts whose answers share the forget answers' form ("Aldous Crowtherne
was born in 1971" beside the forgotten "Ismay Crowtherne was born in Pelling Cross": the same
surname and the same words up to the key). Those are facts no retain row states. Asked the forget
question with the neighbour's name in place of the target's, the model before unlearning answers
with what it knows of the neighbour in that form; learned back with NLL while unlearning runs,
the echo holds exactly the forms the forget terms push on. This is the stand-in question of
``npo_swap`` (Eldan & Russinovich 2023, arXiv 2310.02238: the name replaced, the model's own
prediction on the replaced text kept as the target) turned around: there the target's name is
replaced by an invented one to say what to forget *toward*; here by a real neighbour's, to say
what to keep. Only the forget questions, the retain rows' names and the model are read: no
held-out row.

Which rows. A neighbour of a target is the entity of a retain row in a neighbour role (``direct``,
``indirect``) whose ``targets`` name that target, unless it is a forget row's entity too (a
target may be another target's spouse). Each forget question that names its target
(``npo_swap``'s name swap) is asked about each of its target's neighbours, each distinct
question once and never a forget question itself. The model answers greedily, up to the forget
answer's length plus a margin. An answer that comes back empty, or that contains any forget
row's ``key`` (the model would be taught the forgotten fact under another name), is dropped;
:meth:`Echoes.report` counts both.
"""
from __future__ import annotations

from typing import Any

from oblivio.engine.contract import RunInputs

NEIGHBOUR_ROLES = ("direct", "indirect")


def neighbours_of(inputs: RunInputs) -> dict[str, list[str]]:
    """Target → its neighbours' names (sorted): the entities of the retain rows in a neighbour
    role whose ``targets`` name the target, leaving out every forget row's entity (a target
    that is another target's neighbour, a spouse, is still to be forgotten)."""
    forgotten = {it.entity for it in inputs.forget if it.entity}
    out: dict[str, set[str]] = {}
    for it in inputs.retain:
        if it.role in NEIGHBOUR_ROLES and it.entity and it.entity not in forgotten:
            for t in it.targets:
                if t != it.entity:
                    out.setdefault(t, set()).add(it.entity)
    return {t: sorted(names) for t, names in out.items()}


def echo_questions(inputs: RunInputs) -> list[tuple[str, int]]:
    """(question, forget item index) per echo: each forget question that names its target,
    with each of the target's neighbours in the target's place, each distinct question once."""
    from oblivio.methods.names import swap_name
    nbrs = neighbours_of(inputs)
    seen = {it.question for it in inputs.forget}     # a forget question is never an echo
    out: list[tuple[str, int]] = []
    for i, it in enumerate(inputs.forget):
        for n in nbrs.get(it.entity or "", []):
            q = swap_name(it.question, it.entity, n)
            if q not in seen:
                seen.add(q)
                out.append((q, i))
    return out


def leaks(answer: str, keys: list[str]) -> bool:
    """True if ``answer`` contains one of the forget ``keys`` (case-insensitively)."""
    low = answer.lower()
    return any(k.lower() in low for k in keys)


class Echoes:
    """The echo rows of one run: the neighbour questions and the model's answers, as token rows."""

    def __init__(self, model: Any, inputs: RunInputs) -> None:
        from oblivio.methods.alternate import AltAnswers, greedy_answers
        asked = echo_questions(inputs)
        answers = greedy_answers(model, inputs, asked)
        keys = sorted({it.key for it in inputs.forget if it.key})
        kept = [(q, a) for (q, _), a in zip(asked, answers) if a and not leaks(a, keys)]
        self.counts = {"asked": len(asked), "empty": sum(not a for a in answers),
                       "leaking_a_forget_key": sum(bool(a) and leaks(a, keys) for a in answers),
                       "kept": len(kept)}
        self.examples = [{"question": q, "answer": a} for q, a in kept[:3]]
        self.rows = AltAnswers(inputs.tokenizer, inputs.fmt, [q for q, _ in kept], [a for _, a in kept],
                               max_len=256) if kept else None

    def __len__(self) -> int:
        return self.counts["kept"]

    def report(self) -> dict[str, Any]:
        return {**self.counts, "examples": self.examples}

    def batch(self, step: int, size: int, device: Any) -> dict[str, Any] | None:
        """``size`` echo rows for optimiser step ``step`` (a rotation through all of them, the
        same rows for the same step: a resumed run reads what the first would have), or None
        when there are none."""
        import torch
        n = len(self)
        if not n or self.rows is None or size < 1:
            return None
        start = (step * size) % n
        idx = torch.tensor([(start + k) % n for k in range(min(size, n))], dtype=torch.long)
        # AltAnswers.batch takes the device from the forget sub-batch it is given: an empty tensor says it
        return self.rows.batch({"index": idx, "input_ids": torch.empty(0, device=device)})
