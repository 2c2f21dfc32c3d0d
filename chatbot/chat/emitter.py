"""Where events go: the Socket.IO rooms of a conversation, on both namespaces.

Visitors' tabs share a room named by the conversation id on ``/chat``;
representatives who hold or watch it share ``conversation:<id>`` on ``/agent``;
every representative is in ``agents`` for the queue. Conversation ids are
random, so a room name tells nothing about whose it is.

Tested in tests/test_isolation.py, tests/test_agents.py.
"""

from __future__ import annotations

from typing import Any

import socketio

CHAT = "/chat"
AGENT = "/agent"
AGENTS_ROOM = "agents"


FOLLOWERS_PREFIX = "conversation:"


def followers_room(conversation_id: str) -> str:
    return FOLLOWERS_PREFIX + conversation_id


def agent_room(agent_id: str) -> str:
    """Every console tab of one representative, on any process."""
    return f"agent:{agent_id}"


class Emitter:
    """Thin layer over the Socket.IO server; the conversation service's only way out."""

    def __init__(self, sio: socketio.AsyncServer) -> None:
        self.sio = sio

    async def to_conversation(self, event: str, data: Any, conversation_id: str) -> None:
        """To the visitor's tabs and to every representative holding or watching it."""
        await self.sio.emit(event, data, room=conversation_id, namespace=CHAT)
        await self.sio.emit(event, data, room=followers_room(conversation_id), namespace=AGENT)

    async def to_visitor(self, event: str, data: Any, conversation_id: str) -> None:
        await self.sio.emit(event, data, room=conversation_id, namespace=CHAT)

    async def to_followers(self, event: str, data: Any, conversation_id: str) -> None:
        await self.sio.emit(event, data, room=followers_room(conversation_id), namespace=AGENT)

    async def to_agents(self, event: str, data: Any) -> None:
        await self.sio.emit(event, data, room=AGENTS_ROOM, namespace=AGENT)

    async def to_agent(self, event: str, data: Any, agent_id: str) -> None:
        await self.sio.emit(event, data, room=agent_room(agent_id), namespace=AGENT)
