"""What storing one turn costs the server in CPU: ``add_client_message`` alone, against the driver's ``SELECT 1``.

At a steady 150 visitors × 1 message/s a group commit holds about one turn,
so each turn pays a whole batch's trip to the database. This stores turns one
after the other (a visitor's message and the bot's reply, as the server does)
through the store's public ``add_client_message``, on a SQLite file and on the
shared PostgreSQL when it is reachable, and times them in this process's CPU
(aiosqlite's thread included). The baseline, in the same run on the same
database, is the driver's own ``SELECT 1`` (aiosqlite, asyncpg) on a connection
of its own: no SQLAlchemy, none of the project's code. The two run in turns,
ten blocks each, and the medians are printed: the ratio compares runs and
checkouts even on a busy machine. ``--root`` runs another checkout's store (an older
commit, say) with this script, for a before/after in one sitting.

    python bench/turn_write.py [--turns 2000] [--root ../other-checkout] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from common import ROOT, positive
from servers import create_database, drop_database, postgres_reachable

Call = Callable[[int], Awaitable[Any]]


async def cpu_us(call: Callable[[int], Awaitable[Any]], start: int, count: int) -> float:
    """Mean CPU microseconds per call over ``count`` calls numbered from ``start``."""
    started = time.process_time()
    for n in range(start, start + count):
        await call(n)
    return (time.process_time() - started) / count * 1e6


async def interleaved(turn: Call, baseline: Call, turns: int, rounds: int = 10) -> dict[str, float]:
    """Medians over ``rounds`` blocks of baseline calls then turns, one after the other, so that both see the
    same machine: a load that comes and goes moves the two together and the ratio stays."""
    block = max(1, turns // rounds)
    await cpu_us(turn, -block, block)  # warm up
    await cpu_us(baseline, 0, block)
    pairs = [(await cpu_us(baseline, 0, block), await cpu_us(turn, n * block, block)) for n in range(rounds)]
    return {"turn_cpu_us": round(statistics.median(t for _, t in pairs), 1),
            "select_cpu_us": round(statistics.median(b for b, _ in pairs), 1),
            "turn_per_select": round(statistics.median(t / b for b, t in pairs), 2)}


@asynccontextmanager
async def driver_select(url: str) -> AsyncIterator[Call]:
    """The driver's ``SELECT 1`` on its own connection: one hop to aiosqlite's thread, one PostgreSQL round trip."""
    if url.startswith("sqlite"):
        import aiosqlite

        async with aiosqlite.connect(url.split("///", 1)[1]) as sqlite:
            yield lambda _n: sqlite.execute_fetchall("SELECT 1")
        return
    import asyncpg

    postgres = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        yield lambda _n: postgres.fetchval("SELECT 1")
    finally:
        await postgres.close()


async def measure(url: str, turns: int) -> dict[str, float]:
    from chatbot.store import BotAnswer, NewMessage, Store, schema

    store = Store(url)
    try:
        await schema.ensure(store.engine)
        conversation, _ = await store.create_conversation("en", None, None)
        answer = BotAnswer(NewMessage(sender="bot", text="Upper back pain often comes from posture. " * 4,
                                      intent="upper_back_pain", confidence=0.91, quick_replies=["Treatments"]), "en")

        async def turn(n: int) -> None:
            await store.add_client_message(
                conversation.id, NewMessage(sender="visitor", text=f"why does my back hurt? ({n})",
                                            client_id=f"bench-{n}"), answer)

        async with driver_select(url) as select:
            return await interleaved(turn, select, turns)
    finally:
        await store.close()


async def run(turns: int, work: Path) -> dict[str, dict[str, float]]:
    results = {"sqlite": await measure(f"sqlite+aiosqlite:///{work / 'turns.db'}", turns)}
    if await postgres_reachable():
        url = await create_database(ROOT)
        try:
            results["postgresql"] = await measure(url, turns)
        finally:
            await drop_database(url)
    else:
        print("note: PostgreSQL at 127.0.0.1:5432 is not reachable; SQLite only", file=sys.stderr)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=positive(int), default=2000, help="turns stored one after the other")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose store to run")
    parser.add_argument("--json", action="store_true", help="print one JSON line instead of the table")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(args.root.resolve()))
    with tempfile.TemporaryDirectory(prefix="chatbot-turns-") as work:
        results = asyncio.run(run(args.turns, Path(work)))
    if args.json:
        print(json.dumps({"bench": "turn_write", "tree": str(args.root), "turns": args.turns, "results": results}))
        return 0
    print(f"{'database':12s} {'turn CPU µs':>12s} {'driver SELECT 1 CPU µs':>23s} {'ratio':>7s}")
    for database, figures in results.items():
        print(f"{database:12s} {figures['turn_cpu_us']:12.1f} {figures['select_cpu_us']:23.1f} "
              f"{figures['turn_per_select']:7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
