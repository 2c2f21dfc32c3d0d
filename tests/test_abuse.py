"""Floods and limits, attacked for real: each flood is refused while a normal visitor is still served.

Clients come "through our proxy" with their own ``X-Forwarded-For`` (servers here
trust it), so one test can play many addresses. Raw websocket clients stand in
for attackers who do what no Socket.IO library would: oversized frames, reserved
event names, never answering pings, never reading.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
import socketio

from chatbot.chat.keys import SIO, STORE
from chatbot.web import safety as web_safety
from tests.conftest import WAIT, Client, Server, Visitor
from tests.processes import redis_prefix

FLOOD = 20
OVERSIZED = 200 * 1024  # the server's packet cap is 64 KiB
QUESTION = "what causes upper back pain?"


async def connect_via_proxy(client: Client, url: str, auth: dict[str, Any] | None, address: str) -> None:
    await client.sio.connect(
        url,
        namespaces=[client.namespace],
        auth=auth or {},
        headers={"X-Forwarded-For": address},
        transports=["websocket"],
        wait_timeout=WAIT,
    )


class Caller(Client):
    """A Socket.IO client at ``address`` (via X-Forwarded-For) that keeps why it was refused."""

    def __init__(self, namespace: str, address: str) -> None:
        super().__init__(namespace)
        self.address = address
        self.refusal: dict[str, Any] | None = None
        self.sio.on("connect_error", self._refused, namespace=namespace)

    async def _refused(self, data: Any = None) -> None:
        self.refusal = data

    async def connect(self, url: str, auth: dict[str, Any] | None = None) -> None:
        await connect_via_proxy(self, url, auth, self.address)


class VisitorFrom(Visitor):
    """A visitor's widget at ``address``."""

    def __init__(self, address: str) -> None:
        super().__init__()
        self.address = address

    async def connect(self, url: str, auth: dict[str, Any] | None = None) -> None:
        await connect_via_proxy(self, url, auth, self.address)


Attempt = Callable[..., Awaitable[str | None]]


@pytest.fixture
async def callers() -> AsyncIterator[tuple[Callable[..., Awaitable[VisitorFrom]], Attempt]]:
    """``open_visitor(url, address, **auth)`` and ``attempt(url, namespace, address, **auth)`` (None = accepted,
    else the refusal code); every client is disconnected after the test."""
    opened: list[Client] = []

    async def open_visitor(url: str, address: str, **auth: Any) -> VisitorFrom:
        visitor = VisitorFrom(address)
        opened.append(visitor)
        return await visitor.open(url, **auth)

    async def attempt(url: str, namespace: str, address: str, **auth: Any) -> str | None:
        client = Caller(namespace, address)
        opened.append(client)
        try:
            await client.connect(url, auth)
        except socketio.exceptions.ConnectionError:
            assert client.refusal is not None, "refused without a reason"
            return str(client.refusal["code"])
        return None

    yield open_visitor, attempt
    for client in opened:
        await client.disconnect()


async def still_served(server: Server, open_visitor: Callable[..., Awaitable[VisitorFrom]], address: str) -> None:
    """A normal visitor from ``address`` gets in and gets the bot's answer."""
    visitor = await open_visitor(server.url, address)
    reply = await visitor.ask(QUESTION)
    assert reply["intent"] is not None and reply["text"], reply


# -- raw websocket clients ------------------------------------------------------


def websocket_url(server: Server) -> str:
    return server.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"


async def raw_socket(http: aiohttp.ClientSession, server: Server, address: str) -> aiohttp.ClientWebSocketResponse:
    """A websocket that completed the engine.io handshake (the server's open packet read)."""
    ws = await http.ws_connect(websocket_url(server), headers={"X-Forwarded-For": address})
    opened = await ws.receive(timeout=WAIT)
    assert opened.type == aiohttp.WSMsgType.TEXT and opened.data.startswith("0{"), opened
    return ws


async def raw_join(ws: aiohttp.ClientWebSocketResponse, auth: dict[str, Any] | None = None) -> str:
    """Connect the raw socket to ``/chat``; the server's answer packet (``40/chat,…`` when accepted)."""
    await ws.send_str("40/chat," + json.dumps(auth or {}))
    while True:
        packet = (await ws.receive(timeout=WAIT)).data
        if packet.startswith("4") and "/chat" in packet[:8]:  # skip pings ("2") and the welcome events
            return str(packet)


def polling_url(server: Server, sid: str) -> str:
    return f"{server.url}/socket.io/?EIO=4&transport=polling&sid={sid}"


async def polling_session(http: aiohttp.ClientSession, server: Server) -> str:
    """A long-polling engine.io session's id (its handshake done, no namespace joined)."""
    async with http.get(server.url + "/socket.io/?EIO=4&transport=polling") as response:
        return str(json.loads((await response.text())[1:])["sid"])


