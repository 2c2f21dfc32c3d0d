"""The server's garbage-collector setting: full collections wait for many young ones, the young ones run as before."""

import gc
from collections.abc import Iterator

import pytest

from chatbot.cli import collector


@pytest.fixture
def thresholds() -> Iterator[tuple[int, int, int]]:
    before = gc.get_threshold()
    yield before
    gc.set_threshold(*before)


def test_tune_makes_full_collections_rare_and_keeps_the_young_ones(thresholds: tuple[int, int, int]) -> None:
    collector.tune()
    young, middle, full = gc.get_threshold()
    assert (young, middle) == thresholds[:2]
    assert full == collector.FULL_COLLECTION_EVERY > thresholds[2]
