"""The read side: queries that report on history rather than serve a visitor (metrics, stats, the dashboard, the
unanswered report).

They live here with every other query, so that SQL stays in the store; what the
admin tools make of the rows (groups, drafts, JSON) stays with them.

Tested in tests/test_unanswered.py, tests/test_metrics.py, tests/test_admin.py, tests/test_dashboard.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from chatbot.store.base import Database, chunks
from chatbot.store.models import Agent, Conversation, Message, Reason, State, StateChange
from chatbot.store.service_levels import takes_since


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


@dataclass
class DayFigures:
    """What the dashboard counts for one UTC day, before any arithmetic (chatbot/admin/dashboard.py).

    ``hours``, ``endings`` and ``first_replies`` are about the conversations
    started that day; ``endings`` puts each in exactly one place, so the shares
    add up to 100 %: ``open`` (not ended yet), ``bot`` (ended without a person
    ever being asked for), ``abandoned`` (handed off, ended before any
    representative took it), or ``handoff:<reason>`` (a representative took it;
    the reason of the first handoff, ``after_hours`` for a request out of hours
    that never queued). ``take_waits`` and ``ratings`` are about the takes and
    ratings of that day, whenever their conversations started.
    """

    day: str  # "2026-12-01" (UTC)
    hours: list[int] = field(default_factory=lambda: [0] * 24)  # conversations started, by UTC hour
    endings: dict[str, int] = field(default_factory=dict)
    first_replies: list[Daily] = field(default_factory=list)  # (day first queued, seconds to the first human reply)
    take_waits: list[float] = field(default_factory=list)  # seconds in the queue, for each take from it
    ratings: list[tuple[str | None, int, int]] = field(default_factory=list)  # (agent id credited, how many, sum)

    def as_json(self) -> dict[str, Any]:
        return {"hours": self.hours, "endings": self.endings, "first_replies": self.first_replies,
                "take_waits": self.take_waits, "ratings": self.ratings}

    @classmethod
    def from_json(cls, day: str, data: dict[str, Any]) -> DayFigures:
        return cls(day, list(data["hours"]), dict(data["endings"]),
                   [(str(d), float(s)) for d, s in data["first_replies"]], [float(s) for s in data["take_waits"]],
                   [(a, int(n), int(t)) for a, n, t in data["ratings"]])


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

    async def figures_by_day(self, start: datetime, end: datetime) -> dict[str, DayFigures]:
        """The dashboard's figures for each UTC day in ``[start, end)`` that has any, worked out afresh. The
        database does the counting and the arithmetic: what comes back is a few hundred grouped rows and one
        row per conversation a representative answered, per take and per representative rated."""
        started = _Started(start, end)
        found: dict[str, DayFigures] = {}

        def on(day: Any) -> DayFigures:
            return found.setdefault(str(day), DayFigures(str(day)))

        day, hour = self.clock(Conversation.created_at)
        async with self.transaction() as session:
            clock = select(day, hour, func.count()).where(*started.where).group_by(day, hour)
            for when, at, n in await session.execute(clock):
                on(when).hours[int(at)] += int(n)
            for when, *group in await session.execute(_endings(day, started)):
                _count_ending(on(when).endings, *group)
            for when, queued_on, seconds in await self._first_replies(session, started):
                on(when).first_replies.append((queued_on, seconds))
            for when, seconds in await session.execute(_take_waits(self, start, end)):
                on(when).take_waits.append(round(float(seconds), 3))
            for when, agent_id, n, total in await session.execute(_rating_totals(self, start, end)):
                on(when).ratings.append((agent_id, int(n), int(total or 0)))
        return found

    async def agent_names(self) -> dict[str, str]:
        """Every representative's name by id (ratings are credited by id, so a renamed one shows the new name)."""
        async with self.transaction() as session:
            return {agent_id: name for agent_id, name in await session.execute(select(Agent.id, Agent.name))}

    async def _first_replies(self, session: AsyncSession, started: _Started) -> list[tuple[str, str, float]]:
        """For each conversation started in the range that was queued: the day it started, the day it first
        queued, and the seconds until a representative first wrote in it (conversations nobody answered are left
        out)."""
        queued = (
            started.changes(
                select(StateChange.conversation_id.label("id"), func.min(StateChange.created_at).label("at"))
            )
            .where(StateChange.to_state == State.QUEUED)
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
        started_on, _ = self.clock(Conversation.created_at)
        queued_on, _ = self.clock(replied.c.at)
        rows = await session.execute(
            select(started_on, queued_on, self.seconds(replied.c.reply, replied.c.at))
            .join(Conversation, Conversation.id == replied.c.id)
        )
        return [(str(began), str(on), round(float(seconds), 3)) for began, on, seconds in rows]

    async def ratings_since(self, since: datetime) -> list[Rated]:
        """Ratings given since ``since``, each credited to the representative who last took the conversation.

        The conversation's own ``agent_id`` is not enough: a conversation handed
        back to the bot has none, yet the visitor rated the person they talked to.
        """
        last_take = _last_takes(Conversation.rated_at >= since)
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


def _last_takes(*rated: ColumnElement[bool]) -> Any:
    """Each conversation's latest take by a representative, for the conversations rated as ``rated`` says: who a
    rating is credited to."""
    return (
        select(StateChange.conversation_id, func.max(StateChange.id).label("change_id"))
        .where(StateChange.to_state == State.AGENT,
               StateChange.conversation_id.in_(select(Conversation.id).where(Conversation.rating.is_not(None), *rated)))
        .group_by(StateChange.conversation_id)
        .subquery()
    )


SHORT_RANGE = timedelta(days=7)
_Query = TypeVar("_Query", bound=Select[*tuple[Any, ...]])


@dataclass(frozen=True)
class _Started:
    """The conversations started in ``[start, end)``, and how to find their state changes fastest."""

    start: datetime
    end: datetime

    @property
    def where(self) -> tuple[ColumnElement[bool], ...]:
        return Conversation.created_at >= self.start, Conversation.created_at < self.end

    def changes(self, query: _Query) -> _Query:
        """``query`` over state_changes, narrowed to these conversations' changes. Over a few days (what the
        rollups leave to count: today and the days still open) the changes are looked up conversation by
        conversation: 0.27 -> 0.05 s for one day's endings at 100,000 conversations on SQLite. Over many days
        that is 4 times slower than reading every change towards a person and joining, so then the join."""
        if self.end - self.start <= SHORT_RANGE:
            return query.where(StateChange.conversation_id.in_(select(Conversation.id).where(*self.where)))
        return query.join(Conversation, Conversation.id == StateChange.conversation_id).where(*self.where)


def _endings(day: ColumnElement[str], started: _Started) -> Any:
    """Conversations counted by (day started, closed?, first handoff reason, ever taken?, told it was out of hours?).

    The state changes towards a person are summed up once per conversation (a
    grouped subquery the database joins), not looked up row by row: 0.7 s -> 0.2 s
    at 100,000 conversations on SQLite (bench/dashboard.py).
    """
    change = StateChange
    to_person = and_(change.from_state == State.BOT, change.to_state.in_(WITH_A_PERSON))
    handoffs = (
        started.changes(select(
            change.conversation_id.label("id"),
            func.min(case((to_person, change.id))).label("first_id"),
            func.max(case((change.to_state == State.AGENT, 1), else_=0)).label("taken"),
        ))
        .where(change.to_state.in_(WITH_A_PERSON))
        .group_by(change.conversation_id)
        .subquery()
    )
    first = aliased(StateChange)
    rows = (
        select(
            day.label("day"),
            case((Conversation.state == State.CLOSED, 1), else_=0).label("closed"),
            first.reason.label("reason"),
            func.coalesce(handoffs.c.taken, 0).label("taken"),
            case((Conversation.after_hours_notice_at.is_not(None), 1), else_=0).label("after_hours"),
        )
        .outerjoin(handoffs, handoffs.c.id == Conversation.id)
        .outerjoin(first, first.id == handoffs.c.first_id)
        .where(*started.where)
        .subquery()
    )
    keys = (rows.c.day, rows.c.closed, rows.c.reason, rows.c.taken, rows.c.after_hours)
    return select(*keys, func.count()).group_by(*keys)


def _count_ending(counts: dict[str, int], closed: int, reason: str | None, taken: int, after_hours: int,
                  n: int) -> None:
    """A group of conversations into its one ending (see ``DayFigures``)."""
    if not closed:
        where = "open"
    elif taken:
        where = f"handoff:{reason or Reason.TAKEOVER}"
    elif reason:
        where = "abandoned"
    else:
        where = f"handoff:{Reason.AFTER_HOURS}" if after_hours else "bot"
    counts[where] = counts.get(where, 0) + int(n)


def _take_waits(db: Database, start: datetime, end: datetime) -> Any:
    """For each take from the queue in ``[start, end)``: its UTC day and the seconds it waited, both worked out by
    the database (the dashboard asks for tens of thousands)."""
    takes = takes_since(start).where(StateChange.created_at < end).subquery()
    day, _ = db.clock(takes.c.taken)
    return select(day, db.seconds(takes.c.taken, takes.c.queued))


def _rating_totals(db: Database, start: datetime, end: datetime) -> Any:
    """Ratings given in ``[start, end)`` added up by day and by the representative credited (as ``ratings_since``
    credits them): a few rows however many ratings there are."""
    last_take = _last_takes(Conversation.rated_at >= start, Conversation.rated_at < end)
    day, _ = db.clock(Conversation.rated_at)
    return (
        select(day, StateChange.agent_id, func.count(), func.sum(Conversation.rating))
        .join(last_take, last_take.c.conversation_id == Conversation.id)
        .join(StateChange, StateChange.id == last_take.c.change_id)
        .where(Conversation.rating.is_not(None), Conversation.rated_at >= start, Conversation.rated_at < end)
        .group_by(day, StateChange.agent_id)
    )


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

