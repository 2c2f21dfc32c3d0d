"""The read side: queries that report on history rather than serve a visitor (metrics, stats, the dashboard, the
unanswered report).

They live here with every other query, so that SQL stays in the store; what the
admin tools make of the rows (groups, drafts, JSON) stays with them.

Tested in tests/test_unanswered.py, tests/test_metrics.py, tests/test_admin.py, tests/test_dashboard.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, select
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


Daily = tuple[str, float]  # a UTC day ("2026-12-01") and a duration in seconds


@dataclass(frozen=True)
class Activity:
    """The dashboard's rows for the conversations started in ``[start, end)``, before any arithmetic.

    ``endings`` puts every conversation in exactly one place, so the shares add up
    to 100 %: ``open`` (not ended yet), ``bot`` (ended without a person ever being
    asked for), ``abandoned`` (handed off, ended before any representative took it),
    or ``handoff:<reason>`` (a representative took it; the reason of the first
    handoff, ``after_hours`` for a request out of hours that never queued).
    """

    per_day: dict[str, int]  # "2026-12-01" (UTC) -> conversations started
    per_hour: list[int]  # 24 counts: the UTC hour of day conversations started in
    endings: dict[str, int]
    first_replies: list[Daily]  # (day first queued, seconds to the first representative message)


@dataclass(frozen=True)
class RatingTotal:
    """The ratings of one UTC day credited to one representative: how many, and their sum."""

    day: str
    agent_id: str | None
    agent_name: str | None
    count: int
    total: int


WITH_A_PERSON = (State.QUEUED, State.AGENT)


class ReadQueries(Database):
    async def queued_count(self) -> int:
        """Conversations waiting for a representative now (the ``/metrics`` queue gauge)."""
        async with self.transaction() as session:
            queued = await session.scalar(
                select(func.count()).select_from(Conversation).where(Conversation.state == State.QUEUED)
            )
        return int(queued or 0)

    async def unanswered(self, since: datetime, limit: int = 2000, until: datetime | None = None) -> list[Unanswered]:
        """The newest ``limit`` visitor messages the bot could not answer since ``since`` (and before ``until``),
        newest first."""
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
                        *([change.created_at < until] if until else []),
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

    async def activity(self, start: datetime, end: datetime) -> Activity:
        """Per day, per hour, how they ended, and time to the first human reply, for conversations started in
        ``[start, end)``. The database does the counting and the arithmetic: what comes back is a few hundred
        grouped rows and one (day, seconds) pair per conversation a representative answered."""
        started = (Conversation.created_at >= start, Conversation.created_at < end)
        day, hour = self.clock(Conversation.created_at)
        async with self.transaction() as session:
            clock = await session.execute(select(day, hour, func.count()).where(*started).group_by(day, hour))
            per_day: dict[str, int] = {}
            per_hour = [0] * 24
            for on, at, n in clock:
                per_day[str(on)] = per_day.get(str(on), 0) + int(n)
                per_hour[int(at)] += int(n)
            endings = await session.execute(_endings(started))
            return Activity(
                per_day=per_day,
                per_hour=per_hour,
                endings=_ending_counts(endings.all()),
                first_replies=await self._first_replies(session, started),
            )

    async def _first_replies(self, session: AsyncSession, started: tuple[ColumnElement[bool], ...]) -> list[Daily]:
        """For each conversation started in the range that was queued: the day it first queued, and the seconds
        until a representative first wrote in it (conversations nobody answered are left out)."""
        queued = (
            select(StateChange.conversation_id.label("id"), func.min(StateChange.created_at).label("at"))
            .join(Conversation, Conversation.id == StateChange.conversation_id)
            .where(StateChange.to_state == State.QUEUED, *started)
            .group_by(StateChange.conversation_id)
            .subquery()
        )
        replied = (
            select(queued.c.id, queued.c.at, func.min(Message.created_at).label("reply"))
            .join(Message, Message.conversation_id == queued.c.id)
            .where(Message.sender == "agent", Message.created_at >= queued.c.at)
            .group_by(queued.c.id, queued.c.at)
            .subquery()
        )
        day, _ = self.clock(replied.c.at)
        rows = await session.execute(select(day, self.seconds(replied.c.reply, replied.c.at)))
        return [(str(on), round(float(seconds), 3)) for on, seconds in rows]

    async def rating_totals(self, start: datetime, end: datetime) -> list[RatingTotal]:
        """Ratings given in ``[start, end)`` added up by day and by the representative credited (as
        ``ratings_since`` credits them): a few rows however many ratings there are."""
        last_take = _last_takes()
        day, _ = self.clock(Conversation.rated_at)
        async with self.transaction() as session:
            rows = await session.execute(
                select(day, StateChange.agent_id, Agent.name, func.count(), func.sum(Conversation.rating))
                .join(last_take, last_take.c.conversation_id == Conversation.id)
                .join(StateChange, StateChange.id == last_take.c.change_id)
                .outerjoin(Agent, Agent.id == StateChange.agent_id)
                .where(Conversation.rating.is_not(None), Conversation.rated_at >= start, Conversation.rated_at < end)
                .group_by(day, StateChange.agent_id, Agent.name)
            )
            return [RatingTotal(str(on), agent_id, name, int(n), int(total or 0))
                    for on, agent_id, name, n, total in rows]

    async def ratings_since(self, since: datetime) -> list[Rated]:
        """Ratings given since ``since``, each credited to the representative who last took the conversation.

        The conversation's own ``agent_id`` is not enough: a conversation handed
        back to the bot has none, yet the visitor rated the person they talked to.
        """
        last_take = _last_takes()
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


def _last_takes() -> Any:
    """Each conversation's latest take by a representative: who a rating is credited to."""
    return (
        select(StateChange.conversation_id, func.max(StateChange.id).label("change_id"))
        .where(StateChange.to_state == State.AGENT)
        .group_by(StateChange.conversation_id)
        .subquery()
    )