async def conversation_count(server: Server) -> int:
    return len(await server.app[STORE].conversations(None, 10_000))


# -- sockets per address --------------------------------------------------------


async def test_one_address_cannot_hold_more_than_its_sockets(make_server, callers) -> None:
    server = await make_server(max_connections_per_ip=5, trust_proxy=True)
    open_visitor, attempt = callers
    held = [await open_visitor(server.url, "10.0.0.1") for _ in range(5)]
    refused = [await attempt(server.url, "/chat", "10.0.0.1") for _ in range(FLOOD)]
    assert refused == ["too_many_connections"] * FLOOD
    _, token = await server.app[STORE].create_agent("Maria")
    assert await attempt(server.url, "/agent", "10.0.0.1", token=token) == "too_many_connections", "one count"
    await still_served(server, open_visitor, "10.0.0.2")
    await held[0].disconnect()
    await asyncio.sleep(0.2)  # the server sees the disconnect
    assert await attempt(server.url, "/chat", "10.0.0.1") is None, "a freed slot can be used again"


async def test_forwarded_for_is_ignored_unless_the_proxy_is_trusted(make_server, callers) -> None:
    server = await make_server(max_connections_per_ip=5, trust_proxy=False)
    open_visitor, attempt = callers
    for number in range(5):
        await open_visitor(server.url, f"10.0.1.{number}")
    assert await attempt(server.url, "/chat", "10.0.1.99") == "too_many_connections"


async def test_behind_the_proxy_only_the_hop_it_added_counts(make_server, callers) -> None:
    """A client can write anything into X-Forwarded-For; our proxy appends the real address last."""
    server = await make_server(max_connections_per_ip=5, trust_proxy=True)
    open_visitor, attempt = callers
    for number in range(5):
        await open_visitor(server.url, f"6.6.6.{number}, 10.0.2.1")
    assert await attempt(server.url, "/chat", "7.7.7.7, 10.0.2.1") == "too_many_connections"


async def test_reserved_event_names_neither_free_a_slot_nor_forge_an_address(make_server, callers) -> None:
    """A client that sends events named ``disconnect`` and ``connect`` (no library would) changes nothing."""
    server = await make_server(max_connections_per_ip=2, new_conversations_per_minute=2, trust_proxy=True)
    _, attempt = callers
    async with aiohttp.ClientSession() as http:
        sockets = [await raw_socket(http, server, "10.0.3.1") for _ in range(2)]
        for number, ws in enumerate(sockets):
            assert (await raw_join(ws)).startswith("40/chat,{\"sid\"")
            await ws.send_str('42/chat,["disconnect","transport close"]')
            await ws.send_str(f'42/chat,["connect",{{"REMOTE_ADDR":"forged-{number}"}},{{}}]')
            await ws.send_str('42/chat,1["disconnect"]')
        await asyncio.sleep(0.3)
        assert await conversation_count(server) == 2, "a forged connect started a conversation"
        assert await attempt(server.url, "/chat", "10.0.3.1") == "too_many_connections"
        for ws in sockets:
            await ws.close()


# -- packet size ----------------------------------------------------------------


async def test_an_oversized_packet_drops_only_that_socket(server: Server, callers) -> None:
    open_visitor, _ = callers
    bystander = await open_visitor(server.url, "127.0.0.1")
    packet = '42/chat,["message",' + json.dumps({"text": "x" * OVERSIZED}) + "]"
    async with aiohttp.ClientSession() as http:
        ws = await raw_socket(http, server, "127.0.0.1")
        await raw_join(ws)
        await ws.send_str(packet)
        while (message := await ws.receive(timeout=WAIT)).type == aiohttp.WSMsgType.TEXT:
            pass  # pings or welcome events sent before the server read the packet
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
        assert ws.close_code == aiohttp.WSCloseCode.MESSAGE_TOO_BIG
        # Long-polling: the same cap, checked before the body is read.
        sid = await polling_session(http, server)
        async with http.post(polling_url(server, sid), data="40/chat,{}\x1e" + packet) as response:
            assert response.status == 413
    assert bystander.sio.connected
    reply = await bystander.ask(QUESTION)
    assert reply["text"]
    assert (await server.get("/healthz"))[0] == 200


