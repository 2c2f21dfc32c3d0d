"""Nothing acked is lost: 200 visitors, 2,000 messages with retries, PostgreSQL restarted and a process SIGKILLed.

Both faults come while the visitors are still sending (the test checks it): 200 visitors at once keep both
processes' commit batches full, and 10 messages each are enough traffic around each fault.
"""

from __future__ import annotations

import asyncio
import itertools
import signal
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import pytest
import socketio

from tests.pgcluster import ThrowawayPostgres
from tests.processes import ServerProcess, redis_prefix

VISITORS = 200
MESSAGES_EACH = 10


@dataclass
class RetryingVisitor:
    """Sends its messages in order, each until acked, reconnecting (to either process) by token on any failure."""

    number: int
    urls: list[str]
    token: str | None = None
    acked: list[tuple[str, str]] = field(default_factory=list)  # (client_id, message id)
    retries: int = 0
    client: socketio.AsyncClient | None = None

    async def _connect(self, attempt: int) -> None:
        if self.client is not None:
            await self.client.disconnect()
        self.client = socketio.AsyncClient(reconnection=False)
        opened: asyncio.Future[dict] = asyncio.get_running_loop().create_future()
        self.client.on("conversation", lambda data: opened.done() or opened.set_result(data), namespace="/chat")
        url = self.urls[(self.number + attempt) % len(self.urls)]
        auth = {"token": self.token} if self.token else {}
        await self.client.connect(url, namespaces=["/chat"], auth=auth, transports=["websocket"], wait_timeout=3)
        conversation = await asyncio.wait_for(opened, 3)
        self.token = conversation["token"]

    async def run(self) -> None:
        attempt = 0
        for index in range(MESSAGES_EACH):
            client_id = f"v{self.number}-m{index}"
            while True:
                try:
                    if self.client is None or not self.client.connected:
                        await self._connect(attempt)
                    ack = await self.client.call(
                        "message",
                        {"text": f"question {index} about heat", "client_id": client_id},
                        namespace="/chat",
                        timeout=4,
                    )
                    if ack.get("ok"):
                        self.acked.append((client_id, ack["message"]["id"]))
                        break
                    assert ack["error"]["code"] in {"unavailable", "rate_limited", "internal"}, ack
                except (TimeoutError, socketio.exceptions.SocketIOError, OSError):
                    if self.client is not None:
                        await self.client.disconnect()
                    self.client = None
                self.retries += 1
                attempt += 1
                await asyncio.sleep(0.2)
        if self.client is not None:
            await self.client.disconnect()


async def stored_visitor_messages(pg: ThrowawayPostgres) -> dict[str, list[tuple[str, str]]]:
    connection = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{pg.port}/postgres")
    try:
        rows = await connection.fetch(
            "SELECT conversation_id, client_id, id FROM messages WHERE sender = 'visitor' ORDER BY seq"
        )
    finally:
        await connection.close()
    by_conversation: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        by_conversation.setdefault(row["conversation_id"], []).append((row["client_id"], row["id"]))
    return by_conversation


async def history_of(url: str, token: str) -> list[tuple[str, str]]:
    client = socketio.AsyncClient(reconnection=False)
    opened: asyncio.Future[dict] = asyncio.get_running_loop().create_future()
    client.on("conversation", lambda data: opened.done() or opened.set_result(data), namespace="/chat")
    await client.connect(url, namespaces=["/chat"], auth={"token": token}, transports=["websocket"], wait_timeout=5)
    conversation = await asyncio.wait_for(opened, 5)
    await client.disconnect()
    return [(m["client_id"], m["id"]) for m in conversation["messages"] if m["sender"] == "visitor"]


@dataclass
class Fault:
    """What was done to the system, and how many messages had been acked by then."""

    what: str
    acked: int


async def chaos(a: ServerProcess, pg: ThrowawayPostgres, visitors: list[RetryingVisitor]) -> list[Fault]:
    """Restart PostgreSQL once a third of the messages are in; SIGKILL process A at two thirds, then start it again.

    Neither fault waits for the other to be over, so both come while the visitors are still sending.
    """
    done = lambda: sum(len(v.acked) for v in visitors)  # noqa: E731
    total = VISITORS * MESSAGES_EACH
    faults = []
    while done() < total // 3:
        await asyncio.sleep(0.05)
    await asyncio.to_thread(pg.stop)
    faults.append(Fault("PostgreSQL stopped", done()))
    await asyncio.sleep(1.0)
    await asyncio.to_thread(pg.start)
    faults.append(Fault("PostgreSQL started", done()))
    while done() < 2 * total // 3:
        await asyncio.sleep(0.05)
    a.signal(signal.SIGKILL)
    await a.wait(timeout=10)
    faults.append(Fault("SIGKILL process A", done()))
    a.start()
    await a.ready()
    faults.append(Fault("process A back", done()))
    return faults


# 2,000 messages through a database restart and a SIGKILL: ~15 s idle, a few minutes on a busy machine
@pytest.mark.slow
@pytest.mark.timeout(560)
async def test_nothing_acked_is_lost_through_sigkill_and_database_restart(
    throwaway_pg: ThrowawayPostgres, redis_url: str, tmp_path: Path
) -> None:
    env = {
        "CHATBOT_DATABASE_URL": throwaway_pg.url,
        "CHATBOT_REDIS_URL": redis_url,
        "CHATBOT_REDIS_PREFIX": redis_prefix(),
        "CHATBOT_TRANSCRIPTS_DIR": str(tmp_path / "transcripts"),
        "CHATBOT_RATE_BURST": "1000",
        "CHATBOT_RATE_PER_SECOND": "1000",
        "CHATBOT_LOG_LEVEL": "WARNING",
        "CHATBOT_MAX_CONNECTIONS_PER_IP": "1000",
        "CHATBOT_NEW_CONVERSATIONS_PER_MINUTE": "100000",
    }
    a, b = ServerProcess(env, tmp_path).start(), ServerProcess(env, tmp_path).start()
    try:
        await asyncio.gather(a.ready(), b.ready())
        visitors = [RetryingVisitor(n, [a.url, b.url]) for n in range(VISITORS)]
        chaos_task = asyncio.create_task(chaos(a, throwaway_pg, visitors))
        await asyncio.wait_for(asyncio.gather(*(v.run() for v in visitors)), timeout=480)
        faults = await asyncio.wait_for(chaos_task, timeout=120)  # process A may still be starting

        stored = await stored_visitor_messages(throwaway_pg)
        acked_total = sum(len(v.acked) for v in visitors)
        assert acked_total == VISITORS * MESSAGES_EACH
        assert all(fault.acked < acked_total for fault in faults[:3]), f"a fault after the last message: {faults}"
        assert sum(len(rows) for rows in stored.values()) == acked_total, "each acked message stored exactly once"
        assert sorted(stored.values()) == sorted(v.acked for v in visitors), "in order, per conversation"
        for visitor in itertools.islice(visitors, 0, VISITORS, 10):
            assert await history_of(b.url, visitor.token) == visitor.acked
        print(f"\nfault test: {acked_total} acked, {sum(v.retries for v in visitors)} retries; "
              + "; ".join(f"{fault.what} at {fault.acked} acked" for fault in faults))
    finally:
        a.stop()
        b.stop()
