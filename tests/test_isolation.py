"""Isolation: a token opens one conversation and nothing else; no event carries someone else's data or any token.

Every event a client receives is searched recursively (keys and values), so a
secret that leaks in a nested field or a new event is caught too.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio

from chatbot.chat.keys import STORE
from tests.conftest import Client, Representative, Server, Visitor

ADMIN_TOKEN = "test-admin-token"  # the conftest settings' admin token
HEX_ID = re.compile(r"[0-9a-f]{32}")


def strings_in(value: Any) -> Iterator[str]:
    """Every string in a JSON value, dictionary keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings_in(item)


def keys_in(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for item in value.values() for k in keys_in(item)}
    if isinstance(value, list | tuple):
        return {k for item in value for k in keys_in(item)}
    return set()


def mentions(client: Client, secret: str, but: str | None = None) -> list[str]:
    """The names of the events ``client`` received that contain ``secret`` (leaving out events named ``but``)."""
    return [name for name, data in client.events if name != but and any(secret in s for s in strings_in(data))]


async def queued(visitor: Visitor, text: str = "I want to talk to a person") -> None:
    assert (await visitor.say(text))["ok"]
    await visitor.next("state", lambda s: s["state"] == "queued")


# -- visitors -------------------------------------------------------------------


async def test_a_token_opens_its_own_conversation_and_nothing_else(server: Server, visitors) -> None:
    alice = await visitors(server.url)
    bob = await visitors(server.url)
    await alice.ask("what causes upper back pain? (alice)")
    await bob.ask("does heat help? (bob)")
    again = await visitors(server.url, token=alice.conversation["token"])
    assert again.conversation["id"] == alice.conversation["id"]
    texts = [m["text"] for m in again.conversation["messages"]]
    assert "what causes upper back pain? (alice)" in texts and not any("(bob)" in t for t in texts)
    for client, other in ((alice, bob), (again, bob), (bob, alice)):
        assert mentions(client, other.conversation["id"]) == []
        assert mentions(client, other.conversation["token"]) == []
    guessed = await visitors(server.url, token=alice.conversation["token"][:-1] + "x")
    assert guessed.conversation["id"] not in (alice.conversation["id"], bob.conversation["id"])
    assert guessed.conversation["messages"] == []


async def test_another_conversations_id_in_a_payload_does_nothing_to_it(server: Server, visitors) -> None:
    alice = await visitors(server.url)
    bob = await visitors(server.url)
    await bob.ask("what causes upper back pain?")
    store = server.app[STORE]
    bob_id = bob.conversation["id"]
    before = ([m.id for m in await store.messages(bob_id)], (await store.conversation(bob_id)).state)
    events_before = len(bob.events)
    foreign = {
        "conversation_id": bob_id, "id": bob_id, "room": bob_id, "token": bob.conversation["token"], "to": bob_id
    }
    acks = [
        await alice.call("message", {"text": "hello from alice", **foreign}),
        await alice.call("typing", {"typing": True, **foreign}),
        await alice.call("contact", {"name": "Alice", "email": "alice@example.com", **foreign}),
        await alice.call("close", foreign),
    ]
    assert all(ack["ok"] for ack in acks), acks
    assert acks[0]["message"]["conversation_id"] == alice.conversation["id"]
    resumed = await visitors(server.url, conversation_id=bob_id, id=bob_id)
    assert resumed.conversation["id"] != bob_id, "only a token opens a conversation"
    await asyncio.sleep(0.2)
    after = ([m.id for m in await store.messages(bob_id)], (await store.conversation(bob_id)).state)
    assert after == before and len(bob.events) == events_before
    assert (await store.conversation(alice.conversation["id"])).state == "closed"


