"""The token-embedding block: real vectors from the wordllama wheel, loaded offline.

The vectors know English well and Spanish poorly (measured: "dolor de espalda" is no closer to
"molestias en la columna" than to a weather forecast), so only English pairs are asserted; Spanish
leans on the character n-grams.
"""

from __future__ import annotations

import numpy as np
import pytest

from chatbot.bot.matcher.embedding import DIMENSIONS, token_embedding


def _cosine(a: str, b: str) -> float:
    embed = token_embedding()
    return float(embed(a) @ embed(b))


@pytest.mark.parametrize(("word", "near", "far"), [
    ("salary", "paycheck", "volcano"),
    ("reserve a table", "book a table", "renew my passport"),
    ("doctor", "physician", "guitar"),
])
def test_related_texts_are_closer_than_unrelated_ones(word: str, near: str, far: str) -> None:
    assert _cosine(word, near) > _cosine(word, far) + 0.1


def test_vectors_are_unit_length_and_empty_text_is_zero() -> None:
    embed = token_embedding()
    vector = embed("where is the clinic")
    assert vector.shape == (DIMENSIONS,)
    assert np.linalg.norm(vector) == pytest.approx(1.0)
    assert not embed("").any()


def test_loaded_once_per_process() -> None:
    assert token_embedding() is token_embedding()
