"""Webhooks from a real server to a real receiver the test starts: every event of a conversation, signed; receivers
that fail, hang, redirect or answer 10 MB, retried without slowing the chat; addresses webhooks may never reach."""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from chatbot.integrations import delivery
from chatbot.integrations.delivery import IntegrationError, next_attempt
from chatbot.integrations.webhooks import signature
from chatbot.shared.addresses import refusal, webhook_urls
from chatbot.store import Store, schema
from chatbot.store.models import OutboxEvent
from chatbot.store.outbox import Destinations
from chatbot.web.app import STORE
from tests.conftest import Server
from tests.receiver import Receiver, verify

SECRET = "test-webhook-secret"


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = await Receiver(SECRET).start()
    yield found
    await found.stop()


def webhook_settings(*urls: str, **more: object) -> dict[str, object]:
    return {"webhook_url": urls, "webhook_secret": SECRET, "webhook_allow_private": True,
            "webhook_retry_first_seconds": 0.2, "delivery_timeout_seconds": 1.0, **more}


async def test_a_conversation_s_events_arrive_signed_in_order(make_server, receiver, visitors,
                                                              representatives) -> None:
    server: Server = await make_server(**webhook_settings(receiver.url("/ok")))
    maria = await representatives(server, "Maria")
    visitor = await visitors(server.url)
    cid = visitor.conversation["id"]
    assert (await visitor.call("contact", {"name": "Ana Ruiz", "phone": "+1 555 0100"}))["ok"]
    await visitor.say("I want to talk to a person")
    await visitor.next("state", lambda s: s["state"] == "queued")
    assert (await maria.take(cid))["ok"]
    assert (await maria.call("close", {"conversation_id": cid}))["ok"]
    await visitor.next("state", lambda s: s["state"] == "closed")
    assert (await visitor.call("rate", {"score": 5, "comment": "kind"}))["ok"]

    arrived = await receiver.wait_for(6)
    events = [r.event for r in arrived]
    assert [e["type"] for e in events] == ["conversation.started", "contact.left", "conversation.handed_off",
                                           "conversation.assigned", "conversation.closed", "rating.created"]
    assert all(r.signed for r in arrived)
    for request, event in zip(arrived, events, strict=True):
        assert set(event) == {"id", "type", "created_at", "data"}
        assert request.headers["X-Chatbot-Event"] == event["type"]
        assert request.headers["X-Chatbot-Delivery"] == event["id"]
        assert event["data"]["conversation_id"] == cid
    assert len({e["id"] for e in events}) == 6
    handed_off = events[2]["data"]
    assert (handed_off["reason"], handed_off["urgent"], handed_off["agents_online"]) == ("requested", False, 1)
    assert events[1]["data"]["contact"] == {"name": "Ana Ruiz", "email": None, "phone": "+1 555 0100"}
    assert events[3]["data"]["agent"]["name"] == "Maria"
    assert (events[5]["data"]["rating"], events[5]["data"]["comment"]) == (5, "kind")
    assert "I want to talk to a person" not in b"".join(r.body for r in arrived).decode()


async def test_an_urgent_handoff_is_marked(make_server, receiver, visitors) -> None:
    server = await make_server(**webhook_settings(receiver.url("/ok")))
    visitor = await visitors(server.url)
    await visitor.say("I suddenly can't control my bladder and my legs are numb")
    await visitor.next("state", lambda s: s["state"] == "queued")
    arrived = await receiver.wait_for(2)
    handed_off = arrived[1].event
    assert handed_off["type"] == "conversation.handed_off"
    assert (handed_off["data"]["reason"], handed_off["data"]["urgent"]) == ("urgent", True)


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    body = b'{"id":"e1"}'
    # printf '1700000000.{"id":"e1"}' | openssl dgst -sha256 -hmac key
    assert signature("key", "1700000000", body) == \
        "sha256=bef8ad98fc8bc281e228c29d99d0b38086051703dbf3bbb8b3fee5b801ad1976"
    headers = {"X-Chatbot-Timestamp": str(int(datetime.now(UTC).timestamp()))}
    headers["X-Chatbot-Signature"] = signature("key", headers["X-Chatbot-Timestamp"], body)
    assert verify(b"key", headers, body)
    assert not verify(b"other key", headers, body)
    assert not verify(b"key", headers, body.replace(b"e1", b"e2"))
    stale = {"X-Chatbot-Timestamp": "1700000000", "X-Chatbot-Signature": signature("key", "1700000000", body)}
    assert not verify(b"key", stale, body), "an old request replayed is refused"


