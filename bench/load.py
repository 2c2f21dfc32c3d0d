"""Load benchmark: bot replies per second and reply latency, against the bare Socket.IO echo ceiling.

For each server (the chat server on SQLite, on PostgreSQL where reachable, and
the echo server) it runs two phases with the same visitors:

* ``max``: every visitor asks its next question as soon as the last is acked
  (closed loop): the server's maximum replies per second;
* ``half``: visitors ask at random (Poisson) times, together half the chat
  server's maximum: the reply latency at a normal busy load.

Visitors are spread over ``--clients`` processes and speak the public
protocol over websocket; latency runs from the visitor's send to the bot's
``message``. Server CPU is read from /proc. Prints a table and one JSON line.

    python bench/load.py                                     # SQLite + PostgreSQL + echo
    python bench/load.py --databases sqlite --loops asyncio,uvloop --workers 1,2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from common import (
    QUESTIONS,
    ROOT,
    Latency,
    Profiler,
    comma_list,
    cpu_seconds,
    machine_load,
    ms,
    own_cpu_seconds,
    positive,
    questions_file,
    raise_open_files,
    shares,
)
from servers import ServerSpec, postgres_reachable, running
from visitor import Control, Fleet, Visitor, open_many, shared_session


@dataclass(frozen=True)
class Job:
    """One client process's share: this many visitors against ``url``."""

    url: str
    visitors: int
    questions: tuple[str, ...]


@dataclass(frozen=True)
class Phase:
    """When to load and when to measure (wall-clock times shared by every process)."""

    rate: float  # questions per second per visitor; 0 = ask again as soon as acked
    load_at: float
    measure_at: float
    end_at: float


@dataclass
class Tally:
    """What one client process saw inside the measured window."""

    replies: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    handoffs: int = 0
    cpu_s: float = 0.0


async def _sleep_until(moment: float) -> None:
    await asyncio.sleep(max(0.0, moment - time.time()))


async def _drive(visitor: Visitor, questions: tuple[str, ...], phase: Phase, tally: Tally) -> None:
    """One visitor's questions, paced by ``phase.rate``, until the window closes."""
    index = random.randrange(len(questions))
    next_at = phase.load_at + (random.expovariate(phase.rate) if phase.rate else random.uniform(0, 0.05))
    while True:
        await _sleep_until(next_at)
        sent_at = time.time()
        if sent_at >= phase.end_at:
            return
        answer = await visitor.ask(questions[index % len(questions)])
        index += 1
        if phase.measure_at <= sent_at:
            if answer.seconds is not None:
                tally.latencies.append(answer.seconds)
            else:
                tally.errors[answer.error or "unknown"] += 1
        if answer.seconds is not None and phase.measure_at <= sent_at + answer.seconds < phase.end_at:
            tally.replies += 1
        if answer.handed_off:
            tally.handoffs += 1
            await visitor.reopen()
        next_at = max(time.time(), next_at + random.expovariate(phase.rate)) if phase.rate else time.time()


async def _measure_own_cpu(phase: Phase, tally: Tally) -> None:
    await _sleep_until(phase.measure_at)
    start = own_cpu_seconds()
    await _sleep_until(phase.end_at)
    tally.cpu_s = own_cpu_seconds() - start


async def client_work(job: Job, control: Control) -> dict[str, Any]:
    """A client process: open its visitors, report ready, run the phase it is sent, return its tally."""
    async with shared_session() as http:
        visitors, failed = await open_many(job.url, job.visitors, http)
        control.ready({"opened": len(visitors), "failed": failed})
        phase: Phase = await control.go()
        tally = Tally()
        drivers = (_drive(visitor, job.questions, phase, tally) for visitor in visitors)
        await asyncio.gather(_measure_own_cpu(phase, tally), *drivers)
        await asyncio.gather(*(v.close() for v in visitors))
    # asdict would rebuild the Counter from its (error, count) pairs, counting tuples.
    return {**asdict(tally), "errors": dict(tally.errors)}


@dataclass(frozen=True)
class Target:
    """A server under test: its label, where it listens, and its process (for CPU; None if unknown)."""

    label: str
    url: str
    pid: int | None
    spec: ServerSpec | None = None

    @property
    def name(self) -> str:
        return self.label.replace("/", "-")


