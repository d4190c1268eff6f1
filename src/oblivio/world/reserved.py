"""The template text that generated names must not hide inside (English, Spanish, reverse).

Its own module so that the graph (which draws names) and the templates do not import each
other: phrasings, crosslingual and reverse sit below it.
"""
from __future__ import annotations


def reserved_text() -> str:
    """All template text (Spanish and reverse too), lower-cased."""
    from oblivio.world.crosslingual import spanish_text
    from oblivio.world.phrasings import PHRASINGS
    from oblivio.world.reverse import reverse_text
    parts = [t for ph in PHRASINGS.values() for t in (*ph.train, *ph.heldout, ph.answer, *ph.heldout_answers)]
    return " ".join([*parts, spanish_text(), reverse_text()]).lower()
