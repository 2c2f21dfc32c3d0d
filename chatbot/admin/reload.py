"""Hot reload of the intent files: validate the new set, then swap the whole bot in one assignment.

The new ``Bot`` is built off the event loop (loading and indexing take a
moment) from files that passed every check; only then does it replace the
running one. A broken file therefore changes nothing, and a message being
answered keeps the bot it started with. With several processes (Redis), the
process that reloaded tells the others on a pub/sub channel, and each reloads
the same folder itself.

Tested in tests/test_admin.py, tests/test_admin_cli.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redis import asyncio as aioredis

from chatbot.bot.answers import Bot
from chatbot.bot.intents import IntentError, Problem, load_intents
from chatbot.chat.conversations import ConversationService
from chatbot.chat.metrics import Metrics

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reloaded:
    """What a reload did: swapped in (``ok``) with the ids added and removed, or refused with the problems."""

    ok: bool
    intents: int = 0
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    problems: Sequence[Problem] = ()


class Reloader:
    """Reloads one service's bot from one folder; reloads run one at a time."""

    def __init__(
        self, service: ConversationService, directory: Path, threshold: float | None, metrics: Metrics
    ) -> None:
        self.service = service
        self.directory = directory
        self.threshold = threshold
        self.metrics = metrics
        self._lock = asyncio.Lock()

    def _build(self) -> Bot:
        return Bot(load_intents(self.directory), self.threshold)

    async def reload(self) -> Reloaded:
        """Validate and swap; the running bot stays as it was unless every file is valid."""
        async with self._lock:
            try:
                bot = await asyncio.to_thread(self._build)
            except IntentError as exc:
                self.metrics.reload(ok=False)
                log.warning("intent reload refused: %d problem(s) in %s", len(exc.problems), self.directory)
                return Reloaded(ok=False, problems=list(exc.problems))
            before, after = set(self.service.bot.intents), set(bot.intents)
            self.service.bot = bot
        self.metrics.reload(ok=True)
        log.info("intents reloaded from %s: %d intents", self.directory, len(after))
        return Reloaded(ok=True, intents=len(after), added=sorted(after - before), removed=sorted(before - after))


class ReloadChannel:
    """Tells every other process to reload, over Redis pub/sub.

    The subscriber has its own connection without a socket timeout (a pub/sub
    connection is idle most of the time); it reconnects by itself after Redis
    comes back. Each message carries the sender's id so it ignores its own.
    """

    def __init__(self, redis_url: str, channel: str, reloader: Reloader, sender: str) -> None:
        self.redis = aioredis.Redis.from_url(redis_url, socket_connect_timeout=1)
        self.channel = channel
        self.reloader = reloader
        self.sender = sender

    async def announce(self) -> None:
        """Ask the other processes to reload; a Redis outage is logged, not raised (this process has reloaded)."""
        try:
            await self.redis.publish(self.channel, self.sender)
        except Exception as exc:  # redis-py raises several families (ConnectionError, TimeoutError, OSError)
            log.warning("could not tell the other processes to reload (%s)", type(exc).__name__)

    async def listen(self) -> None:
        """Reload whenever another process says so; runs until cancelled."""
        while True:
            try:
                await self._subscribed()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any Redis failure: wait, then subscribe again
                log.warning("reload channel lost (%s); retrying", type(exc).__name__)
                await asyncio.sleep(1.0)

    async def _subscribed(self) -> None:
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self.channel)
            while True:
                message: dict[str, Any] | None = await pubsub.get_message(timeout=5.0)
                if message is not None and message.get("data") != self.sender.encode():
                    result = await self.reloader.reload()
                    log.info("reloaded at another process's request: %s", "ok" if result.ok else "refused")
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated

    async def close(self) -> None:
        await self.redis.aclose()
