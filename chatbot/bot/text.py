"""Text normalisation and language guessing shared by the matcher and the red-flag spotter.

Both must see a message the same way: lower case, accents folded, punctuation
gone, so that "¿Qué es la CIÁTICA?" and "que es la ciatica" are one query.

Tested in tests/test_intents.py, tests/test_redflags.py.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

MAX_SCAN_CHARS = 4000
"""Messages are capped at 2,000 characters by the protocol; every reader stops here on anything larger."""

_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)
_UNDERSCORE = re.compile(r"_+")

_ES_MARKERS = frozenset(
    "el la los las un una unos unas de del que qué es son por para con sin como cómo "
    "cuál cual cuando dónde donde puedo tengo mi mis me duele dolor espalda hola gracias "
    "quiero necesito hay y o pero muy más mas también tambien usted ustedes su sus este esta "
    "estos estas hablar persona ayuda sí si no se lo le les nos yo tiene tienen hacer".split()
)
_EN_MARKERS = frozenset(
    "the a an of and or is are do does what how why when where can i my me you your "
    "have has pain back to in on for with it this that be should would could want need "
    "hello hi thanks thank please talk person help yes no get there about".split()
)


@lru_cache(maxsize=1024)
def fold(text: str) -> str:
    """Lower-case and strip accents (NFKD), keeping ñ → n as well: visitors type both.

    Cached: one reply folds the same message about six times (language, matcher, red flags, the classifiers),
    and the character loop was a seventh of a reply's CPU (docs/performance.md)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=1024)
def normalize(text: str) -> str:
    """Folded text with punctuation turned into single spaces (cached, as ``fold``)."""
    words = _NON_WORD.sub(" ", fold(text))
    return " ".join(_UNDERSCORE.sub(" ", words).split())


def detect_language(text: str, default: str = "en") -> str:
    """Guess "en" or "es" from function words and Spanish punctuation.

    Short or ambiguous messages keep ``default`` (the conversation's language),
    so "ok" in a Spanish conversation stays Spanish.
    """
    lowered = text.casefold()
    es_score = 2 * sum(lowered.count(ch) for ch in "¿¡ñ")
    es_score += sum(lowered.count(ch) for ch in "áéíóú")
    en_score = 0
    for word in _NON_WORD.split(lowered):
        if word in _ES_MARKERS:
            es_score += 1
        if word in _EN_MARKERS:
            en_score += 1
    if es_score > en_score:
        return "es"
    if en_score > es_score:
        return "en"
    return default
