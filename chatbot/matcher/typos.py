"""Spelling correction of unknown words against the examples' vocabulary (rapidfuzz).

Character n-grams already forgive most typos; this handles the ones that break
a short word's n-grams apart ("hernaited" for "herniated", "sciatca"), and
gives the word features their word back. Only words absent from the examples
are looked at, only against known words of nearly the same length, and at most
``MAX_CORRECTIONS`` per message, so a message of gibberish stays cheap.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from rapidfuzz import fuzz, process

MIN_LENGTH = 4
"""Shorter unknown words are left alone: too many known words are one edit away."""
MIN_SIMILARITY = 80.0
MAX_CORRECTIONS = 4
_LENGTH_SLACK = 2


class Speller:
    """Maps an unknown word to the most similar known word, if one is similar enough."""

    def __init__(self, vocabulary: Iterable[str]) -> None:
        self._known = frozenset(vocabulary)
        by_length: dict[int, list[str]] = defaultdict(list)
        for word in sorted(self._known):
            if len(word) >= MIN_LENGTH - _LENGTH_SLACK and word.isalpha():
                by_length[len(word)].append(word)
        self._by_length = dict(by_length)

    def correct(self, words: Sequence[str]) -> list[str]:
        """``words`` with unknown alphabetic words of MIN_LENGTH+ replaced by their closest known word."""
        out = list(words)
        budget = MAX_CORRECTIONS
        for i, word in enumerate(words):
            if budget == 0:
                break
            if word in self._known or len(word) < MIN_LENGTH or not word.isalpha():
                continue
            budget -= 1
            replacement = self._closest(word)
            if replacement is not None:
                out[i] = replacement
        return out

    def _closest(self, word: str) -> str | None:
        best: tuple[str, float] | None = None
        for length in range(len(word) - _LENGTH_SLACK, len(word) + _LENGTH_SLACK + 1):
            choices = self._by_length.get(length)
            if not choices:
                continue
            found = process.extractOne(word, choices, scorer=fuzz.ratio, score_cutoff=MIN_SIMILARITY)
            if found is not None and (best is None or found[1] > best[1]):
                best = (found[0], found[1])
        return best[0] if best else None
