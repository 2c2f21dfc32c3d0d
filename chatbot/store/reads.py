"""The read side: queries that report on history rather than serve a visitor (metrics, stats, the unanswered report).

They live here with every other query, so that SQL stays in the store; what the
admin tools make of the rows (groups, drafts, JSON) stays with them.

Tested in tests/test_unanswered.py, tests/test_metrics.py, tests/test_admin.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from chatbot.store.base import Database, chunks
from chatbot.store.models import Agent, Conversation, Message, Reason, State, StateChange


@dataclass(frozen=True)
class Unanswered:
    """A visitor message the bot could not answer (the one just before a ``low_confidence`` handoff)."""

    conversation_id: str
    text: str
    lang: str
    created_at: datetime
    agent_reply: str | None  # the first representative message after it, if any


@dataclass(frozen=True)
class Period:
    """Counts for the conversations and events since a moment (the admin's stats, before any arithmetic)."""

    conversations: int
    closed: int
    bot_only: int  # closed without ever being queued or taken by a representative
    handoffs: dict[str, int]  # bot -> a person, by reason
    top_intents: list[tuple[str, int]]
    messages: dict[str, int]  # by sender


@dataclass(frozen=True)
class Rated:
    """A rating, credited to the representative who last took the conversation (None if since removed)."""

    rating: int
    rated_at: datetime
    agent_id: str | None
    agent_name: str | None


WITH_A_PERSON = (State.QUEUED, State.AGENT)


class ReadQueries(Database):
    async def queued_count(self) -> int:
        """Conversations waiting for a representative now (the ``/metrics`` queue gauge)."""
        async with self.transaction() as session:
            queued = await session.scalar(
                select(func.count()).select_from(Conversation).where(Conversation.state == State.QUEUED)
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
                    .where(
                        change.to_state == State.QUEUED,
                        change.reason == Reason.LOW_CONFIDENCE,
                        change.created_at >= since,
                    )
                    .order_by(change.created_at.desc())
                    .limit(limit)
                )
                if seq is not None
            ]
            return await _with_replies(session, seqs)


    async def period(self, since: datetime, top: int = 10) -> Period:
        """What happened since ``since``: conversations started and closed, handoffs, answers, messages."""
        change = StateChange
        started = select(func.count()).select_from(Conversation).where(Conversation.created_at >= since)
        closed = started.where(Conversation.state == State.CLOSED)
        humans = exists().where(change.conversation_id == Conversation.id, change.to_state.in_(WITH_A_PERSON))
        async with self.transaction() as session:
            handoffs = await session.execute(
                select(change.reason, func.count())
                .where(change.created_at >= since, change.from_state == State.BOT, change.to_state.in_(WITH_A_PERSON))
                .group_by(change.reason)
            )
            intents = await session.execute(
                select(Message.intent, func.count())
                .where(Message.created_at >= since, Message.sender == "bot", Message.intent.is_not(None))
                .group_by(Message.intent)
                .order_by(func.count().desc(), Message.intent)
                .limit(top)
            )
            senders = await session.execute(
                select(Message.sender, func.count()).where(Message.created_at >= since).group_by(Message.sender)
            )
            return Period(
                conversations=int(await session.scalar(started) or 0),
                closed=int(await session.scalar(closed) or 0),
                bot_only=int(await session.scalar(closed.where(~humans)) or 0),
                handoffs={str(reason): int(n) for reason, n in handoffs},
                top_intents=[(str(intent), int(n)) for intent, n in intents],
                messages={str(sender): int(n) for sender, n in senders},
            )

    async def ratings_since(self, since: datetime) -> list[Rated]:
        """Ratings given since ``since``, each credited to the representative who last took the conversation.

        The conversation's own ``agent_id`` is not enough: a conversation handed
        back to the bot has none, yet the visitor rated the person they talked to.
        """
        last_take = (
            select(StateChange.conversation_id, func.max(StateChange.id).label("change_id"))
            .where(StateChange.to_state == State.AGENT)
            .group_by(StateChange.conversation_id)
            .subquery()
        )
        async with self.transaction() as session:
            rows = await session.execute(
                select(Conversation.rating, Conversation.rated_at, StateChange.agent_id, Agent.name)
                .join(last_take, last_take.c.conversation_id == Conversation.id)
                .join(StateChange, StateChange.id == last_take.c.change_id)
                .outerjoin(Agent, Agent.id == StateChange.agent_id)
                .where(Conversation.rating.is_not(None), Conversation.rated_at >= since)
            )
            return [
                Rated(rating, rated_at, agent_id, name)
                for rating, rated_at, agent_id, name in rows
                if rating is not None and rated_at is not None
            ]


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