async def test_a_polling_post_the_session_cannot_use_is_answered_not_left_hanging(server, callers, monkeypatch) -> None:
    """A client may not send a ping ("2"); python-engineio then closes the session and would hold the request
    until a poll that never comes. Each such request must still be answered, so none holds a connection."""
    monkeypatch.setattr(web_safety, "SOCKETIO_POST_SECONDS", 1.0)
    open_visitor, _ = callers
    timeout = aiohttp.ClientTimeout(total=web_safety.SOCKETIO_POST_SECONDS + 3)

    async def broken_post(http: aiohttp.ClientSession) -> int:
        sid = await polling_session(http, server)
        async with http.post(polling_url(server, sid), data="2", timeout=timeout) as response:
            return response.status

    async with aiohttp.ClientSession() as http:
        statuses = await asyncio.gather(*(broken_post(http) for _ in range(FLOOD)))
    assert statuses == [400] * FLOOD
    await still_served(server, open_visitor, "127.0.0.1")


# -- new conversations, messages and contact details -----------------------------


async def test_new_conversations_per_address_are_limited(make_server, callers) -> None:
    server = await make_server(new_conversations_per_minute=3, trust_proxy=True)
    open_visitor, attempt = callers
    started = [await open_visitor(server.url, "10.0.4.1") for _ in range(3)]
    refused = [await attempt(server.url, "/chat", "10.0.4.1") for _ in range(FLOOD)]
    assert refused == ["rate_limited"] * FLOOD
    assert await conversation_count(server) == 3
    resumed = await open_visitor(server.url, "10.0.4.1", token=started[0].conversation["token"])
    assert resumed.conversation["id"] == started[0].conversation["id"], "resuming is not a new conversation"
    await still_served(server, open_visitor, "10.0.4.2")


async def test_a_message_flood_is_cut_at_the_burst(server: Server, callers) -> None:
    open_visitor, _ = callers
    flooder = await open_visitor(server.url, "127.0.0.1")
    acks = await asyncio.gather(*(flooder.say(f"flood {n}") for n in range(4 * FLOOD)))
    accepted = [a for a in acks if a["ok"]]
    assert 10 <= len(accepted) <= 12, len(accepted)  # the burst, plus what 2/s refills meanwhile
    assert {a["error"]["code"] for a in acks if not a["ok"]} == {"rate_limited"}
    stored = await server.app[STORE].messages(flooder.conversation["id"])
    assert len([m for m in stored if m.sender == "visitor"]) == len(accepted)
    await still_served(server, open_visitor, "127.0.0.1")


async def test_contact_details_are_rate_limited_like_messages(server: Server, callers) -> None:
    """Each ``contact`` stores a notice, so it spends the same allowance as a message."""
    open_visitor, _ = callers
    flooder = await open_visitor(server.url, "127.0.0.1")
    contact = {"name": "Ana", "email": "ana@example.com"}
    acks = await asyncio.gather(*(flooder.call("contact", contact) for _ in range(4 * FLOOD)))
    accepted = sum(a["ok"] for a in acks)
    assert 1 <= accepted <= 12, accepted
    assert {a["error"]["code"] for a in acks if not a["ok"]} == {"rate_limited"}
    stored = await server.app[STORE].messages(flooder.conversation["id"])
    assert len([m for m in stored if m.sender == "system"]) == accepted
    await still_served(server, open_visitor, "127.0.0.1")


# -- representatives' sign-in ----------------------------------------------------


async def test_failed_sign_ins_block_the_address_but_not_others(make_server, callers) -> None:
    server = await make_server(trust_proxy=True, failed_sign_ins_per_minute=5)
    _, attempt = callers
    _, token = await server.app[STORE].create_agent("Maria")
    failures = [await attempt(server.url, "/agent", "10.0.5.1", token=f"guess-{n}") for n in range(5)]
    assert failures == ["unauthorized"] * 5
    assert await attempt(server.url, "/agent", "10.0.5.1", token=token) == "rate_limited"
    blocked = [await attempt(server.url, "/agent", "10.0.5.1", token=f"guess-{n}") for n in range(FLOOD)]
    assert blocked == ["rate_limited"] * FLOOD, "a blocked address cannot even try"
    assert await attempt(server.url, "/agent", "10.0.5.2", token=token) is None
    assert await attempt(server.url, "/chat", "10.0.5.1") is None, "visitors from that address are still served"


async def admin_status(server: Server, address: str, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}", "X-Forwarded-For": address}
    async with aiohttp.ClientSession() as http, http.get(server.url + "/admin/stats", headers=headers) as response:
        if response.status == 429:
            body = await response.json()
            assert body["error"]["code"] == "rate_limited" and response.headers["Retry-After"] == "60", body
        return response.status


