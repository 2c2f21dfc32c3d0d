"""What one bot reply costs in CPU, on the shipped intents, with no server around it.

    python bench/reply_cost.py [--intents intents] [--rounds 500] [--json]

The load benchmark compares a whole turn with the echo server's; this shows
how much of a turn the matching alone takes: ``Bot.reply`` (language, matcher,
red flags) on the questions ``bench/load.py`` sends, one call at a time, in this
process's CPU time. If matching alone costs more than two echo replies, a
ratio of 0.5 to the echo ceiling is out of reach whatever the rest costs
(docs/performance.md). In the same run: the bot's build on the shipped intents
(what a start-up or a reload waits for, wall-clock) and the matcher on bad input
(empty, 100 kB, binary-looking, emoji, punctuation) as a ratio to the matcher on
the questions. (The protocol refuses messages over 2,000 characters before the
bot sees them; the matcher bounds its own work for any other caller.)

The sentence encoder (the English matcher's second stage, docs/matcher.md) is
measured against the fast stage alone in the same run: one bot with it, one
without, each replying to every message of the development set
(``tests/data/understanding/``, long stories included) one call at a time;
the CPU time of each reply gives p50 and p99, and the ratio of the two bots.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml  # noqa: E402
from common import QUESTIONS, positive  # noqa: E402

from chatbot.bot import redflags  # noqa: E402
from chatbot.bot.answers import Bot  # noqa: E402
from chatbot.bot.intents import load_intents  # noqa: E402
from chatbot.bot.matcher.embedding import token_embedding  # noqa: E402
from chatbot.bot.matcher.encoder import encoder_for  # noqa: E402
from chatbot.shared.figures import percentile  # noqa: E402

DEVELOPMENT_SET = Path(__file__).resolve().parents[1] / "tests" / "data" / "understanding"

BAD_INPUT = (
    "",
    "where is the clinic " * 5000,  # 100 kB
    "".join(map(chr, random.Random(0).choices(range(0x80, 0x2FF), k=300))) + "\x00\x01\xff",
    "😀😂🙏🏽👍🔥",
    "?!...;;;---***(((###)))",
)


def cpu_us_per_call(call: Callable[[str], object], rounds: int, texts: Sequence[str] = QUESTIONS) -> float:
    """Mean CPU microseconds per call over ``rounds`` passes of ``texts``, after one warm-up pass."""
    for text in texts:
        call(text)
    start = time.process_time()
    for _ in range(rounds):
        for text in texts:
            call(text)
    return (time.process_time() - start) / (rounds * len(texts)) * 1e6


def development_messages() -> list[tuple[str, str]]:
    """(text, language) of every development-set entry (the held-out file is not read)."""
    messages = []
    for path in sorted(DEVELOPMENT_SET.glob("*.yaml")):
        if path.name != "heldout.yaml":
            messages += [(entry["text"], entry["lang"]) for entry in yaml.safe_load(path.read_text(encoding="utf-8"))]
    return messages


def reply_ms(bot: Bot, messages: Sequence[tuple[str, str]]) -> tuple[float, float]:
    """p50 and p99 of one reply's CPU milliseconds over ``messages``, after a warm-up pass."""
    for text, lang in messages:
        bot.reply(text, lang)
    times = []
    for text, lang in messages:
        start = time.thread_time()
        bot.reply(text, lang)
        times.append((time.thread_time() - start) * 1000)
    return percentile(times, 50), percentile(times, 99)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--intents", type=Path, default=Path("intents"), help="intent folder")
    parser.add_argument("--rounds", type=positive(int), default=500, help="passes over the questions")
    parser.add_argument("--json", action="store_true", help="print one JSON line instead of the table")
    args = parser.parse_args(argv)
    intents = load_intents(args.intents)
    token_embedding()  # loaded once per process: not part of a reload
    encoder = encoder_for("auto")
    start = time.perf_counter()
    bot = Bot(intents, encoder=encoder)
    build = time.perf_counter() - start
    fast = Bot(intents) if encoder else bot
    costs = {
        "reply": cpu_us_per_call(lambda q: bot.reply(q, "en"), args.rounds),
        "rank": cpu_us_per_call(lambda q: bot.rank(q, "en", k=3), args.rounds),
        "red_flags": cpu_us_per_call(redflags.detect, args.rounds),
        "rank_bad_input": cpu_us_per_call(lambda q: bot.rank(q, "en", k=3), args.rounds, BAD_INPUT),
    }
    ratio = costs["rank_bad_input"] / costs["rank"]
    messages = development_messages()
    percentiles = {"fast stage alone": reply_ms(fast, messages)}
    if bot is not fast:
        percentiles["with the encoder"] = reply_ms(bot, messages)
    if args.json:
        print(json.dumps({"bench": "reply_cost", "build_s": round(build, 3), "bad_input_ratio": round(ratio, 2),
                          "cpu_us": {k: round(v, 1) for k, v in costs.items()},
                          "reply_cpu_ms": {k: {"p50": round(p50, 3), "p99": round(p99, 3)}
                                           for k, (p50, p99) in percentiles.items()}}))
    else:
        print(f"{'build':15s} {build:8.3f} s (both languages, as on a reload)")
        for name, value in costs.items():
            print(f"{name:15s} {value:8.1f} CPU µs per call")
        print(f"the matcher on bad input costs {ratio:.2f}x its cost on the questions")
        print(f"one reply, {len(messages)} development-set messages, CPU ms:")
        for name, (p50, p99) in percentiles.items():
            print(f"  {name:17s} p50 {p50:6.2f}  p99 {p99:6.2f}")
        if len(percentiles) == 2:
            (fast50, fast99), (full50, full99) = percentiles.values()
            print(f"  ratio             p50 {full50 / fast50:6.2f}  p99 {full99 / fast99:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
