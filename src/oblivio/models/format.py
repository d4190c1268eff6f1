"""How a QA item becomes tokens: prompt template, answer boundary, end of answer.

The prompt ends right before the answer; the answer is tokenised separately with a
leading space and ends with EOS, so labels mask the prompt exactly and generation stops
at end-of-answer. Encodings are computed once per item and reused by every epoch and
every metric.
"""
from __future__ import annotations

from dataclasses import dataclass

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
