"""Percentiles, one way for every figure we report: wait times in the admin's stats and the visitor's estimate,
and the matcher's latencies in its evaluation.

Linear interpolation between the closest ranks, numpy's default, so a figure
here can be checked against ``numpy.percentile`` by anyone.

Tested in tests/test_figures.py.
"""

from __future__ import annotations

from collections.abc import Iterable


def percentile(values: Iterable[float], p: float) -> float:
    """The ``p``-th percentile (0-100) of ``values``, which must not be empty."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("a percentile of no values")
    if not 0 <= p <= 100:
        raise ValueError(f"a percentile is from 0 to 100, got {p}")
    position = (len(ordered) - 1) * p / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Iterable[float]) -> float:
    return percentile(values, 50)