async def test_ids_are_random_and_only_token_digests_are_stored(server: Server, visitors) -> None:
    opened = [await visitors(server.url) for _ in range(20)]
    ids = [v.conversation["id"] for v in opened]
    tokens = [v.conversation["token"] for v in opened]
    assert all(HEX_ID.fullmatch(i) for i in ids) and len(set(ids)) == len(ids)
    assert all(len(t) >= 43 for t in tokens) and len(set(tokens)) == len(tokens), "256-bit tokens"
    assert not any(i in t or t in i for i in ids for t in tokens), "a token is not derived from its id"
    for visitor in opened:  # ids are not in order either: nothing to enumerate
        assert (await server.app[STORE].conversation_by_token(visitor.conversation["token"])).id in ids
    rep_name, rep_token = "Maria", (await server.app[STORE].create_agent("Maria"))[1]
    await asyncio.sleep(0.1)
    database = Path(server.settings.database_url.removeprefix("sqlite+aiosqlite:///"))
    stored = b"".join(path.read_bytes() for path in (database, Path(f"{database}-wal")) if path.exists())
    for secret in [*tokens, rep_token]:
        assert secret.encode() not in stored, "a token is stored in clear"
    assert hashlib.sha256(tokens[0].encode()).hexdigest().encode() in stored, "its SHA-256 digest is"
    assert rep_name.encode() in stored  # the search itself works


# -- representatives --------------------------------------------------------------


async def test_representatives_never_receive_a_token(server: Server, visitors, representatives) -> None:
    maria = await representatives(server, "Maria")
    ana = await representatives(server, "Ana")
    waiting = await visitors(server.url)
    await queued(waiting)
    other = await visitors(server.url)
    await other.ask("what causes upper back pain?")
    assert (await other.call("contact", {"name": "Olga", "phone": "+1 555 0100"}))["ok"]
    took = await maria.take(waiting.conversation["id"])
    watched = await ana.call("watch", {"conversation_id": other.conversation["id"]})
    listed = await ana.call("conversations", {"limit": 200})
    assert took["ok"] and watched["ok"] and listed["ok"]
    assert (await maria.say(waiting.conversation["id"], "Hello, I'm Maria"))["ok"]
    assert (await maria.call("typing", {"conversation_id": waiting.conversation["id"], "typing": True}))["ok"]
    await waiting.ask("thanks, and does heat help?")
    await other.ask("does heat help?")
    assert (await maria.call("close", {"conversation_id": waiting.conversation["id"]}))["ok"]
    await maria.next("state", lambda s: s["state"] == "closed")
    received = [*maria.events, *ana.events, ("take", took), ("watch", watched), ("conversations", listed)]
    assert {name for name, _ in received} >= {"queue", "message", "state", "take", "watch", "conversations"}
    assert not any("token" in keys_in(data) for _, data in received)
    for visitor in (waiting, other):
        secret = visitor.conversation["token"]
        assert not [name for name, data in received if any(secret in s for s in strings_in(data))]
    for rep in (maria, ana):
        assert mentions(maria, rep.token) == [] and mentions(ana, rep.token) == []


async def test_visitors_receive_no_representative_secret_and_their_token_only_once(
    server: Server, visitors, representatives
) -> None:
    maria = await representatives(server, "Maria")
    visitor = await visitors(server.url)
    await queued(visitor)
    await maria.take(visitor.conversation["id"])
    await maria.say(visitor.conversation["id"], "Hello, I'm Maria")
    await maria.call("typing", {"conversation_id": visitor.conversation["id"], "typing": True})
    await visitor.next("message", lambda m: m["sender"] == "agent")
    await visitor.next("typing")
    assert mentions(visitor, maria.token) == []
    assert mentions(visitor, visitor.conversation["token"]) == ["conversation"]


async def test_a_representative_acts_only_on_what_they_hold(server: Server, visitors, representatives) -> None:
    maria = await representatives(server, "Maria")
    ana = await representatives(server, "Ana")
    visitor = await visitors(server.url)
    await queued(visitor)
    cid = visitor.conversation["id"]
    assert (await maria.take(cid))["ok"]
    attempts = [("message", {"text": "it's Ana"}), ("release", {}), ("close", {}), ("typing", {"typing": True})]
    for event, extra in attempts:
        ack = await ana.call(event, {"conversation_id": cid, **extra})
        assert ack["error"]["code"] == "not_assigned", (event, ack)
    assert (await ana.take(cid))["error"]["code"] == "taken"
    await asyncio.sleep(0.1)
    assert not visitor.received("message", lambda m: m["sender"] == "agent")


