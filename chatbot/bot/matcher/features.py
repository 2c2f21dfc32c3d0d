"""Word and character n-gram tf-idf features, fitted on the intent examples.

Why our own vectorizer rather than scikit-learn's: the server featurizes one
message at a time, and scikit-learn's per-call overhead (input validation, a
sparse matrix per call, two vectorizers) costs more than the model itself.
Here one query is a few dictionary look-ups returning an index array and a
value array, in tens of microseconds.

Two sparse blocks, each L2-normalised and weighted 1/sqrt(2): words
(unigrams, bigrams and skip-bigrams: meaning, word order, phrases with a word
in between, "book a table" ~ "book the table") and characters (2- to 5-grams
inside word boundaries: typos, inflections, compounds, any language); then a
dense block, the text's token embedding (embedding.py: words never seen in the
examples), weighted EMBEDDING_WEIGHT. Where a sentence encoder is given
(encoder.py, English), ``encode_sentence`` adds its vector as one more dense
block, weighted SENTENCE_WEIGHT: the matcher's second, slower stage (model.py)
uses it only when the first is unsure. A text sharing no term with the examples
gets no embedding either: it stays an empty vector, which the matcher answers
with no candidate. Each term counts once per message (binary, times a smoothed
idf): a short message repeating a word is not more about it, and on
CLINC150 binary terms beat sublinear frequencies (docs/matcher.md).

Tested in tests/test_matcher.py.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from chatbot.bot.matcher.embedding import TokenEmbedding, token_embedding
from chatbot.bot.matcher.encoder import SentenceEncoder

CHAR_NGRAMS = range(2, 6)
_BLOCK_WEIGHT = 1 / math.sqrt(2)
EMBEDDING_WEIGHT = 0.5
"""Against the unit-length n-gram part. On CLINC150 val, top-1 / in-scope accuracy at 75 % out-of-scope
recall (raw SVM margin): 0 → 0.934 / 0.925, 0.3 → 0.943 / 0.933, 0.5 → 0.946 / 0.937, 0.7 → 0.944 / 0.935."""
SENTENCE_WEIGHT = 0.5
"""The sentence encoder's block against the rest. On CLINC150 val, in-scope accuracy / out-of-scope recall at the
default threshold: without it 0.920 / 0.91; 0.5 → 0.948 / 0.92 (docs/matcher.md)."""


def word_terms(words: Sequence[str]) -> set[str]:
    """Unigrams, bigrams and skip-bigrams ("a _ c") of already-normalised words."""
    terms = set(words)
    terms.update(f"{a} {b}" for a, b in zip(words, words[1:], strict=False))
    terms.update(f"{a} _ {c}" for a, c in zip(words, words[2:], strict=False))
    return terms


def char_terms(words: Sequence[str]) -> set[str]:
    """Character n-grams of each word padded with spaces, so word edges count."""
    padded = [f" {word} " for word in words]
    return {p[i:i + n] for p in padded for n in CHAR_NGRAMS for i in range(len(p) - n + 1)}


@dataclass(frozen=True)
class _Block:
    """One vocabulary: term -> column, and the idf of each column."""

    index: dict[str, int]
    idf: np.ndarray
    offset: int

    @classmethod
    def fit(cls, documents: Sequence[Set[str]], offset: int) -> _Block:
        df: Counter[str] = Counter()
        for terms in documents:
            df.update(terms)
        vocabulary = sorted(df)
        n = len(documents)
        idf = np.array([math.log((1 + n) / (1 + df[t])) + 1 for t in vocabulary], dtype=np.float64)
        return cls({term: offset + i for i, term in enumerate(vocabulary)}, idf, offset)

    def encode(self, terms: Set[str]) -> tuple[list[int], list[float]]:
        columns: list[int] = []
        values: list[float] = []
        for term in terms:
            column = self.index.get(term)
            if column is not None:
                columns.append(column)
                values.append(self.idf[column - self.offset])
        norm = math.sqrt(sum(v * v for v in values))
        return columns, [v * _BLOCK_WEIGHT / norm for v in values] if norm else values


class Featurizer:
    """Fitted vocabularies; ``encode`` turns normalised words into a sparse vector (n-grams, then the embedding).

    ``n_features`` columns come from ``encode``; with a sentence encoder, the
    ``n_full - n_features`` columns after them come from ``encode_sentence``.
    """

    def __init__(self, words: _Block, chars: _Block, embedding: TokenEmbedding,
                 sentence: SentenceEncoder | None = None) -> None:
        self._words = words
        self._chars = chars
        self._embedding = embedding
        self._dense = np.arange(embedding.dimensions) + chars.offset + len(chars.index)
        self.n_features = int(self._dense[-1]) + 1
        self._sentence = sentence
        self._sentence_columns = np.arange(sentence.dimensions if sentence else 0) + self.n_features
        self.n_full = self.n_features + len(self._sentence_columns)

    @classmethod
    def fit(cls, texts: Iterable[Sequence[str]], sentence: SentenceEncoder | None = None) -> Featurizer:
        """Fit on the examples, each given as its list of normalised words."""
        tokenized = list(texts)
        words = _Block.fit([word_terms(t) for t in tokenized], offset=0)
        chars = _Block.fit([char_terms(t) for t in tokenized], offset=len(words.index))
        return cls(words, chars, token_embedding(), sentence)

    @property
    def has_sentence(self) -> bool:
        return self._sentence is not None

    def encode(self, words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Column indices and values of one text; both empty when nothing is known."""
        word_cols, word_vals = self._words.encode(word_terms(words))
        char_cols, char_vals = self._chars.encode(char_terms(words))
        columns = np.array(word_cols + char_cols, dtype=np.int64)
        values = np.array(word_vals + char_vals, dtype=np.float64)
        if not len(columns):
            return columns, values
        dense = self._embedding(" ".join(words)) * EMBEDDING_WEIGHT
        return np.concatenate([columns, self._dense]), np.concatenate([values, dense])

    def encode_sentence(self, words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """The sentence encoder's columns and values for one text (both empty without an encoder)."""
        if self._sentence is None:
            return self._sentence_columns, np.zeros(0)
        return self._sentence_columns, self._sentence(" ".join(words)).astype(np.float64) * SENTENCE_WEIGHT

    def with_sentences(self, fast: sp.csr_matrix, texts: Sequence[Sequence[str]]) -> sp.csr_matrix:
        """``fast`` (``matrix(texts)``, already built) followed by the sentence block of the same texts (training)."""
        if self._sentence is None:
            return fast
        dense = self._sentence.examples([" ".join(words) for words in texts]).astype(np.float64) * SENTENCE_WEIGHT
        dense[np.diff(fast.indptr) == 0] = 0.0  # a text the n-grams do not know stays empty, as in encode
        return sp.hstack([fast, sp.csr_matrix(dense)], format="csr")

    def matrix(self, texts: Iterable[Sequence[str]]) -> sp.csr_matrix:
        """Rows of encoded texts, for training."""
        indptr = [0]
        indices: list[np.ndarray] = []
        data: list[np.ndarray] = []
        for words in texts:
            columns, values = self.encode(words)
            indices.append(columns)
            data.append(values)
            indptr.append(indptr[-1] + len(columns))
        return sp.csr_matrix(
            (np.concatenate(data) if data else np.zeros(0), np.concatenate(indices) if indices else np.zeros(0, int),
             np.array(indptr)),
            shape=(len(indptr) - 1, self.n_features),
        )
