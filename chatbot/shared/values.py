"""Parsers of numbers given on the command line or in ``CHATBOT_*`` variables, whose errors say what they expect.

A setting out of range (``--workers 0``, ``--threshold 7``) would start a
server that cannot work, and a report option out of range (``--limit -3``)
would print the wrong thing quietly; each parser names its range instead.
They raise ``ValueError`` (the settings add the variable's name);
``flag`` turns that into argparse's error, in the parser's own words.

Tested in tests/test_config.py.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any


def whole_number(low: int, high: int | None = None) -> Callable[[str], int]:
    """Whole numbers from ``low`` (to ``high``)."""
    expected = f"expected a whole number from {low}" + (f" to {high}" if high is not None else "")

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise ValueError(expected) from None
        if number < low or (high is not None and number > high):
            raise ValueError(expected)
        return number

    return parse


def number(low: float, high: float | None = None, above: bool = False) -> Callable[[str], float]:
    """Finite numbers from ``low``, or ``above`` it (to ``high``)."""
    expected = f"expected a number {'above' if above else 'from'} {low:g}"
    expected += f" to {high:g}" if high is not None else ""

    def parse(value: str) -> float:
        try:
            result = float(value)
        except ValueError:
            raise ValueError(expected) from None
        too_low = result <= low if above else result < low
        if not math.isfinite(result) or too_low or (high is not None and result > high):
            raise ValueError(expected)
        return result

    return parse


def flag(parse: Callable[[str], Any], show: bool = True) -> Callable[[str], Any]:
    """``parse`` as an argparse ``type``: "argument --limit: '-3': expected a whole number from 1", not
    argparse's "invalid parse value"; the value is left out when it is a secret (``show=False``)."""

    def parse_flag(raw: str) -> Any:
        try:
            return parse(raw)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"{raw!r}: {exc}" if show else str(exc)) from None

    return parse_flag
