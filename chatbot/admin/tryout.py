"""The running intents as the dashboard shows them, and what the bot would do with a message an admin tries.

The same decision ``chatbot intents try`` prints, made by the bot the server is
running now (after any reload), as JSON: the ranked intents with their
confidences, and the bot's choice (an answer, or a handoff and why) with the
threshold it compared against. Nothing is stored and no conversation starts.

Tested in tests/test_dashboard.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chatbot.bot.answers import Bot
from chatbot.bot.intents import LANGUAGES

MAX_TEXT = 500


def intents_json(bot: Bot) -> dict[str, Any]:
    """Every loaded intent: id, file, what it does, and its examples per language (counts)."""
    return {
        "threshold": bot.threshold,
        "intents": [
            {"id": intent.id, "file": intent.path, "action": intent.action,
             "examples": {lang: len(text.examples) for lang, text in intent.texts.items()}}
            for intent in sorted(bot.intents.values(), key=lambda i: i.id)
        ],
    }


def message(query: Mapping[str, str]) -> tuple[str, str]:
    """``text`` (stripped) and ``lang`` from the query; ValueError names what is wrong and what is accepted."""
    text, lang = query.get("text", "").strip(), query.get("lang", "en")
    if not 0 < len(text) <= MAX_TEXT or "\x00" in text:
        raise ValueError(f"text: expected 1 to {MAX_TEXT} characters of text")
    if lang not in LANGUAGES:
        raise ValueError(f"lang: expected one of {', '.join(LANGUAGES)}, got {lang[:20]!r}")
    return text, lang


def tried(bot: Bot, text: str, lang: str, top: int = 5) -> dict[str, Any]:
    """What the bot would answer ``text`` (in ``lang`` when the language is unclear), and how sure it is."""
    reply = bot.reply(text, lang)
    return {
        "lang": reply.lang,
        "candidates": [{"intent": c.intent, "confidence": round(c.confidence, 4)}
                       for c in bot.rank(text, reply.lang, k=top)],
        "intent": reply.intent,
        "confidence": None if reply.confidence is None else round(reply.confidence, 4),
        "threshold": bot.threshold,
        "handoff_reason": reply.handoff_reason,
        "answer": reply.text,
    }
