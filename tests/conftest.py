"""Fixtures that start real servers (the app factory on a free port) and real Socket.IO clients."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
import socketio
from aiohttp import web
from redis import asyncio as aioredis
from redis.exceptions import RedisError

from chatbot.shared.config import Settings
from chatbot.store import make_engine, schema
from chatbot.web.app import STORE, create_app
from tests.chromium import CHROMIUM, headless_chromium
from tests.pgcluster import ThrowawayPostgres
from tests.processes import create_database, drop_database

ROOT = Path(__file__).resolve().parent.parent
INTENTS = ROOT / "intents"
FORMS = ROOT / "forms"
WAIT = 5.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests marked slow first, the rest in their order: pytest-xdist hands out tests in this order, so each
    worker takes a long test while there are many short ones left to even out the end, instead of one worker
    starting a one-minute test as the other runs out of work."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@dataclasses.dataclass
class Server:
    """A running server: its base URL, its app (to reach the store in assertions) and settings."""

    url: str
    app: web.Application
    settings: Settings

    async def get(self, path: str, **kwargs: Any) -> tuple[int, Any]:
        async with aiohttp.ClientSession() as http, http.get(self.url + path, **kwargs) as response:
            body = await response.json() if response.content_type == "application/json" else await response.text()
            return response.status, body


async def start_server(settings: Settings) -> tuple[Server, web.AppRunner]:
    app = create_app(settings)
    runner = web.AppRunner(app, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", settings.port)
    await site.start()
    port = runner.addresses[0][1]
    return Server(f"http://127.0.0.1:{port}", app, settings), runner


def server_settings(folder: Path) -> Settings:
    """The settings of a test server: a database and transcripts in ``folder``, limits out of the way."""
    return Settings(
        port=0,
        database_url=f"sqlite+aiosqlite:///{folder / 'chat.db'}",
        intents_dir=INTENTS,
        forms_dir=FORMS,
        transcripts_dir=folder / "transcripts",
        admin_token="test-admin-token",
        max_connections_per_ip=1000,
        new_conversations_per_minute=100_000,
        failed_sign_ins_per_minute=100_000,  # tests of wrong tokens; tests/test_abuse.py sets the real limits
    )


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite database at the current schema, made once per test worker: each test's server starts on a
    copy of it rather than running every migration again (tests/test_migrations.py tests them)."""
    path = tmp_path_factory.mktemp("schema") / "chat.db"
    asyncio.run(migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture
def settings(tmp_path: Path, migrated_sqlite: Path) -> Settings:
    shutil.copyfile(migrated_sqlite, tmp_path / "chat.db")
    return server_settings(tmp_path)


@pytest.fixture
async def make_server(settings: Settings) -> AsyncIterator[Callable[..., Awaitable[Server]]]:
    """Start servers with these settings plus any overrides; all are stopped after the test."""
    runners: list[web.AppRunner] = []

    async def make(**overrides: Any) -> Server:
        server, runner = await start_server(dataclasses.replace(settings, **overrides))
        runners.append(runner)
        return server

    yield make
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
async def server(make_server: Callable[..., Awaitable[Server]]) -> Server:
    return await make_server()


async def migrate(url: str) -> None:
    """Bring a database to the current schema, as `chatbot db upgrade` does."""
    engine = make_engine(url)
    try:
        await schema.upgrade(engine)
    finally:
        await engine.dispose()


def need_service(reason: str) -> None:
    """Fail in CI (services must be there), skip with ``reason`` on a bare laptop."""
    if os.environ.get("CI"):
        pytest.fail(f"CI must provide this service: {reason}")
    pytest.skip(reason)


@pytest.fixture
def throwaway_pg() -> Any:
    """A private PostgreSQL cluster the test may stop and restart."""
    try:
        cluster = ThrowawayPostgres()
    except (FileNotFoundError, OSError) as exc:
        need_service(f"no PostgreSQL server binaries: {exc}")
    cluster.start()
    asyncio.run(migrate(cluster.url))
    yield cluster
    cluster.destroy()


@contextlib.asynccontextmanager
async def fresh_database() -> AsyncIterator[str]:
    """A fresh, migrated database on the shared PostgreSQL (127.0.0.1:5432), dropped afterwards."""
    try:
        url = await create_database()
    except (OSError, asyncpg.PostgresError) as exc:
        need_service(f"PostgreSQL on 127.0.0.1:5432 is not reachable: {exc}")
    await migrate(url)
    try:
        yield url
    finally:
        await drop_database(url)


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A database of the test's own (``fresh_database``)."""
    async with fresh_database() as url:
        yield url


async def shared_redis() -> str:
    """The shared Redis, once it answers; tests keep apart through their own ``redis_prefix``."""
    url = "redis://127.0.0.1:6379/0"
    client = aioredis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        await client.ping()
    except (OSError, RedisError) as exc:
        need_service(f"Redis on 127.0.0.1:6379 is not reachable: {exc}")
    finally:
        await client.aclose()
    return url


@pytest.fixture
async def redis_url() -> str:
    return await shared_redis()


@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One headless Chromium for the test worker (tests/chromium.py); yields its DevTools websocket URL."""
    if not CHROMIUM.exists():
        need_service("no Chromium at /usr/bin/chromium: apt-get install -y chromium")
    with headless_chromium(tmp_path_factory.mktemp("chromium")) as url:
        yield url


class Client:
    """A real python-socketio client that records every event it receives, in order."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: list[tuple[str, Any]] = []
        self._taken: set[int] = set()
        self._arrived = asyncio.Event()
        self.sio.on("*", self._record, namespace=namespace)

    async def _record(self, event: str, data: Any = None) -> None:
        self.events.append((event, data))
        self._arrived.set()

    async def connect(self, url: str, auth: dict[str, Any] | None = None) -> None:
        await self.sio.connect(
            url, namespaces=[self.namespace], auth=auth or {}, transports=["websocket"], wait_timeout=WAIT
        )

    async def call(self, event: str, data: Any = None) -> Any:
        return await self.sio.call(event, data, namespace=self.namespace, timeout=WAIT)

    async def next(self, event: str, where: Callable[[Any], bool] = lambda _: True, timeout: float = WAIT) -> Any:
        """The oldest ``event`` not returned before that satisfies ``where``; waits for it if needed."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for index, (name, data) in enumerate(self.events):
                if index not in self._taken and name == event and where(data):
                    self._taken.add(index)
                    return data
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"no {event!r} event matched within {timeout}s; got {self.events}")
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except TimeoutError:
                pass

    def received(self, event: str, where: Callable[[Any], bool] = lambda _: True) -> list[Any]:
        return [data for name, data in self.events if name == event and where(data)]

    async def disconnect(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()


class Visitor(Client):
    """A visitor's widget: connects to ``/chat`` and holds the ``conversation`` it was given."""

    def __init__(self) -> None:
        super().__init__("/chat")
        self.conversation: dict[str, Any] = {}

    async def open(self, url: str, **auth: Any) -> Visitor:
        await self.connect(url, auth)
        self.conversation = await self.next("conversation")
        return self

    async def say(self, text: str, client_id: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"text": text}
        if client_id is not None:
            body["client_id"] = client_id
        return await self.call("message", body)

    async def ask(self, text: str) -> dict[str, Any]:
        """Send ``text`` and return the bot's reply to it."""
        ack = await self.say(text)
        assert ack["ok"], ack
        return await self.next("message", lambda m: m["sender"] == "bot")


@contextlib.asynccontextmanager
async def opened_visitors() -> AsyncIterator[Callable[..., Awaitable[Visitor]]]:
    """``await open_visitor(server.url, lang="es")`` opens a visitor; all are disconnected at the end."""
    opened: list[Visitor] = []

    async def open_visitor(url: str, **auth: Any) -> Visitor:
        visitor = Visitor()
        opened.append(visitor)
        return await visitor.open(url, **auth)

    try:
        yield open_visitor
    finally:
        for visitor in opened:
            await visitor.disconnect()


@pytest.fixture
async def visitors() -> AsyncIterator[Callable[..., Awaitable[Visitor]]]:
    """``await visitors(server.url, lang="es")`` opens a visitor; all are disconnected after the test."""
    async with opened_visitors() as open_visitor:
        yield open_visitor


class Representative(Client):
    """A representative's console on ``/agent``."""

    def __init__(self, name: str, token: str) -> None:
        super().__init__("/agent")
        self.name = name
        self.token = token

    async def sign_in(self, url: str) -> Representative:
        await self.connect(url, {"token": self.token})
        await self.next("queue")
        return self

    async def take(self, conversation_id: str) -> dict[str, Any]:
        return await self.call("take", {"conversation_id": conversation_id})

    async def say(self, conversation_id: str, text: str, client_id: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"conversation_id": conversation_id, "text": text}
        if client_id is not None:
            body["client_id"] = client_id
        return await self.call("message", body)


@pytest.fixture
async def representatives() -> AsyncIterator[Callable[..., Awaitable[Representative]]]:
    """``await representatives(server, "Maria")`` creates the account and signs in; all leave after the test."""
    opened: list[Representative] = []

    async def sign_in(server: Server, name: str, connect: bool = True) -> Representative:
        _, token = await server.app[STORE].create_agent(name)
        rep = Representative(name, token)
        opened.append(rep)
        return await rep.sign_in(server.url) if connect else rep

    yield sign_in
    for rep in opened:
        await rep.disconnect()
