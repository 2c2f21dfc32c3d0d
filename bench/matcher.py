"""Matcher speed against a plain rapidfuzz nearest-example baseline, on 1k, 5k and 15k CLINC150 examples.

    python bench/matcher.py [DATA.json] [--queries N]

Both are measured in the same run on the same machine, so read the ratios, not
the absolute figures (other load on the machine moves both). Per query: one
call at a time, as the server makes them; wall-clock p50/p99 in microseconds.
The baseline returns the intent of the training example with the best
rapidfuzz ratio (the method this project started from). Top-1 accuracy on the
in-scope validation queries is printed for context.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz, process

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chatbot.bot.matcher import Matcher  # noqa: E402
from chatbot.bot.text import normalize  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared/data/clinc150/clinc150_train_val.json"
SIZES = (1000, 5000, 15000)


class NearestExample:
    """The baseline: the intent of the most similar example by rapidfuzz ratio."""

    def __init__(self, examples: Sequence[tuple[str, str]]) -> None:
        self.texts = [normalize(text) for text, _ in examples]
        self.intents = [intent for _, intent in examples]

    def top(self, text: str) -> str | None:
        found = process.extractOne(normalize(text), self.texts, scorer=fuzz.ratio)
        return self.intents[found[2]] if found else None


def _time(predict: Callable[[str], str | None], queries: Sequence[tuple[str, str]]) -> tuple[float, float, float]:
    """(p50 µs, p99 µs, top-1 accuracy) over the queries, one call each."""
    elapsed, right = [], 0
    for text, gold in queries:
        started = time.perf_counter()
        intent = predict(text)
        elapsed.append((time.perf_counter() - started) * 1e6)
        right += intent == gold
    return float(np.percentile(elapsed, 50)), float(np.percentile(elapsed, 99)), right / len(queries)


def _top(matcher: Matcher) -> Callable[[str], str | None]:
    def predict(text: str) -> str | None:
        candidates = matcher.rank(text, k=1)
        return candidates[0].intent if candidates else None
    return predict


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", nargs="?", default=str(DEFAULT_DATA), help="CLINC150-layout JSON")
    parser.add_argument("--queries", type=int, default=500, help="validation queries timed per size (default 500)")
    args = parser.parse_args(argv)
    data = json.loads(Path(args.data).read_text(encoding="utf-8"))
    rng = random.Random(0)
    train = list(map(tuple, data["train"]))
    rng.shuffle(train)
    queries = rng.sample([tuple(row) for row in data["val"]], min(args.queries, len(data["val"])))
    print(f"{'examples':>8} | {'matcher build s':>15} {'p50 µs':>8} {'p99 µs':>8} {'acc':>6} | "
          f"{'rapidfuzz build s':>17} {'p50 µs':>8} {'p99 µs':>8} {'acc':>6} | {'p50 speed-up':>12}")
    for size in SIZES:
        examples = train[:size]
        started = time.perf_counter()
        matcher = Matcher.build(examples)
        build = time.perf_counter() - started
        started = time.perf_counter()
        baseline = NearestExample(examples)
        baseline_build = time.perf_counter() - started
        m50, m99, macc = _time(_top(matcher), queries)
        b50, b99, bacc = _time(baseline.top, queries)
        print(f"{size:>8} | {build:>15.2f} {m50:>8.0f} {m99:>8.0f} {macc:>6.3f} | "
              f"{baseline_build:>17.3f} {b50:>8.0f} {b99:>8.0f} {bacc:>6.3f} | {b50 / m50:>11.1f}x", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
