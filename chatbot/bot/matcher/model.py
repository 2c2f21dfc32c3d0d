"""The intent matcher: a linear SVM over word and character n-grams, calibrated on itself.

How it was chosen, with the measurements, is in docs/matcher.md. In short: on
CLINC150 a linear model over word + character n-grams ranks intents far better
than the nearest example by string ratio, in tens of microseconds; training
out-of-scope texts as one more class and scoring each intent against that class
separates out-of-scope messages best; and cross-validated calibration
(calibration.py) makes the confidence a probability, so the handoff threshold
carries over from one intent set to another.

Tested in tests/test_matcher.py.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import LinearSVC

from chatbot.bot.matcher.calibration import CalibrationSet, Calibrator, candidate_features
from chatbot.bot.matcher.encoder import SentenceEncoder
from chatbot.bot.matcher.features import Featurizer
from chatbot.bot.text import normalize

MAX_QUERY_CHARS = 1000
"""Longer messages are cut: no FAQ question is longer, and a 100 kB paste must stay fast."""
MAX_QUERY_WORDS = 60
FOLDS = 3
MIN_SALAD = 50
SVM_C = 2.0
"""Less regularisation than scikit-learn's default 1: better in-scope accuracy and out-of-scope recall on CLINC150."""
OOS_WEIGHT_IN_INTENTS = 5.0
"""The out-of-scope class weighs as much as this many average intents, however many negatives there are."""
_SEED = 0
CASCADE_BELOW = 0.99
"""The sentence encoder's stage runs only when the fast stage's confidence is under this: on CLINC150 val as
accurate as running it on every query, at a third of the cost (docs/matcher.md)."""
CASCADE_MAX_WORDS = 30
"""Nor on longer texts: a question is shorter, the n-grams of a long text already say much, and the encoder's
cost grows with the length (a story's sentences are ranked one by one anyway)."""


@dataclass(frozen=True)
class Candidate:
    """An intent and the calibrated probability (0..1) that it is what the visitor means."""

    intent: str
    confidence: float


def words_of(text: str) -> list[str]:
    """The normalised words of a message, bounded in length whatever comes in."""
    if not isinstance(text, str):
        return []
    return normalize(text[:MAX_QUERY_CHARS]).split()[:MAX_QUERY_WORDS]


