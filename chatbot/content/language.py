"""Each section's language, so that a Spanish section is drafted and checked as Spanish.

py3langid (a maintained fork of langid.py: a small naive Bayes model shipped in
the wheel, no download, deterministic) names the language of a text among 97.
A heading alone ("Learn More") is too short to tell: below ``MIN_CONFIDENCE``
the page's own language is kept instead of a guess.

Tested in tests/test_content_import.py.
"""

from __future__ import annotations

from functools import cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

MIN_CONFIDENCE = 0.5
"""Below this probability the guess is not trusted (measured: "Learn More" reads as Frisian at 0.04)."""


@cache
def _identifier() -> LanguageIdentifier:
    """The model, loaded once (about 0.3 s) and only when something is imported."""
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect(text: str, fallback: str) -> str:
    """The ISO 639-1 code of ``text``'s language, or ``fallback`` when the text is too short to tell."""
    if not text.strip():
        return fallback
    language, probability = _identifier().classify(text)
    return str(language) if probability >= MIN_CONFIDENCE else fallback
