"""What several server processes share, chosen once at start-up from ``CHATBOT_REDIS_URL``.

Without Redis: python-socketio's in-process manager, in-process presence and
rate limits — one process serves everything. With Redis: python-socketio's
``AsyncRedisManager`` carries every emit to the clients of every process,
presence and rate limits live in Redis, and ``channel()`` gives a pub/sub
channel between the processes (intent reloads use one). The rest of the server
never knows which it has, and nothing else opens a Redis connection.

Tested in tests/test_cluster.py, tests/test_admin.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import socketio

from chatbot.shared.config import Settings
from chatbot.shared.presence import Presence, RedisPresence
from chatbot.shared.ratelimit import RateLimiter, RedisRateLimiter

log = logging.getLogger(__name__)


class Channel:
    """A pub/sub channel between the server's processes, over Redis; a process never hears its own messages.

    The subscriber has its own connection without a socket timeout (a pub/sub
    connection is idle most of the time) and subscribes again after Redis comes
    back. Each message carries the sender's id, which is how a process knows its own.
    """

    def __init__(self, redis_url: str, name: str, sender: str) -> None:
        from redis import asyncio as aioredis  # imported only with Redis configured, like the rest of the cluster

        self.redis = aioredis.Redis.from_url(redis_url, socket_connect_timeout=1)
        self.name = name
        self.sender = sender

    async def publish(self) -> None:
        """Tell the other processes; a Redis outage is logged, not raised (this process has done its part)."""
        try:
            await self.redis.publish(self.name, self.sender)
        except Exception as exc:  # redis-py raises several families (ConnectionError, TimeoutError, OSError)
            log.warning("could not tell the other processes on %s (%s)", self.name, type(exc).__name__)

    async def listen(self, heard: Callable[[], Awaitable[None]]) -> None:
        """Await ``heard()`` whenever another process publishes; runs until cancelled."""
        while True:
            try:
                await self._subscribed(heard)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any Redis failure: wait, then subscribe again
                log.warning("channel %s lost (%s); retrying", self.name, type(exc).__name__)
                await asyncio.sleep(1.0)

    async def _subscribed(self, heard: Callable[[], Awaitable[None]]) -> None:
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self.name)
            while True:
                message: dict[str, Any] | None = await pubsub.get_message(timeout=5.0)
                if message is not None and message.get("data") != self.sender.encode():
                    await heard()
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated

    async def close(self) -> None:
        await self.redis.aclose()


@dataclass
class Cluster:
    """The shared parts: the Socket.IO client manager, presence and rate limits."""

    manager: socketio.AsyncManager | None
    presence: Presence
    redis: Any | None = None
    prefix: str = "chatbot"
    redis_url: str = ""
    process_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def channel(self, name: str) -> Channel | None:
        """A pub/sub channel named ``name`` between the processes, or None when one process serves everything."""
        if not self.redis_url:
            return None
        return Channel(self.redis_url, f"{self.prefix}:{name}", self.process_id)

    def limiter(self, name: str, burst: float, rate: float) -> RateLimiter:
        """Token buckets named ``name``: shared by every process when Redis is on."""
        if self.redis is None:
            return RateLimiter(burst, rate)
        return RedisRateLimiter(self.redis, burst, rate, prefix=f"{self.prefix}:{name}:")

    async def redis_status(self) -> str:
        """``off`` without Redis, else ``ok`` or ``down``."""
        if self.redis is None:
            return "off"
        try:
            await self.redis.ping()
            return "ok"
        except Exception as exc:  # any failure to reach Redis means down, whatever its type
            log.warning("redis is down: %s", type(exc).__name__)
            return "down"

    async def start(self) -> None:
        await self.presence.start()

    async def close(self) -> None:
        await self.presence.close()
        if self.redis is not None:
            await self.redis.aclose()


def build_cluster(settings: Settings) -> Cluster:
    if not settings.redis_url:
        return Cluster(manager=None, presence=Presence())
    try:
        from redis import asyncio as aioredis
    except ImportError as exc:  # pragma: no cover - redis is a default dependency
        raise RuntimeError("CHATBOT_REDIS_URL needs the redis package: pip install redis") from exc
    # Short timeouts for our own commands: a Redis outage must not stall a visitor's message.
    redis = aioredis.Redis.from_url(settings.redis_url, socket_connect_timeout=1, socket_timeout=1)
    prefix = settings.redis_prefix
    return Cluster(
        manager=socketio.AsyncRedisManager(settings.redis_url, channel=f"{prefix}:socketio"),
        presence=RedisPresence(redis, key=f"{prefix}:presence"),
        redis=redis,
        prefix=prefix,
        redis_url=settings.redis_url,
    )
