"""A real webhook receiver the tests start: an aiohttp server that records every request and checks its signature
with the snippet of docs/integrations.md. Its paths behave well or badly on purpose."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.pgcluster import free_port

BIG = 10 * 1024 * 1024


def verify(secret: bytes, headers: Mapping[str, str], body: bytes, tolerance: int = 300) -> bool:
    """docs/integrations.md's verification, word for word: the signature over timestamp + "." + body, and a
    timestamp no older than ``tolerance`` seconds."""
    timestamp = headers["X-Chatbot-Timestamp"]
    expected = "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    fresh = abs(time.time() - int(timestamp)) <= tolerance
    return fresh and hmac.compare_digest(expected, headers["X-Chatbot-Signature"])


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    signed: bool

    @property
    def event(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


class Receiver:
    """``await Receiver(secret).start()``; ``url(path)``; ``stop()`` and ``start()`` again on the same port."""

    def __init__(self, secret: str) -> None:
        self.secret = secret.encode()
        self.port = free_port()
        self.received: list[Received] = []
        self.delay = 0.0  # seconds /ok takes to answer
        self.arrived = asyncio.Event()
        self._runner: web.AppRunner | None = None

    def url(self, path: str = "/ok") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def start(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/ok", self._ok)
        app.router.add_post("/fail", self._fail)
        app.router.add_post("/hang", self._hang)
        app.router.add_post("/redirect", self._redirect)
        app.router.add_post("/big", self._big)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5, handler_cancellation=True)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _record(self, request: web.Request) -> None:
        body = await request.read()
        headers = dict(request.headers)
        self.received.append(Received(request.path, headers, body, verify(self.secret, headers, body)))
        self.arrived.set()

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    async def wait_for(self, count: int, path: str = "/ok", timeout: float = 20.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.at(path)) < count:
            assert time.monotonic() < deadline, f"{len(self.at(path))} of {count} requests to {path} arrived"
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), 0.5)
            except TimeoutError:
                pass
        return self.at(path)

    async def _ok(self, request: web.Request) -> web.Response:
        await self._record(request)
        await asyncio.sleep(self.delay)
        return web.Response(text="thanks")

    async def _fail(self, request: web.Request) -> web.Response:
        await self._record(request)
        return web.Response(status=500, text="broken")

    async def _hang(self, request: web.Request) -> web.Response:
        await self._record(request)
        await asyncio.sleep(3600)
        return web.Response()

    async def _redirect(self, request: web.Request) -> web.Response:
        await self._record(request)
        raise web.HTTPFound(self.url("/ok"))

    async def _big(self, request: web.Request) -> web.StreamResponse:
        await self._record(request)
        response = web.StreamResponse()
        response.content_length = BIG
        await response.prepare(request)
        chunk = b"x" * 65536
        try:
            for _ in range(BIG // len(chunk)):
                await response.write(chunk)
        except (ConnectionError, RuntimeError):
            pass  # the sender hung up after what it meant to read: what a good sender does
        return response
