"""How a QA item becomes tokens: the prompt format of a model, the answer boundary, the end
of an answer.

Two styles. ``chat``: the tokenizer's own chat template (an instruction-tuned model such as
SmolLM2-135M-Instruct): the question is a user turn, an optional system prompt comes first,
earlier exchanges (a few-shot context, a role-play opening) are earlier turns, and the answer
is the assistant's turn, ended by the template's end-of-turn token. ``plain``: the text
template ``Question: {question}\\nAnswer:`` after the BOS token, the answer after a space and
ended by EOS (the embedded world's models, base models without a template). ``auto`` (the
default) picks ``chat`` exactly when the tokenizer has a chat template.

The prompt ends right before the answer and the answer is tokenised on its own, so labels
mask everything but the answer tokens (and its end-of-turn token, which the model must learn
to emit) and generation stops at end of answer. The special tokens are those the template
writes: a chat template that starts with BOS gets one, one that does not gets none.

A run binds its configured format to its tokenizer (:func:`bind_format`), so that training,
every metric, generation and every attack that is handed no format of its own uses the same
one (:func:`format_of`). Encodings are computed once per item and reused by every epoch and
every metric.
"""
from __future__ import annotations

import dataclasses
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from oblivio.config_checks import STYLES
from oblivio.errors import InputError

DEFAULT_TEMPLATE = "Question: {question}\nAnswer:"
Turns = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class PromptFormat:
    """A prompt format. ``system``: the chat's system prompt (None: the template's own default,
    if it has one; "" an empty one). ``turns``: (question, answer) exchanges before every
    question; ``shots``: per question, exchanges before that question (the few-shot attack).
    ``answer_start``: text written for the model at the start of its answer (it is part of the
    prompt, not of the scored answer)."""

    style: str = "auto"
    template: str = DEFAULT_TEMPLATE     # plain style only
    system: str | None = None            # chat style only
    turns: Turns = ()
    shots: tuple[tuple[str, Turns], ...] = ()
    answer_start: str = ""
    answer_prefix: str = " "             # plain style: the text between prompt and answer

    def __post_init__(self) -> None:
        if self.style not in STYLES:
            raise InputError(f"unknown prompt style {self.style!r}; one of {', '.join(STYLES)}",
                             field="model.prompt")

    def prompt(self, question: str) -> str:
        """The plain template filled with ``question`` (no earlier exchanges, no BOS)."""
        return self.template.format(question=question)

    def exchanges(self, question: str) -> Turns:
        """The exchanges that come before ``question``: ``turns``, then its own ``shots``."""
        own = next((s for q, s in self.shots if q == question), ())
        return self.turns + own

    def record(self) -> dict[str, Any]:
        """What results.json says about the format (the run's; attacks' variants are not recorded)."""
        out: dict[str, Any] = {"style": self.style}
        if self.style == "plain":
            out["template"] = self.template
        else:
            out["system"] = self.system
        return out


def has_chat_template(tokenizer: Any) -> bool:
    return bool(getattr(tokenizer, "chat_template", None))


# -- the run's format, bound to its tokenizer ----------------------------------------------------
_BOUND: weakref.WeakKeyDictionary[Any, PromptFormat] = weakref.WeakKeyDictionary()


def bind_format(tokenizer: Any, fmt: PromptFormat) -> PromptFormat:
    """Make ``fmt`` (its style resolved) the format of everything done with ``tokenizer``
    that is handed no format of its own; returns the resolved format."""
    fmt = resolve_format(tokenizer, fmt)
    try:
        _BOUND[tokenizer] = fmt
    except TypeError:      # an object that cannot be weakly referenced: the default applies
        pass
    return fmt


def format_of(tokenizer: Any) -> PromptFormat:
    """The format bound to ``tokenizer`` (:func:`bind_format`), else the default, resolved."""
    try:
        bound = _BOUND.get(tokenizer)
    except TypeError:
        bound = None
    return bound if bound is not None else resolve_format(tokenizer, PromptFormat())


