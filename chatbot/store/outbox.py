"""The transactional outbox: events written in the same transaction as the change they report, then claimed,
delivered and retried by one process at a time (``chatbot/integrations/delivery.py`` does the delivering).

Recording is one line inside any of the store's transactions::

    async with self.transaction() as session:
        ...  # the change itself
        await record(session, "lead.created", {"lead_id": lead.id, ...}, email=True)

The change and its event commit together or not at all: no event for a change that rolled back, no change
without its event. ``record`` writes one row per destination (each webhook URL, and the clinic's email when
``email`` is true and email is configured), so each destination is retried on its own. The destinations reach
``record`` through the session (the store puts them in every session's ``info`` when it is built), so a query
module never needs the settings.

Claiming: a process takes a few due rows at a time and leases them (``claimed_until``). On PostgreSQL the
candidate rows are read ``FOR UPDATE SKIP LOCKED``, so two processes claiming at once take different rows
without waiting on each other; on SQLite (one writer at a time, one process) the lease column alone decides,
through the conditional update. A process killed mid-delivery leaves its lease to run out; then another
process claims the row again, so an event may arrive twice (receivers deduplicate on ``X-Chatbot-Delivery``)
but never not at all. A result is written only by the claim that still holds the row.

Tested in tests/test_webhooks.py, tests/test_webhook_faults.py, tests/test_webhooks_cli.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chatbot.store.base import DESTINATIONS, Database, new_id, rows_changed
from chatbot.store.models import OutboxEvent, utcnow

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"
EMAIL_TARGET = "email"
"""The ``target`` of a row for the clinic's email (its recipients are the settings', read when it is sent)."""
RETRY_WINDOW = timedelta(hours=24)
"""How long after it is written (or retried, or replayed) a failing row is tried before it is dead-lettered."""


@dataclass(frozen=True)
class Destinations:
    """Where events go: every webhook URL gets every event; the email only those recorded with ``email=True``."""

    webhooks: tuple[str, ...] = ()
    email: bool = False

    def targets(self, email: bool) -> list[str]:
        return [*self.webhooks, *([EMAIL_TARGET] if email and self.email else [])]


NOWHERE = Destinations()


def _targets(session: AsyncSession, email: bool) -> list[str]:
    destinations: Destinations = session.info.get(DESTINATIONS, NOWHERE)
    return destinations.targets(email)


def recorded(session: AsyncSession, email: bool = False) -> bool:
    """Whether ``record`` in this session would write anything: the caller may skip reading the event's data."""
    return bool(_targets(session, email))


async def record(session: AsyncSession, type: str, data: dict[str, Any], *, email: bool = False) -> str | None:
    """Write the event ``type`` with ``data`` (JSON) in the caller's transaction, one row per destination.

    ``email`` also sends it to the clinic's email (when ``CHATBOT_SMTP_URL`` and ``CHATBOT_NOTIFY_EMAIL`` are
    set). Returns the event id, or None when there is no destination (nothing is written).
    """
    targets = _targets(session, email)
    if not targets:
        return None
    event_id, now = new_id(), utcnow()
    session.add_all(
        OutboxEvent(event_id=event_id, type=type, target=target, data=data, created_at=now, status=PENDING,
                    attempts=0, next_attempt_at=now, retry_until=now + RETRY_WINDOW)
        for target in targets
    )
    return event_id


