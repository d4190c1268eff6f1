"""Reverse-query attack: ask for the subject given the object ("Which apothecary was born in
Tairzousk?" → the target's name). Knowledge is stored direction by direction — a model trained
on "A is B" need not answer "B is?" (the reversal curse: Berglund et al. 2023, arXiv
2309.12288; Allen-Zhu & Li 2023, arXiv 2309.14402) — so unlearning the forward questions can
leave the reverse association in place; RWKU lists the reverse query among its probes (Jin et
al. 2024, arXiv 2406.10890).

The embedded world trains one reverse question per fact about a person (base and gold, never
unlearned), worded so that one person of the world fits it (``world/reverse.py``); user data
carries it in ``reverse_question`` / ``reverse_answer`` / ``reverse_key``. Each distinct
question is asked once and scored on its key, the subject's name. Data without the fields is
skipped with the reason, never scored 0.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from oblivio.attacks.base import ATTACKS, Attacked
from oblivio.data.probes import reverse_probe_items
from oblivio.data.schema import UnlearningData


@ATTACKS.register("reverse")
@dataclass
class Reverse:
    """The forget facts' reverse questions (object → subject)."""

    modifies_model: ClassVar[bool] = False
    paper: ClassVar[str] = "RWKU, Jin et al. 2024 (arXiv 2406.10890); Berglund et al. 2023 (arXiv 2309.12288)"

    def apply(self, model: Any, tokenizer: Any, data: UnlearningData, *, seed: int = 0) -> Attacked:
        items = reverse_probe_items(data.forget)
        if not items:
            return Attacked(items=[], skipped="no forget item carries a reverse query "
                            "(reverse_question / reverse_answer / reverse_key)")
        return Attacked(items=items, note=f"{len(items)} reverse questions of {len(data.forget)} forget items")
