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
from socketio.async_pubsub_manager import AsyncPubSubManager

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
    """Thin layer over the Socket.IO server; the conversation service's only way out.

    With the in-process manager (one process), an event for a room nobody is
    in is not sent at all: python-socketio would still build and encode the
    packet, and every visitor's turn addresses the representatives' room of the
    conversation three times, which nobody follows for most conversations. With
    several processes (Redis) a room's members may be on another process, so
    every event goes out through Redis as before.
    """

    def __init__(self, sio: socketio.AsyncServer) -> None:
        self.sio = sio
        manager = sio.manager
        self._rooms = None if isinstance(manager, AsyncPubSubManager) else manager.rooms

    def _anyone_in(self, room: str, namespace: str) -> bool:
        """Whether the room may have a member (always true when members may be on other processes)."""
        return self._rooms is None or bool(self._rooms.get(namespace, {}).get(room))

    async def _emit(self, event: str, data: Any, room: str, namespace: str) -> None:
        if self._anyone_in(room, namespace):
            await self.sio.emit(event, data, room=room, namespace=namespace)

    async def to_conversation(self, event: str, data: Any, conversation_id: str) -> None:
        """To the visitor's tabs and to every representative holding or watching it."""
        await self._emit(event, data, conversation_id, CHAT)
        await self._emit(event, data, followers_room(conversation_id), AGENT)

    async def to_visitor(self, event: str, data: Any, conversation_id: str) -> None:
        await self._emit(event, data, conversation_id, CHAT)

    def followed(self, conversation_id: str) -> bool:
        """Whether a representative may be following the conversation: agent assist is worked out only then."""
        return self._anyone_in(followers_room(conversation_id), AGENT)

    async def to_followers(self, event: str, data: Any, conversation_id: str) -> None:
        await self._emit(event, data, followers_room(conversation_id), AGENT)

    async def to_agents(self, event: str, data: Any) -> None:
        await self._emit(event, data, AGENTS_ROOM, AGENT)

    async def to_agent(self, event: str, data: Any, agent_id: str) -> None:
        await self._emit(event, data, agent_room(agent_id), AGENT)
