"""Word and character n-gram tf-idf features, fitted on the intent examples.

Why our own vectorizer rather than scikit-learn's: the server featurizes one
message at a time, and scikit-learn's per-call overhead (input validation, a
sparse matrix per call, two vectorizers) costs more than the model itself.
Here one query is a few dictionary look-ups returning an index array and a
value array, in tens of microseconds. The terms of a text are looked up once
(``analyze``) in one table every vocabulary of the process shares, and each
model maps them to its own columns with an array index: a reply runs three
models (the matcher, the red-flag and the request classifiers) over the same
words, and each used to look up every term again (docs/performance.md).

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
from functools import lru_cache

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


class _Terms:
    """Every term any vocabulary of this process knows, each with one number, shared by all featurizers.

    Why: a reply runs three models over the same words (the intent matcher, the
    red-flag and the request classifiers), each with its own vocabulary. Looking
    each term up once here, then mapping the numbers to each model's columns with
    one array index per block, replaces three dictionary look-ups per term with
    one. The table only grows (a reload that brings new examples adds their
    terms): its size is the generation that ``analyze`` results are cached under.
    """

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}

    def add(self, terms: Iterable[str]) -> None:
        for term in terms:
            self.ids.setdefault(term, len(self.ids))

    def find(self, terms: Iterable[str]) -> np.ndarray:
        get = self.ids.get
        return np.fromiter((i for term in terms if (i := get(term)) is not None), dtype=np.int64)


_TERMS = _Terms()


@dataclass
class Analysis:
    """One text's terms as numbers of ``_TERMS`` and (computed on first use) its token embedding."""

    text: str
    words: np.ndarray
    chars: np.ndarray
    _embedding: np.ndarray | None = None

    def embedding(self, embedding: TokenEmbedding) -> np.ndarray:
        if self._embedding is None:
            self._embedding = embedding(self.text) * EMBEDDING_WEIGHT
        return self._embedding


@lru_cache(maxsize=256)
def _analyze(words: tuple[str, ...], _generation: int) -> Analysis:
    return Analysis(" ".join(words), _TERMS.find(word_terms(words)), _TERMS.find(char_terms(words)))


def analyze(words: Sequence[str]) -> Analysis:
    """The terms of ``words``, shared by every model that reads the same words in one reply.

    Cached per text and per generation of the term table, so a text analysed
    before a reload added terms is analysed again with them.
    """
    return _analyze(tuple(words), len(_TERMS.ids))


@dataclass(frozen=True)
class _Block:
    """One vocabulary: the column of each known term (by its number in ``_TERMS``, -1 if unknown) and its idf."""

    columns: np.ndarray
    idf: np.ndarray
    offset: int
    size: int

    @classmethod
    def fit(cls, documents: Sequence[Set[str]], offset: int) -> _Block:
        df: Counter[str] = Counter()
        for terms in documents:
            df.update(terms)
        vocabulary = sorted(df)
        n = len(documents)
        idf = np.array([math.log((1 + n) / (1 + df[t])) + 1 for t in vocabulary], dtype=np.float64)
        _TERMS.add(vocabulary)
        columns = np.full(len(_TERMS.ids), -1, dtype=np.int32)
        columns[_TERMS.find(vocabulary)] = np.arange(offset, offset + len(vocabulary), dtype=np.int32)
        return cls(columns, idf, offset, len(vocabulary))

    def encode(self, terms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Columns and L2-normalised values (times the block weight) of the known ``terms``."""
        known = self.columns[terms[terms < len(self.columns)]]
        known = known[known >= 0]
        values = self.idf[known - self.offset]
        norm = math.sqrt(float(values @ values))
        return known, values * _BLOCK_WEIGHT / norm if norm else values


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
        self._dense = np.arange(embedding.dimensions) + chars.offset + chars.size
        self.n_features = int(self._dense[-1]) + 1
        self._sentence = sentence
        self._sentence_columns = np.arange(sentence.dimensions if sentence else 0) + self.n_features
        self.n_full = self.n_features + len(self._sentence_columns)

    @classmethod
    def fit(cls, texts: Iterable[Sequence[str]], sentence: SentenceEncoder | None = None) -> Featurizer:
        """Fit on the examples, each given as its list of normalised words."""
        tokenized = list(texts)
        words = _Block.fit([word_terms(t) for t in tokenized], offset=0)
        chars = _Block.fit([char_terms(t) for t in tokenized], offset=words.size)
        return cls(words, chars, token_embedding(), sentence)

    @property
    def has_sentence(self) -> bool:
        return self._sentence is not None

    def encode(self, words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Column indices and values of one text; both empty when nothing is known."""
        analysis = analyze(words)
        word_cols, word_vals = self._words.encode(analysis.words)
        char_cols, char_vals = self._chars.encode(analysis.chars)
        if not len(word_cols) and not len(char_cols):
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        return (np.concatenate([word_cols, char_cols, self._dense]),
                np.concatenate([word_vals, char_vals, analysis.embedding(self._embedding)]))

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