@dataclass(frozen=True)
class PhaseResult:
    """One phase against one server, added up over the client processes."""

    name: str
    offered_per_s: float | None
    replies_per_s: float
    latency_ms: Latency
    server_cpu_pct: float | None
    client_cpu_pct: float
    cpu_s_per_1k_replies: float | None
    errors: dict[str, int]
    handoffs: int
    open_failures: int


async def run_phase(name: str, target: Target, args: argparse.Namespace, questions: tuple[str, ...],
                    total_rate: float | None, profiler: Profiler | None = None) -> PhaseResult:
    """Open the visitors in fresh client processes, load for warmup + duration, and add up what they saw."""
    url, pid = target.url, target.pid
    fleet = Fleet(client_work, [Job(url, share, questions) for share in shares(args.visitors, args.clients)])
    try:
        ready = await fleet.ready()
        start = time.time() + 0.5
        rate = total_rate / args.visitors if total_rate else 0.0
        phase = Phase(rate, start, start + args.warmup, start + args.warmup + args.duration)
        fleet.go(phase)
        await _sleep_until(phase.measure_at)
        cpu_before = cpu_seconds(pid) if pid else None
        recording = profiler.record(pid, args.duration, f"{target.name}-{name}") if profiler and pid else None
        await _sleep_until(phase.end_at)
        server_cpu = cpu_seconds(pid) - cpu_before if pid and cpu_before is not None else None
        tallies = await fleet.results()
        if recording is not None:
            await recording
    finally:
        fleet.stop()
    return _add_up(name, total_rate, args.duration, server_cpu, tallies, sum(r["failed"] for r in ready))


def _add_up(name: str, total_rate: float | None, duration: float, server_cpu: float | None,
            tallies: list[dict[str, Any]], open_failures: int) -> PhaseResult:
    replies = sum(t["replies"] for t in tallies)
    errors: Counter[str] = Counter()
    for tally in tallies:
        errors.update(tally["errors"])
    return PhaseResult(
        name=name, offered_per_s=round(total_rate, 1) if total_rate else None,
        replies_per_s=round(replies / duration, 1),
        latency_ms=Latency.of([s for t in tallies for s in t["latencies"]]),
        server_cpu_pct=round(100 * server_cpu / duration, 1) if server_cpu is not None else None,
        client_cpu_pct=round(100 * sum(t["cpu_s"] for t in tallies) / duration, 1),
        cpu_s_per_1k_replies=round(1000 * server_cpu / replies, 3) if server_cpu is not None and replies else None,
        errors=dict(errors), handoffs=sum(t["handoffs"] for t in tallies), open_failures=open_failures,
    )


async def answered(url: str, questions: tuple[str, ...]) -> tuple[str, ...]:
    """The questions the bot answers without handing off (a handoff would leave the visitor waiting)."""
    async with shared_session() as http:
        visitor = Visitor(url, http)
        await visitor.open()
        kept = []
        for question in questions:
            answer = await visitor.ask(question)
            if answer.seconds is not None and not answer.handed_off:
                kept.append(question)
            else:
                print(f"note: dropped {question!r}: the bot does not answer it ({answer.error or 'handoff'})",
                      file=sys.stderr)
                await visitor.reopen()
        await visitor.close()
    if not kept:
        raise SystemExit("none of the questions is answered by the bot: check the intents, or pass --questions")
    return tuple(kept)


@dataclass(frozen=True)
class Run:
    """Both phases against one server."""

    target: Target
    max: PhaseResult
    half: PhaseResult


async def bench(target: Target, args: argparse.Namespace, questions: tuple[str, ...], half_rate: float | None,
                profiler: Profiler | None) -> Run:
    """The ``max`` phase, then the ``half`` phase at ``half_rate`` (default: half the maximum just measured)."""
    print(f"{target.label}: max phase ...", file=sys.stderr, flush=True)
    top = await run_phase("max", target, args, questions, None, profiler)
    rate = half_rate or max(1.0, top.replies_per_s / 2)
    print(f"{target.label}: half phase at {rate:.0f}/s ...", file=sys.stderr, flush=True)
    return Run(target, top, await run_phase("half", target, args, questions, rate, profiler))


