"""Several server processes on PostgreSQL + Redis: events cross processes, takes stay exactly-once."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
import socketio

from tests.conftest import WAIT, Representative, Visitor, fresh_database, shared_redis
from tests.processes import ServerProcess, redis_prefix

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow, pytest.mark.xdist_group("cluster")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cluster_env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[dict[str, str]]:
    """One database and Redis prefix for the module: each test signs in its own people, under its own names."""
    async with fresh_database() as url:
        yield {
            "CHATBOT_DATABASE_URL": url,
            "CHATBOT_REDIS_URL": await shared_redis(),
            "CHATBOT_REDIS_PREFIX": redis_prefix(),
            "CHATBOT_TRANSCRIPTS_DIR": str(tmp_path_factory.mktemp("cluster") / "transcripts"),
            "CHATBOT_LOG_LEVEL": "WARNING",
            "CHATBOT_MAX_CONNECTIONS_PER_IP": "1000",
            "CHATBOT_NEW_CONVERSATIONS_PER_MINUTE": "100000",
        }


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def two_servers(cluster_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory):
    """Two processes shared by the module's tests: starting one builds the whole bot, the cost of these tests."""
    servers = [ServerProcess(cluster_env, tmp_path_factory.mktemp("servers")).start() for _ in range(2)]
    try:
        await asyncio.gather(*(s.ready() for s in servers))
        yield servers
    finally:
        for server in servers:
            server.stop()


async def add_representative(database_url: str, name: str) -> str:
    from chatbot.store import Store

    store = Store(database_url)
    try:
        _, token = await store.create_agent(name)
    finally:
        await store.close()
    return token


async def test_visitor_on_one_process_representative_on_the_other(two_servers, cluster_env) -> None:
    a, b = two_servers
    token = await add_representative(cluster_env["CHATBOT_DATABASE_URL"], "Maria")
    maria = await Representative("Maria", token).sign_in(b.url)
    visitor = await Visitor().open(a.url)
    try:
        await visitor.say("I want to talk to a person")
        state = await visitor.next("state", lambda s: s["state"] == "queued")
        assert state["agents_online"] == 1, "presence is shared through Redis"
        cid = visitor.conversation["id"]
        await maria.next("queue", lambda q: any(c["id"] == cid for c in q))
        assert (await maria.take(cid))["ok"]
        await visitor.next("state", lambda s: s["state"] == "agent")
        await maria.say(cid, "Hi, this is Maria")
        assert (await visitor.next("message", lambda m: m["sender"] == "agent"))["text"] == "Hi, this is Maria"
        await visitor.say("thanks Maria")
        heard = await maria.next("message", lambda m: m["sender"] == "visitor" and m["text"] == "thanks Maria")
        assert heard["conversation_id"] == cid
    finally:
        await visitor.disconnect()
        await maria.disconnect()


async def test_twenty_representatives_on_two_processes_race_exactly_one_wins(two_servers, cluster_env) -> None:
    servers = two_servers
    reps = []
    for i in range(20):
        token = await add_representative(cluster_env["CHATBOT_DATABASE_URL"], f"Rep {i}")
        reps.append(await Representative(f"Rep {i}", token).sign_in(servers[i % 2].url))
    try:
        for round_number in range(50):
            visitor = await Visitor().open(servers[round_number % 2].url)
            acks = await asyncio.gather(*(rep.take(visitor.conversation["id"]) for rep in reps))
            assert sum(a["ok"] for a in acks) == 1, acks
            assert {a["error"]["code"] for a in acks if not a["ok"]} == {"taken"}
            await visitor.call("close", {})
            await visitor.disconnect()
    finally:
        for rep in reps:
            await rep.disconnect()


async def test_rate_limit_is_shared_across_processes(two_servers) -> None:
    a, b = two_servers
    first = await Visitor().open(a.url)
    second = await Visitor().open(b.url, token=first.conversation["token"])
    try:
        acks = await asyncio.gather(*(tab.say(f"hello {i}") for i in range(12) for tab in (first, second)))
        assert sum(a["ok"] for a in acks) <= 12, "one bucket for the conversation, not one per process"
        assert any(not a["ok"] and a["error"]["code"] == "rate_limited" for a in acks)
    finally:
        await first.disconnect()
        await second.disconnect()


