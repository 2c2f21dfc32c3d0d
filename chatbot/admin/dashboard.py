"""The admin dashboard's figures for a range of days: from the store's read side to the JSON of ``GET /admin/activity``.

Conversations per day, where they ended (mutually exclusive, so the shares add
up to 100 %), queue wait and time to the first human reply (p50/p90 per day),
CSAT per day and by representative, the busiest hours and the largest groups of
unanswered questions with a draft intent each. Days are UTC calendar days; a
range is at most ``MAX_DAYS`` long so that one request cannot ask the database
for years of rows.

Tested in tests/test_dashboard.py.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from chatbot.admin import unanswered
from chatbot.shared.figures import percentile
from chatbot.store import Store, StoreUnavailable
from chatbot.store.reads import Daily, DayFigures

log = logging.getLogger(__name__)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_DAYS = 366
DEFAULT_DAYS = 30
TOP_GROUPS = 10
WARM_AFTER, WARM_EVERY = 60.0, 3600.0  # seconds: the background rollups' first round after start, then each next
UNANSWERED = 500  # the newest unanswered messages of the range that are grouped (the report's own default: 2,000)
ENDINGS = {  # the order the chart shows them in; handoff:<reason> entries go between these
    "bot": "Answered by the bot alone",
    "abandoned": "Handed off, left before a representative took it",
    "open": "Not ended yet",
}


@dataclass(frozen=True)
class Period:
    """Whole UTC days from ``first`` to ``last``, both included."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), UTC)

    @property
    def end(self) -> datetime:
        """The first moment after the period: midnight after ``last``."""
        return datetime.combine(self.last + timedelta(days=1), time(), UTC)

    def days(self) -> list[str]:
        return [(self.first + timedelta(days=n)).isoformat() for n in range((self.last - self.first).days + 1)]


def _day(query: Mapping[str, str], name: str) -> date | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        if not _DATE.fullmatch(raw.strip()):
            raise ValueError(raw)
        return date.fromisoformat(raw.strip())
    except ValueError:  # not YYYY-MM-DD, or no such day (2026-02-30)
        raise ValueError(f"{name}: expected a date like 2026-05-31, got {raw[:40]!r}") from None


def period(query: Mapping[str, str], today: date | None = None) -> Period:
    """``from`` and ``to`` (``YYYY-MM-DD``, both included); by default the last ``DEFAULT_DAYS`` days to today.

    ValueError names the parameter and says what is accepted: a malformed date,
    ``from`` after ``to``, or more than ``MAX_DAYS`` days.
    """
    last = _day(query, "to") or today or datetime.now(UTC).date()
    first = _day(query, "from") or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise ValueError(f"from ({first}) is after to ({last}): swap them")
    if (last - first).days + 1 > MAX_DAYS:
        raise ValueError(f"from {first} to {last} is {(last - first).days + 1} days; at most {MAX_DAYS} at a time")
    return Period(first, last)


async def activity(store: Store, when: Period, today: date | None = None) -> dict[str, Any]:
    """Every figure of the dashboard for ``when``, as JSON; days before ``today`` may come from the store's
    rollups (chatbot/store/rollups.py)."""
    figures = await store.dashboard_days(when.first, when.last, today or datetime.now(UTC).date())
    names = await store.agent_names()
    found = await store.unanswered(when.start, UNANSWERED, when.end)
    groups = await asyncio.to_thread(unanswered.group, found)
    days = when.days()
    return {
        "from": when.first.isoformat(),
        "to": when.last.isoformat(),
        "conversations": sum(sum(day.hours) for day in figures),
        "per_day": [{"day": day.day, "conversations": sum(day.hours)} for day in figures],
        "endings": endings(_added(day.endings for day in figures)),
        "queue_wait": _daily_percentiles([(day.day, wait) for day in figures for wait in day.take_waits], days),
        "first_reply": _daily_percentiles([pair for day in figures for pair in day.first_replies], days),
        "csat": _csat(figures, names, days),
        "busiest_hours": [{"hour": hour, "conversations": sum(day.hours[hour] for day in figures)}
                          for hour in range(24)],
        "unanswered": {"messages": len(found), "groups": [_group(g, n) for n, g in enumerate(groups[:TOP_GROUPS])]},
    }


