"""The admin's read side: stats, transcript search and export, purge and delete (the unanswered report is
in ``unanswered.py``).

Kept apart from ``chatbot/store/`` (the chat's own queries) because nothing here is
on a visitor's path: these queries scan periods of history, and an admin can
wait a second for them. Durations such as ``7d`` are parsed here once, for the
HTTP API and the command line alike.

Tested in tests/test_admin.py, tests/test_admin_cli.py.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Select, delete, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chatbot.chat.lifecycle import State
from chatbot.chat.protocol import iso, message_json, summary_json
from chatbot.store import Store
from chatbot.store.models import Agent, Conversation, Message, StateChange, utcnow
from chatbot.store.reads import chunks

STATES = tuple(State)
WITH_A_PERSON = (State.QUEUED, State.AGENT)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"\s*(\d{1,7})\s*([smhdw])\s*")
MAX_DURATION = timedelta(days=3660)


def parse_duration(text: str) -> timedelta:
    """``30m``, ``12h``, ``7d``, ``2w`` (or ``90s``) as a timedelta; ValueError says what is accepted."""
    found = _DURATION.fullmatch(text or "")
    if found is None:
        raise ValueError(f"{text!r} is not a duration: write a number and a unit, like 30m, 12h, 7d or 2w")
    duration = timedelta(seconds=int(found.group(1)) * _UNITS[found.group(2)])
    if not timedelta(0) < duration <= MAX_DURATION:
        raise ValueError(f"{text!r}: a duration must be more than zero and at most {MAX_DURATION.days} days")
    return duration


def ago(text: str, now: datetime | None = None) -> datetime:
    """The moment ``text`` (a duration) before now."""
    return (now or utcnow()) - parse_duration(text)


# -- transcripts: search, one conversation, export ---------------------------


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

    def as_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "conversations": [
                {**_summary(c, self.last_messages.get(c.id)), "message_count": self.message_counts.get(c.id, 0)}
                for c in self.conversations
            ],
        }


def _summary(conversation: Conversation, last: Message | None) -> dict[str, Any]:
    """The representatives' ConversationSummary, plus when it closed and its rating."""
    return {**summary_json(conversation, last), "closed_at": iso(conversation.closed_at), "rating": conversation.rating}


async def search(store: Store, criteria: Search, limit: int, offset: int) -> Page:
    async with store.transaction() as session:
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
            dict(
                (
                    await session.execute(
                        select(Message.conversation_id, func.count())
                        .where(Message.conversation_id.in_(ids))
                        .group_by(Message.conversation_id)
                    )
                ).all()
            )
            if ids
            else {}
        )
    return Page(
        total=int(total or 0), conversations=found, last_messages=await store.last_messages(ids), message_counts=counts
    )


@dataclass(frozen=True)
class Detail:
    """A conversation with its whole history and every change of state."""

    conversation: Conversation
    messages: list[Message]
    changes: list[StateChange]

    def as_json(self) -> dict[str, Any]:
        last = self.messages[-1] if self.messages else None
        return {
            **_summary(self.conversation, last),
            "rating_comment": self.conversation.rating_comment,
            "messages": [message_json(m) for m in self.messages],
            "state_changes": [
                {
                    "from": c.from_state,
                    "to": c.to_state,
                    "reason": c.reason,
                    "agent_id": c.agent_id,
                    "at": iso(c.created_at),
                }
                for c in self.changes
            ],
        }


async def detail(store: Store, conversation_id: str) -> Detail | None:
    async with store.transaction() as session:
        conversation = await session.get(Conversation, conversation_id)
        if conversation is None:
            return None
        messages = await session.scalars(
            select(Message).where(Message.conversation_id == conversation_id).order_by(Message.seq)
        )
        changes = await session.scalars(
            select(StateChange).where(StateChange.conversation_id == conversation_id).order_by(StateChange.id)
        )
        return Detail(conversation, list(messages), list(changes))


async def created_since(store: Store, since: datetime, batch: int = 200) -> AsyncIterator[Detail]:
    """Every conversation started since ``since``, oldest first, a batch at a time (for export)."""
    after: tuple[datetime, str] | None = None
    while True:
        query = select(Conversation.created_at, Conversation.id).where(Conversation.created_at >= since)
        if after is not None:
            query = query.where(
                (Conversation.created_at > after[0])
                | ((Conversation.created_at == after[0]) & (Conversation.id > after[1]))
            )
        async with store.transaction() as session:
            rows = (await session.execute(query.order_by(Conversation.created_at, Conversation.id).limit(batch))).all()
        for row in rows:
            found = await detail(store, row.id)
            if found is not None:
                yield found
        if len(rows) < batch:
            return
        after = (rows[-1].created_at, rows[-1].id)


