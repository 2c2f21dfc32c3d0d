"""What the benchmarks share: /proc readings, percentiles, the questions, command-line helpers, py-spy.

The benchmarks measure real processes from the outside, the way an operator
would: the server runs in a subprocess (``bench/servers.py``), its CPU time and
resident memory are read from ``/proc``, and visitors speak the public
protocol (``bench/visitor.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def raise_open_files(wanted: int = 65536) -> int:
    """Lift the open-files limit to ``wanted`` (root may raise the hard limit too), else to the hard limit.

    Children inherit it, so raising it here covers the server processes started after.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for limit in ((max(wanted, hard), max(wanted, hard)), (hard, hard)):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, limit)
            return limit[0]
        except (ValueError, OSError):
            continue
    return soft


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- /proc -------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            found += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
    except OSError:
        pass
    return found


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (a ``--workers`` supervisor and its workers)."""
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo += _children(current)
    return tree


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` and its descendants, from /proc/PID/stat."""
    total = 0
    for member in process_tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / CLOCK_TICKS


def rss_bytes(pid: int) -> int:
    """Resident memory (VmRSS) of ``pid`` and its descendants."""
    total = 0
    for member in process_tree(pid):
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def machine_load() -> float:
    """The 1-minute load average, warning when other work already keeps the cores busy (figures would suffer)."""
    load = os.getloadavg()[0]
    if load > 0.5 * (os.cpu_count() or 1):
        print(f"note: the machine is already busy (load average {load:.1f} on {os.cpu_count()} cores); "
              "figures will be lower and noisier than on a quiet machine", file=sys.stderr)
    return round(load, 2)


def own_cpu_seconds() -> float:
    """This process's CPU time (a client process reports it, to show whether the client kept up)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# -- percentiles -------------------------------------------------------------


@dataclass(frozen=True)
class Latency:
    """Reply latency percentiles in milliseconds over ``count`` samples."""

    count: int
    p50: float | None
    p95: float | None
    p99: float | None

    @classmethod
    def of(cls, seconds: list[float]) -> Latency:
        if not seconds:
            return cls(0, None, None, None)
        ordered = sorted(seconds)

        def at(q: float) -> float:
            return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

        return cls(len(ordered), at(0.50), at(0.95), at(0.99))


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


# -- shared by the command lines ------------------------------------------------

# Clinic FAQ questions the bot answers (checked again before every run: see ``answered``).
QUESTIONS = (
    "does heat help?",
    "does heat help with back pain?",
    "what is a herniated disc",
    "what is a herniated disc?",
    "what causes upper back pain?",
    "why does my back hurt?",
    "what is a bone spur?",
    "bone spurs",
)


def questions_file(path: str) -> tuple[str, ...]:
    """The questions in a file, one a line (``#`` starts a comment line)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot read {path}: {exc.strerror}") from None
    questions = tuple(line.strip() for line in lines if line.strip() and not line.startswith("#"))
    if not questions:
        raise argparse.ArgumentTypeError(f"{path} has no questions (one a line)")
    return questions


def shares(total: int, parts: int) -> list[int]:
    """``total`` split into ``parts`` near-equal shares (no empty ones)."""
    sizes = [total // parts + (1 if i < total % parts else 0) for i in range(parts)]
    return [size for size in sizes if size]


def comma_list(kind: type, choices: tuple[str, ...] = ()) -> Any:
    def parse(value: str) -> list[Any]:
        items = [kind(part.strip()) for part in value.split(",") if part.strip()]
        bad = [item for item in items if choices and item not in choices]
        if not items or bad:
            expected = ", ".join(choices) or kind.__name__
            raise argparse.ArgumentTypeError(f"expected a comma-separated list of {expected}")
        return items
    return parse


def positive(kind: type) -> Any:
    def parse(value: str) -> Any:
        number = kind(value)
        if number <= 0:
            raise argparse.ArgumentTypeError("must be above 0")
        return number
    return parse


class Profiler:
    """py-spy recordings of a server while it is measured (``--profile DIR``): flame graphs or raw stacks."""

    EXTENSIONS = {"flamegraph": "svg", "raw": "txt", "speedscope": "json"}

    def __init__(self, directory: Path, fmt: str = "flamegraph") -> None:
        found = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
        if found is None:
            raise SystemExit("--profile needs py-spy: pip install py-spy")
        self.py_spy = found
        self.directory = directory
        self.format = fmt
        directory.mkdir(parents=True, exist_ok=True)

    def record(self, pid: int, seconds: float, name: str) -> asyncio.Task[None]:
        """Start sampling ``pid`` (and its workers) for ``seconds``; await the task for the file."""
        output = self.directory / f"{name}.{self.EXTENSIONS[self.format]}"
        return asyncio.create_task(self._record(pid, seconds, output))

    async def _record(self, pid: int, seconds: float, output: Path) -> None:
        process = await asyncio.create_subprocess_exec(
            self.py_spy, "record", "--pid", str(pid), "--duration", str(max(1, int(seconds))), "--rate", "200",
            "--subprocesses", "--nonblocking", "--format", self.format, "--output", str(output),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, errors = await process.communicate()
        if process.returncode != 0:
            print(f"note: py-spy failed on {pid}: {errors.decode(errors='replace')[-500:]}", file=sys.stderr)
        else:
            print(f"profile written: {output}", file=sys.stderr)