async def test_workers_share_one_port_and_stop_on_sigterm(cluster_env, tmp_path: Path) -> None:
    supervisor = ServerProcess(cluster_env, tmp_path, extra=["--workers", "2"]).start()
    try:
        await supervisor.ready()
        pids = set()
        deadline = asyncio.get_running_loop().time() + 30  # the second worker may still be loading its intents
        while len(pids) < 2 and asyncio.get_running_loop().time() < deadline:
            async with aiohttp.ClientSession() as http, http.get(supervisor.url + "/healthz") as response:
                pids.add((await response.json())["pid"])
            await asyncio.sleep(0.05)
        assert len(pids) == 2, "both workers answer on the one port"
        visitor = await Visitor().open(supervisor.url)
        assert (await visitor.ask("hello"))["intent"] == "greeting"
        await visitor.disconnect()
        started = time.monotonic()
        supervisor.signal(signal.SIGTERM)
        assert await supervisor.wait(timeout=15) == 0
        assert time.monotonic() - started < 10
    finally:
        supervisor.stop()


async def test_sigterm_tells_clients_to_reconnect_and_exits_quickly(cluster_env, tmp_path: Path) -> None:
    server = await ServerProcess(cluster_env, tmp_path).start().ready()
    client = socketio.AsyncClient(reconnection=False)
    reasons: list[str] = []
    client.on("disconnect", lambda *reason: reasons.append(str(reason)), namespace="/chat")
    await client.connect(server.url, namespaces=["/chat"], transports=["websocket"], wait_timeout=WAIT)
    started = time.monotonic()
    server.signal(signal.SIGTERM)
    assert await server.wait(timeout=15) == 0
    assert time.monotonic() - started < 10
    await asyncio.sleep(0.2)
    assert reasons and "server disconnect" not in reasons[0], reasons  # a transport close: clients reconnect
    await client.disconnect()


async def test_a_disabled_users_consoles_drop_at_once_and_agents_leave_a_conversation_another_takes(
        two_servers, cluster_env) -> None:
    """Staff consoles on two processes: the agent watching a queued conversation on one is taken out of it when an
    agent on the other takes it; `chatbot users disable` (its own process) drops that agent's console on the other
    server at once, without waiting for the console to send anything."""
    from chatbot.store import Store
    from tests.test_staff_sessions import Console, password_hash, signed_in

    a, b = two_servers
    store = Store(cluster_env["CHATBOT_DATABASE_URL"])
    try:
        for email, name in (("ana@clinic.example", "Ana"), ("bo@clinic.example", "Bo")):
            await store.create_user(email, name, "agent", password_hash())
    finally:
        await store.close()
    ana = await Console().open(a.url, await signed_in(a, "ana@clinic.example"))
    bo = await Console().open(b.url, await signed_in(b, "bo@clinic.example"))
    visitor = await Visitor().open(a.url)
    try:
        await visitor.ask("I want to talk to a person")
        cid = visitor.conversation["id"]
        assert (await ana.call("watch", {"conversation_id": cid}))["ok"]
        assert (await bo.call("take", {"conversation_id": cid}))["ok"]
        assert await ana.next("unwatched", lambda e: e["conversation_id"] == cid) == {"conversation_id": cid,
                                                                                     "reason": "taken"}
        await visitor.say("only for Bo")
        await bo.next("message", lambda m: m["text"] == "only for Bo")
        assert (await bo.call("message", {"conversation_id": cid, "text": "Bo here"}))["ok"]
        await visitor.next("message", lambda m: m["text"] == "Bo here")
        assert not ana.received("message", lambda m: m["text"] in ("only for Bo", "Bo here"))

        database = ["--database-url", cluster_env["CHATBOT_DATABASE_URL"], "--redis-url",
                    cluster_env["CHATBOT_REDIS_URL"], "--redis-prefix", cluster_env["CHATBOT_REDIS_PREFIX"]]
        done = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "chatbot", "users", "disable",
                                                         "bo@clinic.example", *database], capture_output=True)
        assert done.returncode == 0, done.stderr
        for _ in range(50):
            if not bo.sio.connected:
                break
            await asyncio.sleep(0.1)
        assert not bo.sio.connected, "the disabled user's console was dropped by the other process"
        assert ana.sio.connected
    finally:
        for client in (visitor, ana, bo):
            await client.disconnect()
