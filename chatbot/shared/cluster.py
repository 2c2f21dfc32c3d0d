"""What several server processes share, chosen once at start-up from ``CHATBOT_REDIS_URL``.

Without Redis: python-socketio's in-process manager, in-process presence and
rate limits — one process serves everything. With Redis: python-socketio's
``AsyncRedisManager`` carries every emit to the clients of every process, and
presence and rate limits live in Redis. The rest of the server never knows
which it has.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import socketio

from chatbot.shared.config import Settings
from chatbot.shared.presence import Presence, RedisPresence
from chatbot.shared.ratelimit import RateLimiter, RedisRateLimiter

log = logging.getLogger(__name__)


@dataclass
class Cluster:
    """The shared parts: the Socket.IO client manager, presence and rate limits."""

    manager: socketio.AsyncManager | None
    presence: Presence
    redis: Any | None = None
    prefix: str = "chatbot"

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
    )
