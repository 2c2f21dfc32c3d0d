"""What the admin sees of history: stats, transcript pages and detail as JSON, and transcript files removed
(the unanswered report is in ``unanswered.py``).

The rows come from the store's read side (``store/history.py``, ``store/reads.py``);
here they become figures and JSON, the same for the HTTP API and the command
line. Durations such as ``7d`` are parsed here once, for both.

Tested in tests/test_admin.py, tests/test_admin_cli.py.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from chatbot.chat.lifecycle import Reason, State
from chatbot.chat.protocol import iso, lead_json, message_json, summary_json
from chatbot.shared.figures import percentile
from chatbot.store import Store
from chatbot.store.history import History, Page
from chatbot.store.models import Conversation, Message, utcnow
from chatbot.store.reads import Rated

STATES = tuple(State)
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


# -- transcripts: a page of the list, one conversation ---------------------------


def page_json(page: Page) -> dict[str, Any]:
    return {
        "total": page.total,
        "conversations": [
            {**_summary(c, page.last_messages.get(c.id)), "message_count": page.message_counts.get(c.id, 0)}
            for c in page.conversations
        ],
    }


def _summary(conversation: Conversation, last: Message | None) -> dict[str, Any]:
    """The representatives' ConversationSummary, plus when it closed and its rating."""
    return {**summary_json(conversation, last), "closed_at": iso(conversation.closed_at), "rating": conversation.rating}


def history_json(history: History) -> dict[str, Any]:
    """A conversation with its whole history, every change of state and its leads (forms the visitor sent)."""
    last = history.messages[-1] if history.messages else None
    return {
        **_summary(history.conversation, last),
        "rating_comment": history.conversation.rating_comment,
        "messages": [message_json(m) for m in history.messages],
        "state_changes": [
            {"from": c.from_state, "to": c.to_state, "reason": c.reason, "agent_id": c.agent_id,
             "at": iso(c.created_at)}
            for c in history.changes
        ],
        "leads": [lead_json(lead) for lead in history.leads],
    }


# -- deleting ---------------------------------------------------------------


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
    period = await store.period(since, top)
    waits = await store.take_waits(since)
    return Stats(
        since=since,
        conversations=period.conversations,
        closed=period.closed,
        bot_only=period.bot_only,
        handoffs=period.handoffs,
        waits=Waits(len(waits), round(percentile(waits, 50), 3), round(percentile(waits, 90), 3)) if waits else Waits(),
        top_intents=period.top_intents,
        unanswered=period.handoffs.get(Reason.LOW_CONFIDENCE, 0),
        messages=period.messages,
        ratings=_ratings(await store.ratings_since(since)),
    )


def _ratings(rated: Sequence[Rated]) -> Ratings:
    """Overall, by representative and by ISO week."""
    if not rated:
        return Ratings()
    by_representative: dict[str, list[int]] = {}
    by_week: dict[str, list[int]] = {}
    for one in rated:
        by_representative.setdefault(one.agent_name or f"(removed {one.agent_id})", []).append(one.rating)
        year, week, _ = one.rated_at.isocalendar()
        by_week.setdefault(f"{year}-W{week:02d}", []).append(one.rating)
    return Ratings(
        count=len(rated),
        average=_average([one.rating for one in rated]),
        by_representative=[RatingGroup(label, len(v), _average(v)) for label, v in sorted(by_representative.items())],
        by_week=[RatingGroup(label, len(v), _average(v)) for label, v in sorted(by_week.items())],
    )


def _average(scores: Sequence[int]) -> float:
    return round(sum(scores) / len(scores), 2)
