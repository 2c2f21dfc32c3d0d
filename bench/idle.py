"""Idle benchmark: resident memory per open visitor connection, and one active visitor's latency among them.

For each size N it starts a fresh chat server, reads its resident memory
(VmRSS, /proc/PID/status), opens N visitors that stay connected and silent
(spread over ``--clients`` processes), reads the memory again, then times one
active visitor's questions while the N idle sockets stay open (the server
pings each of them every 25 s, as Engine.IO does).

The server runs with the per-address limits lifted (every visitor comes from
127.0.0.1): CHATBOT_MAX_CONNECTIONS_PER_IP, CHATBOT_NEW_CONVERSATIONS_PER_MINUTE,
CHATBOT_RATE_BURST and CHATBOT_RATE_PER_SECOND; the open-files limit is raised
for the server and the clients alike.

    python bench/idle.py --sizes 1000,5000,10000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from common import QUESTIONS, ROOT, Latency, comma_list, machine_load, ms, positive, raise_open_files, rss_bytes, shares
from servers import ServerSpec, running
from visitor import Control, Fleet, Visitor, open_many, shared_session

MIB = 1024 * 1024
SETTLE_SECONDS = 2.0
MEMORY_TARGET = 1024 * MIB
P99_TARGET_MS = 100.0


@dataclass(frozen=True)
class IdleJob:
    """One client process's share of idle visitors."""

    url: str
    visitors: int


async def idle_work(job: IdleJob, control: Control) -> dict[str, Any]:
    """Open the visitors, report, keep them open (answering pings) until told to close."""
    async with shared_session() as http:
        started = time.monotonic()
        visitors, failed = await open_many(job.url, job.visitors, http)
        control.ready({"opened": len(visitors), "failed": failed, "seconds": time.monotonic() - started})
        await control.go()
        still_open = sum(1 for v in visitors if v.sio is not None and v.sio.connected)
        await asyncio.gather(*(v.close() for v in visitors))
    return {"still_open": still_open}


@dataclass(frozen=True)
class IdleResult:
    """One size: memory before and after the idle sockets, and the active visitor's latency among them."""

    size: int
    opened: int
    failed: int
    still_open: int
    open_seconds: float
    rss_before_mib: float
    rss_after_mib: float
    kib_per_connection: float | None
    latency_ms: Latency
    errors: int


async def active_visitor(url: str, samples: int, rate: float) -> tuple[Latency, int]:
    """One visitor asking ``samples`` questions at random times, ``rate`` a second on average."""
    latencies: list[float] = []
    errors = 0
    async with shared_session() as http:
        visitor = Visitor(url, http)
        await visitor.open()
        for index in range(samples):
            await asyncio.sleep(random.expovariate(rate))
            answer = await visitor.ask(QUESTIONS[index % len(QUESTIONS)])
            if answer.seconds is None:
                errors += 1
            else:
                latencies.append(answer.seconds)
            if answer.handed_off:
                await visitor.reopen()
        await visitor.close()
    return Latency.of(latencies), errors


async def measure(size: int, args: argparse.Namespace, work_dir: Path) -> IdleResult:
    """A fresh server, ``size`` idle visitors, then the active visitor."""
    spec = ServerSpec("chatbot", args.database, args.loop)
    async with running(spec, args.root, work_dir) as server:
        await asyncio.sleep(SETTLE_SECONDS)
        before = rss_bytes(server.pid)
        print(f"{size} idle visitors: opening ...", file=sys.stderr, flush=True)
        fleet = Fleet(idle_work, [IdleJob(server.url, share) for share in shares(size, args.clients)])
        try:
            ready = await fleet.ready()
            await asyncio.sleep(SETTLE_SECONDS)
            after = rss_bytes(server.pid)
            print(f"{size} idle visitors: active visitor ...", file=sys.stderr, flush=True)
            latency, errors = await active_visitor(server.url, args.samples, args.rate)
            fleet.go("close")
            still_open = sum(r["still_open"] for r in await fleet.results())
        finally:
            fleet.stop()
    opened = sum(r["opened"] for r in ready)
    return IdleResult(
        size=size, opened=opened, failed=sum(r["failed"] for r in ready), still_open=still_open,
        open_seconds=round(max(r["seconds"] for r in ready), 1),
        rss_before_mib=round(before / MIB, 1), rss_after_mib=round(after / MIB, 1),
        kib_per_connection=round((after - before) / 1024 / opened, 1) if opened else None,
        latency_ms=latency, errors=errors,
    )


COLUMNS = ("idle", "opened", "failed", "open s", "RSS before MiB", "RSS after MiB", "KiB/conn", "p50 ms", "p99 ms",
           "samples", "errors")


def print_table(results: list[IdleResult]) -> None:
    rows = [list(COLUMNS)] + [[
        str(r.size), str(r.opened), str(r.failed), f"{r.open_seconds:.1f}", f"{r.rss_before_mib:.0f}",
        f"{r.rss_after_mib:.0f}", "-" if r.kib_per_connection is None else f"{r.kib_per_connection:.1f}",
        ms(r.latency_ms.p50), ms(r.latency_ms.p99), str(r.latency_ms.count), str(r.errors),
    ] for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    for row in rows:
        print("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)))


def verdict(result: IdleResult) -> str:
    """The targets, stated for 10,000 idle visitors in one process."""
    memory = "under" if result.rss_after_mib * MIB < MEMORY_TARGET else "OVER"
    p99 = result.latency_ms.p99
    latency = "under" if p99 is not None and p99 < P99_TARGET_MS else "OVER"
    return (f"{result.size} idle: {result.rss_after_mib:.0f} MiB resident ({memory} 1 GiB), "
            f"active p99 {ms(p99)} ms ({latency} {P99_TARGET_MS:.0f} ms)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=ROOT,
                        help="the source tree whose server to run (default: this one)")
    parser.add_argument("--sizes", type=comma_list(positive(int)), default=[1000, 5000, 10000],
                        help="comma-separated numbers of idle visitors, one fresh server each")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="uvloop",
                        help="the server's event loop (uvloop: the server's default)")
    parser.add_argument("--clients", type=positive(int), default=4, help="client processes holding the idle visitors")
    parser.add_argument("--samples", type=positive(int), default=300, help="questions the active visitor asks")
    parser.add_argument("--rate", type=positive(float), default=10.0, help="the active visitor's questions per second")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    raise_open_files()
    load_before = machine_load()
    results = []
    with tempfile.TemporaryDirectory(prefix="chatbot-bench-") as work_dir:
        for size in args.sizes:
            results.append(asyncio.run(measure(size, args, Path(work_dir))))
            print(verdict(results[-1]), file=sys.stderr, flush=True)
    print_table(results)
    for result in results:
        print(verdict(result))
    print(json.dumps({"bench": "idle", "tree": str(args.root), "database": args.database, "loop": args.loop,
                      "load_average": load_before, "results": [asdict(r) for r in results]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
