"""The delivery worker: every server process claims due outbox rows, sends them, and records each attempt.

Each process polls the outbox every ``POLL_SECONDS`` and claims due rows under a lease (``store/outbox.py``:
``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so one process at a time has a row), and sends up to ``BATCH`` side by
side, claiming more as each one is done. Nothing here runs on the chat's path: the chat only writes rows, and a
slow, hanging or hostile receiver costs a background task its timeout.

A failed attempt is tried again after ``CHATBOT_WEBHOOK_RETRY_FIRST_SECONDS`` (at most 30 s), then after twice
as long each time, up to ``MAX_DELAY``, each delay drawn between half and all of that (jitter, so that many rows
failing together do not all come back at once), until the row's 24 h window has passed: then it is
dead-lettered (``chatbot webhooks list --status dead``, ``chatbot webhooks retry``). When a destination answers
again after failures, the rows still waiting for it are sent at once rather than each at the end of its own
backoff: a receiver back from an hour's outage gets its backlog in seconds.

Tested in tests/test_webhooks.py, tests/test_webhook_faults.py, tests/test_email.py.
"""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from chatbot.integrations.email import Mailer
from chatbot.integrations.webhooks import WebhookSender
from chatbot.shared import smtp
from chatbot.shared.addresses import host_refusal
from chatbot.shared.config import Settings
from chatbot.store import Store, StoreUnavailable
from chatbot.store.models import OutboxEvent, utcnow
from chatbot.store.outbox import EMAIL_TARGET, Destinations

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
BATCH = 50
MAX_DELAY = timedelta(hours=1)
STOP_GRACE_SECONDS = 2.0


NO_EMAIL = "email is no longer configured"
NO_URL = "this URL is no longer in CHATBOT_WEBHOOK_URL"
GONE = frozenset({NO_EMAIL, NO_URL})
"""Errors that no retry mends: such a row is dead-lettered at once (``chatbot webhooks retry`` once it is back)."""


class IntegrationError(ValueError):
    """Settings that cannot work together; the message says what was expected."""


def check(settings: Settings) -> None:
    """Refuse, before the start, webhook and email settings that cannot work (IntegrationError)."""
    if settings.webhook_url and not settings.webhook_secret:
        raise IntegrationError("CHATBOT_WEBHOOK_URL is set: expected CHATBOT_WEBHOOK_SECRET too (requests are signed)")
    for url in settings.webhook_url:
        reason = host_refusal(urlsplit(url).hostname or "", settings.webhook_allow_private)
        if reason is not None:
            raise IntegrationError(f"CHATBOT_WEBHOOK_URL {url!r}: its host is {reason}")
    if bool(settings.smtp_url) != bool(settings.notify_email):
        raise IntegrationError("expected both CHATBOT_SMTP_URL and CHATBOT_NOTIFY_EMAIL (or neither): email needs a "
                               "server and an address")


def destinations(settings: Settings) -> Destinations:
    return Destinations(webhooks=settings.webhook_url, email=bool(settings.smtp_url and settings.notify_email))


def next_attempt(attempts: int, first: float, now: datetime, retry_until: datetime) -> datetime | None:
    """When to try again after ``attempts`` failed attempts, or None (dead letter) past ``retry_until``."""
    ceiling = min(first * 2 ** (attempts - 1), MAX_DELAY.total_seconds())
    at = now + timedelta(seconds=random.uniform(ceiling / 2, ceiling))
    return at if at <= retry_until else None


def console_url(settings: Settings) -> str:
    base = settings.public_url.rstrip("/") or f"http://{settings.host}:{settings.port}"
    return base + "/console"


class Deliverer:
    """The worker of one process: claims due rows, sends each to its webhook or the email, records the result."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.first = settings.webhook_retry_first_seconds
        self.timeout = settings.delivery_timeout_seconds
        self.lease = timedelta(seconds=2 * self.timeout + 10)  # longer than one send can take
        self.webhooks = set(settings.webhook_url)
        self.sender = WebhookSender(settings.webhook_secret, self.timeout, settings.webhook_allow_private)
        self._failing: set[str] = set()  # destinations whose last attempt here failed: a success hurries their rows
        self.mailer: Mailer | None = None
        if destinations(settings).email:
            self.mailer = Mailer(smtp.parse(settings.smtp_url), settings.email_from or settings.notify_email[0],
                                 settings.notify_email, console_url(settings), store, settings.email_include_text,
                                 self.timeout)

    async def run(self) -> None:
        """Deliver until cancelled: up to ``BATCH`` rows in flight, a new one claimed as soon as one is done (a
        hanging receiver holds its own rows, never the others')."""
        flying: set[asyncio.Task[None]] = set()
        try:
            while True:
                free = BATCH - len(flying)
                rows = await self._claim(free) if free else []
                for row in rows:
                    task = asyncio.create_task(self.deliver(row))
                    flying.add(task)
                    task.add_done_callback(flying.discard)
                if not rows and flying:
                    await asyncio.wait(flying, timeout=POLL_SECONDS, return_when=asyncio.FIRST_COMPLETED)
                elif not rows:
                    await asyncio.sleep(POLL_SECONDS)
        finally:
            if flying:  # stopping: sends under way get a moment to finish and record their result
                await asyncio.wait(set(flying), timeout=STOP_GRACE_SECONDS)
            for task in list(flying):
                task.cancel()  # their leases run out and the rows are claimed again
            await self.sender.close()

    async def _claim(self, limit: int) -> list[OutboxEvent]:
        try:
            return await self.store.claim_due(limit, self.lease)
        except StoreUnavailable:
            return []

    async def deliver(self, row: OutboxEvent) -> None:
        """One attempt at one row, and its result recorded (unless the lease ran out and another process has it)."""
        try:
            error = await asyncio.wait_for(self._send(row), self.timeout + 5)
        except TimeoutError:
            error = f"timed out after {self.timeout:g} s"
        except Exception as exc:  # a bug must not stop the worker: the row is retried and the error logged
            log.exception("delivering outbox row %s failed", row.id)
            error = f"{type(exc).__name__}: {exc}"[:300]
        try:
            if error is None:
                if await self.store.delivered(row) and (row.attempts > 0 or row.target in self._failing):
                    self._failing.discard(row.target)
                    await self.store.hurry(row.target)
                return
            self._failing.add(row.target)
            log.info("outbox row %s (%s to %s) failed: %s", row.id, row.type, _where(row.target), error)
            again = None if error in GONE else next_attempt(row.attempts + 1, self.first, utcnow(), row.retry_until)
            await self.store.failed(row, error, again)
        except StoreUnavailable:
            log.warning("could not record the delivery of outbox row %s: it will be claimed again", row.id)

    async def _send(self, row: OutboxEvent) -> str | None:
        if row.target == EMAIL_TARGET:
            return await self.mailer.send(row) if self.mailer is not None else NO_EMAIL
        if row.target not in self.webhooks:
            return NO_URL
        return await self.sender.send(row.target, row)


def _where(target: str) -> str:
    """A target for the log: the URL without its path and query (which may carry a receiver's token)."""
    return target if target == EMAIL_TARGET else target.split("//", 1)[-1].split("/", 1)[0]