def _endings(started: tuple[ColumnElement[bool], ...]) -> Any:
    """Conversations counted by (closed?, first handoff reason, ever taken?, told it was out of hours?).

    The state changes towards a person are summed up once per conversation (a
    grouped subquery the database joins), not looked up row by row: 0.7 s -> 0.2 s
    at 100,000 conversations on SQLite (bench/dashboard.py).
    """
    change = StateChange
    to_person = and_(change.from_state == State.BOT, change.to_state.in_(WITH_A_PERSON))
    handoffs = (
        select(
            change.conversation_id.label("id"),
            func.min(case((to_person, change.id))).label("first_id"),
            func.max(case((change.to_state == State.AGENT, 1), else_=0)).label("taken"),
        )
        .join(Conversation, Conversation.id == change.conversation_id)
        .where(change.to_state.in_(WITH_A_PERSON), *started)
        .group_by(change.conversation_id)
        .subquery()
    )
    first = aliased(StateChange)
    rows = (
        select(
            case((Conversation.state == State.CLOSED, 1), else_=0).label("closed"),
            first.reason.label("reason"),
            func.coalesce(handoffs.c.taken, 0).label("taken"),
            case((Conversation.after_hours_notice_at.is_not(None), 1), else_=0).label("after_hours"),
        )
        .outerjoin(handoffs, handoffs.c.id == Conversation.id)
        .outerjoin(first, first.id == handoffs.c.first_id)
        .where(*started)
        .subquery()
    )
    return select(rows.c.closed, rows.c.reason, rows.c.taken, rows.c.after_hours, func.count()).group_by(
        rows.c.closed, rows.c.reason, rows.c.taken, rows.c.after_hours)


def _ending_counts(rows: Sequence[Any]) -> dict[str, int]:
    """Each group of conversations in its one ending (see ``Activity``)."""
    counts: dict[str, int] = {}
    for closed, reason, taken, after_hours, n in rows:
        if not closed:
            where = "open"
        elif taken:
            where = f"handoff:{reason or Reason.TAKEOVER}"
        elif reason:
            where = "abandoned"
        else:
            where = f"handoff:{Reason.AFTER_HOURS}" if after_hours else "bot"
        counts[where] = counts.get(where, 0) + int(n)
    return counts


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