async def rows_by_target(server: Server) -> dict[str, OutboxEvent]:
    rows = await server.app[STORE].outbox_rows(limit=1000)
    return {row.target.rsplit("/", 1)[1]: row for row in rows if row.type == "conversation.started"}


async def test_bad_receivers_are_retried_and_never_slow_the_chat(make_server, receiver, visitors) -> None:
    paths = ("/fail", "/hang", "/redirect", "/big")
    server = await make_server(**webhook_settings(*(receiver.url(p) for p in paths)))
    visitor = await visitors(server.url)
    for path in ("/fail", "/hang", "/redirect"):
        await receiver.wait_for(2, path)  # tried, and tried again
    reply = await visitor.ask("What are your hours?")  # the chat answers while the receivers misbehave
    assert reply["sender"] == "bot"
    await receiver.wait_for(1, "/big")
    rows = await rows_by_target(server)
    assert rows["fail"].last_error == "HTTP 500" and rows["fail"].status == "pending"
    assert rows["redirect"].last_error.startswith("HTTP 302: redirects are not followed")
    assert not receiver.at("/ok"), "the redirect was not followed"
    for _ in range(50):
        rows = await rows_by_target(server)
        if rows["hang"].last_error and rows["big"].status == "delivered":
            break
        await receiver.wait_for(len(receiver.at("/hang")) + 1, "/hang")
    assert rows["hang"].last_error == "timed out after 1 s"
    assert rows["big"].status == "delivered", "a 2xx with 10 MB behind it is delivered, the 10 MB left unread"
    assert all(r.signed for r in receiver.received)


async def test_a_receiver_that_comes_back_gets_its_backlog(make_server, receiver, visitors) -> None:
    server = await make_server(**webhook_settings(receiver.url("/ok"), webhook_retry_first_seconds=30.0))
    await receiver.stop()
    for _ in range(3):
        await visitors(server.url)
    store = server.app[STORE]
    for _ in range(100):
        rows = await store.outbox_rows()
        if len(rows) == 3 and all(r.attempts == 1 for r in rows):
            break
        await asyncio.sleep(0.1)
    assert all(r.status == "pending" and r.next_attempt_at > datetime.now(UTC) + timedelta(seconds=10)
               for r in rows)
    await receiver.start()
    await visitors(server.url)  # a new event reaches it at once, and the three waiting follow without their 15-30 s
    assert len(await receiver.wait_for(4, timeout=10)) == 4


def test_the_retry_schedule() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    until = now + timedelta(hours=24)
    first = next_attempt(1, 30.0, now, until)
    assert first is not None and now + timedelta(seconds=15) <= first <= now + timedelta(seconds=30)
    fourth = next_attempt(4, 30.0, now, until)
    assert fourth is not None and now + timedelta(seconds=120) <= fourth <= now + timedelta(seconds=240)
    late = next_attempt(40, 30.0, now, until)
    assert late is not None and late - now <= timedelta(hours=1), "the delay stops growing at an hour"
    assert next_attempt(40, 30.0, until, until) is None, "past the 24 h window: dead letter"


@pytest.mark.parametrize(("address", "private_allowed", "refused"), [
    ("169.254.169.254", True, "a cloud metadata address"),
    ("::ffff:169.254.169.254", True, "a cloud metadata address"),
    ("fd00:ec2::254", True, "a cloud metadata address"),
    ("100.100.100.200", True, "a cloud metadata address"),
    ("169.254.10.1", True, "a link-local address"),
    ("fe80::1", True, "a link-local address"),
    ("0.0.0.0", True, "not a unicast address"),
    ("127.0.0.1", False, "a loopback or private address"),
    ("10.1.2.3", False, "a loopback or private address"),
    ("100.64.0.1", False, "a loopback or private address"),
    ("::1", False, "a loopback or private address"),
    ("127.0.0.1", True, None),
    ("192.168.1.10", True, None),
    ("93.184.215.14", False, None),
])
def test_which_addresses_webhooks_may_reach(address: str, private_allowed: bool, refused: str | None) -> None:
    reason = refusal(ipaddress.ip_address(address), private_allowed)
    assert (reason or "").startswith(refused or "") and (reason is None) == (refused is None)


