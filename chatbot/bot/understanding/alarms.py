"""Red flags in any wording: the lexicon (``chatbot.bot.redflags``), then a classifier over every sentence.

Why both: the lexicon's patterns are exact and explainable, but a visitor in
crisis rarely uses the words a pattern expects ("everyone would be better off
without me", "I've been saving my pills"). The classifier (classifier.py),
trained on a bank of emergency and crisis expressions in English and Spanish
(``banks/alarms.yaml``) against everyday sentences (``banks/benign.yaml``,
``banks/everyday.yaml`` and every intent example), reads meaning through the
token embedding and spelling through character n-grams. It looks at each
sentence and at the clauses of long ones, so a red flag at the end of a long
message about ordinary back pain is seen on its own rather than diluted by the story.

Two readings keep ordinary messages quiet, both measured on the development set
(docs/understanding.md):

- a *denial* ("no chest pain or shortness of breath, just a sore back", "no
  tengo fiebre ni nada") is not a symptom: a clause that opens with a negation
  and names no lost ability (can't, no puedo, feel, move, control...) is left
  out, for every category but self-harm, which is never taken as denied;
- an injury or a fever long past ("I fell off a ladder back in 2015, it healed
  fine") is not an emergency: trauma and fever are not raised from a clause that
  places them years or months ago, or says they healed.

``THRESHOLD`` trades recall against false alarms; it was chosen on the
development set and CLINC150's ``val`` texts. A red flag always wins over any
FAQ answer (``chatbot.bot.answers``).

Tested in tests/test_understanding.py, tests/test_redflags.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from chatbot.bot import redflags
from chatbot.bot.redflags import RedFlag
from chatbot.bot.text import MAX_SCAN_CHARS, normalize
from chatbot.bot.understanding.banks import bank
from chatbot.bot.understanding.classifier import NONE, SentenceClassifier
from chatbot.bot.understanding.sentences import clauses, denies, scan_units

THRESHOLD = 0.9
"""Margin of the best emergency label over "none" above which a sentence is a red flag."""
NEVER_DENIED = frozenset({"self_harm"})
_ALL = frozenset(redflags.CATEGORIES)
LONG_PAST = _ALL - NEVER_DENIED

_LONG_AGO = re.compile(
    r"\b(?:years?|months?|decades?|winters?|summers?) ago|\blast (?:year|month|summer|winter|spring|fall)\b|"
    r"\bback in (?:19|20)\d\d\b|"
    r"\bin (?:19|20)\d\d\b|\bas a (?:kid|child|teen|teenager)\b|\bwhen i was (?:a kid|little|young|a child|\d+)\b|"
    r"\b(?:healed|recovered|it'?s fine now|all better|gone now|long time ago)\b|"
    r"\bhace (?:\w+ )?(?:años|anos|meses|tiempo)\b|\bel año pasado\b|\bel ano pasado\b|\ben (?:19|20)\d\d\b|"
    r"\bde (?:niño|nino|niña|nina|pequeño|pequeno|pequeña|chico|chica|joven)\b|"
    r"\b(?:me curé|me cure|recuperad[oa]|sanó|sano del todo|ya pasó|ya paso)\b",
    re.IGNORECASE,
)


class AlarmDetector:
    """Built with the bot (the intents' examples are part of what is ordinary); immutable."""

    def __init__(self, classifier: SentenceClassifier, threshold: float = THRESHOLD) -> None:
        self._classifier = classifier
        self.threshold = threshold

    @classmethod
    def build(cls, ordinary: Iterable[str], threshold: float = THRESHOLD) -> AlarmDetector:
        """Train on the alarm bank against the everyday banks plus ``ordinary`` texts (the intent examples)."""
        return cls(_trained(tuple(ordinary)), threshold)

    def detect(self, text: str) -> RedFlag | None:
        """The first red flag, lexicon first, then the classifier sentence by sentence; None when there is none."""
        text = text[:MAX_SCAN_CHARS]
        flag = redflags.detect(text, NEVER_DENIED)
        if flag is not None:
            return flag
        parts = [(part, _allowed(part)) for part in clauses(text)]
        for categories in {allowed for _, allowed in parts} - {NEVER_DENIED}:
            kept = " . ".join(part if allowed >= categories else "." for part, allowed in parts)
            flag = redflags.detect(kept, categories - NEVER_DENIED)
            if flag is not None:
                return flag
        return self._semantic(text)

    def _semantic(self, text: str) -> RedFlag | None:
        for unit in scan_units(text):
            verdict = self._classifier.classify(redflags.without_benign(unit))
            if verdict is None or verdict.margin <= self.threshold:
                continue
            allowed = frozenset.intersection(_ALL, *(_allowed(part) for part in clauses(unit) if part.strip()))
            if verdict.label in allowed:
                return RedFlag(verdict.label, normalize(unit))
        return None


def _allowed(part: str) -> frozenset[str]:
    """The categories a clause may raise: all, less the denied and the long-past ones."""
    allowed = _ALL
    if denies(part):
        allowed = NEVER_DENIED
    if _LONG_AGO.search(part):
        allowed = allowed - LONG_PAST
    return allowed


@lru_cache(maxsize=4)
def _trained(ordinary: tuple[str, ...]) -> SentenceClassifier:
    """Half a second of training, shared by every bot built from the same examples (a reload of unchanged intents)."""
    examples = [(text, label) for label, texts in bank("alarms").items() for text in texts]
    examples += [(text, NONE) for name in ("benign", "everyday") for text in bank(name)[NONE]]
    examples += [(text, NONE) for text in ordinary]
    return SentenceClassifier.build(examples)
