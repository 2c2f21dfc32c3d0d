"""Passages for agent assist: when no intent is confident, the page sections that best match the visitor's words.

A representative taking over a question the bot could not answer still wants
the page's own words, with the link to send or to read. The sections of the
content snapshot are indexed with TF-IDF (words and word pairs, function
words left out, accents folded): fast to build at start, microseconds to
search, no model to download. The site is in English, so a Spanish message
finds passages only through the words the two languages share.

Tested in tests/test_passages.py.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sklearn.feature_extraction.text import TfidfVectorizer

from chatbot.bot.text import normalize
from chatbot.content import snapshot
from chatbot.content.grounding import STOPWORDS
from chatbot.content.snapshot import Page, Section

MIN_SCORE = 0.1
"""Below this cosine similarity a section shares little more than a word with the message: not offered."""
PASSAGE_WORDS = 60
_ASKING = frozenset("get got help know want need tell like please question questions".split())
"""Words of asking, in every message and in no topic ("can I get the newsletter" is about the newsletter)."""
_STOP = sorted({token for word in STOPWORDS | _ASKING for token in normalize(word).split()})

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Passage:
    """A section offered to a representative: its link (``URL#anchor``), heading, the start of its text, and score."""

    link: str
    heading: str
    text: str
    score: float


def _shortened(text: str) -> str:
    """The section's first ``PASSAGE_WORDS`` words (a passage to read, the link has the rest)."""
    words = text.split()
    return " ".join(words[:PASSAGE_WORDS]) + (" …" if len(words) > PASSAGE_WORDS else "")


class Passages:
    """The snapshot's sections, searchable by a visitor's message."""

    def __init__(self, pages: Iterable[Page]) -> None:
        self._sections: list[tuple[str, Section]] = [(page.url, s) for page in pages for s in page.sections]
        self._vectorizer = TfidfVectorizer(preprocessor=normalize, ngram_range=(1, 2), sublinear_tf=True,
                                           stop_words=_STOP, token_pattern=r"(?u)\b\w\w+\b")
        texts = [f"{s.heading}\n{s.text}" for _, s in self._sections]
        self._matrix = self._vectorizer.fit_transform(texts) if texts else None

    @classmethod
    def load(cls, directory: Path) -> Passages:
        """The passages of the snapshot in ``directory``; none (logged) when there is no readable snapshot."""
        try:
            pages = snapshot.load(directory)
        except snapshot.SnapshotError as exc:
            log.warning("agent assist offers no passages: %s", exc)
            return cls(())
        return cls(pages.values())

    def __len__(self) -> int:
        return len(self._sections)

    def search(self, text: str, k: int = 3) -> list[Passage]:
        """The ``k`` sections most like ``text`` (at least ``MIN_SCORE``), best first."""
        if self._matrix is None:
            return []
        scores = (self._matrix @ self._vectorizer.transform([text]).T).toarray().ravel()
        best = [i for i in sorted(range(len(scores)), key=lambda i: -scores[i])[:k] if scores[i] >= MIN_SCORE]
        return [self._passage(i, float(scores[i])) for i in best]

    def answering(self, messages: Sequence[str]) -> Passage | None:
        """The section that would answer a group of unanswered messages (the unanswered report points to it), if one
        matches them."""
        found = self.search(" ".join(messages), k=1)
        return found[0] if found else None

    def _passage(self, index: int, score: float) -> Passage:
        url, section = self._sections[index]
        return Passage(f"{url}#{section.anchor}", section.heading, _shortened(section.text), round(score, 4))
