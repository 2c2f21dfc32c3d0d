"""The servers under test, each in its own subprocess: the chat server on SQLite or a throwaway
PostgreSQL database (several processes share Redis), or the echo ceiling.

``running(spec, root, work_dir)`` starts one, waits for ``/healthz`` and removes
everything it made afterwards: the process group, the database, the Redis keys.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from common import BENCH, free_port

SHARED_PG = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/0"

# The limits a benchmark must lift: every visitor comes from 127.0.0.1 and sends
# far faster than a person, so the per-address and per-conversation guards would
# otherwise measure themselves.
UNLIMITED = {
    "CHATBOT_RATE_BURST": "1000000",
    "CHATBOT_RATE_PER_SECOND": "1000000",
    "CHATBOT_MAX_CONNECTIONS_PER_IP": "1000000",
    "CHATBOT_NEW_CONVERSATIONS_PER_MINUTE": "100000000",
}

# -- server processes --------------------------------------------------------


@dataclass(frozen=True)
class ServerSpec:
    """Which server to run: ``chatbot`` on ``database`` (sqlite or postgresql), or the ``echo`` ceiling."""

    kind: str
    database: str = ""
    loop: str = "uvloop"
    workers: int = 1

    @property
    def label(self) -> str:
        if self.kind == "echo":
            return f"echo/{self.loop}"
        return f"{self.database}/{self.loop}/{self.workers}p"


class ServerProcess:
    """One server in a subprocess on a free port; its output goes to a log file in ``work_dir``."""

    def __init__(self, spec: ServerSpec, root: Path, work_dir: Path, database_url: str = "",
                 extra_env: dict[str, str] | None = None) -> None:
        self.spec = spec
        self.root = root
        self.database_url = database_url
        self.redis_prefix = new_redis_prefix() if spec.workers > 1 else ""
        self.port = free_port()
        self.log_path = work_dir / f"{spec.kind}-{self.port}.log"
        self.env = {**os.environ, **(extra_env or {}), "PYTHONPATH": str(root)}
        self.work_dir = work_dir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def _command(self) -> list[str]:
        spec = self.spec
        if spec.kind == "echo":
            return [sys.executable, str(BENCH / "echo_server.py"), "--port", str(self.port), "--loop", spec.loop]
        return [sys.executable, "-m", "chatbot", "serve", "--port", str(self.port), "--database-url", self.database_url,
                "--transcripts-dir", str(self.work_dir / "transcripts"), "--workers", str(spec.workers),
                "--event-loop", spec.loop]

    def _chatbot_env(self) -> dict[str, str]:
        env = {**UNLIMITED, "CHATBOT_LOG_LEVEL": self.env.get("CHATBOT_LOG_LEVEL", "WARNING")}
        if self.spec.workers > 1:
            env.update(CHATBOT_REDIS_URL=REDIS_URL, CHATBOT_REDIS_PREFIX=self.redis_prefix)
        return env

    async def start(self, timeout: float = 60.0) -> ServerProcess:
        env = dict(self.env) if self.spec.kind == "echo" else {**self.env, **self._chatbot_env()}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(self._command(), cwd=self.root, env=env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        await self._ready(timeout)
        return self

    async def _ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if self.process is not None and self.process.poll() is not None:
                    raise RuntimeError(f"{self.spec.label} server exited:\n{self.log()}")
                try:
                    async with http.get(self.url + "/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.spec.label} server not ready in {timeout:.0f} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 15 s (the whole session: a supervisor's workers too)."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


# -- throwaway PostgreSQL databases and Redis prefixes -----------------------


async def create_database(root: Path) -> str:
    """A fresh database on the shared PostgreSQL, migrated with ``chatbot db upgrade``; returns its URL."""
    import asyncpg

    name = f"chatbot_bench_{uuid.uuid4().hex[:10]}"
    connection = await asyncpg.connect(SHARED_PG, timeout=5)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    upgrade = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "chatbot", "db", "upgrade", "--database-url", url, cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output, _ = await upgrade.communicate()
    if upgrade.returncode != 0:
        await drop_database(url)
        raise RuntimeError(f"chatbot db upgrade failed:\n{output.decode(errors='replace')}")
    return url


async def drop_database(url: str) -> None:
    import asyncpg

    name = url.rsplit("/", 1)[1]
    connection = await asyncpg.connect(SHARED_PG, timeout=5)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def postgres_reachable() -> bool:
    import asyncpg

    try:
        connection = await asyncpg.connect(SHARED_PG, timeout=3)
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    await connection.close()
    return True


def new_redis_prefix() -> str:
    return f"chatbot-bench-{uuid.uuid4().hex[:10]}"


async def drop_redis_prefix(prefix: str) -> None:
    """Delete the keys (presence, rate limits) a benchmark run left under its own prefix."""
    from redis import asyncio as aioredis

    redis = aioredis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        keys = [key async for key in redis.scan_iter(match=f"{prefix}:*")]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()


@asynccontextmanager
async def running(spec: ServerSpec, root: Path, work_dir: Path) -> AsyncIterator[ServerProcess]:
    """A started server of ``spec``, on its own SQLite file or fresh PostgreSQL database; all removed after."""
    database_url = ""
    if spec.database == "sqlite":
        database_url = f"sqlite+aiosqlite:///{work_dir / f'chat-{uuid.uuid4().hex[:8]}.db'}"
    elif spec.database == "postgresql":
        database_url = await create_database(root)
    server = ServerProcess(spec, root, work_dir, database_url)
    try:
        yield await server.start()
    finally:
        server.stop()
        if spec.database == "postgresql":
            await drop_database(database_url)
        if server.redis_prefix:
            await drop_redis_prefix(server.redis_prefix)
