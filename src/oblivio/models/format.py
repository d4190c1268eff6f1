"""How a QA item becomes tokens: prompt template, answer boundary, end of answer.

The prompt ends right before the answer; the answer is tokenised separately with a
leading space and ends with EOS, so labels mask the prompt exactly and generation stops
at end-of-answer. Encodings are computed once per item and reused by every epoch and
every metric.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any, Callable

DEFAULT_TEMPLATE = "Question: {question}\nAnswer:"


@dataclass(frozen=True)
class PromptFormat:
    template: str = DEFAULT_TEMPLATE
    answer_prefix: str = " "

    def prompt(self, question: str) -> str:
        return self.template.format(question=question)


def encode_prompt(tokenizer, fmt: PromptFormat, question: str) -> list[int]:
    ids = tokenizer(fmt.prompt(question), add_special_tokens=False)["input_ids"]
    if tokenizer.bos_token_id is not None:
        ids = [tokenizer.bos_token_id] + ids
    return ids


def encode_answer(tokenizer, fmt: PromptFormat, answer: str, *, eos: bool = True) -> list[int]:
    ids = tokenizer(fmt.answer_prefix + answer.strip(), add_special_tokens=False)["input_ids"]
    if eos and tokenizer.eos_token_id is not None:
        ids = ids + [tokenizer.eos_token_id]
    return ids


# -- the per-run encoding cache -------------------------------------------------------------
# An evaluation tokenises every question and answer of every set, for every pass (teacher
# forcing, perturbed answers, generation, extraction) and every model evaluated with the same
# tokenizer (base, gold, unlearned, each checkpoint): 2,100 tokenizer calls per evaluation of
# the 210-item tiny world. The cache below tokenises each distinct text once per tokenizer
# object and lives exactly as long as that tokenizer does (a weak reference: one run's
# tokenizer, one cache). Its key includes the vocabulary size, so adding tokens invalidates it.
_ENCODINGS: weakref.WeakKeyDictionary[Any, dict[tuple[Any, ...], tuple[int, ...]]] = weakref.WeakKeyDictionary()


def _memo(tokenizer: Any, key: tuple[Any, ...], make: Callable[[], list[int]]) -> list[int]:
    try:
        table = _ENCODINGS.setdefault(tokenizer, {})
    except TypeError:          # an object that cannot be weakly referenced: no caching
        return make()
    full = (len(tokenizer) if hasattr(tokenizer, "__len__") else None, *key)
    hit = table.get(full)
    if hit is None:
        hit = table[full] = tuple(make())
    return list(hit)          # a fresh list: callers may extend theirs


def cached_prompt(tokenizer: Any, fmt: PromptFormat, question: str) -> list[int]:
    """:func:`encode_prompt`, tokenised once per (tokenizer, format, question)."""
    return _memo(tokenizer, ("prompt", fmt, question), lambda: encode_prompt(tokenizer, fmt, question))


def cached_answer(tokenizer: Any, fmt: PromptFormat, answer: str, *, eos: bool = True) -> list[int]:
    """:func:`encode_answer`, tokenised once per (tokenizer, format, answer, eos)."""
    return _memo(tokenizer, ("answer", fmt, answer, eos), lambda: encode_answer(tokenizer, fmt, answer, eos=eos))


def cached_text(tokenizer: Any, text: str) -> list[int]:
    """``tokenizer(text, add_special_tokens=False)["input_ids"]``, once per text."""
    return _memo(tokenizer, ("text", text), lambda: tokenizer(text, add_special_tokens=False)["input_ids"])
