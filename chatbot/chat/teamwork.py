"""What staff do together: private notes on a conversation, transfers from one representative to another, and
the supervisors' view of who holds what.

Notes go only to the representatives following the conversation (``/agent``) and live in their own table, so no
visitor event, history or transcript is built from them. A transfer is one conditional state change (``agent ->
agent``, reason ``transferred``) that only the current holder's hold allows, so two transfers or a transfer and a
release cannot both win; the visitor is told who joined, by name, and the new holder's consoles get a
``transferred`` event with the note. Supervisors (and admins, and token accounts) transfer any conversation; an
agent, those they hold. Notes and transfers go into the audit trail.

Tested in tests/test_collaboration.py.
"""

from __future__ import annotations

import logging
from typing import Any

from chatbot.chat import notices
from chatbot.chat.conversations import ConversationService
from chatbot.chat.desk import Representative
from chatbot.chat.emitter import Emitter
from chatbot.chat.lifecycle import Reason, State, change
from chatbot.chat.protocol import ChatError, conversation_json, note_json, summary_json
from chatbot.chat.staff import Role
from chatbot.shared.presence import Presence
from chatbot.store import NewMessage, Store
from chatbot.store.models import Conversation

log = logging.getLogger(__name__)


class Teamwork:
    """The ``/agent`` namespace calls one method per event: ``note``, ``transfer``, ``holders``, ``representatives``."""

    def __init__(self, service: ConversationService, store: Store, presence: Presence, emitter: Emitter,
                 capacity: int) -> None:
        self.service = service
        self.store = store
        self.presence = presence
        self.emitter = emitter
        self.capacity = capacity

    async def notes(self, conversation_id: str) -> list[dict[str, Any]]:
        return [note_json(note) for note in await self.store.notes(conversation_id)]

    async def add_note(self, rep: Representative, conversation_id: str, text: str, address: str) -> dict[str, Any]:
        """A private note by anyone who may follow the conversation (an agent: not on one another holds)."""
        conversation = await self.service.existing(conversation_id)
        if rep.role == Role.AGENT and conversation.state == State.AGENT and conversation.agent_id != rep.id:
            raise ChatError("forbidden", "Agents cannot add notes to a conversation another representative holds.")
        return await self._note(rep, conversation_id, text, address)

    async def _note(self, rep: Representative, conversation_id: str, text: str, address: str) -> dict[str, Any]:
        note = note_json(await self.store.add_note(conversation_id, rep.id, rep.name, text))
        await self.emitter.to_followers("note", note, conversation_id)
        await self.store.append_audit(rep.actor, "note_added", conversation_id, address)
        return note

    async def transfer(self, rep: Representative, conversation_id: str, to_id: str, note: str | None,
                       address: str) -> dict[str, Any]:
        """Hand a held conversation to another online representative; the summary as the new holder sees it."""
        conversation = await self.service.existing(conversation_id)
        if conversation.state == State.CLOSED:
            raise ChatError("closed")
        if conversation.state != State.AGENT or conversation.agent_id is None:
            raise ChatError("not_assigned", "Only a conversation a representative holds can be transferred.")
        if rep.role == Role.AGENT and conversation.agent_id != rep.id:
            raise ChatError("forbidden", "Agents can transfer only the conversations they hold.")
        if to_id == conversation.agent_id:
            raise ChatError("bad_request", "They already hold this conversation.")
        to_name = await self._available(to_id)
        joined = NewMessage(sender="system", text=notices.notice("agent_joined", conversation.lang, name=to_name))
        moved = change(Reason.TRANSFERRED, expect_agent=conversation.agent_id, agent_id=to_id, agent_name=to_name)
        appended = await self.store.append(conversation_id, [joined], moved)
        if appended is None:
            raise ChatError("taken", "The conversation changed hands meanwhile; look again.")
        await self.service.publish(appended)
        if note:
            await self._note(rep, conversation_id, note, address)  # the handover, kept with the conversation
        await self.store.append_audit(rep.actor, "conversation_transferred",
                                      f"{conversation_id} from {conversation.agent_name} to {to_name}", address)
        log.info("representative %s transferred conversation %s from %s to %s", rep.id, conversation_id,
                 conversation.agent_id, to_id)
        handed = await self._with_notes(appended.conversation)
        await self.emitter.to_agent("transferred", {"conversation": handed, "by": {"id": rep.id, "name": rep.name},
                                                    "note": note}, to_id)
        return handed

    async def holders(self, rep: Representative) -> list[dict[str, Any]]:
        """Who is online and what each representative holds: for supervisors and admins, not agents."""
        if rep.role == Role.AGENT:
            raise ChatError("forbidden", "Only supervisors and admins see who holds what.")
        online, held = await self.presence.online_ids(), await self.store.held()
        names = await self.store.representative_names(online | {c.agent_id for c in held if c.agent_id})
        summaries = await self.service.summaries(held)
        board: dict[str, dict[str, Any]] = {
            rep_id: {"id": rep_id, "name": name, "online": rep_id in online, "conversations": []}
            for rep_id, name in names.items()
        }
        for conversation, summary in zip(held, summaries, strict=True):
            holder = board.setdefault(conversation.agent_id or "", {
                "id": conversation.agent_id, "name": conversation.agent_name or "", "online": False,
                "conversations": []})
            holder["conversations"].append(summary)
        return sorted(board.values(), key=lambda entry: (not entry["online"], str(entry["name"]).casefold()))

    async def representatives(self) -> list[dict[str, str]]:
        """The representatives online now (whom a conversation can be transferred to), by name."""
        names = await self.store.representative_names(await self.presence.online_ids())
        return sorted(({"id": i, "name": n} for i, n in names.items()), key=lambda entry: entry["name"].casefold())

    async def _available(self, to_id: str) -> str:
        """The name of the representative a conversation may go to: known, online and under capacity."""
        name = (await self.store.representative_names([to_id])).get(to_id)
        if name is None:
            raise ChatError("not_found", "No such representative.")
        if not await self.presence.is_online(to_id):
            raise ChatError("offline")
        if len(await self.store.held_by(to_id)) >= self.capacity:
            raise ChatError("at_capacity", "They already hold as many conversations as allowed.")
        return name

    async def _with_notes(self, conversation: Conversation) -> dict[str, Any]:
        messages = await self.store.messages(conversation.id)
        last = messages[-1] if messages else None
        return {**summary_json(conversation, last), "messages": conversation_json(conversation, messages)["messages"],
                "notes": await self.notes(conversation.id)}
