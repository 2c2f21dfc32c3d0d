"""Nothing lost: 1,000 events delivered by two server processes sharing PostgreSQL, while one of them is SIGKILLed
mid-delivery and the receiver is down for 25 s. Every event arrives at least once, none with a bad signature.

The receiver (an aiohttp server the test starts) answers slowly, so both processes hold leased rows in flight
when one is killed; the killed process's leases run out and the other process claims those rows again. The
first retry comes after 0.5 s here (``CHATBOT_WEBHOOK_RETRY_FIRST_SECONDS``), so that the backoff stays short
enough for one test: in the 25 s the receiver is really down, each row is tried five or six times, and the
killed process's leases (twice the 5 s timeout plus 10 s) run out, so the other process claims those rows and
tries them against the dead receiver too.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from chatbot.store import Store
from chatbot.store.models import OutboxEvent, utcnow
from chatbot.store.outbox import Destinations
from tests.processes import ServerProcess, redis_prefix
from tests.receiver import Receiver

SECRET = "fault-test-secret"
EVENTS = 1000
DOWN_SECONDS = 25


async def write_events(store: Store) -> None:
    """The events, through the store's own path: each in the transaction that starts a conversation."""
    for _ in range(EVENTS // 20):
        await asyncio.gather(*(store.create_conversation("en", None, None) for _ in range(20)))


async def leased_now(store: Store) -> int:
    async with store.transaction() as session:
        count = await session.scalar(select(func.count()).select_from(OutboxEvent).where(
            OutboxEvent.status == "pending", OutboxEvent.claimed_until > utcnow()))
    return int(count or 0)


@pytest.mark.slow
@pytest.mark.timeout(400)
async def test_no_event_is_lost_when_the_receiver_and_a_server_go_down(pg_url: str, redis_url: str,
                                                                       tmp_path: Path) -> None:
    receiver = await Receiver(SECRET).start()
    receiver.delay = 1.0
    env = {
        "CHATBOT_DATABASE_URL": pg_url, "CHATBOT_REDIS_URL": redis_url, "CHATBOT_REDIS_PREFIX": redis_prefix(),
        "CHATBOT_TRANSCRIPTS_DIR": str(tmp_path / "transcripts"), "CHATBOT_LOG_LEVEL": "WARNING",
        "CHATBOT_WEBHOOK_URL": receiver.url("/ok"), "CHATBOT_WEBHOOK_SECRET": SECRET,
        "CHATBOT_WEBHOOK_ALLOW_PRIVATE": "true", "CHATBOT_WEBHOOK_RETRY_FIRST_SECONDS": "0.5",
        "CHATBOT_DELIVERY_TIMEOUT_SECONDS": "5",
    }
    servers = [ServerProcess(env, tmp_path).start() for _ in range(2)]
    store = Store(pg_url, Destinations(webhooks=(receiver.url("/ok"),)))
    try:
        started = time.monotonic()
        await asyncio.gather(*(s.ready() for s in servers))
        ready_after = time.monotonic() - started
        writing = asyncio.create_task(write_events(store))
        await receiver.wait_for(100, timeout=60)
        servers[0].signal(signal.SIGKILL)
        in_flight = await leased_now(store)
        await receiver.stop()
        down_at, arrived_before = time.monotonic(), len(receiver.received)
        await writing  # the rest are written while the receiver is down and one server is dead
        await asyncio.sleep(DOWN_SECONDS - (time.monotonic() - down_at))
        receiver.delay = 0.0
        await receiver.start()
        up_at = time.monotonic()
        down_for = up_at - down_at

        deadline = time.monotonic() + 120
        while len({r.event["id"] for r in receiver.received}) < EVENTS and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        while (await store.outbox_counts())["pending"] and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        caught_up = time.monotonic() - up_at
        counts = await store.outbox_counts()
        ids = Counter(r.event["id"] for r in receiver.received)
        bad = sum(not r.signed for r in receiver.received)
        async with store.transaction() as session:
            attempts = await session.scalar(select(func.sum(OutboxEvent.attempts)))
            most = await session.scalar(select(func.max(OutboxEvent.attempts)))
        print(f"\nnothing lost: servers ready in {ready_after:.0f} s; {EVENTS} events written; {arrived_before} "
              f"arrived before the SIGKILL and the receiver's stop ({in_flight} rows leased in flight then); "
              f"receiver down {down_for:.0f} s, all delivered {caught_up:.1f} s after it came back; "
              f"{len(ids)} distinct events arrived, {len(receiver.received)} requests in all "
              f"({sum(n - 1 for n in ids.values())} duplicates), {bad} with a bad signature; outbox {counts}; "
              f"{attempts} attempts recorded, at most {most} for one event")
        assert len(ids) == EVENTS, f"{EVENTS - len(ids)} events never arrived"
        assert bad == 0
        assert counts == {"pending": 0, "delivered": EVENTS, "dead": 0}
        assert in_flight > 0, "the kill came mid-delivery"
        assert servers[1].process is not None and servers[1].process.poll() is None
    finally:
        for server in servers:
            server.stop()
        await store.close()
        await receiver.stop()
