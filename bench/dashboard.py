"""The dashboard's query time at scale: ``GET /admin/activity`` on SQLite over N seeded conversations.

A fresh database is filled by bench/seed.py (by default 100,000 conversations
over 90 days, with their state changes and messages), a real server is started
on it in this process, and the endpoint is asked for the whole range
``--repeat`` times over HTTP, with the admin token, as the dashboard page asks.
The first request is timed on its own: it counts every settled day and keeps
the rollups (chatbot/store/rollups.py); the repeats read them and count only
today. The store's part alone (``RollupQueries.dashboard_days``) is timed too,
to show where the time goes. The issue's target: within a second at 100,000.

    python bench/dashboard.py --conversations 100000 --days 90
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from seed import seed

from chatbot.chat.keys import STORE
from chatbot.shared.config import Settings
from chatbot.web.app import create_app

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-admin-token"


async def _timed(call: Any, repeat: int) -> tuple[list[float], list[float]]:
    """Wall-clock seconds of each call, and this process's CPU seconds (server and client both run here): on a
    machine others are using, the CPU time says what one idle core would take."""
    times, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        await call()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return times, cpu


async def bench(conversations: int, days: int, repeat: int, work: Path) -> dict[str, Any]:
    url = f"sqlite+aiosqlite:///{work / 'dashboard.db'}"
    started = time.perf_counter()
    await seed(url, conversations, days)
    seeded = time.perf_counter() - started
    settings = Settings(port=0, database_url=url, intents_dir=ROOT / "intents", transcripts_dir=work / "transcripts",
                        admin_token=TOKEN)
    runner = web.AppRunner(create_app(settings))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    today = datetime.now(UTC).date()
    query = f"from={today - timedelta(days=days - 1)}&to={today}"
    try:
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKEN}"}) as http:

            async def endpoint() -> dict[str, Any]:
                async with http.get(f"http://127.0.0.1:{port}/admin/activity?{query}") as response:
                    assert response.status == 200, await response.text()
                    body: dict[str, Any] = await response.json()
                    return body

            cold_times, cold_cpu = await _timed(endpoint, 1)  # counts every settled day and keeps its rollup
            figures = await endpoint()
            store = runner.app[STORE]
            http_times, http_cpu = await _timed(endpoint, repeat)
            first = today - timedelta(days=days - 1)
            store_times, store_cpu = await _timed(lambda: store.dashboard_days(first, today, today), repeat)
    finally:
        await runner.cleanup()
    assert figures["conversations"] == conversations, figures["conversations"]
    return {
        "conversations": conversations, "days": days, "seed_s": round(seeded, 1),
        "first_request_s": _summary(cold_times, cold_cpu),
        "endpoint_s": _summary(http_times, http_cpu),
        "store_days_s": _summary(store_times, store_cpu),
        "endings": {e["ending"]: e["count"] for e in figures["endings"]},
    }


def _summary(times: list[float], cpu: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(times), 3), "max": round(max(times), 3),
            "cpu_median": round(statistics.median(cpu), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dashboard-bench-") as work:
        report = asyncio.run(bench(args.conversations, args.days, args.repeat, Path(work)))
    print(f"{report['conversations']:,} conversations over {report['days']} days (seeded in {report['seed_s']} s)",
          file=sys.stderr)
    cold, endpoint, store = report["first_request_s"], report["endpoint_s"], report["store_days_s"]
    print(f"GET /admin/activity, whole range, first request (counts and keeps every settled day): {cold['median']} s "
          f"(CPU {cold['cpu_median']} s)")
    print(f"then: median {endpoint['median']} s (CPU {endpoint['cpu_median']} s), max {endpoint['max']} s of "
          f"{args.repeat}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"of which the store's days (rollups read, today counted): median {store['median']} s "
          f"(CPU {store['cpu_median']} s)")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