async def disconnected(client: Client) -> bool:
    for _ in range(40):
        if not client.sio.connected:
            return True
        await asyncio.sleep(0.05)
    return False


async def test_a_rotated_or_removed_token_stops_working_even_on_an_open_console(
    server: Server, visitors, representatives
) -> None:
    """A stolen token: ``chatbot agents rotate`` (or ``remove``) shuts it out, including consoles already open."""
    store = server.app[STORE]
    maria = await representatives(server, "Maria")
    ana = await representatives(server, "Ana")
    visitor = await visitors(server.url)
    await queued(visitor)
    cid = visitor.conversation["id"]
    new_token = await store.rotate_agent("Maria")
    assert new_token is not None and await store.remove_agent("Ana")
    for rep, event, body in [(maria, "conversations", {}), (ana, "take", {"conversation_id": cid})]:
        ack = await rep.call(event, body)
        assert ack["ok"] is False and ack["error"]["code"] == "unauthorized", ack
        assert await disconnected(rep), "the server drops a socket whose token no longer works"
    assert (await store.conversation(cid)).state == "queued", "nothing was done with the old token"
    with pytest.raises(socketio.exceptions.ConnectionError):
        await Representative("Maria", maria.token).connect(server.url, {"token": maria.token})
    again = await Representative("Maria", new_token).sign_in(server.url)
    try:
        assert (await again.take(cid))["ok"], "the new token works"
    finally:
        await again.disconnect()


# -- HTTP -------------------------------------------------------------------------

ADMIN_CALLS = [
    ("GET", "/admin/stats"),
    ("GET", "/admin/conversations"),
    ("GET", "/admin/conversations/{id}"),
    ("GET", "/admin/unanswered"),
    ("POST", "/admin/intents/reload"),
    ("DELETE", "/admin/conversations/{id}"),  # last: it erases the conversation
]


async def status_of(server: Server, method: str, path: str, token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    async with aiohttp.ClientSession() as http, http.request(method, server.url + path, headers=headers) as response:
        return response.status


async def test_admin_endpoints_need_the_admin_token(server: Server, visitors, representatives) -> None:
    visitor = await visitors(server.url)
    await visitor.ask("what causes upper back pain?")
    rep = await representatives(server, "Maria", connect=False)
    calls = [(method, path.format(id=visitor.conversation["id"])) for method, path in ADMIN_CALLS]
    for method, path in calls:
        for wrong in (None, "", "wrong", rep.token, visitor.conversation["token"], ADMIN_TOKEN[:-1]):
            assert await status_of(server, method, path, wrong) == 401, (method, path, wrong)
    assert [await status_of(server, method, path, ADMIN_TOKEN) for method, path in calls] == [
        200, 200, 200, 200, 200, 204]


async def test_without_an_admin_token_configured_the_admin_api_is_off(make_server) -> None:
    server = await make_server(admin_token="")
    for method, path in ADMIN_CALLS:
        for token in (None, "", "anything"):
            assert await status_of(server, method, path.format(id="0" * 32), token) == 403


@pytest.mark.parametrize("token_of", ["nobody", "representative", "another visitor"])
async def test_a_transcript_needs_its_own_conversations_token(
    server: Server, visitors, representatives, token_of
) -> None:
    visitor = await visitors(server.url)
    await visitor.ask("what causes upper back pain? (mine)")
    other = await visitors(server.url)
    await other.ask("does heat help? (theirs)")
    rep = await representatives(server, "Maria", connect=False)
    token = {"nobody": None, "representative": rep.token, "another visitor": other.conversation["token"]}[token_of]
    status, text = await server.get("/transcript", headers={"Authorization": f"Bearer {token}"} if token else {})
    assert "(mine)" not in text
    assert status == (401 if token is None else 404 if token_of == "representative" else 200)
