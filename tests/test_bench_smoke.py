"""The benchmarks still run end to end: tiny load, idle, reply-cost and turn-write runs (correctness only, no timing
asserts)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"


def run_bench(script: str, *args: str) -> tuple[str, dict[str, Any]]:
    """Run ``bench/<script>``; its table, and its last line parsed as JSON."""
    done = subprocess.run([sys.executable, str(BENCH / script), *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=110)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    return "\n".join(lines[:-1]), json.loads(lines[-1])


@pytest.mark.slow
def test_load_bench_measures_the_chat_server_and_the_echo_ceiling() -> None:
    table, report = run_bench("load.py", "--databases", "sqlite", "--visitors", "4", "--clients", "2",
                              "--duration", "1", "--warmup", "0.3")
    assert "sqlite/uvloop/1p" in table and "echo/uvloop" in table  # the loop the server runs on by default
    [run] = report["runs"]
    assert run["database"] == "sqlite"
    assert run["errors"] == {}
    assert run["replies_per_s"] > 0 and run["echo_per_s"] > 0
    assert run["ratio"] == round(run["replies_per_s"] / run["echo_per_s"], 3)
    for phase in ("max", "half"):
        assert run["latency_ms"][phase]["count"] > 0
        assert run["echo_latency_ms"][phase]["count"] > 0
    assert run["cpu_s_per_1k_replies"] > 0


@pytest.mark.slow
def test_idle_bench_reports_memory_and_the_active_visitors_latency() -> None:
    table, report = run_bench("idle.py", "--sizes", "20", "--clients", "2", "--samples", "5", "--rate", "50")
    [result] = report["results"]
    assert result["opened"] == 20 and result["failed"] == 0 and result["still_open"] == 20
    assert result["rss_after_mib"] > 0
    assert result["latency_ms"]["count"] == 5 and result["errors"] == 0
    assert "KiB/conn" in table


def test_load_bench_refuses_bad_arguments_with_a_message() -> None:
    done = subprocess.run([sys.executable, str(BENCH / "load.py"), "--databases", "oracle"], cwd=ROOT,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "sqlite, postgresql" in done.stderr


@pytest.mark.slow
def test_reply_cost_reports_cpu_per_reply_and_its_parts() -> None:
    done = subprocess.run([sys.executable, str(BENCH / "reply_cost.py"), "--rounds", "2", "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(report["cpu_us"]) == {"reply", "rank", "red_flags", "rank_bad_input"}
    assert all(value > 0 for value in report["cpu_us"].values())
    assert report["build_s"] > 0 and report["bad_input_ratio"] > 0


def test_turn_write_reports_a_turns_cpu_against_the_drivers_select() -> None:
    _, report = run_bench("turn_write.py", "--turns", "20", "--json")
    databases = set(report["results"])
    # CI has PostgreSQL, so it is never left out there; a laptop without it gets SQLite alone.
    assert databases == {"sqlite", "postgresql"} if os.environ.get("CI") else "sqlite" in databases
    for figures in report["results"].values():
        assert figures["turn_cpu_us"] > 0 and figures["select_cpu_us"] > 0 and figures["turn_per_select"] > 0
