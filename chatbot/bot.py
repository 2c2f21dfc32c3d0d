"""The bot's one decision per visitor message: answer, hand off, or raise the alarm.

Order matters and is fixed here, in one place: red flags first (they win over
any FAQ answer), then an intent whose action is a handoff, then a confident
answer, else a handoff for low confidence. Out-of-scope intents (action
``out_of_scope``) are never answered: their examples train the matcher's
"none of these" class, and their answer is what the bot says when it hands off
for low confidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chatbot import redflags
from chatbot.intents import LANGUAGES, Intent
from chatbot.matcher import DEFAULT_THRESHOLD, Candidate, Matcher
from chatbot.text import detect_language


@dataclass(frozen=True)
class Reply:
    """What the bot says, and whether the conversation must go to a person (``handoff_reason``)."""

    lang: str
    text: str
    intent: str | None = None
    confidence: float | None = None
    quick_replies: tuple[str, ...] = ()
    handoff_reason: str | None = None
    candidates: tuple[Candidate, ...] = ()  # the top intents, for agent assist


@dataclass(frozen=True)
class Suggestion:
    """An approved answer offered to a representative (agent assist)."""

    intent: str
    confidence: float
    text: str


_UNSURE = {
    "en": "I'm not sure I understood that correctly, so I'm bringing in a member of our team to help you.",
    "es": "No estoy seguro de haberle entendido bien, así que voy a pedir ayuda a una persona de nuestro equipo.",
}


class Bot:
    """Intents plus one matcher per language; immutable, so a reload swaps the whole object."""

    def __init__(self, intents: Sequence[Intent], threshold: float | None = None) -> None:
        self.intents = {intent.id: intent for intent in intents}
        self.threshold = DEFAULT_THRESHOLD if threshold is None else threshold
        answerable = [intent for intent in intents if intent.answerable]
        outside = [intent for intent in intents if not intent.answerable]
        self._matchers = {
            lang: Matcher.build(
                ((example, intent.id) for intent in answerable for example in intent.texts[lang].examples),
                negatives=[example for intent in outside for example in intent.texts[lang].examples],
            )
            for lang in LANGUAGES
        }
        self._unsure = {lang: outside[0].texts[lang].answer.strip() if outside else _UNSURE[lang] for lang in LANGUAGES}

    def language_of(self, text: str, default: str) -> str:
        return detect_language(text, default=default)

    def rank(self, text: str, lang: str, k: int = 3) -> list[Candidate]:
        return self._matchers[lang].rank(text, k=k)

    def reply(self, text: str, lang: str) -> Reply:
        """The reply to ``text``, in the language it is written in (``lang`` when unclear)."""
        lang = self.language_of(text, lang)
        candidates = tuple(self.rank(text, lang, k=3))
        flag = redflags.detect(text)
        if flag is not None:
            return Reply(lang=lang, text=redflags.emergency_message(lang, flag), handoff_reason="urgent",
                         candidates=candidates)
        best = candidates[0] if candidates else None
        if best is None or best.confidence < self.threshold:
            confidence = best.confidence if best else 0.0
            return Reply(lang=lang, text=self._unsure[lang], confidence=round(confidence, 4),
                         handoff_reason="low_confidence", candidates=candidates)
        intent = self.intents[best.intent]
        localized = intent.texts[lang]
        return Reply(
            lang=lang,
            text=localized.answer.strip(),
            intent=intent.id,
            confidence=round(best.confidence, 4),
            quick_replies=localized.quick_replies,
            handoff_reason="requested" if intent.action == "handoff" else None,
            candidates=candidates,
        )

    def suggestions(self, reply: Reply) -> list[Suggestion]:
        """The approved answers behind a reply's top intents, for a representative to send in one click."""
        return [
            Suggestion(
                intent=c.intent,
                confidence=round(c.confidence, 4),
                text=self.intents[c.intent].texts[reply.lang].answer.strip(),
            )
            for c in reply.candidates
            if c.intent in self.intents and self.intents[c.intent].action is None
        ]