class OutboxQueries(Database):
    async def claim_due(self, limit: int, lease: timedelta) -> list[OutboxEvent]:
        """Up to ``limit`` rows due now, leased to this caller for ``lease``; the row's ``claim`` proves it."""
        now, claim = utcnow(), new_id()
        free = or_(OutboxEvent.claimed_until.is_(None), OutboxEvent.claimed_until < now)
        async with self.transaction() as session:
            ids = list(await session.scalars(
                select(OutboxEvent.id)
                .where(OutboxEvent.status == PENDING, OutboxEvent.next_attempt_at <= now, free)
                .order_by(OutboxEvent.next_attempt_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ))
            if not ids:
                return []
            await session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id.in_(ids), OutboxEvent.status == PENDING, free)
                .values(claimed_until=now + lease, claim=claim)
            )
            return list(await session.scalars(select(OutboxEvent).where(OutboxEvent.claim == claim)))

    async def delivered(self, row: OutboxEvent) -> bool:
        """Mark a claimed row delivered; False when its lease had run out and another process took it."""
        return await self._finish(row, status=DELIVERED, delivered_at=utcnow(), last_error=None)

    async def failed(self, row: OutboxEvent, error: str, next_attempt_at: datetime | None) -> bool:
        """Record a failed attempt: tried again at ``next_attempt_at``, or dead-lettered when it is None."""
        if next_attempt_at is None:
            return await self._finish(row, status=DEAD, last_error=error[:300])
        return await self._finish(row, status=PENDING, next_attempt_at=next_attempt_at, last_error=error[:300])

    async def _finish(self, row: OutboxEvent, **values: Any) -> bool:
        async with self.transaction() as session:
            result = await session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id == row.id, OutboxEvent.claim == row.claim, OutboxEvent.status == PENDING)
                .values(attempts=OutboxEvent.attempts + 1, claimed_until=None, claim=None, **values)
            )
        return rows_changed(result) == 1

    async def hurry(self, target: str) -> int:
        """Every row waiting to retry ``target`` due now: it has just answered again after failing."""
        now = utcnow()
        waiting = (  # rows another transaction holds are skipped, so two processes hurrying at once never deadlock
            select(OutboxEvent.id)
            .where(OutboxEvent.target == target, OutboxEvent.status == PENDING, OutboxEvent.next_attempt_at > now)
            .with_for_update(skip_locked=True)
        )
        async with self.transaction() as session:
            result = await session.execute(
                update(OutboxEvent).where(OutboxEvent.id.in_(waiting)).values(next_attempt_at=now)
            )
        return rows_changed(result)

    async def outbox_rows(self, status: str | None = None, since: datetime | None = None,
                          limit: int = 100) -> list[OutboxEvent]:
        """The newest rows first, of one ``status`` and from ``since`` when given."""
        query = select(OutboxEvent).order_by(OutboxEvent.id.desc()).limit(limit)
        if status is not None:
            query = query.where(OutboxEvent.status == status)
        if since is not None:
            query = query.where(OutboxEvent.created_at >= since)
        async with self.transaction() as session:
            return list(await session.scalars(query))

    async def outbox_counts(self) -> dict[str, int]:
        """How many rows are pending, delivered and dead."""
        async with self.transaction() as session:
            rows = await session.execute(select(OutboxEvent.status, func.count()).group_by(OutboxEvent.status))
            return {PENDING: 0, DELIVERED: 0, DEAD: 0, **{str(row[0]): int(row[1]) for row in rows}}

    async def retry_dead(self, ids: list[int] | None = None) -> int:
        """Dead-lettered rows (these ``ids``, or all) tried again now, with a new 24 h window."""
        query = update(OutboxEvent).where(OutboxEvent.status == DEAD)
        if ids is not None:
            query = query.where(OutboxEvent.id.in_(ids))
        return await self._again(query)

    async def replay(self, since: datetime) -> int:
        """Every row written from ``since`` (delivered, dead or pending) sent again now, with the same event id."""
        return await self._again(update(OutboxEvent).where(OutboxEvent.created_at >= since))

    async def _again(self, query: Any) -> int:
        now = utcnow()
        async with self.transaction() as session:
            result = await session.execute(query.values(
                status=PENDING, attempts=0, next_attempt_at=now, retry_until=now + RETRY_WINDOW,
                claimed_until=None, claim=None, delivered_at=None, last_error=None,
            ))
        return rows_changed(result)