def resolve_format(tokenizer: Any, fmt: PromptFormat | None) -> PromptFormat:
    """``fmt`` (None: the tokenizer's bound format) with ``auto`` replaced by the style the
    tokenizer supports; ``chat`` without a chat template is an error."""
    if fmt is None:
        return format_of(tokenizer)
    if fmt.style == "auto":
        return dataclasses.replace(fmt, style="chat" if has_chat_template(tokenizer) else "plain")
    if fmt.style == "chat" and not has_chat_template(tokenizer):
        raise InputError("prompt style 'chat' but the tokenizer has no chat template; use "
                         "--prompt plain (or auto)", field="model.prompt")
    return fmt


# -- the chat template's layout -----------------------------------------------------------------
@dataclass(frozen=True)
class ChatLayout:
    """What a chat template writes around an assistant answer: ``lead`` between the generation
    prompt and the answer, ``end`` (token ids) right after it: the end-of-turn token(s)."""

    lead: str
    end: tuple[int, ...]


_PROBE_Q, _PROBE_A = "Q0QZQ", "A0AZA"   # texts no template writes itself


def _render(tokenizer: Any, messages: list[dict[str, str]], *, generation: bool) -> str:
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation)
    return str(text)


def _layout(tokenizer: Any) -> ChatLayout:
    user = [{"role": "user", "content": _PROBE_Q}]
    asked = _render(tokenizer, user, generation=True)
    full = _render(tokenizer, [*user, {"role": "assistant", "content": _PROBE_A}], generation=False)
    lead, end = "", ""
    if full.startswith(asked) and _PROBE_A in full[len(asked):]:
        at = full.index(_PROBE_A, len(asked))
        lead, end = full[len(asked):at], full[at + len(_PROBE_A):].rstrip()
    ids = tuple(tokenizer(end, add_special_tokens=False)["input_ids"]) if end else ()
    if not ids and tokenizer.eos_token_id is not None:
        # a template that writes nothing after the answer: EOS ends the turn
        ids = (int(tokenizer.eos_token_id),)
    return ChatLayout(lead, ids)


def chat_layout(tokenizer: Any) -> ChatLayout:
    """The template's layout, worked out once per tokenizer from a probe conversation."""
    try:
        table = _LAYOUTS.setdefault(tokenizer, {})
    except TypeError:
        return _layout(tokenizer)
    key = getattr(tokenizer, "chat_template", None)
    if key not in table:
        table[key] = _layout(tokenizer)
    return table[key]


_LAYOUTS: weakref.WeakKeyDictionary[Any, dict[Any, ChatLayout]] = weakref.WeakKeyDictionary()


def answer_lead(tokenizer: Any, fmt: PromptFormat | None) -> str:
    """The text an answer starts with: after written-for-the-model text, a space; in a chat,
    what the template puts before the answer; in the plain style, ``answer_prefix``."""
    f = resolve_format(tokenizer, fmt)
    if f.answer_start:
        return " "
    return chat_layout(tokenizer).lead if f.style == "chat" else f.answer_prefix


