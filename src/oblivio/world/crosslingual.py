"""Spanish question and answer templates of the embedded world (the cross-lingual probe).

TRU's authors (Liao et al., ICLR 2026, arXiv 2603.09980) show NPO revealing a
forgotten fact when it is asked in Spanish: unlearning that removes the English strings can
leave the fact reachable in a second language the model also learned. So every fact of the
world is also learned in Spanish — base and gold train 3 Spanish phrasings of each fact they
learn (``xl_question`` / ``xl_answer``) — while unlearning only ever sees the English items
(the samplers draw from the items' ``question`` / ``answer``, never these fields). Each relation
also has 2 held-out Spanish phrasings of other syntax (``xl_paraphrased_question``), frames the
relation never trains in Spanish but other relations do, in Spanish words the world trains —
the same rule as the English held-out phrasings (:mod:`oblivio.world.phrasings`).

Objects (names, years, trades, fields) keep their English surface inside the Spanish
sentence: the world's names are made up and language-neutral, and the probe's key stays the
span the English items use, so the cross-lingual and the English scores compare the same
answer. Spanish answers drop the subject pronoun, as Spanish does.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SpanishPhrasing:
    train: tuple[str, ...]    # learned by base/gold, never unlearned ({s} = subject)
    heldout: tuple[str, ...]  # never trained: the cross-lingual attack's probe
    answer: str               # {o} = object as is


# Six frames: A wh-question, B subject first with the question word in place, C "¿Cuál es el
# <noun> de X?", D fragment, E imperative "Dime ...", F embedded "¿Sabes ...?". Each relation
# trains three frames and holds out two that other relations train (see module docstring).
ES_PHRASINGS: dict[str, SpanishPhrasing] = {
    "birthplace": SpanishPhrasing(
        ("¿Dónde nació {s}?", "¿Cuál es el lugar de nacimiento de {s}?", "¿Sabes dónde nació {s}?"),
        ("¿{s} nació en qué lugar?", "Dime dónde nació {s}."),
        "Nació en {o}."),
    "birth_year": SpanishPhrasing(
        ("¿En qué año nació {s}?", "¿{s} nació en qué año?", "¿Año de nacimiento de {s}?"),
        ("¿Sabes en qué año nació {s}?", "¿Cuál es el año de nacimiento de {s}?"),
        "Nació en el año {o}."),
    "occupation": SpanishPhrasing(
        ("¿A qué se dedica {s}?", "Dime a qué se dedica {s}.", "¿Profesión de {s}?"),
        ("¿Cuál es la profesión de {s}?", "¿Sabes a qué se dedica {s}?"),
        "Trabaja como {o}."),
    "employer": SpanishPhrasing(
        ("¿Para qué organización trabaja {s}?", "¿{s} trabaja para qué organización?",
         "¿Sabes para qué organización trabaja {s}?"),
        ("¿Cuál es la organización de {s}?", "Dime para qué organización trabaja {s}."),
        "Trabaja para el {o}."),
    "spouse": SpanishPhrasing(
        ("¿Con quién se casó {s}?", "¿Quién es el cónyuge de {s}?", "Dime con quién se casó {s}."),
        ("¿{s} se casó con quién?", "¿Sabes con quién se casó {s}?"),
        "Se casó con {o}."),
    "mentor": SpanishPhrasing(
        ("¿Quién fue el mentor de {s}?", "¿Mentor de {s}?", "¿Sabes quién fue el mentor de {s}?"),
        ("Dime quién fue el mentor de {s}.", "¿El mentor de {s} fue quién?"),
        "Su mentor fue {o}."),
    "colleague": SpanishPhrasing(
        ("¿Con quién trabaja {s}?", "¿Quién es el colega de {s}?", "¿Colega de {s}?"),
        ("Dime quién es el colega de {s}.", "¿Sabes quién es el colega de {s}?"),
        "Trabaja junto a {o}."),
    "located_in": SpanishPhrasing(
        ("¿Dónde tiene su sede el {s}?", "¿Cuál es la sede del {s}?",
         "¿Sabes dónde tiene su sede el {s}?"),
        ("¿El {s} tiene su sede en qué lugar?", "Dime dónde tiene su sede el {s}."),
        "Tiene su sede en {o}."),
    "founded": SpanishPhrasing(
        ("¿En qué año se fundó el {s}?", "¿Cuál es el año de fundación del {s}?",
         "Dime en qué año se fundó el {s}."),
        ("¿El {s} se fundó en qué año?", "¿Año de fundación del {s}?"),
        "Se fundó en {o}."),
    "domain": SpanishPhrasing(
        ("¿En qué campo trabaja el {s}?", "¿El {s} trabaja en qué campo?", "¿Campo del {s}?"),
        ("¿Cuál es el campo del {s}?", "¿Sabes en qué campo trabaja el {s}?"),
        "Trabaja en {o}."),
    "region": SpanishPhrasing(
        ("¿En qué región está {s}?", "¿Cuál es la región de {s}?", "¿Sabes en qué región está {s}?"),
        ("¿{s} está en qué región?", "¿Región de {s}?"),
        "Está en {o}."),
    "known_for": SpanishPhrasing(
        ("¿Por qué es conocido {s}?", "¿{s} es conocido por qué?", "¿Especialidad de {s}?"),
        ("¿Cuál es la especialidad de {s}?", "¿Sabes por qué es conocido {s}?"),
        "Es conocido por {o}."),
}


def spanish_fields(relation: str, subject: str, obj: str, k: int) -> dict[str, str]:
    """The cross-lingual fields of the ``k``-th English item of a fact: the Spanish training
    phrasings and the held-out ones are taken in turn (learning keeps each distinct text once)."""
    ph = ES_PHRASINGS[relation]
    return {"xl_question": ph.train[k % len(ph.train)].format(s=subject),
            "xl_answer": ph.answer.format(o=obj),
            "xl_paraphrased_question": ph.heldout[k % len(ph.heldout)].format(s=subject)}


def spanish_text() -> str:
    """Every Spanish template, for the generator's reserved text (names must not hide in it)."""
    return " ".join(t for ph in ES_PHRASINGS.values() for t in (*ph.train, *ph.heldout, ph.answer))