def _added(counts: Iterable[Mapping[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for one in counts:
        for key, n in one.items():
            total[key] = total.get(key, 0) + n
    return total


async def keep_rollups(store: Store, first_after: float = WARM_AFTER, every: float = WARM_EVERY) -> None:
    """Count and keep the settled days of the last ``MAX_DAYS`` in the background, a minute after start and then
    every hour, so that no admin's request pays for counting them (the first count of 100,000 conversations takes
    about a second); a failure waits for the next round."""
    await asyncio.sleep(first_after)
    while True:
        today = datetime.now(UTC).date()
        try:
            await store.dashboard_days(today - timedelta(days=MAX_DAYS - 1), today, today)
        except StoreUnavailable:
            log.warning("the dashboard's rollups were not kept this round: the database did not answer")
        await asyncio.sleep(every)


def endings(counts: Mapping[str, int]) -> list[dict[str, Any]]:
    """Each ending with its count and share; every conversation is in exactly one, so the counts add up to
    the total and the shares to 1 (to rounding)."""
    total = sum(counts.values())
    handoffs = sorted((key for key in counts if key.startswith("handoff:")), key=lambda k: (-counts[k], k))
    order = ["bot", *handoffs, "abandoned", "open"]
    return [
        {"ending": key, "label": ENDINGS.get(key) or "Handed off: " + key.split(":", 1)[1].replace("_", " "),
         "count": counts.get(key, 0), "share": round(counts.get(key, 0) / total, 4) if total else 0.0}
        for key in order if key in counts or key in ENDINGS
    ]


def _by_day(timed: Iterable[Daily]) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {}
    for day, value in timed:
        found.setdefault(day, []).append(value)
    return found


def _daily_percentiles(timed: Sequence[Daily], days: list[str]) -> dict[str, Any]:
    """p50 and p90 in seconds per day (null on a day with none), and over the whole period."""
    per_day = _by_day(timed)
    everything = [value for _, value in timed]
    return {
        "count": len(everything),
        "p50": _rounded(everything, 50),
        "p90": _rounded(everything, 90),
        "per_day": [{"day": day, "count": len(per_day.get(day, [])), "p50": _rounded(per_day.get(day, []), 50),
                     "p90": _rounded(per_day.get(day, []), 90)} for day in days],
    }


def _rounded(values: Sequence[float], p: float) -> float | None:
    return round(percentile(values, p), 1) if values else None


def _csat(figures: Sequence[DayFigures], names: Mapping[str, str], days: list[str]) -> dict[str, Any]:
    """Visitors' ratings (1-5): overall, per day given and by the representative credited."""
    per_day: dict[str, list[int]] = {}
    per_person: dict[str, list[int]] = {}
    for day in figures:
        for agent_id, count, total in day.ratings:
            person = names.get(agent_id or "") or f"(removed {agent_id})"
            for key, into in ((day.day, per_day), (person, per_person)):
                seen, added = into.get(key, [0, 0])
                into[key] = [seen + count, added + total]
    count, total = sum(n for n, _ in per_day.values()), sum(t for _, t in per_day.values())
    return {
        "count": count,
        "average": _average(count, total),
        "per_day": [{"day": day, "count": per_day.get(day, [0])[0], "average": _average(*per_day.get(day, [0, 0]))}
                    for day in days],
        "by_representative": [{"representative": name, "count": n, "average": _average(n, total)}
                              for name, (n, total) in sorted(per_person.items())],
    }


def _average(count: int, total: int) -> float | None:
    return round(total / count, 2) if count else None


def _group(group: unanswered.Group, rank: int) -> dict[str, Any]:
    """An unanswered group with the draft intent file an admin would start from."""
    intent_id = unanswered.draft_id(group, set())
    return {**group.as_json(), "rank": rank + 1,
            "draft": {"id": intent_id, "yaml": unanswered.draft(group, intent_id)}}