def end_of_answer(tokenizer: Any, fmt: PromptFormat | None) -> list[int]:
    """The token ids that end an answer: the chat's end-of-turn, else EOS (if any)."""
    if resolve_format(tokenizer, fmt).style == "chat":
        return list(chat_layout(tokenizer).end)
    return [tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else []


def _chat_prompt(tokenizer: Any, fmt: PromptFormat, question: str) -> str:
    messages = [] if fmt.system is None else [{"role": "system", "content": fmt.system}]
    for q, a in fmt.exchanges(question):
        messages += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
    messages.append({"role": "user", "content": question})
    return _render(tokenizer, messages, generation=True)


def _plain_prompt(fmt: PromptFormat, question: str) -> str:
    head = "".join(fmt.prompt(q) + fmt.answer_prefix + a.strip() + "\n\n" for q, a in fmt.exchanges(question))
    return head + fmt.prompt(question)


def prompt_text(tokenizer: Any, fmt: PromptFormat | None, question: str) -> str:
    """The prompt as text, ending right before the answer (the plain style's BOS excluded)."""
    f = resolve_format(tokenizer, fmt)
    text = _chat_prompt(tokenizer, f, question) if f.style == "chat" else _plain_prompt(f, question)
    return text + f.answer_start


def encode_prompt(tokenizer: Any, fmt: PromptFormat | None, question: str) -> list[int]:
    """The prompt's token ids, ending right before the answer."""
    f = resolve_format(tokenizer, fmt)
    ids = tokenizer(prompt_text(tokenizer, f, question), add_special_tokens=False)["input_ids"]
    if f.style == "plain" and tokenizer.bos_token_id is not None:
        ids = [tokenizer.bos_token_id] + ids
    return ids


def encode_answer(tokenizer: Any, fmt: PromptFormat | None, answer: str, *, eos: bool = True) -> list[int]:
    """The answer's token ids, ended by :func:`end_of_answer` when ``eos``."""
    ids = tokenizer(answer_lead(tokenizer, fmt) + answer.strip(), add_special_tokens=False)["input_ids"]
    return ids + end_of_answer(tokenizer, fmt) if eos else ids


# -- the per-run encoding cache -------------------------------------------------------------
# An evaluation tokenises every question and answer of every set, for every pass (teacher
# forcing, perturbed answers, generation, extraction) and every model evaluated with the same
# tokenizer (base, gold, unlearned, each checkpoint): 2,100 tokenizer calls per evaluation of
# the 210-item tiny world. The cache below tokenises each distinct text once per tokenizer
# object and lives exactly as long as that tokenizer does (a weak reference: one run's
# tokenizer, one cache). Its key includes the vocabulary size and the chat template, so adding
# tokens or replacing the template invalidates it; the format in the key is the resolved one,
# so a None or "auto" format and its resolution share entries.
_ENCODINGS: weakref.WeakKeyDictionary[Any, dict[tuple[Any, ...], tuple[int, ...]]] = weakref.WeakKeyDictionary()


def _memo(tokenizer: Any, key: tuple[Any, ...], make: Callable[[], Sequence[int]]) -> list[int]:
    try:
        table = _ENCODINGS.setdefault(tokenizer, {})
    except TypeError:          # an object that cannot be weakly referenced: no caching
        return list(make())
    full = (len(tokenizer) if hasattr(tokenizer, "__len__") else None,
            getattr(tokenizer, "chat_template", None), *key)
    hit = table.get(full)
    if hit is None:
        hit = table[full] = tuple(make())
    return list(hit)          # a fresh list: callers may extend theirs


def cached_prompt(tokenizer: Any, fmt: PromptFormat | None, question: str) -> list[int]:
    """:func:`encode_prompt`, tokenised once per (tokenizer, format, question)."""
    f = resolve_format(tokenizer, fmt)
    return _memo(tokenizer, ("prompt", f, question), lambda: encode_prompt(tokenizer, f, question))


def cached_answer(tokenizer: Any, fmt: PromptFormat | None, answer: str, *, eos: bool = True) -> list[int]:
    """:func:`encode_answer`, tokenised once per (tokenizer, format, answer, eos)."""
    f = resolve_format(tokenizer, fmt)
    return _memo(tokenizer, ("answer", f, answer, eos), lambda: encode_answer(tokenizer, f, answer, eos=eos))


def cached_text(tokenizer: Any, text: str) -> list[int]:
    """``tokenizer(text, add_special_tokens=False)["input_ids"]``, once per text."""
    return _memo(tokenizer, ("text", text), lambda: tokenizer(text, add_special_tokens=False)["input_ids"])