# -- deleting ---------------------------------------------------------------


async def delete_conversations(store: Store, ids: Sequence[str]) -> None:
    """Delete these conversations with their messages and state changes.

    Children first: the foreign keys cascade, but SQLite enforces them only when asked to."""
    for chunk in chunks(ids):
        async with store.transaction() as session:
            await session.execute(delete(Message).where(Message.conversation_id.in_(chunk)))
            await session.execute(delete(StateChange).where(StateChange.conversation_id.in_(chunk)))
            await session.execute(delete(Conversation).where(Conversation.id.in_(chunk)))


async def closed_before(store: Store, moment: datetime) -> list[str]:
    """Ids of the conversations that closed before ``moment`` (what a purge deletes)."""
    async with store.transaction() as session:
        return list(
            await session.scalars(
                select(Conversation.id).where(Conversation.state == "closed", Conversation.closed_at < moment)
            )
        )


async def delete_conversation(store: Store, conversation_id: str) -> bool:
    """Delete one conversation (any state) with everything stored about it; False if there is none."""
    if await store.conversation(conversation_id) is None:
        return False
    await delete_conversations(store, [conversation_id])
    return True


def remove_transcripts(directory: Path, ids: Sequence[str]) -> int:
    """Delete these conversations' transcript files (and any JSON export) in ``directory``; returns how many."""
    removed = 0
    for conversation_id in ids:
        for path in (directory / f"{conversation_id}.txt", directory / f"{conversation_id}.json"):
            if path.is_file():
                path.unlink()
                removed += 1
    return removed


# -- stats ----------------------------------------------------------------------


@dataclass(frozen=True)
class Waits:
    """Seconds from queued to taken by a representative."""

    count: int = 0
    median: float | None = None
    p90: float | None = None


@dataclass(frozen=True)
class RatingGroup:
    """Visitors' ratings (1-5) of one representative or one week."""

    label: str
    count: int
    average: float

    def as_json(self, key: str) -> dict[str, Any]:
        return {key: self.label, "count": self.count, "average": self.average}


@dataclass(frozen=True)
class Ratings:
    """Ratings given in the period, overall, by representative and by ISO week (``2026-W48``)."""

    count: int = 0
    average: float | None = None
    by_representative: list[RatingGroup] = field(default_factory=list)
    by_week: list[RatingGroup] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "average": self.average,
            "by_representative": [group.as_json("representative") for group in self.by_representative],
            "by_week": [group.as_json("week") for group in self.by_week],
        }


@dataclass(frozen=True)
class Stats:
    since: datetime
    conversations: int
    closed: int
    bot_only: int  # closed without ever being queued or taken by a representative
    handoffs: dict[str, int]
    waits: Waits
    top_intents: list[tuple[str, int]]
    unanswered: int
    messages: dict[str, int] = field(default_factory=dict)
    ratings: Ratings = field(default_factory=Ratings)

    @property
    def bot_only_share(self) -> float | None:
        return round(self.bot_only / self.closed, 4) if self.closed else None

    def as_json(self) -> dict[str, Any]:
        return {
            "since": iso(self.since),
            "conversations": self.conversations,
            "closed": self.closed,
            "bot_only": self.bot_only,
            "bot_only_share": self.bot_only_share,
            "handoffs": self.handoffs,
            "wait_seconds": {"count": self.waits.count, "median": self.waits.median, "p90": self.waits.p90},
            "top_intents": [{"intent": intent, "count": n} for intent, n in self.top_intents],
            "unanswered": self.unanswered,
            "messages": self.messages,
            "ratings": self.ratings.as_json(),
        }