@dataclass(frozen=True)
class _Linear:
    """Scores of every intent and of the out-of-scope class for one encoded query."""

    weights: np.ndarray  # (features, intents + 1); the last column is out of scope
    bias: np.ndarray

    @classmethod
    def fit(cls, x: sp.csr_matrix, labels: np.ndarray, n_classes: int) -> _Linear:
        """``labels`` in 0..n_classes-1, where n_classes - 1 is out of scope (absent when there are no negatives).

        An intent absent from ``labels`` (held out) never wins; an absent
        out-of-scope class scores 0, so the intent scores are used as they are.
        """
        present = np.unique(labels)
        weights = np.zeros((x.shape[1], n_classes), dtype=np.float32)
        bias = np.full(n_classes, -10.0)
        bias[-1] = 0.0
        if len(present) < 2:  # one intent and no negatives: nothing to separate, similarity decides
            bias[present] = 0.0
            return cls(weights, bias)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            svm = LinearSVC(C=SVM_C, random_state=_SEED, class_weight=_class_weight(labels, n_classes)).fit(x, labels)
        coef = svm.coef_ if len(present) > 2 else np.vstack([-svm.coef_[0], svm.coef_[0]])
        intercept = svm.intercept_ if len(present) > 2 else np.array([-svm.intercept_[0], svm.intercept_[0]])
        weights[:, present] = coef.T
        bias[present] = intercept
        return cls(np.ascontiguousarray(weights), bias)

    def scores(self, x: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
        """(intent scores, out-of-scope score) for rows of ``x``."""
        raw = np.asarray(x @ self.weights) + self.bias
        return raw[:, :-1], raw[:, -1]

    def score_one(self, columns: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, float]:
        raw = values @ self.weights[columns] + self.bias
        return raw[:-1], float(raw[-1])


def _class_weight(labels: np.ndarray, n_classes: int) -> dict[int, float] | None:
    """Weight the out-of-scope class as OOS_WEIGHT_IN_INTENTS average intents.

    Negatives are one class but stand for everything else the visitors may
    say: counted as one intent's worth they barely push back on the intents'
    scores; as one giant class they swamp small intents. On CLINC150 about five
    intents' worth gives the best out-of-scope recall at a given in-scope accuracy.
    """
    outside = n_classes - 1
    n_out = int((labels == outside).sum())
    n_intents = len(np.unique(labels[labels != outside]))
    if not n_out or not n_intents:
        return None
    per_intent = (len(labels) - n_out) / n_intents
    return {outside: OOS_WEIGHT_IN_INTENTS * per_intent / n_out}


def _folds(labels: np.ndarray, n_folds: int) -> np.ndarray:
    """A fold number per example, dealt round-robin within each class after a seeded shuffle."""
    rng = np.random.default_rng(_SEED)
    fold = np.zeros(len(labels), dtype=int)
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        fold[members] = np.arange(len(members)) % n_folds
    return fold


@dataclass(frozen=True)
class _Nearest:
    """Each intent's training examples, compiled for one query: their best cosine to it.

    Why not a sparse matrix per intent: scipy's per-call checks cost more than
    the product itself. Here each intent keeps its examples as a small dense
    matrix over only the columns they use, so the cosines of a query to one
    intent's examples are one gather and one matrix-vector product.
    """

    width: int
    columns: tuple[np.ndarray, ...]  # per intent, the columns its examples use
    examples: tuple[np.ndarray, ...]  # per intent, (its examples, those columns)

    @classmethod
    def fit(cls, x: sp.csr_matrix, labels: np.ndarray, n_intents: int) -> _Nearest:
        columns, examples = [], []
        for intent in range(n_intents):
            rows = x[labels == intent]
            used = np.unique(rows.indices)
            columns.append(used)
            examples.append(rows[:, used].toarray())
        return cls(x.shape[1], tuple(columns), tuple(examples))

    def best(self, columns: np.ndarray, values: np.ndarray, intents: np.ndarray) -> np.ndarray:
        """Per intent of ``intents``: the largest cosine of the query to one of its examples (at least 0)."""
        query = np.zeros(self.width)
        query[columns] = values
        return np.array([(self.examples[i] @ query[self.columns[i]]).max(initial=0.0) for i in intents])


@dataclass(frozen=True)
class _Stage:
    """One trained model over one feature space: the linear scores, their calibration, the encoded examples."""

    linear: _Linear
    calibrator: Calibrator
    examples: _Nearest

    @classmethod
    def fit(cls, x: sp.csr_matrix, labels: np.ndarray, n_intents: int, salad: sp.csr_matrix,
            has_negatives: bool) -> _Stage:
        calibration = _cross_validate(x, labels, n_intents + 1, salad, has_negatives)
        return cls(_Linear.fit(x, labels, n_intents + 1), Calibrator.fit(calibration),
                   _Nearest.fit(x, labels, n_intents))

    def rank(self, columns: np.ndarray, values: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best intents' indices and their confidences, for one encoded query."""
        scores, outside = self.linear.score_one(columns, values)
        top = np.argsort(-scores, kind="stable")[:k]
        features = np.empty((len(top), 2))
        features[:, 0] = scores[top] - outside  # candidate_features for one query, without its general reshaping
        features[:, 1] = self.examples.best(columns, values, top)
        # Calibrated for the top candidate; below it, never more confident than the one above.
        return top, np.minimum.accumulate(self.calibrator(features))


class Matcher:
    """Ranks intents for a message; build once per intent set (and language), then call ``rank``.

    With a sentence encoder it is a cascade of two stages: the fast one (n-grams
    and token vectors) answers alone when it is sure (``CASCADE_BELOW``); below
    that, a second model over the same features plus the sentence encoder's
    vector ranks again. Each stage is calibrated on its own.
    """

    def __init__(self, intents: Sequence[str], featurizer: Featurizer, fast: _Stage, full: _Stage | None) -> None:
        self._intents = list(intents)
        self._featurizer = featurizer
        self._fast = fast
        self._full = full

    @classmethod
    def build(cls, examples: Iterable[tuple[str, str]], negatives: Iterable[str] = (),
              encoder: SentenceEncoder | None = None) -> Matcher:
        """Train on (text, intent id) examples; ``negatives`` are out-of-scope texts, if any."""
        pairs = [(words, intent) for text, intent in examples if (words := words_of(text))]
        negative_words = [words for text in negatives if (words := words_of(text))]
        intents = sorted({intent for _, intent in pairs})
        index = {intent: i for i, intent in enumerate(intents)}
        texts = [words for words, _ in pairs] + negative_words
        labels = np.array([index[intent] for _, intent in pairs] + [len(intents)] * len(negative_words), dtype=int)
        featurizer = Featurizer.fit(texts, encoder if intents else None)
        if len(intents) == 0:
            empty = _Linear(np.zeros((featurizer.n_features, 1), np.float32), np.zeros(1))
            return cls([], featurizer, _Stage(empty, Calibrator.fallback(), _Nearest(featurizer.n_features, (), ())),
                       None)
        salad_texts = word_salad(texts, np.random.default_rng(_SEED), _salad_size(texts, negative_words))
        has_negatives = bool(negative_words)
        x, salad = featurizer.matrix(texts), featurizer.matrix(salad_texts)
        fast = _Stage.fit(x, labels, len(intents), salad, has_negatives)
        full = None
        if featurizer.has_sentence:
            full = _Stage.fit(featurizer.with_sentences(x, texts), labels, len(intents),
                              featurizer.with_sentences(salad, salad_texts), has_negatives)
        return cls(intents, featurizer, fast, full)

    @property
    def intents(self) -> list[str]:
        """The intent ids this matcher can answer with."""
        return list(self._intents)

    def rank(self, text: str, k: int = 3) -> list[Candidate]:
        """The ``k`` best-scoring intents, best first; [] when the message shares nothing with the examples.

        The order is the classifier's (the most accurate on CLINC150); the
        confidence is calibrated for the first candidate.
        """
        words = words_of(text)
        if not words or not self._intents or k < 1:
            return []
        columns, values = self._featurizer.encode(words)
        if not len(columns):
            return []
        top, confidence = self._fast.rank(columns, values, k)
        if self._full is not None and confidence[0] < CASCADE_BELOW and len(words) <= CASCADE_MAX_WORDS:
            extra_columns, extra_values = self._featurizer.encode_sentence(words)
            top, confidence = self._full.rank(np.concatenate([columns, extra_columns]),
                                              np.concatenate([values, extra_values]), k)
        return [Candidate(self._intents[i], float(c)) for i, c in zip(top, confidence, strict=True)]


def _salad_size(texts: Sequence[Sequence[str]], negatives: Sequence[Sequence[str]]) -> int:
    """No word salad when there are real negatives; else half as many salad texts as examples.

    Salad is easy to tell from a question (its nearest example is far), so
    when it stands beside real negatives the calibration leans on that
    distance, and fluent out-of-scope questions close to an example slip
    through. On CLINC150 val (100 negatives), at 75% out-of-scope recall:
    7,750 salad texts 0.919 in-scope accuracy, 100 texts 0.921, none 0.926;
    at the default threshold 0.897 / 0.86 out-of-scope recall, 0.901 / 0.88,
    0.919 / 0.86 (docs/matcher.md). Without negatives it is all there is.
    """
    return 0 if negatives else max(MIN_SALAD, len(texts) // 2)


def word_salad(texts: Sequence[Sequence[str]], rng: np.random.Generator, size: int) -> list[list[str]]:
    """Junk made of the examples' own words: 1 to 6 words drawn by frequency, some scrambled.

    It stands for the messages no intent set foresees ("a", "the what",
    pasted gibberish) so that calibration learns they deserve a low score.
    """
    pool = [word for words in texts for word in words]
    salad = []
    for _ in range(size):
        words = [pool[i] for i in rng.integers(0, len(pool), size=rng.integers(1, 7))]
        salad.append([w if rng.random() > 0.3 else "".join(rng.permutation(list(w))) for w in words])
    return salad


def _cross_validate(x: sp.csr_matrix, labels: np.ndarray, n_classes: int, salad: sp.csr_matrix,
                    has_negatives: bool) -> CalibrationSet:
    """Held-out candidates for calibration: examples per fold, and out-of-scope ones.

    Out-of-scope samples are the held-out negatives when there are any, else
    word salad and whole intents held out of training (simulated unknown questions).
    """
    data = CalibrationSet()
    outside = n_classes - 1
    fold = _folds(labels, FOLDS)
    for f in range(FOLDS):
        held = fold == f
        train = ~held
        if not held.any():
            continue
        linear = _Linear.fit(x[train], labels[train], n_classes)
        _add(data, linear, (x[train], labels[train]), x[held], labels[held], outside)
        part = salad[f::FOLDS]
        if part.shape[0]:
            _add(data, linear, (x[train], labels[train]), part, np.full(part.shape[0], outside), outside)
    if not has_negatives and n_classes > 2:
        rng = np.random.default_rng(_SEED)
        groups = np.array_split(rng.permutation(n_classes - 1), min(FOLDS, n_classes - 1))
        for group in groups:
            held = np.isin(labels, group)
            linear = _Linear.fit(x[~held], labels[~held], n_classes)
            _add(data, linear, (x[~held], labels[~held]), x[held], np.full(held.sum(), outside), outside)
    return data


def _nearest(x: sp.csr_matrix, intents: np.ndarray, train: tuple[sp.csr_matrix, np.ndarray],
             chunk: int = 512) -> np.ndarray:
    """Cosine of each row of ``x`` to the closest training example of the intent given for it."""
    train_x, train_labels = train
    nearest = np.zeros(x.shape[0])
    for start in range(0, x.shape[0], chunk):
        rows = slice(start, start + chunk)
        similarity = (x[rows] @ train_x.T).toarray()
        same = train_labels[None, :] == intents[rows, None]
        nearest[rows] = np.where(same, similarity, 0.0).max(axis=1, initial=0.0)
    return nearest


def _add(data: CalibrationSet, linear: _Linear, train: tuple[sp.csr_matrix, np.ndarray], x: sp.csr_matrix,
         gold: np.ndarray, outside: int) -> None:
    """Score held-out rows with the top candidate only: that is the one the bot answers with."""
    scores, out = linear.scores(x)
    columns = np.argmax(scores, axis=1)[:, None]
    nearest = _nearest(x, columns[:, 0], train)[:, None]
    features = candidate_features(scores, out, columns, nearest)
    correct = columns == gold[:, None]
    in_scope = gold != outside
    if in_scope.any():
        data.add(features[in_scope], correct[in_scope], in_scope=True)
    if (~in_scope).any():
        data.add(features[~in_scope], correct[~in_scope], in_scope=False)
