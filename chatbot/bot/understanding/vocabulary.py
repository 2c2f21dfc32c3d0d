"""Synonyms: the everyday words visitors use for the terms the intents' examples use.

Admins give them per intent and language in the intent files::

    en:
      synonyms:
        anti-inflammatory medication: [ibuprofen, advil, motrin, naproxen, aleve]

A message is rewritten before matching: every variant (whole words, after
``normalize``) becomes its term, so "is aleve ok for my back" is matched as
"is anti inflammatory medication ok for my back". The examples are rewritten the
same way at build time, so both sides speak one vocabulary. As in Rasa's
entity synonyms, a variant means its term in every message, not only in the
intent whose file declares it: the file is where an admin finds it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from chatbot.bot.text import MAX_SCAN_CHARS, normalize


class Vocabulary:
    """Variant phrases of one language mapped to their terms; longest variant first, left to right."""

    def __init__(self, synonyms: Mapping[str, str]) -> None:
        self._terms = {tuple(normalize(variant).split()): normalize(term).split() for variant, term in synonyms.items()}
        self._terms.pop((), None)
        self._longest = max((len(variant) for variant in self._terms), default=0)

    @classmethod
    def of(cls, tables: Iterable[Mapping[str, tuple[str, ...]]]) -> Vocabulary:
        """From ``{term: variants}`` tables (one per intent); the intent check refuses a variant given two terms."""
        return cls({variant: term for table in tables for term, variants in table.items() for variant in variants})

    def __len__(self) -> int:
        return len(self._terms)

    def rewrite(self, text: str) -> str:
        """``text`` normalised, with each variant replaced by its term."""
        words = normalize(text[:MAX_SCAN_CHARS]).split()
        if not self._terms:
            return " ".join(words)
        out: list[str] = []
        i = 0
        while i < len(words):
            for size in range(min(self._longest, len(words) - i), 0, -1):
                term = self._terms.get(tuple(words[i:i + size]))
                if term is not None:
                    out += term
                    i += size
                    break
            else:
                out.append(words[i])
                i += 1
        return " ".join(out)
