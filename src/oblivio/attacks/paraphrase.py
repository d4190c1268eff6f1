"""Paraphrase attack: ask the forget facts in phrasings never trained and never unlearned
(the items' ``paraphrased_question``). An unlearning method that only suppresses the trained
strings answers these (Liu et al. 2024, arXiv 2402.08787, in-scope generalisation; RWKU,
Jin et al. 2024, arXiv 2406.10890, probe types). Accuracy looks for the item's key in the
answer; the answer probability is that of the paraphrased question's own answer sentence
(``paraphrased_question_answer``, the world's held-out wording) where the item has one, else
of the trained answer."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

from oblivio.attacks.base import ATTACKS, Attacked, rewrite
from oblivio.data.schema import UnlearningData


@ATTACKS.register("paraphrase")
@dataclass
class Paraphrase:
    """Held-out phrasings of the forget questions (items without one are not scored)."""

    modifies_model: ClassVar[bool] = False
    paper: ClassVar[str] = "Liu et al. 2024 (arXiv 2402.08787); RWKU (arXiv 2406.10890)"

    def apply(self, model: Any, tokenizer: Any, data: UnlearningData, *, seed: int = 0) -> Attacked:
        items = [dataclasses.replace(it, answer=it.paraphrased_question_answer or it.answer)
                 for it in rewrite(data.forget, lambda it: it.paraphrased_question)]
        missing = len(data.forget) - len(items)
        return Attacked(items=items, note=f"{missing} forget items without a paraphrased question" if missing else "")