def chatbot_specs(args: argparse.Namespace, postgres: bool) -> list[ServerSpec]:
    """Databases x loops x process counts."""
    databases = [d for d in args.databases if d != "postgresql" or postgres]
    return [ServerSpec("chatbot", database, loop, workers)
            for database in databases for loop in args.loops for workers in args.workers]


async def bench_all(args: argparse.Namespace, work_dir: Path) -> list[Run]:
    """Every chat server asked for, then the echo ceiling at the same load, one server at a time."""
    profiler = Profiler(args.profile, args.profile_format) if args.profile else None
    questions = args.questions
    runs: list[Run] = []
    if args.url:
        questions = await answered(args.url, questions)
        runs.append(await bench(Target("external", args.url, args.pid), args, questions, args.rate, profiler))
    else:
        postgres = "postgresql" in args.databases and await postgres_reachable()
        if "postgresql" in args.databases and not postgres:
            print("note: PostgreSQL at 127.0.0.1:5432 is not reachable; SQLite only", file=sys.stderr)
        for spec in chatbot_specs(args, postgres):
            async with running(spec, args.root, work_dir) as server:
                if not runs:
                    questions = await answered(server.url, questions)
                target = Target(spec.label, server.url, server.pid, spec)
                runs.append(await bench(target, args, questions, args.rate, profiler))
    if not args.no_echo:
        same_load = runs[0].half.offered_per_s if runs else args.rate
        for loop in args.loops:
            spec = ServerSpec("echo", loop=loop)
            async with running(spec, args.root, work_dir) as server:
                runs.append(await bench(Target(spec.label, server.url, server.pid, spec), args, questions,
                                        same_load, None))
    return runs


# -- report ---------------------------------------------------------------------

COLUMNS = ("server", "phase", "offered/s", "replies/s", "p50 ms", "p95 ms", "p99 ms", "srv CPU%", "cli CPU%",
           "CPU s/1k", "errors", "handoffs")


def _row(label: str, phase: PhaseResult) -> list[str]:
    latency = phase.latency_ms
    return [label, phase.name, "max" if phase.offered_per_s is None else f"{phase.offered_per_s:.0f}",
            f"{phase.replies_per_s:.1f}", ms(latency.p50), ms(latency.p95), ms(latency.p99),
            "-" if phase.server_cpu_pct is None else f"{phase.server_cpu_pct:.0f}", f"{phase.client_cpu_pct:.0f}",
            "-" if phase.cpu_s_per_1k_replies is None else f"{phase.cpu_s_per_1k_replies:.2f}",
            str(sum(phase.errors.values()) + phase.open_failures), str(phase.handoffs)]


def print_table(runs: list[Run]) -> None:
    rows = [list(COLUMNS)] + [_row(run.target.label, phase) for run in runs for phase in (run.max, run.half)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    for row in rows:
        cells = (cell.ljust(w) if i < 2 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True)))
        print("  ".join(cells))


def _echo_for(run: Run, runs: list[Run]) -> Run | None:
    loop = run.target.spec.loop if run.target.spec else "uvloop"
    echoes = (r for r in runs if r.target.spec and r.target.spec.kind == "echo" and r.target.spec.loop == loop)
    return next(echoes, None)


def _ratio(part: float | None, whole: float | None) -> float | None:
    return round(part / whole, 3) if part and whole else None


