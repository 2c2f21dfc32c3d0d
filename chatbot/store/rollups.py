"""The dashboard's daily figures, counted once for each settled day and kept: the dashboard's pre-aggregation.

A day is *settled* when it is over (UTC) and every conversation started on it
is closed. Nothing later changes its figures: a closed conversation never
reopens, and takes and ratings count on the day they happen. The first request
for a range counts its settled days and keeps them in ``daily_rollups``; later
requests, from any process, read them and count afresh only today and the days
with a conversation still open. Deleting conversations (a purge, an admin's
delete) forgets the rollups of the days they touched, in the same transaction
(``forget_days``). Rows of another ``ROLLUP_VERSION`` are counted again, so a
change to what is kept needs no migration of the rows.

Tested in tests/test_dashboard.py; timed by bench/dashboard.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from chatbot.store.models import Conversation, DailyRollup, State
from chatbot.store.reads import DayFigures, ReadQueries

ROLLUP_VERSION = 1


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def _runs(days: Sequence[date]) -> list[list[date]]:
    """``days`` (in order) cut into runs of consecutive days, each counted with one set of range queries."""
    runs: list[list[date]] = []
    for day in days:
        if runs and runs[-1][-1] + timedelta(days=1) == day:
            runs[-1].append(day)
        else:
            runs.append([day])
    return runs


class RollupQueries(ReadQueries):
    async def dashboard_days(self, first: date, last: date, today: date) -> list[DayFigures]:
        """The dashboard's figures for each day from ``first`` to ``last`` (both included), in order: kept ones
        where the day is settled, counted afresh where it is not (``today`` and later, days with open
        conversations) or was never counted."""
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        async with self.transaction() as session:
            live = {day for day in days if day >= today} | await self._open_days(session, first, last)
            rows = await session.scalars(
                select(DailyRollup).where(DailyRollup.day.between(first.isoformat(), last.isoformat()),
                                          DailyRollup.version == ROLLUP_VERSION)
            )
            known = {date.fromisoformat(row.day): DayFigures.from_json(row.day, row.figures) for row in rows}
        found = {day: figures for day, figures in known.items() if day not in live}
        for run in _runs([day for day in days if day not in found]):
            counted = await self.figures_by_day(_midnight(run[0]), _midnight(run[-1] + timedelta(days=1)))
            fresh = {day: counted.get(day.isoformat()) or DayFigures(day.isoformat()) for day in run}
            await self._keep([figures for day, figures in fresh.items() if day not in live])
            found.update(fresh)
        return [found[day] for day in days]

    async def _open_days(self, session: AsyncSession, first: date, last: date) -> set[date]:
        """The days from ``first`` to ``last`` on which a conversation still open started."""
        day, _ = self.clock(Conversation.created_at)
        rows = await session.scalars(
            select(day).distinct().where(Conversation.created_at >= _midnight(first),
                                         Conversation.created_at < _midnight(last + timedelta(days=1)),
                                         Conversation.state != State.CLOSED)
        )
        return {date.fromisoformat(str(on)) for on in rows}

    async def _keep(self, settled: Sequence[DayFigures]) -> None:
        """Keep (or replace) these days' rollups; two processes keeping the same day write the same figures."""
        if not settled:
            return
        insert = sqlite_insert if self.engine.dialect.name == "sqlite" else postgresql_insert
        statement = insert(DailyRollup)
        statement = statement.on_conflict_do_update(
            index_elements=[DailyRollup.day],
            set_={"version": statement.excluded.version, "figures": statement.excluded.figures,
                  "computed_at": statement.excluded.computed_at},
        )
        now = datetime.now(UTC)
        async with self.transaction() as session:
            await session.execute(statement, [
                {"day": figures.day, "version": ROLLUP_VERSION, "figures": figures.as_json(), "computed_at": now}
                for figures in settled
            ])


async def forget_days(session: AsyncSession, conversation_ids: Sequence[str]) -> None:
    """Forget the rollups of every day these conversations counted on (from the day they started to the last
    thing that happened in them), before they are deleted in the same transaction."""
    span = (await session.execute(
        select(func.min(Conversation.created_at), func.max(Conversation.updated_at),
               func.max(Conversation.closed_at), func.max(Conversation.rated_at))
        .where(Conversation.id.in_(conversation_ids))
    )).one()
    began, *ends = span
    ended = max((moment for moment in ends if moment is not None), default=None)
    if began is None or ended is None:
        return
    await session.execute(delete(DailyRollup).where(
        DailyRollup.day.between(began.astimezone(UTC).date().isoformat(), ended.astimezone(UTC).date().isoformat())
    ))
