"""A sentence classifier over the matcher's features: which of a few labels a short text is, or none.

Used twice: for red flags (alarms.py: emergencies against everyday
sentences) and for what a visitor asks for (requests.py: a price, a person...
against information). Both are trained from phrase banks (``banks/*.yaml``) when
the bot is built, so a bank edit needs no training step, only a reload.

A one-vs-rest linear SVM over the same word and character n-grams and token
embedding as the intent matcher (``chatbot.bot.matcher.features``): character
n-grams read typos ("sucidal", "bladdr"), the embedding places "end it all"
near "not be here anymore" and words never seen in the bank. The score of a
text is the best label's SVM score minus the "none" label's, so one threshold
per use says how sure it must be; the thresholds were chosen on the project's
development set (docs/understanding.md).

Tested in tests/test_understanding.py.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import LinearSVC

from chatbot.bot.matcher.features import Featurizer
from chatbot.bot.matcher.model import words_of

NONE = "none"
SVM_C = 1.0


@dataclass(frozen=True)
class Verdict:
    """The best label other than none, and by how much it beats none (positive: the label wins)."""

    label: str
    margin: float


class SentenceClassifier:
    """Immutable; ``classify`` costs one sparse encoding and a few dot products."""

    def __init__(self, featurizer: Featurizer, labels: Sequence[str], weights: np.ndarray, bias: np.ndarray) -> None:
        self._featurizer = featurizer
        self._labels = list(labels)
        self._weights = weights
        self._bias = bias
        self._none = self._labels.index(NONE)

    @classmethod
    def build(cls, examples: Iterable[tuple[str, str]]) -> SentenceClassifier:
        """Train on (text, label) pairs, where label ``NONE`` marks the ordinary texts."""
        pairs = [(words, label) for text, label in examples if (words := words_of(text))]
        labels = sorted({label for _, label in pairs} | {NONE})
        index = {label: i for i, label in enumerate(labels)}
        texts = [words for words, _ in pairs]
        featurizer = Featurizer.fit(texts)
        x = featurizer.matrix(texts)
        y = np.array([index[label] for _, label in pairs])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            svm = LinearSVC(C=SVM_C, class_weight="balanced", random_state=0).fit(x, y)
        return cls(featurizer, labels, np.ascontiguousarray(svm.coef_.T), svm.intercept_)

    @property
    def labels(self) -> list[str]:
        return [label for label in self._labels if label != NONE]

    def classify(self, text: str) -> Verdict | None:
        """The best label and its margin over none; None when the text shares nothing with the bank."""
        words = words_of(text)
        if not words:
            return None
        columns, values = self._featurizer.encode(words)
        if not len(columns):
            return None
        scores = values @ self._weights[columns] + self._bias
        others = scores.copy()
        others[self._none] = -np.inf
        best = int(np.argmax(others))
        return Verdict(self._labels[best], float(scores[best] - scores[self._none]))
