"""Cross-lingual attack: the forget facts asked in a second language the model also learned,
while unlearning saw only the first. TRU's authors (Liao et al., "Explainable LLM Unlearning
through Reasoning", ICLR 2026, arXiv 2603.09980) show NPO revealing a forgotten fact
when it is asked in Spanish; the survey lists cross-lingual queries among the in-scope probes
(Liu et al. 2024, arXiv 2402.08787).

What is asked, per forget item (``data/probes.py``): its held-out second-language phrasing
``xl_paraphrased_question`` — a Spanish question no model was trained on, the setting of TRU
(a translation of the forgotten question) — else, for data that carries only a translation,
``xl_question``; each distinct question once, scored on ``xl_answer``'s key. The trained
Spanish phrasings (``xl_question``, learned by base and gold, never unlearned) are scored too,
as ``trained_phrasing_accuracy`` in the record: they separate "the fact survives in the other
language" from "the model generalises to a new Spanish phrasing". Data without the probe
fields is skipped with the reason, never scored 0.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from oblivio.attacks.base import ATTACKS, Attacked
from oblivio.data.probes import xl_probe_items
from oblivio.data.schema import UnlearningData


@ATTACKS.register("cross_lingual")
@dataclass
class CrossLingual:
    """The forget facts asked in the second language (held-out phrasings; trained ones too)."""

    modifies_model: ClassVar[bool] = False
    paper: ClassVar[str] = "TRU, Liao et al. 2026 (arXiv 2603.09980)"

    def apply(self, model: Any, tokenizer: Any, data: UnlearningData, *, seed: int = 0) -> Attacked:
        from oblivio.attacks.audit import score
        items = xl_probe_items(data.forget)
        if not items:
            return Attacked(items=[], skipped="no forget item carries a second-language probe "
                            "(xl_question / xl_paraphrased_question with xl_answer)")
        trained = xl_probe_items(data.forget, heldout=False)
        details = {"trained_phrasing_accuracy": score(model, tokenizer, trained)["accuracy"] if trained else None}
        heldout = sum(1 for it in items if it.xl_paraphrased_question)
        return Attacked(items=items, details=details,
                        note=f"{len(items)} second-language questions ({heldout} held out); "
                             f"trained_phrasing_accuracy: the {len(trained)} trained ones")
