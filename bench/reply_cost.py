"""What one bot reply costs in CPU, on the shipped intents, with no server around it.

    python bench/reply_cost.py [--intents intents] [--rounds 500] [--json]

The load benchmark compares a whole turn with the echo server's; this shows
how much of a turn the matching alone takes: ``Bot.reply`` (language, matcher,
red flags) on the questions ``bench/load.py`` sends, one call at a time, in this
process's CPU time. If matching alone costs more than two echo replies, a
ratio of 0.5 to the echo ceiling is out of reach whatever the rest costs
(docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import QUESTIONS  # noqa: E402
from chatbot import redflags  # noqa: E402
from chatbot.bot import Bot  # noqa: E402
from chatbot.intents import load_intents  # noqa: E402


def cpu_us_per_call(call: Callable[[str], object], rounds: int) -> float:
    """Mean CPU microseconds per call over ``rounds`` passes of the questions, after one warm-up pass."""
    for question in QUESTIONS:
        call(question)
    start = time.process_time()
    for _ in range(rounds):
        for question in QUESTIONS:
            call(question)
    return (time.process_time() - start) / (rounds * len(QUESTIONS)) * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--intents", type=Path, default=Path("intents"), help="intent folder")
    parser.add_argument("--rounds", type=int, default=500, help="passes over the questions")
    parser.add_argument("--json", action="store_true", help="print one JSON line instead of the table")
    args = parser.parse_args(argv)
    bot = Bot(load_intents(args.intents))
    costs = {
        "reply": cpu_us_per_call(lambda q: bot.reply(q, "en"), args.rounds),
        "rank": cpu_us_per_call(lambda q: bot.rank(q, "en", k=3), args.rounds),
        "red_flags": cpu_us_per_call(redflags.detect, args.rounds),
    }
    if args.json:
        print(json.dumps({"bench": "reply_cost", "cpu_us": {k: round(v, 1) for k, v in costs.items()}}))
    else:
        for name, value in costs.items():
            print(f"{name:10s} {value:8.1f} CPU µs per call")
    return 0


if __name__ == "__main__":
    sys.exit(main())