async def test_failed_admin_sign_ins_block_the_address_but_not_others(make_server, callers) -> None:
    """The admin token is guessed like a representative's: the same allowance, the same block, shared by both."""
    server = await make_server(trust_proxy=True, failed_sign_ins_per_minute=5)
    open_visitor, attempt = callers
    admin = server.settings.admin_token
    assert [await admin_status(server, "10.0.8.1", f"guess-{n}") for n in range(5)] == [401] * 5
    assert await admin_status(server, "10.0.8.1", admin) == 429, "blocked: even the right token waits"
    assert [await admin_status(server, "10.0.8.1", f"guess-{n}") for n in range(FLOOD)] == [429] * FLOOD
    _, token = await server.app[STORE].create_agent("Maria")
    assert await attempt(server.url, "/agent", "10.0.8.1", token=token) == "rate_limited", "one block for both"
    assert await admin_status(server, "10.0.8.2", admin) == 200
    await still_served(server, open_visitor, "10.0.8.1")


# -- several processes sharing Redis --------------------------------------------


async def test_with_redis_the_limits_hold_across_processes(make_server, callers, pg_url, redis_url) -> None:
    """Two processes (one database, one Redis): a conversation's messages and an address's new conversations
    have one allowance, whichever process each socket reaches."""
    shared = {"database_url": pg_url, "redis_url": redis_url, "redis_prefix": redis_prefix(), "trust_proxy": True,
              "new_conversations_per_minute": 3}
    servers = [await make_server(**shared) for _ in range(2)]
    open_visitor, attempt = callers
    started = [await open_visitor(servers[n % 2].url, "10.0.9.1") for n in range(3)]
    assert [await attempt(servers[n % 2].url, "/chat", "10.0.9.1") for n in range(FLOOD)] == ["rate_limited"] * FLOOD
    other_tab = await open_visitor(servers[1].url, "10.0.9.1", token=started[0].conversation["token"])
    tabs = (started[0], other_tab)  # one conversation, one tab on each process
    acks = await asyncio.gather(*(tab.say(f"flood {n}") for n in range(2 * FLOOD) for tab in tabs))
    accepted = [a for a in acks if a["ok"]]
    assert 10 <= len(accepted) <= 12, len(accepted)  # one bucket, not one per process
    assert {a["error"]["code"] for a in acks if not a["ok"]} == {"rate_limited"}
    stored = await servers[0].app[STORE].messages(started[0].conversation["id"])
    assert len([m for m in stored if m.sender == "visitor"]) == len(accepted)
    for server in servers:
        await still_served(server, open_visitor, "10.0.9.2")


# -- clients that stop answering or reading -------------------------------------


def _frame(text: str) -> bytes:
    """A masked websocket text frame (RFC 6455), as a client must send it."""
    data, mask = text.encode(), os.urandom(4)
    length = len(data)
    header = bytes([0x81, 0x80 | length]) if length < 126 else bytes([0x81, 0x80 | 126]) + length.to_bytes(2, "big")
    return header + mask + bytes(byte ^ mask[i % 4] for i, byte in enumerate(data))


async def stuck_client(server: Server, address: str, auth: dict[str, Any]) -> asyncio.StreamWriter:
    """A websocket client with a tiny receive buffer that joins ``/chat`` and then never reads nor answers."""
    url = urlsplit(server.url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (url.hostname, url.port))
    reader, writer = await asyncio.open_connection(sock=sock)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {url.netloc}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"X-Forwarded-For: {address}\r\n\r\n".encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101"), head
    writer.write(_frame("40/chat," + json.dumps(auth)))
    await writer.drain()
    return writer


async def test_a_client_that_stops_reading_and_answering_is_dropped(make_server, callers) -> None:
    """Engine.IO pings every ``ping_interval``; a socket silent for ``ping_interval + ping_timeout`` is closed,
    and with it its slot and its queue of unsent events, even while events for it keep coming."""
    server = await make_server(max_connections_per_ip=1, trust_proxy=True, rate_burst=1000)
    engine = server.app[SIO].eio
    engine.ping_interval, engine.ping_timeout = 1.0, 1.0  # production: 25 s + 20 s (python-engineio's defaults)
    open_visitor, attempt = callers
    visitor = await open_visitor(server.url, "10.0.6.1")
    writer = await stuck_client(server, "10.0.6.66", {"token": visitor.conversation["token"]})
    await asyncio.sleep(0.2)
    assert await attempt(server.url, "/chat", "10.0.6.66") == "too_many_connections", "the stuck client holds its slot"
    started = asyncio.get_running_loop().time()
    for number in range(40):  # the conversation goes on: every message goes to the stuck tab too
        assert (await visitor.say(f"{number} " + "x" * 1900))["ok"]
    while await attempt(server.url, "/chat", "10.0.6.66") is not None:
        assert asyncio.get_running_loop().time() - started < 8, "the stuck client was never dropped"
        await asyncio.sleep(0.2)
    assert sum(not s.closed for s in engine.sockets.values()) == 2, "left: the visitor and the last attempt"
    assert visitor.sio.connected, "the visitor who answers pings stays"
    assert (await visitor.ask(QUESTION))["text"]
    writer.close()
