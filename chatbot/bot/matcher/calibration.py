"""Turning raw classifier scores into a probability that the answer is right.

A linear classifier's scores are not comparable across intent sets: they grow
with the number of examples and shrink with the number of intents. So each
matcher measures itself at build time: it is retrained on part of its own
examples and scored on the rest (cross-validation), and a logistic regression
learns P(top intent is right | two features): the intent's score over the
out-of-scope score (a raw score when there are no negatives), and the cosine
similarity of the message to that intent's nearest example. The second is what
keeps "tell me a joke" or pasted gibberish low on a small intent set, where a
linear score alone can be high on one shared n-gram. (A third feature, the
margin over the second-best intent, made out-of-scope detection worse on
CLINC150 at every training size: docs/matcher.md.) On a tiny set the fit can
come out with a weight <= 0; both features are evidence for the answer, so
then only the scale and offset of the fixed blend ``SHAPE`` are fitted.

Out-of-scope messages are part of that measurement, otherwise every confident
mistake on an unknown question would be invisible: held-out negatives when
the caller gives some, else word salad made of the examples' own words and
whole intents held out of training (their examples are then out of scope for
the model that never saw them). Out-of-scope samples are
weighted to make up ``OOS_SHARE`` of the queries, so one threshold means the
same thing whatever the number of negatives or intents.

Tested in tests/test_matcher.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.linear_model import LogisticRegression

OOS_SHARE = 0.2
"""Assumed share of out-of-scope messages: the prior behind every confidence."""
N_FEATURES = 2
SHAPE = np.array([1.0, 2.0])
"""Fallback blend of (score over out-of-scope, nearest-example cosine), measured on CLINC150."""


def candidate_features(scores: np.ndarray, outside: np.ndarray, columns: np.ndarray,
                       nearest: np.ndarray) -> np.ndarray:
    """Per candidate: its score minus the out-of-scope score, and its nearest-example cosine.

    ``scores`` is (queries, intents), ``outside`` (queries,), ``columns`` and
    ``nearest`` (queries, k) the candidate intents and their similarity to the
    query; returns (queries, k, N_FEATURES).
    """
    picked = np.take_along_axis(scores, columns, axis=1)
    return np.stack([picked - outside[:, None], nearest], axis=2)


@dataclass
class CalibrationSet:
    """Held-out candidates with their features, whether each was right, and a weight."""

    features: list[np.ndarray] = field(default_factory=list)
    correct: list[np.ndarray] = field(default_factory=list)
    in_scope: list[np.ndarray] = field(default_factory=list)

    def add(self, features: np.ndarray, correct: np.ndarray, in_scope: bool) -> None:
        """``features`` (queries, k, N_FEATURES) and ``correct`` (queries, k) from one held-out part."""
        self.features.append(features.reshape(-1, N_FEATURES))
        self.correct.append(correct.reshape(-1))
        self.in_scope.append(np.full(correct.size, in_scope))


@dataclass(frozen=True)
class Calibrator:
    """P(right) = sigmoid(w . features + b), with positive weights."""

    weights: np.ndarray
    bias: float

    @classmethod
    def fit(cls, data: CalibrationSet) -> Calibrator:
        """Fit on held-out candidates; a neutral fallback when they hold only one outcome."""
        if not data.features:
            return cls.fallback()
        x = np.concatenate(data.features)
        y = np.concatenate(data.correct)
        in_scope = np.concatenate(data.in_scope)
        if y.all() or not y.any():
            return cls.fallback()
        weight = np.ones(len(y))
        n_in, n_out = in_scope.sum(), (~in_scope).sum()
        if n_in and n_out:
            weight[~in_scope] = OOS_SHARE / (1 - OOS_SHARE) * n_in / n_out
        model = LogisticRegression(C=100.0).fit(x, y, sample_weight=weight)
        if (model.coef_ > 0).all():
            return cls(model.coef_[0].copy(), float(model.intercept_[0]))
        blend = LogisticRegression(C=100.0).fit((x @ SHAPE)[:, None], y, sample_weight=weight)
        return cls(SHAPE * max(float(blend.coef_[0, 0]), 1e-3), float(blend.intercept_[0]))

    @classmethod
    def fallback(cls) -> Calibrator:
        """Used when cross-validation cannot tell right from wrong (one intent, no negatives)."""
        return cls(np.array([1.0, 6.0]), -3.0)

    def __call__(self, features: np.ndarray) -> np.ndarray:
        logits = features @ self.weights + self.bias
        probability: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(logits, -30.0, 30.0)))
        return probability
