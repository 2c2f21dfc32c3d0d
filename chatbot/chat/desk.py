"""The representatives' desk: presence, take, watch, reply, release, hand back, close, the grace period.

The desk checks who may act (they hold it, they are under capacity) and asks
the conversation service for the change itself; the store's conditional update
decides "exactly one representative wins a take", across processes. Messages,
notices and queue updates go out through the service, which owns what visitors are told.

Tested in tests/test_agents.py.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from chatbot.chat.conversations import ConversationService
from chatbot.chat.lifecycle import Reason, State
from chatbot.chat.protocol import ChatError, conversation_json, lead_json, summary_json
from chatbot.chat.staff import Role
from chatbot.shared.presence import Presence
from chatbot.store import NewMessage, Store
from chatbot.store.models import Conversation, Message

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Representative:
    """Who is acting: the signed-in representative.

    ``token_hash`` is the digest of what they signed in with: their representative token, or their session
    cookie when ``session`` (a staff account, whose ``role`` then comes from ``users.role``). Token accounts
    keep what they could always do, a supervisor's reach (docs/security.md).
    """

    id: str
    name: str
    token_hash: str = field(default="", repr=False, compare=False)
    role: str = "supervisor"
    session: bool = False
    email: str = ""

    @property
    def actor(self) -> str:
        """Who they are in the audit trail: a staff account's email, or the token account's name."""
        return self.email or f"representative:{self.name}"


class Desk:
    """What representatives do; the ``/agent`` namespace calls one method per event."""

    def __init__(self, service: ConversationService, store: Store, presence: Presence, capacity: int,
                 grace_seconds: float) -> None:
        self.service = service
        self.store = store
        self.presence = presence
        self.capacity = capacity
        self.grace_seconds = grace_seconds
        self._offline_since: dict[str, float] = {}

    async def sign_in(self, token: str) -> Representative | None:
        agent = await self.store.agent_by_token(token)
        return Representative(agent.id, agent.name, agent.token_hash) if agent is not None else None

    async def still_signed_in(self, rep: Representative) -> bool:
        """False once their token was rotated or their account removed (``chatbot agents rotate|remove``)."""
        return await self.store.agent_token_current(rep.id, rep.token_hash)

    # -- presence ------------------------------------------------------------

    async def connected(self, rep: Representative, sid: str) -> list[str]:
        """Mark online; returns the ids of the conversations they still hold (to follow again)."""
        if await self.presence.connect(rep.id, sid):
            await self.service.queue_moved()
        return [c.id for c in await self.store.held_by(rep.id)]

    async def disconnected(self, rep: Representative, sid: str) -> None:
        """Mark offline when their last socket closes; their conversations wait out the grace period."""
        if await self.presence.disconnect(rep.id, sid):
            await self.service.queue_moved()

    async def release_abandoned(self, now: float) -> int:
        """Release the conversations of representatives offline for longer than the grace period.

        Run by every process's sweeper: presence is shared, so any process can see
        who is gone, and the conditional release lets only one act. Each process
        times absences from when it first saw them, so a restart only waits longer.
        """
        online = await self.presence.online_ids()
        holders = {c.agent_id: c.agent_name for c in await self.store.held() if c.agent_id not in online}
        self._offline_since = {a: self._offline_since.get(a, now) for a in holders if a is not None}
        released = 0
        for agent_id, since in list(self._offline_since.items()):
            if now - since < self.grace_seconds:
                continue
            rep = Representative(agent_id, holders[agent_id] or "")
            for conversation in await self.store.held_by(agent_id):
                try:
                    await self.release(rep, conversation.id)
                    released += 1
                except ChatError:
                    pass  # closed or handed back meanwhile
            log.info("representative %s did not come back; their conversations were released", agent_id)
        return released

    # -- reading -------------------------------------------------------------

    async def queue(self) -> list[dict[str, Any]]:
        return await self.service.summaries(await self.store.queued())

    async def conversations(self, state: str | None, limit: int) -> list[dict[str, Any]]:
        return await self.service.summaries(await self.store.conversations(state, limit))

    async def watch(self, rep: Representative, conversation_id: str, address: str) -> dict[str, object]:
        """The conversation with its history (never its token), to follow without taking it; the read is
        appended to the audit trail.

        An agent (the role) may not watch a conversation another representative holds: once taken, what the
        visitor says is for the one who took it and for supervisors."""
        conversation = await self.service.existing(conversation_id)
        if not self._may_follow(rep, conversation):
            raise ChatError("forbidden", "Agents cannot watch a conversation another representative holds.")
        await self.store.append_audit(rep.actor, "conversation_watched", conversation_id, address)
        return await self._detail(conversation, await self.store.messages(conversation_id))

    async def may_follow(self, rep: Representative, conversation_id: str) -> bool:
        """Whether ``rep`` may still follow the conversation (an agent: not once another representative holds it)."""
        conversation = await self.store.conversation(conversation_id)
        return conversation is None or self._may_follow(rep, conversation)

    @staticmethod
    def _may_follow(rep: Representative, conversation: Conversation) -> bool:
        return not (rep.role == Role.AGENT and conversation.state == State.AGENT and conversation.agent_id != rep.id)

    # -- acting --------------------------------------------------------------

    async def take(self, rep: Representative, conversation_id: str, offered: bool = False,
                   address: str | None = None) -> dict[str, object]:
        """Hold the conversation; exactly one of several simultaneous takers wins. The take (which returns the
        whole history) is appended to the audit trail.

        ``offered``: auto-assignment's accept, which only a live offer to ``rep`` allows.
        """
        conversation = await self.service.existing(conversation_id)
        if len(await self.store.held_by(rep.id)) >= self.capacity:
            raise ChatError("at_capacity")
        appended = await self.service.take(conversation, rep.id, rep.name, offered)
        if appended is None:
            raise await self._why_not(conversation_id)
        await self.store.append_audit(rep.actor, "conversation_taken", conversation_id, address)
        return await self._detail(appended.conversation, await self.store.messages(conversation_id))

    async def message(self, rep: Representative, conversation_id: str, text: str, client_id: str | None) -> Message:
        """A representative's message; only the one who holds the conversation may speak in it."""
        await self._held(rep, conversation_id)
        new = NewMessage(sender="agent", text=text, client_id=client_id, agent_id=rep.id, agent_name=rep.name)
        return await self.service.agent_message(conversation_id, new)

    async def release(self, rep: Representative, conversation_id: str) -> None:
        """Give the conversation back to the queue, keeping the visitor's place in line."""
        conversation = await self._held(rep, conversation_id)
        if await self.service.release(conversation, rep.id, rep.name) is None:
            raise await self._why_not(conversation_id)

    async def hand_back(self, rep: Representative, conversation_id: str) -> None:
        """Return the conversation to the bot (reason ``handback``): it answers again."""
        conversation = await self._held(rep, conversation_id)
        if await self.service.hand_back(conversation, rep.id) is None:
            raise await self._why_not(conversation_id)

    async def close(self, rep: Representative, conversation_id: str) -> None:
        """Close a conversation they hold, or one nobody holds yet."""
        conversation = await self.service.existing(conversation_id)
        if conversation.state == State.AGENT and conversation.agent_id != rep.id:
            raise ChatError("not_assigned")
        await self.service.close(conversation_id, Reason.CLOSED_BY_AGENT, agent_name=rep.name)

    async def typing(self, rep: Representative, conversation_id: str, typing: bool) -> None:
        await self._held(rep, conversation_id)
        await self.service.agent_typing(conversation_id, typing)

    # -- checks --------------------------------------------------------------

    async def _held(self, rep: Representative, conversation_id: str) -> Conversation:
        conversation = await self.service.existing(conversation_id)
        if conversation.state == State.CLOSED:
            raise ChatError("closed")
        if conversation.state != State.AGENT or conversation.agent_id != rep.id:
            raise ChatError("not_assigned")
        return conversation

    async def _why_not(self, conversation_id: str) -> ChatError:
        """The error for a state change that lost its race: what the conversation became instead."""
        conversation = await self.store.conversation(conversation_id)
        if conversation is None:
            return ChatError("not_found")
        if conversation.state == State.CLOSED:
            return ChatError("closed")
        return ChatError("taken") if conversation.state == State.AGENT else ChatError("not_assigned")

    async def _detail(self, conversation: Conversation, messages: list[Message]) -> dict[str, object]:
        """The summary with the whole history and the forms the visitor sent (leads)."""
        body = conversation_json(conversation, messages)
        last = messages[-1] if messages else None
        leads = [lead_json(lead) for lead in await self.store.leads_of(conversation.id)]
        return {**summary_json(conversation, last), "messages": body["messages"], "leads": leads}