async def test_a_host_name_resolving_to_loopback_is_refused_at_delivery(make_server, receiver, visitors) -> None:
    url = f"http://localhost:{receiver.port}/ok"
    server = await make_server(**webhook_settings(url, webhook_allow_private=False))
    await visitors(server.url)
    for _ in range(100):
        rows = await server.app[STORE].outbox_rows()
        if rows and rows[0].last_error:
            break
        await asyncio.sleep(0.1)
    assert rows[0].last_error.startswith("refused: localhost resolves to ")
    assert "loopback or private" in rows[0].last_error
    assert receiver.received == []


@pytest.mark.parametrize(("urls", "allow_private", "expected"), [
    (("http://127.0.0.1:9/hook",), False, "its host is a loopback or private address"),
    (("http://[::1]:9/hook",), False, "its host is a loopback or private address"),
])
def test_a_literal_private_address_stops_the_start(settings, urls, allow_private, expected) -> None:
    with pytest.raises(IntegrationError, match=expected):
        delivery.check(dataclasses.replace(settings, webhook_url=urls, webhook_secret="s",
                                           webhook_allow_private=allow_private))


@pytest.mark.parametrize(("value", "expected"), [
    ("http://169.254.169.254/latest", "a cloud metadata address, which webhooks may never reach"),
    ("http://[fe80::1]/hook", "a link-local address, which webhooks may never reach"),
    ("ftp://example.com/hook", "expected http(s)://HOST[:PORT]/PATH"),
    ("https://user:pw@example.com/hook", "put no credentials in the URL"),
    ("https:///hook", "expected http(s)://HOST[:PORT]/PATH"),
    ("https://a.example/x,https://a.example/x", "a URL is listed twice"),
])
def test_bad_webhook_urls_are_refused(value: str, expected: str) -> None:
    with pytest.raises(ValueError, match=re.escape(expected)):
        webhook_urls(value)


def test_urls_are_comma_separated() -> None:
    assert webhook_urls(" https://a.example/x , https://b.example/y ") == ("https://a.example/x",
                                                                           "https://b.example/y")
    assert json.dumps(webhook_urls("")) == "[]"


async def test_two_processes_claiming_on_postgresql_never_share_a_row(pg_url: str) -> None:
    """Two stores (two connection pools, as two processes have) claim at once: FOR UPDATE SKIP LOCKED and the
    lease give each row to exactly one of them."""
    writer = Store(pg_url, Destinations(webhooks=("https://hooks.clinic.example/x",)))
    claimers = [Store(pg_url), Store(pg_url)]
    try:
        for _ in range(10):
            await asyncio.gather(*(writer.create_conversation("en", None, None) for _ in range(20)))
        taken: list[list[int]] = [[], []]
        for _ in range(10):
            rounds = await asyncio.gather(*(c.claim_due(15, timedelta(seconds=60)) for c in claimers))
            for mine, rows in zip(taken, rounds, strict=True):
                mine.extend(row.id for row in rows)
        assert not set(taken[0]) & set(taken[1])
        assert len(taken[0]) + len(taken[1]) == 200 and taken[0] and taken[1]
        assert await claimers[0].claim_due(15, timedelta(seconds=60)) == [], "every row is leased"
    finally:
        for store in (writer, *claimers):
            await store.close()


async def test_a_lease_that_ran_out_is_claimed_again_and_the_late_result_is_ignored(tmp_path) -> None:
    """On SQLite (the lease column alone decides): a process that died holding a row leaves it to the next claim,
    and its result, should it come late, changes nothing."""
    store = Store(f"sqlite+aiosqlite:///{tmp_path / 'lease.db'}", Destinations(webhooks=("https://h.example/x",)))
    try:
        await schema.upgrade(store.engine)
        await store.create_conversation("en", None, None)
        [dead] = await store.claim_due(10, timedelta(seconds=-1))  # a lease already run out, as after a SIGKILL
        [again] = await store.claim_due(10, timedelta(seconds=60))
        assert again.id == dead.id and again.claim != dead.claim
        assert await store.claim_due(10, timedelta(seconds=60)) == [], "leased: nobody else takes it"
        assert not await store.delivered(dead), "the old claim's result is ignored"
        assert await store.failed(again, "HTTP 500", datetime.now(UTC) + timedelta(hours=1))
        [row] = await store.outbox_rows()
        assert (row.status, row.attempts, row.last_error) == ("pending", 1, "HTTP 500")
    finally:
        await store.close()
