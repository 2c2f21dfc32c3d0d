"""What a visitor asks for, beside the topic: information the page gives, or something only a person may give.

Why apart from the intent matcher: "how much is a cortisone shot" and "what is
a cortisone shot" share their topic and differ in what is asked. One classifier
over topics would have to learn every (topic, ask) pair; this one learns the
ask alone, from a bank of requests (``banks/requests.yaml``) in which
``{topic}`` is filled with the page's treatments and tests, so naming a topic
teaches it nothing. Information is what every intent example asks for, plus
the bank's ``info`` and ``banks/benign.yaml`` sentences (stories around a question).

Each kind hands off with a reason of its own (docs/protocol.md): the bot never
quotes a price, books, prescribes, reads a visitor's own results, diagnoses,
speaks for a named person or handles a complaint. A wish for a person, however
it is phrased, is reason ``requested``, like the ``human_agent`` intent.

Tested in tests/test_understanding.py.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from chatbot.bot.text import MAX_SCAN_CHARS
from chatbot.bot.understanding.banks import bank
from chatbot.bot.understanding.classifier import NONE, SentenceClassifier
from chatbot.bot.understanding.sentences import asks, clauses, denies, scan_units, sentences

REASONS = {
    "pricing": "pricing",
    "booking": "booking",
    "prescription": "prescription",
    "personal_result": "personal_result",
    "diagnosis": "diagnosis",
    "named_person": "named_person",
    "complaint": "complaint",
    "human": "requested",
}
"""Bank label -> the handoff reason stored and sent in the ``state`` event."""
INJECTION_REASON = "low_confidence"
THRESHOLD = 0.0
"""Margin of the best request over information above which a sentence that asks or wants something is that request."""
STATEMENT_THRESHOLD = 0.9
"""The same for a sentence that neither asks nor wants: the story around a question ("my doctor never explains
anything") must not read as a complaint unless it plainly is one ("this is unacceptable, I want to complain")."""
TOPICS = (
    "a cortisone shot", "the MRI review", "surgery", "an injection", "the procedure", "laser spine surgery",
    "minimally invasive surgery", "an epidural", "physical therapy", "a consultation", "an X-ray", "the seminar",
    "una inyección de cortisona", "la revisión de la resonancia", "la cirugía", "una inyección", "el procedimiento",
    "la cirugía láser de columna", "una epidural", "la fisioterapia", "una consulta", "una radiografía",
)
TOPICS_PER_TEMPLATE = 3
_INFO = "info"
_INJECTION = re.compile(
    r"\b(?:ignore|disregard|forget|override|bypass|disable)\b.{0,40}\b(?:instructions|rules|prompt|guidelines|"
    r"safety|filters?|restrictions|programming)\b|\bsystem prompt\b|\byou are now (?:a|an|my|in|dan)\b|"
    r"\bjailbreak|\bdeveloper mode\b|\bas (?:an|the|your) (?:admin|administrator|developer|owner)\b|"
    r"\b(?:drop|delete|truncate) table\b|<\s*script|\bselect \* from\b|;\s*--|"
    r"\b(?:ignora|olvida|olvid[aá]te de|desactiva)\b.{0,40}\b(?:instrucciones|reglas|indicaciones|prompt|seguridad|"
    r"restricciones)\b|\b(?:ahora eres|act[uú]a como|como administrador)\b",
    re.IGNORECASE,
)
"""Attempts to make the bot follow other orders: never answered, whatever topic they name (they hand off as
``low_confidence``, so they show in the unanswered report)."""
_WANTS = re.compile(
    r"\b(?:i|we) (?:want|wanna|need|would like|d like|'d like|demand|expect)\b|\bplease\b|\bpls\b|\blet me\b|"
    r"\b(?:quiero|queremos|quisiera|necesito|necesitamos|me gustar[ií]a|exijo|por favor|porfa)\b",
    re.IGNORECASE,
)
_TITLED_NAME = re.compile(r"\b(?:dr|dra|doctor|doctora|nurse|enfermera|enfermero)\.?\s+([A-ZÁÉÍÓÚÑ][\w'-]+)")
_DR_NAME = re.compile(r"\b(?:dr|dra)\.?\s+([a-záéíóúñ][\w'-]+)", re.IGNORECASE)
_NOT_A_NAME = frozenset(
    "said says told tells recommended recommends suggested thinks think wants wanted gave prescribed "
    "visit appointment office note orders dijo dice recomendo recomendó me mi le de del que".split()
)


@dataclass(frozen=True)
class Request:
    """A sentence asking for something the bot must hand off, and the handoff reason."""

    reason: str
    sentence: str


class RequestReader:
    """Built with the bot (the intent examples are what information looks like); immutable."""

    def __init__(self, classifier: SentenceClassifier, threshold: float = THRESHOLD) -> None:
        self._classifier = classifier
        self.threshold = threshold

    @classmethod
    def build(cls, information: Iterable[str], persons: Iterable[str] = (), threshold: float = THRESHOLD
              ) -> RequestReader:
        """Train on the request bank; ``information`` are FAQ questions, ``persons`` ways to ask for a person."""
        return cls(_trained(tuple(information), tuple(persons)), threshold)

    def read(self, text: str) -> Request | None:
        """The first sentence asking for something only a person may give, else None (information)."""
        if _INJECTION.search(text[:MAX_SCAN_CHARS]):
            return Request(INJECTION_REASON, text[:MAX_SCAN_CHARS])
        for unit in [*scan_units(text), *_in_context(text)]:
            named = _named_person(unit)
            if named:
                return Request(REASONS["named_person"], unit)
            verdict = self._classifier.classify(" ".join(c for c in clauses(unit) if not denies(c)))
            bar = self.threshold if asks(unit) or _WANTS.search(unit) else STATEMENT_THRESHOLD
            if verdict is not None and verdict.margin > bar:
                return Request(REASONS[verdict.label], unit)
        return None


def _in_context(text: str) -> list[str]:
    """Each question with the sentence before it: "My MRI report says C6-C7 extrusion. What does that mean?".

    The request is often in the statement and the question only points back at
    it; read alone, neither is sure enough.
    """
    found = sentences(text)
    return [f"{before} {after}" for before, after in zip(found, found[1:], strict=False) if asks(after)]


@lru_cache(maxsize=4)
def _trained(information: tuple[str, ...], persons: tuple[str, ...]) -> SentenceClassifier:
    """Shared by every bot built from the same examples, like the alarm classifier."""
    rng = random.Random(0)
    examples = [
        (filled, _label(label)) for label, texts in bank("requests").items() for text in texts
        for filled in _fill(text, rng)
    ]
    examples += [(text, NONE) for text in bank("benign")[NONE]]
    examples += [(text, NONE) for text in information]
    examples += [(text, "human") for text in persons]
    return SentenceClassifier.build(examples)


def _label(label: str) -> str:
    return NONE if label == _INFO else label


def _fill(template: str, rng: random.Random) -> list[str]:
    """A template with ``{topic}`` filled with a few topics; a text without it as it is."""
    if "{topic}" not in template:
        return [template]
    return [template.replace("{topic}", topic) for topic in rng.sample(TOPICS, TOPICS_PER_TEMPLATE)]


def _named_person(sentence: str) -> bool:
    """A title followed by a name: "Dr. Patel", "doctor Romero", "dra lopez" (not "my dr said")."""
    for pattern in (_TITLED_NAME, _DR_NAME):
        match = pattern.search(sentence)
        if match is not None and match.group(1).casefold() not in _NOT_A_NAME:
            return True
    return False
