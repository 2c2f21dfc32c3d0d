"""Where a server's time goes, from a raw py-spy recording (``bench/load.py --profile DIR --profile-format raw``).

A flame graph shows it too, but not as numbers that fit a table: this sorts
each sample into one bucket (the first rule that matches its stack) and prints
each bucket's share of the samples, so two recordings compare line by line.
Also shows, across buckets, the share spent in ``json`` and in database drivers.

    python bench/profile_summary.py /tmp/prof/sqlite-asyncio-1p-max.txt
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

# (bucket, any of these path fragments in the stack); first match wins.
BUCKETS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("matching (bot.reply: matcher, understanding, red flags)", ("chatbot/bot/",)),
    ("SQLAlchemy (with the driver calls below it)", ("sqlalchemy/",)),
    ("database driver outside SQLAlchemy (aiosqlite thread, asyncpg protocol)", ("aiosqlite/", "asyncpg/", "sqlite3")),
    ("emitting events (python-socketio / engine.io send)", ("chatbot/chat/emitter.py",)),
    ("chatbot, other (namespaces, service, protocol)", ("chatbot/",)),
    ("Socket.IO / engine.IO receive and dispatch", ("socketio/", "engineio/")),
    ("aiohttp (HTTP, websocket frames)", ("aiohttp/",)),
    ("event loop and the rest", ("",)),
)
ACROSS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("json encode/decode", ("json/",)),
    ("asyncpg", ("asyncpg/",)),
    ("aiosqlite + sqlite3", ("aiosqlite/", "sqlite3")),
    ("redis", ("redis/",)),
)


# Frames at the root of every stack of the server's main thread, so they say nothing.
ROOT_FRAMES = ("chatbot/__main__.py", "chatbot/cli/main.py")

LOOP_ITSELF = "event loop itself (uvloop's C code and system calls: polling, socket reads and writes, timers)"
"""A sample whose innermost Python frame is the loop's entry (aiohttp's ``run_app``): no Python code ran, the loop's
C code or the kernel did. py-spy counts only active samples, so this is work, not waiting."""
LOOP_ENTRY = "run_app (aiohttp/web.py"


def samples(path: Path) -> Iterator[tuple[str, int]]:
    """Each distinct stack of the recording (frames joined by ';', root frames left out) and its sample count."""
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            frames = (frame for frame in stack.split(";") if not any(root in frame for root in ROOT_FRAMES))
            yield ";".join(frames), int(count)


def bucket_of(stack: str, rules: tuple[tuple[str, tuple[str, ...]], ...]) -> str | None:
    return next((name for name, fragments in rules if any(f in stack for f in fragments)), None)


def summarize(path: Path) -> tuple[int, Counter[str], Counter[str]]:
    """Total samples, samples per bucket, and samples per cross-cutting concern."""
    total, buckets, across = 0, Counter[str](), Counter[str]()
    for stack, count in samples(path):
        total += count
        loop_only = stack.rpartition(";")[2].startswith(LOOP_ENTRY)
        buckets[LOOP_ITSELF if loop_only else bucket_of(stack, BUCKETS) or "?"] += count
        for name, fragments in ACROSS:
            if any(f in stack for f in fragments):
                across[name] += count
    return total, buckets, across


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("recordings", type=Path, nargs="+", help="raw py-spy files")
    args = parser.parse_args(argv)
    for path in args.recordings:
        total, buckets, across = summarize(path)
        print(f"{path.name}: {total} samples")
        for name, count in buckets.most_common():
            print(f"  {100 * count / max(total, 1):5.1f}%  {name}")
        for name, count in across.most_common():
            print(f"  {100 * count / max(total, 1):5.1f}%  (across buckets) {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