def summary(runs: list[Run]) -> list[dict[str, Any]]:
    """One entry per chat server: the figures the targets are stated in.

    ``cpu_ratio`` compares CPU time per reply (echo / chat server): unlike
    ``ratio`` it holds when other work shares the machine's cores.
    """
    entries = []
    for run in runs:
        spec = run.target.spec
        if spec is not None and spec.kind == "echo":
            continue
        echo = _echo_for(run, runs)
        entries.append({
            "server": run.target.label, "database": spec.database if spec else None,
            "loop": spec.loop if spec else None, "workers": spec.workers if spec else None,
            "replies_per_s": run.max.replies_per_s, "echo_per_s": echo.max.replies_per_s if echo else None,
            "ratio": _ratio(run.max.replies_per_s, echo.max.replies_per_s if echo else None),
            "cpu_s_per_1k_replies": run.max.cpu_s_per_1k_replies,
            "echo_cpu_s_per_1k": echo.max.cpu_s_per_1k_replies if echo else None,
            "cpu_ratio": _ratio(echo.max.cpu_s_per_1k_replies if echo else None, run.max.cpu_s_per_1k_replies),
            "server_cpu_pct": run.max.server_cpu_pct, "half_load_per_s": run.half.offered_per_s,
            "half_cpu_s_per_1k": run.half.cpu_s_per_1k_replies,
            "echo_half_cpu_s_per_1k": echo.half.cpu_s_per_1k_replies if echo else None,
            "half_cpu_times_echo": _ratio(run.half.cpu_s_per_1k_replies,
                                          echo.half.cpu_s_per_1k_replies if echo else None),
            "latency_ms": {"max": asdict(run.max.latency_ms), "half": asdict(run.half.latency_ms)},
            "echo_latency_ms": {"max": asdict(echo.max.latency_ms), "half": asdict(echo.half.latency_ms)}
            if echo else None,
            "errors": dict(Counter(run.max.errors) + Counter(run.half.errors)),
        })
    return entries


def print_summary(entries: list[dict[str, Any]]) -> None:
    for entry in entries:
        ratio = (f"{100 * entry['ratio']:.0f}% of the echo ceiling ({entry['echo_per_s']:.0f}/s), "
                 f"{100 * entry['cpu_ratio']:.0f}% of its CPU efficiency" if entry["ratio"] and entry["cpu_ratio"]
                 else "no echo run")
        p99 = entry["latency_ms"]["half"]["p99"]
        times = entry["half_cpu_times_echo"]
        at_rate = f" ({times:.2f}x the echo's at the same rate)" if times else ""
        print(f"{entry['server']}: {entry['replies_per_s']:.0f} replies/s = {ratio}; "
              f"p99 {ms(p99)} ms at {entry['half_load_per_s']:.0f}/s, {entry['half_cpu_s_per_1k']} CPU s per 1k "
              f"replies there{at_rate}; {entry['cpu_s_per_1k_replies']} CPU s per 1k replies at the maximum")


# -- command line ---------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=ROOT,
                        help="the source tree whose server to run (default: this one)")
    parser.add_argument("--url", help="bench a server already running there instead of starting one")
    parser.add_argument("--pid", type=int, help="with --url: the server's process id, for its CPU time")
    parser.add_argument("--databases", type=comma_list(str, ("sqlite", "postgresql")), default=["sqlite", "postgresql"],
                        help="comma-separated: sqlite, postgresql (skipped when 127.0.0.1:5432 is unreachable)")
    parser.add_argument("--loops", type=comma_list(str, ("asyncio", "uvloop")), default=["uvloop"],
                        help="comma-separated event loops for the servers: asyncio, uvloop (the server's default)")
    parser.add_argument("--workers", type=comma_list(positive(int)), default=[1],
                        help="comma-separated process counts; above 1 uses Redis at 127.0.0.1:6379")
    parser.add_argument("--visitors", type=positive(int), default=200, help="concurrent visitor connections")
    parser.add_argument("--clients", type=positive(int), default=2,
                        help="client processes the visitors are spread over")
    parser.add_argument("--duration", type=positive(float), default=10.0, help="measured seconds per phase")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of load before measuring")
    parser.add_argument("--rate", type=positive(float),
                        help="offered questions/s of the second phase (default: half the max)")
    parser.add_argument("--questions", type=questions_file, default=QUESTIONS, help="file of questions, one a line")
    parser.add_argument("--no-echo", action="store_true", help="skip the echo ceiling")
    parser.add_argument("--profile", type=Path, help="record each chat server with py-spy into this folder")
    parser.add_argument("--profile-format", choices=tuple(Profiler.EXTENSIONS), default="flamegraph")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    raise_open_files()
    load_before = machine_load()
    with tempfile.TemporaryDirectory(prefix="chatbot-bench-") as work_dir:
        runs = asyncio.run(bench_all(args, Path(work_dir)))
    print_table(runs)
    entries = summary(runs)
    print_summary(entries)
    print(json.dumps({"bench": "load", "tree": str(args.root), "visitors": args.visitors, "clients": args.clients,
                      "duration_s": args.duration, "load_average": load_before, "runs": entries}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
