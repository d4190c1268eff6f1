"""Names in text: :func:`swap_name` puts one person's name in place of another's, whole or part
by part. Shared by ``npo_swap``'s stand-in questions (methods/npo_swap.py) and its neighbour
echoes (methods/echoes.py): here, so that the echoes do not import npo_swap, which imports them."""
from __future__ import annotations

import re
from collections.abc import Callable


def swap_name(text: str, old: str, new: str) -> str:
    """``text`` with the name ``old`` replaced by ``new``: first wherever it occurs whole; then
    each part of ``old`` left (as a whole word, possessives included) by ``new``'s part at the
    same place, the last part always by the last (a surname stays a surname when the two names
    have different numbers of parts)."""
    text = text.replace(old, new)
    olds, news = old.split(), new.split()
    for i, part in enumerate(olds):
        if len(part) > 1:
            repl = news[-1] if i == len(olds) - 1 else news[min(i, len(news) - 1)]
            # a function, not a string: the replacement is literal (no backslash templates)
            text = re.sub(rf"\b{re.escape(part)}\b", _literal(repl), text)
    return text


def _literal(text: str) -> Callable[[re.Match[str]], str]:
    return lambda _match: text
