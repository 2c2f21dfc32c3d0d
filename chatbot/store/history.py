"""The admin's read and delete side of history: transcript search, one conversation in full, export, purge.

Nothing here is on a visitor's path: these queries scan periods of history, and
an admin can wait a second for them. What the admin tools make of the rows
(JSON, files) stays with them, in ``chatbot/admin/reports.py``.

Tested in tests/test_admin.py, tests/test_admin_cli.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, exists, func, select

from chatbot.store.base import chunks, rows_changed
from chatbot.store.chat import ChatQueries
from chatbot.store.models import Conversation, Lead, Message, State, StateChange
from chatbot.store.rollups import forget_days


@dataclass(frozen=True)
class Search:
    """Which conversations to list; every field is optional."""

    state: str | None = None
    reason: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    text: str | None = None  # matched case-insensitively against every message of the conversation

    def apply(self, query: Select[Any]) -> Select[Any]:
        if self.state is not None:
            query = query.where(Conversation.state == self.state)
        if self.reason is not None:
            query = query.where(Conversation.reason == self.reason)
        if self.created_from is not None:
            query = query.where(Conversation.created_at >= self.created_from)
        if self.created_to is not None:
            query = query.where(Conversation.created_at < self.created_to)
        if self.text:
            query = query.where(
                exists().where(
                    Message.conversation_id == Conversation.id, Message.text.icontains(self.text, autoescape=True)
                )
            )
        return query


@dataclass(frozen=True)
class Page:
    """One page of conversations, newest first, with how many match in all."""

    total: int
    conversations: list[Conversation]
    last_messages: dict[str, Message]
    message_counts: dict[str, int]


@dataclass(frozen=True)
class History:
    """A conversation with its whole history, every change of state and the forms the visitor sent."""

    conversation: Conversation
    messages: list[Message]
    changes: list[StateChange]
    leads: list[Lead] = field(default_factory=list)


class HistoryQueries(ChatQueries):
    """On top of the chat's queries: a page of the list shows each conversation's last message as the queue does."""

    async def search(self, criteria: Search, limit: int, offset: int) -> Page:
        async with self.transaction() as session:
            total = await session.scalar(criteria.apply(select(func.count()).select_from(Conversation)))
            found = list(
                await session.scalars(
                    criteria.apply(select(Conversation))
                    .order_by(Conversation.created_at.desc(), Conversation.id)
                    .limit(limit)
                    .offset(offset)
                )
            )
            ids = [c.id for c in found]
            counts = (
                await session.execute(
                    select(Message.conversation_id, func.count())
                    .where(Message.conversation_id.in_(ids))
                    .group_by(Message.conversation_id)
                )
                if ids
                else None
            )
        return Page(
            total=int(total or 0),
            conversations=found,
            last_messages=await self.last_messages(ids),
            message_counts={cid: int(n) for cid, n in counts} if counts is not None else {},
        )

    async def history(self, conversation_id: str) -> History | None:
        async with self.transaction() as session:
            conversation = await session.get(Conversation, conversation_id)
            if conversation is None:
                return None
            messages = await session.scalars(
                select(Message).where(Message.conversation_id == conversation_id).order_by(Message.seq)
            )
            changes = await session.scalars(
                select(StateChange).where(StateChange.conversation_id == conversation_id).order_by(StateChange.id)
            )
            leads = await session.scalars(
                select(Lead).where(Lead.conversation_id == conversation_id).order_by(Lead.created_at, Lead.id)
            )
            return History(conversation, list(messages), list(changes), list(leads))

    async def started_since(self, since: datetime, batch: int = 200) -> AsyncIterator[History]:
        """Every conversation started since ``since``, oldest first, a batch at a time (for export)."""
        after: tuple[datetime, str] | None = None
        while True:
            query = select(Conversation.created_at, Conversation.id).where(Conversation.created_at >= since)
            if after is not None:
                query = query.where(
                    (Conversation.created_at > after[0])
                    | ((Conversation.created_at == after[0]) & (Conversation.id > after[1]))
                )
            async with self.transaction() as session:
                rows = (
                    await session.execute(query.order_by(Conversation.created_at, Conversation.id).limit(batch))
                ).all()
            for row in rows:
                found = await self.history(row.id)
                if found is not None:
                    yield found
            if len(rows) < batch:
                return
            after = (rows[-1].created_at, rows[-1].id)

    async def closed_before(self, moment: datetime) -> list[str]:
        """Ids of the conversations that closed before ``moment`` (what a purge deletes)."""
        async with self.transaction() as session:
            return list(
                await session.scalars(
                    select(Conversation.id).where(Conversation.state == State.CLOSED, Conversation.closed_at < moment)
                )
            )

    async def delete_conversations(self, ids: Sequence[str]) -> int:
        """Delete these conversations with their messages, state changes and leads; returns how many were found.

        Children first: the foreign keys cascade, but SQLite enforces them only when asked to."""
        deleted = 0
        for chunk in chunks(ids):
            async with self.transaction() as session:
                await forget_days(session, chunk)
                await session.execute(delete(Message).where(Message.conversation_id.in_(chunk)))
                await session.execute(delete(StateChange).where(StateChange.conversation_id.in_(chunk)))
                await session.execute(delete(Lead).where(Lead.conversation_id.in_(chunk)))
                result = await session.execute(delete(Conversation).where(Conversation.id.in_(chunk)))
                deleted += rows_changed(result)
        return deleted
