"""The timers: closing conversations nobody has written in for a while (reason ``idle``), and
releasing those of representatives who did not come back within the grace period.

A periodic sweep rather than a timer per conversation: it survives restarts,
costs a few indexed queries per tick, and across several processes the store's
conditional update lets exactly one of them act on each conversation.

Tested in tests/test_agents.py.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta

from chatbot.chat.conversations import ConversationService
from chatbot.chat.desk import Desk
from chatbot.chat.lifecycle import Reason, State
from chatbot.chat.protocol import ChatError
from chatbot.store import Store, StoreUnavailable
from chatbot.store.models import utcnow

log = logging.getLogger(__name__)


class Sweeper:
    """Closes bot conversations after ``bot_seconds`` and queued/agent ones after ``other_seconds`` of silence;
    releases abandoned ones through the desk."""

    def __init__(self, service: ConversationService, desk: Desk, store: Store, bot_seconds: float,
                 other_seconds: float) -> None:
        self.service = service
        self.desk = desk
        self.store = store
        self.limits: dict[str, float] = {
            State.BOT: bot_seconds, State.QUEUED: other_seconds, State.AGENT: other_seconds
        }
        self.interval = min(30.0, max(0.05, min(bot_seconds, other_seconds, desk.grace_seconds) / 4))

    async def sweep(self) -> int:
        """Close every conversation that has been idle too long; returns how many this process closed."""
        now = utcnow()
        cutoffs = {state: now - timedelta(seconds=seconds) for state, seconds in self.limits.items()}
        closed = 0
        for conversation_id in await self.store.idle(cutoffs):
            try:
                await self.service.close(conversation_id, Reason.IDLE)
                closed += 1
            except ChatError:
                pass  # closed by someone else meanwhile
        return closed

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                closed = await self.sweep()
                await self.desk.release_abandoned(time.monotonic())
            except StoreUnavailable:
                continue
            except Exception:
                log.exception("idle sweep failed")
                continue
            if closed:
                log.info("closed %d idle conversations", closed)
