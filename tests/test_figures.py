"""Percentiles agree with numpy's default (linear) on lists of every shape, and refuse what has none."""

from __future__ import annotations

import numpy as np
import pytest

from chatbot.shared.figures import median, percentile


@pytest.mark.parametrize("values", [[5.0], [3.0, 1.0], [1.0, 2.0, 3.0, 4.0], [0.5, 9.0, 2.0, 2.0, 7.5, 100.0, 3.25]])
@pytest.mark.parametrize("p", [0, 10, 50, 90, 99, 100])
def test_percentile_matches_numpy(values: list[float], p: float) -> None:
    assert percentile(values, p) == pytest.approx(float(np.percentile(values, p)))


def test_median_of_an_even_list_is_between_the_middle_two() -> None:
    assert median([30.0, 60.0, 600.0, 10.0]) == 45.0


def test_no_values_or_a_percentile_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)
    with pytest.raises(ValueError, match="0 to 100"):
        percentile([1.0], 101)
