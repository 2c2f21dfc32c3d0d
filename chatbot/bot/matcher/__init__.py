"""Intent matching: rank the intents of one language for a visitor's message, with calibrated confidence.

``Matcher.build(examples, negatives)`` once per intent set, ``rank(text, k)``
per message; below ``DEFAULT_THRESHOLD`` the bot hands the visitor to a person.
"""

from chatbot.bot.matcher.model import Candidate, Matcher

DEFAULT_THRESHOLD: float = 0.5
"""Confidence below which the bot hands off: see docs/matcher.md for the measurements behind it."""

__all__ = ["DEFAULT_THRESHOLD", "Candidate", "Matcher"]
