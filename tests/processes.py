"""Real server processes (``python -m chatbot serve``) and per-test PostgreSQL databases and Redis prefixes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import aiohttp
import asyncpg

from tests.pgcluster import free_port

ROOT = Path(__file__).resolve().parent.parent
SHARED_PG = "postgresql://postgres@127.0.0.1:5432/test"


class ServerProcess:
    """One ``chatbot serve`` process on its own port, with its output kept in a log file."""

    def __init__(self, env: dict[str, str], log_dir: Path, port: int | None = None, extra: Sequence[str] = ()) -> None:
        self.port = port or free_port()
        self.env = {**os.environ, **env, "CHATBOT_PORT": str(self.port)}
        self.log_path = log_dir / f"server-{self.port}.log"
        self.extra = list(extra)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerProcess:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "chatbot", "serve", *self.extra],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        return self

    async def ready(self, timeout: float = 90.0) -> ServerProcess:
        """Wait for /healthz. A start builds the bot (two matchers a language, the sentence encoder, the sentence
        classifiers): a few seconds alone, 30 s and more with three servers starting at once beside two test
        workers on a 2-core CI machine."""
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                assert self.process is not None and self.process.poll() is None, self.log()
                try:
                    async with http.get(self.url + "/healthz") as response:
                        if response.status == 200:
                            return self
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"server on {self.port} not ready:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def signal(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    async def wait(self, timeout: float) -> int:
        """The exit code; waits in a thread so the test's own clients keep talking meanwhile."""
        assert self.process is not None
        return await asyncio.to_thread(self.process.wait, timeout)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


async def create_database() -> str:
    """A fresh database on the shared PostgreSQL; returns its SQLAlchemy URL."""
    name = f"chatbot_test_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(SHARED_PG, timeout=5)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


async def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    connection = await asyncpg.connect(SHARED_PG, timeout=5)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def redis_prefix() -> str:
    return f"chatbot-test-{uuid.uuid4().hex[:12]}"
