"""Auto-assignment: offers to the least-busy representative, expiry, decline, exactly one offer across processes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from chatbot.chat.keys import STORE
from tests.conftest import Representative, Server, Visitor
from tests.processes import ServerProcess, redis_prefix


async def waiting(server_url: str, visitors) -> Visitor:
    visitor = await visitors(server_url)
    await visitor.say("I want to talk to a person")
    await visitor.next("state", lambda s: s["state"] == "queued")
    return visitor


@pytest.fixture
async def auto_server(make_server) -> Server:
    return await make_server(routing="auto", offer_seconds=0.8)


async def test_offer_goes_to_the_representative_with_fewest_open_conversations(
    auto_server, visitors, representatives
) -> None:
    ana = await representatives(auto_server, "Ana")
    busy = await waiting(auto_server.url, visitors)
    first = await ana.next("offer", lambda o: o["conversation_id"] == busy.conversation["id"])
    assert (await ana.call("accept", {"conversation_id": first["conversation_id"]}))["ok"]
    ben = await representatives(auto_server, "Ben")
    visitor = await waiting(auto_server.url, visitors)
    offer = await ben.next("offer", lambda o: o["conversation_id"] == visitor.conversation["id"])
    assert offer["conversation"]["state"] == "queued" and "token" not in offer["conversation"]
    ack = await ben.call("accept", {"conversation_id": visitor.conversation["id"]})
    assert ack["ok"] and ack["conversation"]["agent"]["name"] == "Ben"
    state = await visitor.next("state", lambda s: s["state"] == "agent")
    assert state["reason"] == "assigned" and state["agent"]["name"] == "Ben"
    taken = [row for row in await auto_server.app[STORE].audit_rows() if row.action == "conversation_taken"]
    assert (taken[0].target, taken[0].address) == (visitor.conversation["id"], "127.0.0.1")  # newest first
    assert not ana.received("offer", lambda o: o["conversation_id"] == visitor.conversation["id"])


async def test_an_unanswered_offer_passes_to_the_next_representative(auto_server, visitors, representatives) -> None:
    ana = await representatives(auto_server, "Ana")
    ben = await representatives(auto_server, "Ben")
    visitor = await waiting(auto_server.url, visitors)
    cid = visitor.conversation["id"]
    first_offer = await asyncio.wait(
        [asyncio.create_task(rep.next("offer", lambda o: o["conversation_id"] == cid)) for rep in (ana, ben)],
        return_when=asyncio.FIRST_COMPLETED,
    )
    first = ana if ana.received("offer") else ben
    second = ben if first is ana else ana
    for task in first_offer[1]:
        task.cancel()
    await second.next("offer", lambda o: o["conversation_id"] == cid, timeout=4)
    await first.next("offer_withdrawn", lambda o: o["conversation_id"] == cid)
    assert (await first.call("accept", {"conversation_id": cid}))["error"]["code"] == "offer_expired"
    assert (await second.call("accept", {"conversation_id": cid}))["ok"]


async def test_a_declined_offer_goes_to_someone_else_at_once(make_server, visitors, representatives) -> None:
    server = await make_server(routing="auto", offer_seconds=30)
    ana = await representatives(server, "Ana")
    ben = await representatives(server, "Ben")
    visitor = await waiting(server.url, visitors)
    cid = visitor.conversation["id"]
    await asyncio.sleep(1.5)
    offered = ana if ana.received("offer") else ben
    other = ben if offered is ana else ana
    assert len(offered.received("offer")) == 1 and not other.received("offer")
    assert (await offered.call("decline", {"conversation_id": cid}))["ok"]
    await other.next("offer", lambda o: o["conversation_id"] == cid, timeout=3)
    assert (await offered.call("decline", {"conversation_id": cid}))["error"]["code"] == "offer_expired"


async def test_accept_without_auto_routing_is_refused(server: Server, visitors, representatives) -> None:
    ana = await representatives(server, "Ana")
    visitor = await waiting(server.url, visitors)
    ack = await ana.call("accept", {"conversation_id": visitor.conversation["id"]})
    assert ack["error"]["code"] == "routing_off"


@pytest.mark.slow
async def test_auto_assignment_over_two_processes_offers_once(pg_url: str, redis_url: str, tmp_path: Path) -> None:
    env = {
        "CHATBOT_DATABASE_URL": pg_url,
        "CHATBOT_REDIS_URL": redis_url,
        "CHATBOT_REDIS_PREFIX": redis_prefix(),
        "CHATBOT_ROUTING": "auto",
        "CHATBOT_OFFER_SECONDS": "30",
        "CHATBOT_LOG_LEVEL": "WARNING",
        "CHATBOT_TRANSCRIPTS_DIR": str(tmp_path / "transcripts"),
        "CHATBOT_MAX_CONNECTIONS_PER_IP": "1000",
        "CHATBOT_NEW_CONVERSATIONS_PER_MINUTE": "100000",
    }
    servers = [ServerProcess(env, tmp_path).start() for _ in range(2)]
    reps: list[Representative] = []
    try:
        await asyncio.gather(*(s.ready() for s in servers))
        from chatbot.store import Store

        store = Store(pg_url)
        for index, name in enumerate(["Ana", "Ben", "Cy", "Di"]):
            _, token = await store.create_agent(name)
            reps.append(await Representative(name, token).sign_in(servers[index % 2].url))
        await store.close()
        for round_number in range(6):
            visitor = await Visitor().open(servers[round_number % 2].url)
            await visitor.say("I want to talk to a person")
            cid = visitor.conversation["id"]
            offered = await asyncio.wait_for(_first_offer(reps, cid), timeout=5)
            await asyncio.sleep(1.2)  # both processes have routed at least once more
            offers = [rep for rep in reps if rep.received("offer", lambda o, cid=cid: o["conversation_id"] == cid)]
            assert offers == [offered], "exactly one live offer, across both processes"
            assert (await offered.call("accept", {"conversation_id": cid}))["ok"]
            await visitor.disconnect()
        held = [sum(1 for o in rep.received("offer")) for rep in reps]
        assert max(held) - min(held) <= 1, f"spread by fewest open conversations: {held}"
    finally:
        for rep in reps:
            await rep.disconnect()
        for server in servers:
            server.stop()


async def _first_offer(reps: list[Representative], cid: str) -> Representative:
    while True:
        for rep in reps:
            if rep.received("offer", lambda o: o["conversation_id"] == cid):
                return rep
        await asyncio.sleep(0.02)
