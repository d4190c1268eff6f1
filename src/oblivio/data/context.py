"""Over-long questions and answers are cut to the model's context, and the run says so.

A 10k-token question or a 1 MB answer would otherwise reach the model whole: an evaluation
batch of them allocates gigabytes of attention scores (measured: 3–6 GB) and positions
past ``max_position_embeddings`` are meaningless to the model anyway. The rule, applied
once to the items after the model is known and before any training or evaluation:

* the context ``C`` is the model's ``max_position_embeddings`` (``n_positions``, or the
  tokenizer's ``model_max_length`` when the config has neither);
* a question and a paraphrased question (and the probes' questions, data/probes.py) are
  cut so that their prompt (template and BOS included) is at most ``C // 2`` tokens;
* every answer field (answer, paraphrased, second-language and reverse answer, perturbed
  answers) is cut so that the item's longest prompt + the answer + EOS is at most ``C`` tokens;
* cuts keep the beginning of the text and fall on a token boundary.

The count of truncated items, the fields cut and ``C`` go into results.json
(``data.truncated``) and the run summary; nothing is cut silently.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from oblivio.data.schema import QAItem, UnlearningData
from oblivio.models.format import PromptFormat, answer_lead, cached_answer, cached_prompt, resolve_format


def model_context(model: Any, tokenizer: Any = None) -> int | None:
    """The number of positions the model was built for (None when nothing says)."""
    cfg = getattr(model, "config", None)
    for key in ("max_position_embeddings", "n_positions", "max_sequence_length"):
        v = getattr(cfg, key, None)
        if isinstance(v, int) and v > 0:
            return v
    v = getattr(tokenizer, "model_max_length", None)
    return v if isinstance(v, int) and 0 < v < 1_000_000 else None


def _cut(tokenizer: Any, text: str, n_tokens: int, prefix: str = "") -> str:
    """The longest start of ``text`` whose tokens (after ``prefix``) number at most ``n_tokens``."""
    n_tokens = max(1, n_tokens)
    full = prefix + text
    try:
        enc = tokenizer(full, add_special_tokens=False, return_offsets_mapping=True)
        offsets = enc["offset_mapping"]
        if len(offsets) <= n_tokens:
            return text
        end = offsets[n_tokens - 1][1]
    except (NotImplementedError, KeyError, TypeError):   # a slow tokenizer has no offsets
        ids = tokenizer(full, add_special_tokens=False)["input_ids"]
        if len(ids) <= n_tokens:
            return text
        end = len(tokenizer.decode(ids[:n_tokens]))
    return full[:end][len(prefix):] if end > len(prefix) else text[:1]


# no real token spans this many characters: a text is first cut to (budget + 1) × this, so
# a 1 MB answer is never tokenised whole
_MAX_TOKEN_CHARS = 100


def _fit_prompt(tokenizer: Any, fmt: PromptFormat, question: str, budget: int) -> str:
    # cheap exit: a token is at least one byte, so a short text cannot be over budget
    if len(question.encode("utf-8")) + 8 <= budget // 2:
        return question
    question = question[:(budget + 1) * _MAX_TOKEN_CHARS]
    for _ in range(4):    # re-tokenising a cut text can merge differently: shave until it fits
        # the run's encoding cache (models/format.py): training and evaluation reuse these
        over = len(cached_prompt(tokenizer, fmt, question)) - budget
        if over <= 0:
            return question
        q_tokens = len(tokenizer(question, add_special_tokens=False)["input_ids"])
        question = _cut(tokenizer, question, q_tokens - over)
    return question


def _fit_answer(tokenizer: Any, fmt: PromptFormat, answer: str, budget: int) -> str:
    """``answer`` itself when it fits, else its cut (stripped, as it is encoded)."""
    if len(answer.encode("utf-8")) + 4 <= budget // 2:
        return answer
    text = answer.strip()[:(budget + 1) * _MAX_TOKEN_CHARS]
    for i in range(4):
        over = len(cached_answer(tokenizer, fmt, text)) - budget
        if over <= 0:
            return answer if i == 0 else text
        a_tokens = len(tokenizer(answer_lead(tokenizer, fmt) + text, add_special_tokens=False)["input_ids"])
        text = _cut(tokenizer, text, a_tokens - over, prefix=answer_lead(tokenizer, fmt))
    return text


# every question field, the probes' too (they are learned and asked like the question)
_PROMPT_FIELDS = ("question", "paraphrased_question", "xl_question", "xl_paraphrased_question", "reverse_question")


def fit_item(it: QAItem, tokenizer: Any, context: int, fmt: PromptFormat) -> tuple[QAItem, list[str]]:
    """The item with every text field inside the context, and the names of the fields cut."""
    cut: dict[str, Any] = {}
    p_budget = context // 2
    for f in _PROMPT_FIELDS:
        v = getattr(it, f)
        if v is not None:
            new = _fit_prompt(tokenizer, fmt, v, p_budget)
            if new != v:
                cut[f] = new
    prompts = [cut.get(f, getattr(it, f)) for f in _PROMPT_FIELDS]
    longest = max(len(cached_prompt(tokenizer, fmt, q)) for q in prompts if q is not None)
    a_budget = max(2, context - longest)
    for f in ("answer", "paraphrased_question_answer", "paraphrased_answer", "xl_answer", "reverse_answer"):
        v = getattr(it, f)
        if v is not None:
            new = _fit_answer(tokenizer, fmt, v, a_budget)
            if new != v:
                cut[f] = new
    if it.perturbed_answers:
        new_p = tuple(_fit_answer(tokenizer, fmt, a, a_budget) for a in it.perturbed_answers)
        if new_p != it.perturbed_answers:
            cut["perturbed_answers"] = new_p
    return (dataclasses.replace(it, **cut) if cut else it), sorted(cut)


def fit_to_context(data: UnlearningData, tokenizer: Any, context: int | None,
                   fmt: PromptFormat | None = None) -> tuple[UnlearningData, dict[str, Any] | None]:
    """``data`` with over-long items cut to ``context`` (see the module docstring), and a
    record of what was cut (None when nothing was): ``{"context", "items", "fields", "ids"}``."""
    if context is None:
        return data, None
    fmt = resolve_format(tokenizer, fmt)
    items: list[QAItem] = []
    fields: dict[str, int] = {}
    ids: list[str] = []
    for it in data.items:
        new, cut = fit_item(it, tokenizer, context, fmt)
        items.append(new)
        if cut:
            ids.append(it.id)
            for f in cut:
                fields[f] = fields.get(f, 0) + 1
    if not ids:
        return data, None
    out = dataclasses.replace(data, items=items)
    return out, {"context": context, "items": len(ids), "fields": fields, "ids": ids[:20]}


def truncation_note(rec: dict[str, Any] | None) -> str | None:
    """One line for logs and summaries."""
    if not rec:
        return None
    return (f"{rec['items']} item(s) longer than the model's context were truncated to it "
            f"({rec['context']} tokens; fields: " + ", ".join(f"{k} {v}" for k, v in rec["fields"].items()) + ")")


def fit_for_model(data: UnlearningData, model: Any, tokenizer: Any, *,
                  log: Callable[[str], None] | None = None) -> tuple[UnlearningData, dict[str, Any] | None]:
    """:func:`fit_to_context` at ``model``'s context; the note goes to ``log``."""
    data, cut = fit_to_context(data, tokenizer, model_context(model, tokenizer))
    note = truncation_note(cut)
    if note and log is not None:
        log(note)
    return data, cut


def fit_for_model_dir(data: UnlearningData, path: Path, *, trust_remote_code: bool = False,
                      log: Callable[[str], None] | None = None) -> tuple[UnlearningData, dict[str, Any] | None]:
    """:func:`fit_for_model` for a model folder, from its config and tokenizer (no weights loaded)."""
    import types

    from transformers import AutoConfig, AutoTokenizer

    from oblivio.errors import InputError
    try:
        tok = AutoTokenizer.from_pretrained(path, local_files_only=True, trust_remote_code=trust_remote_code)
        cfg = AutoConfig.from_pretrained(path, local_files_only=True, trust_remote_code=trust_remote_code)
    except Exception as e:  # noqa: BLE001 -- the loader's many error types
        raise InputError(f"cannot load the tokenizer or config: {str(e).strip().splitlines()[0][:300]}",
                         file=str(path)) from None
    return fit_for_model(data, types.SimpleNamespace(config=cfg), tok, log=log)
