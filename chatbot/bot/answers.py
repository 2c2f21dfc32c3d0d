"""The bot's one decision per visitor message: answer, hand off, or raise the alarm.

Order matters and is fixed here, in one place: red flags first, in any
sentence (they win over any FAQ answer); then what the visitor asks for (a
price, a prescription, a person... hands off with its own reason, whatever the
topic); then the topic of the sentences that ask something, read through the
intents' synonyms: an intent whose action is a handoff, a confident answer (two
answers in one reply when two questions get two), else a handoff for low
confidence. ``chatbot.bot.understanding`` holds the readers. Out-of-scope intents (action
``out_of_scope``) are never answered: their examples train the matcher's
"none of these" class, and their answer is what the bot says when it hands off
for low confidence.

Tested in tests/test_understanding.py, tests/test_visitor_chat.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from chatbot.bot import redflags
from chatbot.bot.forms import Form
from chatbot.bot.intents import LANGUAGES, Intent
from chatbot.bot.matcher import DEFAULT_THRESHOLD, Candidate, Matcher
from chatbot.bot.matcher.encoder import ENCODER_LANGUAGES, SentenceEncoder
from chatbot.bot.text import detect_language
from chatbot.bot.understanding.alarms import AlarmDetector
from chatbot.bot.understanding.requests import RequestReader
from chatbot.bot.understanding.sentences import questions
from chatbot.bot.understanding.vocabulary import Vocabulary


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
    intents: tuple[str, ...] = ()  # every intent answered, when one reply answers two questions
    form_offer: dict[str, str] | None = None  # {"id", "label"}: the answered intent's form, offered as a button


@dataclass(frozen=True)
class Suggestion:
    """An approved answer offered to a representative (agent assist)."""

    intent: str
    confidence: float
    text: str


_SOCIAL = frozenset({"greeting", "thanks_goodbye", "bot_identity"})
"""Intents never given as the second answer of a two-question reply: "hi! does heat help?" is one question."""
MAX_ANSWERS = 2
SECOND_ANSWER_CONFIDENCE = 0.6
"""How sure the whole message's ranking must be of each of two intents before a reply answers both (the development
set's two-question messages: 0.68 at the lowest; same-topic follow-ups read as two: 0.58 and below)."""
EACH_OF_TWO_CONFIDENCE = 0.95
"""And how sure each question's own ranking must be: the development set's two-question messages rank each of their
questions at 0.957 or more; a story's aside or a follow-up ("and why does it happen with age?") ranks lower (0.67 to
0.84 on that set; 0.97 lost "¿Y cuánto debería descansar?" at 0.957, 0.9 let a held-out follow-up through)."""
_HANDOFF = {
    "pricing": {
        "en": "I can't give prices, costs or insurance details in this chat, so I'm bringing in a member of our team "
              "who can help.",
        "es": "No puedo dar precios, costos ni información de seguros en este chat, así que voy a pedir ayuda a una "
              "persona de nuestro equipo.",
    },
    "booking": {
        "en": "A member of our team can help you with appointments, so I'm bringing one in.",
        "es": "Una persona de nuestro equipo puede ayudarle con las citas, así que voy a pedir que le atienda.",
    },
    "prescription": {
        "en": "I can't prescribe or refill medication. I'm bringing in a member of our team; for your own "
              "prescription, please also talk with your physician.",
        "es": "No puedo recetar ni renovar medicamentos. Voy a pedir ayuda a una persona de nuestro equipo; para su "
              "receta, hable también con su médico.",
    },
    "personal_result": {
        "en": "I can't read or explain your own results or images in this chat. You can request an MRI review through "
              "the link at the top of this page, and I'm bringing in a member of our team.",
        "es": "No puedo leer ni explicar sus propios resultados o imágenes en este chat. Puede solicitar una revisión "
              "de su resonancia con el enlace de la parte superior de esta página, y voy a pedir ayuda a una persona "
              "de nuestro equipo.",
    },
    "diagnosis": {
        "en": "I can't tell what you have: only a physician who examines you can. I'm bringing in a member of our "
              "team, and you can also request an MRI review through the link at the top of this page.",
        "es": "No puedo decirle qué tiene: solo un médico que le examine puede hacerlo. Voy a pedir ayuda a una "
              "persona de nuestro equipo, y también puede solicitar una revisión de su resonancia con el enlace de "
              "la parte superior de esta página.",
    },
    "named_person": {
        "en": "I can't speak for a member of our staff, so I'm bringing in a member of our team who can help.",
        "es": "No puedo hablar en nombre de una persona de nuestro personal, así que voy a pedir ayuda a alguien de "
              "nuestro equipo.",
    },
    "complaint": {
        "en": "I'm sorry to hear that. I'm bringing in a member of our team so that a person can look into it.",
        "es": "Lamento oír eso. Voy a pedir ayuda a una persona de nuestro equipo para que lo revise.",
    },
}
"""What the bot says when a request hands off (reason ``requested`` uses the ``human_agent`` intent's answer)."""