async def stats(store: Store, since: datetime, top: int = 10) -> Stats:
    """Figures for the conversations and events since ``since``."""
    change = StateChange
    started = select(func.count()).select_from(Conversation).where(Conversation.created_at >= since)
    closed = started.where(Conversation.state == "closed")
    humans = exists().where(change.conversation_id == Conversation.id, change.to_state.in_(WITH_A_PERSON))
    async with store.transaction() as session:
        handoffs = (
            await session.execute(
                select(change.reason, func.count())
                .where(change.created_at >= since, change.from_state == State.BOT, change.to_state.in_(WITH_A_PERSON))
                .group_by(change.reason)
            )
        ).all()
        intents = (
            await session.execute(
                select(Message.intent, func.count().label("n"))
                .where(Message.created_at >= since, Message.sender == "bot", Message.intent.is_not(None))
                .group_by(Message.intent)
                .order_by(func.count().desc(), Message.intent)
                .limit(top)
            )
        ).all()
        senders = (
            await session.execute(
                select(Message.sender, func.count()).where(Message.created_at >= since).group_by(Message.sender)
            )
        ).all()
        by_reason = {str(reason): int(n) for reason, n in handoffs}
        return Stats(
            since=since,
            conversations=int(await session.scalar(started) or 0),
            closed=int(await session.scalar(closed) or 0),
            bot_only=int(await session.scalar(closed.where(~humans)) or 0),
            handoffs=by_reason,
            waits=await _waits(session, since),
            top_intents=[(str(intent), int(n)) for intent, n in intents],
            unanswered=by_reason.get("low_confidence", 0),
            messages={str(sender): int(n) for sender, n in senders},
            ratings=await _ratings(session, since),
        )


async def _ratings(session: AsyncSession, since: datetime) -> Ratings:
    """Ratings given since ``since``, each credited to the representative who last took the conversation.

    The conversation's own ``agent_id`` is not enough: a conversation handed
    back to the bot has none, yet the visitor rated the person they talked to.
    """
    last_take = (
        select(StateChange.conversation_id, func.max(StateChange.id).label("change_id"))
        .where(StateChange.to_state == "agent")
        .group_by(StateChange.conversation_id)
        .subquery()
    )
    rows = (
        await session.execute(
            select(Conversation.rating, Conversation.rated_at, Agent.name, StateChange.agent_id)
            .join(last_take, last_take.c.conversation_id == Conversation.id)
            .join(StateChange, StateChange.id == last_take.c.change_id)
            .outerjoin(Agent, Agent.id == StateChange.agent_id)
            .where(Conversation.rating.is_not(None), Conversation.rated_at >= since)
        )
    ).all()
    if not rows:
        return Ratings()
    by_representative: dict[str, list[int]] = {}
    by_week: dict[str, list[int]] = {}
    for rating, rated_at, name, agent_id in rows:
        if rating is None or rated_at is None:  # the query asks for rated conversations only
            continue
        by_representative.setdefault(name or f"(removed {agent_id})", []).append(rating)
        year, week, _ = rated_at.isocalendar()
        by_week.setdefault(f"{year}-W{week:02d}", []).append(rating)
    scores = [row.rating for row in rows]
    return Ratings(
        count=len(scores),
        average=_average(scores),
        by_representative=[RatingGroup(label, len(v), _average(v)) for label, v in sorted(by_representative.items())],
        by_week=[RatingGroup(label, len(v), _average(v)) for label, v in sorted(by_week.items())],
    )


def _average(scores: Sequence[int]) -> float:
    return round(sum(scores) / len(scores), 2)


async def _waits(session: AsyncSession, since: datetime) -> Waits:
    """Each take from the queue since ``since``, measured from the latest time that conversation was queued."""
    change = StateChange
    taken = select(change.conversation_id).where(
        change.from_state == "queued", change.to_state == "agent", change.created_at >= since
    )
    rows = (
        await session.execute(
            select(change.conversation_id, change.from_state, change.to_state, change.created_at)
            .where(change.conversation_id.in_(taken), change.to_state.in_(WITH_A_PERSON))
            .order_by(change.conversation_id, change.id)
        )
    ).all()
    waits: list[float] = []
    queued_at: dict[str, datetime] = {}
    for row in rows:
        if row.to_state == "queued":
            queued_at[row.conversation_id] = row.created_at
        elif row.from_state == "queued" and row.created_at >= since and row.conversation_id in queued_at:
            waits.append((row.created_at - queued_at.pop(row.conversation_id)).total_seconds())
    if not waits:
        return Waits()
    waits.sort()
    return Waits(count=len(waits), median=round(percentile(waits, 50), 3), p90=round(percentile(waits, 90), 3))


def percentile(ordered: Sequence[float], p: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default), for an ascending, non-empty list."""
    position = (len(ordered) - 1) * p / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
