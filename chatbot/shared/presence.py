"""Which representatives are online: the count visitors see as ``agents_online``.

Two implementations behind one small interface, chosen at start-up: in-process
(one server), or shared through Redis (several servers behind one address).

Tested in tests/test_cluster.py, tests/test_agents.py.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from typing import Any

log = logging.getLogger(__name__)


class Presence:
    """Connected representatives in this process, by id, each with their open sockets.

    A representative with two console tabs is one person online; they go
    offline only when their last socket closes.
    """

    def __init__(self) -> None:
        self._sockets: defaultdict[str, set[str]] = defaultdict(set)

    async def connect(self, agent_id: str, sid: str) -> bool:
        """Record a socket; True when the representative just came online."""
        came_online = agent_id not in self._sockets
        self._sockets[agent_id].add(sid)
        return came_online

    async def disconnect(self, agent_id: str, sid: str) -> bool:
        """Forget a socket; True when the representative just went offline."""
        sockets = self._sockets.get(agent_id)
        if sockets is None:
            return False
        sockets.discard(sid)
        if sockets:
            return False
        del self._sockets[agent_id]
        return True

    async def is_online(self, agent_id: str) -> bool:
        return agent_id in self._sockets

    async def online(self) -> int:
        return len(await self.online_ids())

    async def online_ids(self) -> set[str]:
        return set(self._sockets)

    def members(self) -> list[str]:
        """``agent_id|sid`` for every socket of this process."""
        return [f"{agent}|{sid}" for agent, sids in self._sockets.items() for sid in sids]

    async def start(self) -> None:
        """Nothing to start in-process."""

    async def close(self) -> None:
        """Nothing to release in-process."""


class RedisPresence(Presence):
    """Presence shared by every process through one Redis sorted set.

    Each socket is a member ``agent_id|sid`` scored with an expiry time that
    its process refreshes; a process that dies stops refreshing, and its
    sockets fall out within ``ttl`` seconds. If Redis is down, answers come
    from this process's own sockets until it is back.
    """

    def __init__(self, redis: Any, key: str, ttl: float = 30.0) -> None:
        super().__init__()
        self.redis = redis
        self.key = key
        self.ttl = ttl
        self._heartbeat: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._heartbeat = asyncio.create_task(self._refresh_forever())

    async def _shared(self, action: str, *args: Any) -> Any:
        try:
            return await getattr(self.redis, action)(*args)
        except Exception as exc:  # redis-py raises several families (ConnectionError, TimeoutError, OSError)
            log.warning("redis unavailable for presence (%s); using this process's view", type(exc).__name__)
            return None

    async def connect(self, agent_id: str, sid: str) -> bool:
        was_online = await self.is_online(agent_id)
        await super().connect(agent_id, sid)
        await self._shared("zadd", self.key, {f"{agent_id}|{sid}": time.time() + self.ttl})
        return not was_online

    async def disconnect(self, agent_id: str, sid: str) -> bool:
        await super().disconnect(agent_id, sid)
        await self._shared("zrem", self.key, f"{agent_id}|{sid}")
        return not await self.is_online(agent_id)

    async def is_online(self, agent_id: str) -> bool:
        return agent_id in await self.online_ids()

    async def online_ids(self) -> set[str]:
        live = await self._shared("zrangebyscore", self.key, time.time(), "+inf")
        if live is None:
            return await super().online_ids()
        return {m.decode().split("|", 1)[0] for m in live}

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self.ttl / 3)
            expiry = time.time() + self.ttl
            members = self.members()
            if members:
                await self._shared("zadd", self.key, dict.fromkeys(members, expiry))
            await self._shared("zremrangebyscore", self.key, "-inf", time.time())

    async def close(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        members = self.members()
        if members:
            await self._shared("zrem", self.key, *members)
