"""A visitor that speaks the public ``/chat`` protocol, and the client processes that run many of them.

A benchmark's client must not be its bottleneck, so visitors are spread over
several processes (``Fleet``), each with its own event loop (uvloop when it
is installed) and one shared HTTP session.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import aiohttp
import socketio
from common import raise_open_files

CHAT = "/chat"
ASK_TIMEOUT = 30.0
OPEN_TIMEOUT = 60.0
SILENCE = 1.0  # after an ok ack, how long a reply may still take before the bot counts as silent


@dataclass(frozen=True)
class Answer:
    """One question's outcome: latency to the bot's ``message``, or why there was none."""

    seconds: float | None
    error: str | None = None
    handed_off: bool = False


class Visitor:
    """One browser tab: a conversation over the websocket transport, one question at a time."""

    def __init__(self, url: str, http: aiohttp.ClientSession | None = None, lang: str = "en") -> None:
        self.url = url
        self.http = http
        self.lang = lang
        self.state: str | None = None
        self.sio: socketio.AsyncClient | None = None
        self._welcomed = asyncio.Event()
        self._reply: asyncio.Future[float] | None = None
        self._ack: asyncio.Future[Any] | None = None

    async def open(self, timeout: float = OPEN_TIMEOUT) -> None:
        """Connect, starting a new conversation, and wait for its ``conversation`` event."""
        sio = socketio.AsyncClient(reconnection=False, http_session=self.http)
        sio.on("conversation", self._on_conversation, namespace=CHAT)
        sio.on("message", self._on_message, namespace=CHAT)
        sio.on("state", self._on_state, namespace=CHAT)
        self._welcomed = asyncio.Event()
        self.sio = sio
        await sio.connect(self.url, namespaces=[CHAT], transports=["websocket"], auth={"lang": self.lang},
                          wait_timeout=timeout)
        await asyncio.wait_for(self._welcomed.wait(), timeout)

    async def close(self) -> None:
        if self.sio is not None:
            await self.sio.disconnect()
            self.sio = None

    async def reopen(self) -> None:
        """A fresh conversation, after a handoff left the bot silent in the old one."""
        await self.close()
        await self.open()

    async def ask(self, text: str, timeout: float = ASK_TIMEOUT) -> Answer:
        """Send ``text``; return once the ack is in, timing the bot's reply from the send."""
        assert self.sio is not None, "open() first"
        loop = asyncio.get_running_loop()
        self._reply, self._ack = loop.create_future(), loop.create_future()
        sent = time.perf_counter()
        await self.sio.emit("message", {"text": text}, namespace=CHAT, callback=self._on_ack)
        try:
            ack = await asyncio.wait_for(self._ack, timeout)
            if not (isinstance(ack, dict) and ack.get("ok")):
                code = ack.get("error", {}).get("code", "bad_ack") if isinstance(ack, dict) else "bad_ack"
                return Answer(None, error=str(code))
            # The server acks after emitting its reply, on the same socket, so the reply is normally in.
            replied = await asyncio.wait_for(asyncio.shield(self._reply), SILENCE)
        except TimeoutError:
            return Answer(None, error="timeout" if not self._ack.done() else "silent", handed_off=self.state != "bot")
        return Answer(replied - sent, handed_off=self.state != "bot")

    def _on_ack(self, *args: Any) -> None:
        if self._ack is not None and not self._ack.done():
            self._ack.set_result(args[0] if args else None)

    def _on_conversation(self, data: Any) -> None:
        self.state = data.get("state") if isinstance(data, dict) else None
        self._welcomed.set()

    def _on_message(self, data: Any) -> None:
        if isinstance(data, dict) and data.get("sender") == "bot":
            if self._reply is not None and not self._reply.done():
                self._reply.set_result(time.perf_counter())

    def _on_state(self, data: Any) -> None:
        if isinstance(data, dict):
            self.state = data.get("state", self.state)


def shared_session() -> aiohttp.ClientSession:
    """One HTTP session for all the visitors of a process, without aiohttp's 100-connection cap."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))


async def open_many(url: str, count: int, http: aiohttp.ClientSession, parallel: int = 50) -> tuple[list[Visitor], int]:
    """Open ``count`` visitors, ``parallel`` at a time; returns those that opened and the number that failed."""
    gate = asyncio.Semaphore(parallel)

    async def one() -> Visitor | None:
        visitor = Visitor(url, http)
        async with gate:
            try:
                await visitor.open()
                return visitor
            except (TimeoutError, socketio.exceptions.SocketIOError, OSError):
                await visitor.close()
                return None

    opened = await asyncio.gather(*(one() for _ in range(count)))
    visitors = [v for v in opened if v is not None]
    return visitors, count - len(visitors)


# -- client processes ---------------------------------------------------------


class Control:
    """A client process's side of the conversation with the benchmark: ready, wait for go, done."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def ready(self, info: Any) -> None:
        self.conn.send(("ready", info))

    async def go(self) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, self.conn.recv)


Work = Callable[[Any, Control], Awaitable[Any]]


def _child(work: Work, job: Any, conn: Connection) -> None:
    raise_open_files()
    try:
        import uvloop

        runner: Callable[[Awaitable[Any]], Any] = uvloop.run
    except ImportError:
        runner = asyncio.run
    try:
        conn.send(("done", runner(work(job, Control(conn)))))
    except BaseException:  # report any failure to the parent instead of dying silently
        conn.send(("error", traceback.format_exc()))


class Fleet:
    """Client processes, one per job, each running ``work(job, control)``."""

    def __init__(self, work: Work, jobs: list[Any]) -> None:
        context = multiprocessing.get_context("spawn")
        self._conns: list[Connection] = []
        self._processes = []
        for job in jobs:
            parent, child = context.Pipe()
            process = context.Process(target=_child, args=(work, job, child), daemon=True)
            process.start()
            self._conns.append(parent)
            self._processes.append(process)

    async def _receive(self, expected: str, timeout: float) -> list[Any]:
        loop = asyncio.get_running_loop()
        replies = []
        for conn in self._conns:
            if not await loop.run_in_executor(None, conn.poll, timeout):
                raise RuntimeError(f"a client process sent no {expected!r} within {timeout:.0f} s")
            kind, payload = conn.recv()
            if kind == "error":
                raise RuntimeError(f"a client process failed:\n{payload}")
            replies.append(payload)
        return replies

    async def ready(self, timeout: float = 600.0) -> list[Any]:
        """Each process's ``ready`` report, once all have sent it."""
        return await self._receive("ready", timeout)

    def go(self, command: Any) -> None:
        for conn in self._conns:
            conn.send(command)

    async def results(self, timeout: float = 600.0) -> list[Any]:
        results = await self._receive("done", timeout)
        for process in self._processes:
            process.join(timeout=10)
        return results

    def stop(self) -> None:
        """End any client process still running (after a failure)."""
        for process in self._processes:
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)
