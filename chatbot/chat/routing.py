"""Auto-assignment (``CHATBOT_ROUTING=auto``): queued conversations are offered to representatives.

Each queued conversation is offered to one online representative under their
capacity: the one with the fewest open conversations (live offers count),
ties going to whoever has waited longest since their last take. They
``accept`` within ``CHATBOT_OFFER_SECONDS`` or the offer passes to the next
one not yet tried; when everyone online has been tried, the round starts
again. Offers and accepts are conditional updates in the database, so every
process may route at once and each conversation still has one live offer and
one winner. In ``manual`` mode (the default) nothing is offered: representatives
take from the queue.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from chatbot.chat.conversations import ConversationService
from chatbot.chat.desk import Desk, Representative
from chatbot.chat.emitter import Emitter
from chatbot.chat.protocol import ChatError
from chatbot.shared.presence import Presence
from chatbot.store import Store, StoreUnavailable
from chatbot.store.models import Conversation, utcnow

log = logging.getLogger(__name__)

NEVER = datetime.min.replace(tzinfo=UTC)


class Router:
    """Offers, accepts and declines; ``route()`` runs after every queue change and on a short tick."""

    def __init__(self, service: ConversationService, desk: Desk, store: Store, presence: Presence, emitter: Emitter,
                 offer_seconds: float) -> None:
        self.service = service
        self.desk = desk
        self.store = store
        self.presence = presence
        self.emitter = emitter
        self.offer_seconds = offer_seconds
        self.interval = max(0.05, min(1.0, offer_seconds / 4))

    async def route(self) -> None:
        """Offer every queued conversation without a live offer to the best free representative."""
        online = sorted(await self.presence.online_ids())
        if not online:
            return
        loads = await self.store.loads(online)
        now = utcnow()
        for conversation in await self.store.queued():
            if conversation.offered_to and conversation.offer_expires_at and conversation.offer_expires_at > now:
                continue
            chosen = self._choose(conversation, online, loads)
            if chosen is None:
                continue
            expires = now + timedelta(seconds=self.offer_seconds)
            if await self.store.offer(conversation.id, chosen, expires):
                held, last = loads[chosen]
                loads[chosen] = (held + 1, last)
                await self._send_offer(conversation, chosen, expires)
                if conversation.offered_to and conversation.offered_to != chosen:
                    await self._withdrawn(conversation.offered_to, conversation.id)

    def _choose(
        self, conversation: Conversation, online: list[str], loads: dict[str, tuple[int, datetime | None]]
    ) -> str | None:
        tried = set(conversation.offered_agents or [])
        if conversation.offered_to:
            tried.add(conversation.offered_to)
        free = [a for a in online if loads[a][0] < self.desk.capacity]
        fresh = [a for a in free if a not in tried] or free  # all tried: a new round
        if not fresh:
            return None
        return min(fresh, key=lambda a: (loads[a][0], loads[a][1] or NEVER, a))

    async def _send_offer(self, conversation: Conversation, agent_id: str, expires: datetime) -> None:
        [summary] = await self.service.summaries([conversation])
        offer = {
            "conversation_id": conversation.id,
            "expires_at": expires.isoformat().replace("+00:00", "Z"),
            "conversation": summary,
        }
        await self.emitter.to_agent("offer", offer, agent_id)
        log.info("conversation %s offered to %s", conversation.id, agent_id)

    async def _withdrawn(self, agent_id: str, conversation_id: str) -> None:
        await self.emitter.to_agent("offer_withdrawn", {"conversation_id": conversation_id}, agent_id)

    async def accept(self, rep: Representative, conversation_id: str, address: str | None = None) -> dict[str, object]:
        """Take the conversation offered to ``rep``; ``offer_expired`` if it was not theirs (any more). The take is
        audited with ``address``, as a take from the queue is."""
        try:
            return await self.desk.take(rep, conversation_id, offered=True, address=address)
        except ChatError as exc:
            if exc.code == "not_assigned":  # still queued, but the offer lapsed or went to someone else
                raise ChatError("offer_expired") from None
            raise

    async def decline(self, rep: Representative, conversation_id: str) -> None:
        if not await self.store.decline(conversation_id, rep.id):
            raise ChatError("offer_expired")
        await self.route()

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.route()
            except StoreUnavailable:
                continue
            except Exception:
                log.exception("routing failed")