_UNSURE = {
    "en": "I'm not sure I understood that correctly, so I'm bringing in a member of our team to help you.",
    "es": "No estoy seguro de haberle entendido bien, así que voy a pedir ayuda a una persona de nuestro equipo.",
}


@lru_cache(maxsize=8)
def _matcher(examples: tuple[tuple[str, str], ...], negatives: tuple[str, ...],
             encoder: SentenceEncoder | None) -> Matcher:
    """A matcher is immutable: bots built from the same examples (a reload of unchanged intents) share it."""
    return Matcher.build(examples, negatives, encoder)


class Bot:
    """Intents plus one matcher per language; immutable, so a reload swaps the whole object."""

    def __init__(self, intents: Sequence[Intent], threshold: float | None = None,
                 encoder: SentenceEncoder | None = None, forms: Mapping[str, Form] | None = None) -> None:
        """``encoder``: the sentence encoder of the English matcher's second stage (None: the fast stage alone);
        ``forms``: the forms by id, which intents may offer (loaded and reloaded with them)."""
        self.intents = {intent.id: intent for intent in intents}
        self.forms = dict(forms or {})
        self.threshold = DEFAULT_THRESHOLD if threshold is None else threshold
        answerable = [intent for intent in intents if intent.answerable]
        outside = [intent for intent in intents if not intent.answerable]
        self._vocabulary = {
            lang: Vocabulary.of(intent.texts[lang].synonyms for intent in intents) for lang in LANGUAGES
        }
        self._matchers = {
            lang: _matcher(
                tuple((self._vocabulary[lang].rewrite(example), intent.id)
                      for intent in answerable for example in intent.texts[lang].examples),
                tuple(self._vocabulary[lang].rewrite(example)
                      for intent in outside for example in intent.texts[lang].examples),
                encoder if lang in ENCODER_LANGUAGES else None,
            )
            for lang in LANGUAGES
        }
        self._unsure = {lang: outside[0].texts[lang].answer.strip() if outside else _UNSURE[lang] for lang in LANGUAGES}
        every = [example for intent in intents for lang in LANGUAGES for example in intent.texts[lang].examples]
        self._alarms = AlarmDetector.build(every)
        persons = [e for intent in intents if intent.action == "handoff" for lang in LANGUAGES
                   for e in intent.texts[lang].examples]
        information = [e for intent in intents if intent.action != "handoff" for lang in LANGUAGES
                       for e in intent.texts[lang].examples]
        self._requests = RequestReader.build(information, persons)
        self._person = next((intent for intent in intents if intent.action == "handoff"), None)

    def language_of(self, text: str, default: str) -> str:
        return detect_language(text, default=default)

    def rank(self, text: str, lang: str, k: int = 3) -> list[Candidate]:
        return self._matchers[lang].rank(self._vocabulary[lang].rewrite(text), k=k)

    def reply(self, text: str, lang: str) -> Reply:
        """The reply to ``text``, in the language it is written in (``lang`` when unclear)."""
        lang = self.language_of(text, lang)
        candidates = tuple(self.rank(text, lang, k=3))
        flag = self._alarms.detect(text)
        if flag is not None:
            return Reply(lang=lang, text=redflags.emergency_message(lang, flag), handoff_reason="urgent",
                         candidates=candidates)
        request = self._requests.read(text)
        if request is not None:
            return self._handoff(request.reason, lang, candidates)
        return self._answer(text, lang, candidates)

    def _handoff(self, reason: str, lang: str, candidates: tuple[Candidate, ...]) -> Reply:
        """A request only a person may answer: say so, and hand off with the request's reason."""
        if reason in _HANDOFF:
            said = _HANDOFF[reason][lang]
        elif reason == "low_confidence":  # an attempt to give the bot other orders
            said = self._unsure[lang]
        else:  # requested: the person intent's own words
            said = self._person.texts[lang].answer.strip() if self._person else _UNSURE[lang]
        intent = self._person.id if reason == "requested" and self._person else None
        return Reply(lang=lang, text=said, intent=intent, handoff_reason=reason, candidates=candidates)

    def _answer(self, text: str, lang: str, candidates: tuple[Candidate, ...]) -> Reply:
        """The confident intents of the sentences that ask something, else of the whole message."""
        asked = [ranked[0] for unit in questions(text) if (ranked := self._top(unit, text, lang, candidates))]
        asked = [c for c in asked if self._counts(c, candidates)]
        confident = [c for c in asked if c.confidence >= self.threshold]
        whole = candidates[0] if candidates else None
        if not confident and whole is not None and whole.confidence >= self.threshold:
            confident = [whole]
        if not confident:
            best = max([*asked, *candidates], key=lambda c: c.confidence, default=None)
            confidence = best.confidence if best else 0.0
            return Reply(lang=lang, text=self._unsure[lang], confidence=round(confidence, 4),
                         handoff_reason="low_confidence", candidates=candidates)
        chosen = self._answers(confident, candidates)
        intent = self.intents[chosen[0].intent]
        localized = intent.texts[lang]
        answers = [self.intents[c.intent].texts[lang].answer.strip() for c in chosen]
        return Reply(
            lang=lang,
            text="\n\n".join(answers),
            intent=intent.id,
            confidence=round(min(c.confidence for c in chosen), 4),
            quick_replies=localized.quick_replies,
            handoff_reason="requested" if intent.action == "handoff" else None,
            candidates=candidates,
            intents=tuple(c.intent for c in chosen) if len(chosen) > 1 else (),
            form_offer=self._offer(intent, lang),
        )

    def _offer(self, intent: Intent, lang: str) -> dict[str, str] | None:
        """The form the intent offers, as the button under its answer ("Would you like us to review your MRI?")."""
        form = self.forms.get(intent.form) if intent.form and intent.action is None else None
        return {"id": form.id, "label": form.texts[lang].offer} if form else None

    def _counts(self, asked: Candidate, whole: tuple[Candidate, ...]) -> bool:
        """A question's intent counts, except the person intent when the whole message is about something else.

        A short clause has few words to go on ("y por qué pasa con los años?" looked like "pásame con una
        persona"); a wish for a person in any wording is the request reader's, which reads every sentence.
        """
        return self.intents[asked.intent].action != "handoff" or (bool(whole) and whole[0].intent == asked.intent)

    def _top(self, unit: str, text: str, lang: str, whole: tuple[Candidate, ...]) -> Sequence[Candidate]:
        """The unit's best intent; a one-question message is its own unit, already ranked as a whole."""
        return whole[:1] if unit == text.strip() else self.rank(unit, lang, k=1)

    def _answers(self, confident: list[Candidate], whole: tuple[Candidate, ...]) -> list[Candidate]:
        """The first confident intent, and a second, different one when the message as a whole is about both.

        A follow-up about the same topic ("what is a bulging disc, and can it
        cause upper back pain?") has a second clause that alone looks like
        another intent; the whole message does not: its two best intents are
        the two questions' only when it really asks two things.
        """
        handoff = next((c for c in confident if self.intents[c.intent].action == "handoff"), None)
        if handoff is not None:
            return [handoff]
        topical = [c for c in confident if c.intent not in _SOCIAL] or confident[:1]
        first = max(topical, key=lambda c: c.confidence)  # the first of the surest: a story's stray question loses
        both = {c.intent for c in whole[:MAX_ANSWERS] if c.confidence >= SECOND_ANSWER_CONFIDENCE}
        second = next((c for c in topical if c.intent != first.intent and {first.intent, c.intent} <= both
                       and min(c.confidence, first.confidence) >= EACH_OF_TWO_CONFIDENCE), None)
        if second is None:
            return [first]
        return [first, second] if topical.index(first) < topical.index(second) else [second, first]

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
