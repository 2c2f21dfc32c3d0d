"""The read side: queries that report on history rather than serve a visitor (metrics, the unanswered report).

They live here with every other query, so that SQL stays in the store; what the
admin tools make of the rows (groups, drafts, JSON) stays with them.

Tested in tests/test_unanswered.py, tests/test_metrics.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from chatbot.store.base import Database
from chatbot.store.models import Conversation, Message, StateChange

CHUNK = 500
"""Ids per ``IN (...)`` list: well under every database's limit on bound parameters."""
T = TypeVar("T")


def chunks(ids: Sequence[T]) -> list[Sequence[T]]:
    """``ids`` in lists of at most ``CHUNK``."""
    return [ids[start : start + CHUNK] for start in range(0, len(ids), CHUNK)]


@dataclass(frozen=True)
class Unanswered:
    """A visitor message the bot could not answer (the one just before a ``low_confidence`` handoff)."""

    conversation_id: str
    text: str
    lang: str
    created_at: datetime
    agent_reply: str | None  # the first representative message after it, if any


class ReadQueries(Database):
    async def queued_count(self) -> int:
        """Conversations waiting for a representative now (the ``/metrics`` queue gauge)."""
        async with self.transaction() as session:
            queued = await session.scalar(
                select(func.count()).select_from(Conversation).where(Conversation.state == "queued")
            )
        return int(queued or 0)

    async def unanswered(self, since: datetime, limit: int = 2000) -> list[Unanswered]:
        """The newest ``limit`` visitor messages the bot could not answer since ``since``, newest first."""
        change = StateChange
        visitor_seq = (
            select(func.max(Message.seq))
            .where(
                Message.conversation_id == change.conversation_id,
                Message.sender == "visitor",
                Message.created_at <= change.created_at,
            )
            .scalar_subquery()
        )
        async with self.transaction() as session:
            seqs = [
                seq
                for seq in await session.scalars(
                    select(visitor_seq)
                    .where(change.to_state == "queued", change.reason == "low_confidence", change.created_at >= since)
                    .order_by(change.created_at.desc())
                    .limit(limit)
                )
                if seq is not None
            ]
            return await _with_replies(session, seqs)


async def _with_replies(session: AsyncSession, seqs: Sequence[int]) -> list[Unanswered]:
    """The messages of ``seqs`` with each one's first representative reply, if any."""
    reply = aliased(Message)
    first_reply = (
        select(func.min(reply.seq))
        .where(reply.conversation_id == Message.conversation_id, reply.sender == "agent", reply.seq > Message.seq)
        .scalar_subquery()
    )
    found: list[Unanswered] = []
    for chunk in chunks(list(dict.fromkeys(seqs))):
        rows = (
            await session.execute(
                select(Message, Conversation.lang, first_reply.label("reply_seq"))
                .join(Conversation, Conversation.id == Message.conversation_id)
                .where(Message.seq.in_(chunk))
            )
        ).all()
        replies = {
            m.seq: m.text
            for m in await session.scalars(
                select(Message).where(Message.seq.in_([r.reply_seq for r in rows if r.reply_seq is not None]))
            )
        }
        found += [
            Unanswered(
                conversation_id=r.Message.conversation_id,
                text=r.Message.text,
                lang=r.lang,
                created_at=r.Message.created_at,
                agent_reply=replies.get(r.reply_seq),
            )
            for r in rows
        ]
    return sorted(found, key=lambda u: u.created_at, reverse=True)
