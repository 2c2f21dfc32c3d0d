"""The representatives' side (namespace /agent), end to end with real visitors and consoles."""

from __future__ import annotations

import asyncio

import pytest
import socketio

from tests.conftest import WAIT, Representative, Server, Visitor


async def queued_visitor(server: Server, visitors, text: str = "I want to talk to a person") -> Visitor:
    visitor = await visitors(server.url)
    await visitor.say(text)
    await visitor.next("state", lambda s: s["state"] == "queued")
    return visitor


async def test_connect_without_a_valid_token_is_refused(server: Server) -> None:
    for auth in [{}, {"token": "wrong"}, {"token": 5}, {"token": "x" * 500}]:
        client = socketio.AsyncClient(reconnection=False)
        received: list[str] = []
        errors: list[dict] = []
        client.on("*", lambda event, data=None, seen=received: seen.append(event), namespace="/agent")
        client.on("connect_error", errors.append, namespace="/agent")
        with pytest.raises(socketio.exceptions.ConnectionError):
            await client.connect(
                server.url, namespaces=["/agent"], auth=auth, transports=["websocket"], wait_timeout=WAIT
            )
        assert errors and errors[0]["code"] == "unauthorized", errors
        await asyncio.sleep(0.1)
        assert received == []
        await client.disconnect()


async def test_handoff_take_and_messages_both_ways(server: Server, visitors, representatives) -> None:
    maria = await representatives(server, "Maria")
    visitor = await queued_visitor(server, visitors)
    cid = visitor.conversation["id"]
    queue = await maria.next("queue", lambda q: any(c["id"] == cid for c in q))
    summary = next(c for c in queue if c["id"] == cid)
    assert summary["state"] == "queued" and summary["waiting_since"] and "token" not in summary
    ack = await maria.take(cid)
    assert ack["ok"] and ack["conversation"]["state"] == "agent"
    assert "token" not in ack["conversation"]
    state = await visitor.next("state", lambda s: s["state"] == "agent")
    assert state["agent"]["name"] == "Maria" and state["reason"] == "assigned"
    joined = await visitor.next("message", lambda m: m["sender"] == "system" and "Maria" in m["text"])
    assert "has joined" in joined["text"]
    sent = await maria.say(cid, "Hello, I'm Maria. How can I help?", client_id="m-1")
    assert sent["ok"] and sent["message"]["agent"]["name"] == "Maria"
    got = await visitor.next("message", lambda m: m["sender"] == "agent")
    assert got["text"] == "Hello, I'm Maria. How can I help?"
    await visitor.say("my neck hurts when I sit")
    heard = await maria.next("message", lambda m: m["sender"] == "visitor" and m["text"] == "my neck hurts when I sit")
    assert heard["conversation_id"] == cid
    await asyncio.sleep(0.2)
    after_join = visitor.received("message", lambda m: m["created_at"] > joined["created_at"])
    assert "bot" not in {m["sender"] for m in after_join}, "the bot spoke after the take"
    again = await maria.say(cid, "Hello, I'm Maria. How can I help?", client_id="m-1")
    assert again["message"]["id"] == sent["message"]["id"]


async def test_representative_can_take_straight_from_bot(server: Server, visitors, representatives) -> None:
    maria = await representatives(server, "Maria")
    visitor = await visitors(server.url)
    await visitor.ask("hello")
    ack = await maria.take(visitor.conversation["id"])
    assert ack["ok"]
    state = await visitor.next("state", lambda s: s["state"] == "agent")
    assert state["reason"] == "takeover"
    await visitor.say("does heat help?")
    await asyncio.sleep(0.3)
    assert not visitor.received("message", lambda m: m["sender"] == "bot" and m.get("intent") == "heat_therapy")


async def test_errors_not_assigned_not_found_closed_bad_request(server: Server, visitors, representatives) -> None:
    maria = await representatives(server, "Maria")
    ana = await representatives(server, "Ana")
    visitor = await queued_visitor(server, visitors)
    cid = visitor.conversation["id"]
    assert (await ana.say(cid, "hi"))["error"]["code"] == "not_assigned"
    assert (await maria.take("0" * 32))["error"]["code"] == "not_found"
    assert (await maria.call("take", {}))["error"]["code"] == "bad_request"
    assert (await maria.call("take", "nope"))["error"]["code"] == "bad_request"
    assert (await maria.call("conversations", {"limit": 0}))["error"]["code"] == "bad_request"
    assert (await maria.take(cid))["ok"]
    assert (await ana.take(cid))["error"]["code"] == "taken"
    assert (await ana.call("release", {"conversation_id": cid}))["error"]["code"] == "not_assigned"
    assert (await ana.call("close", {"conversation_id": cid}))["error"]["code"] == "not_assigned"
    assert (await maria.say(cid, ""))["error"]["code"] == "empty"
    assert (await maria.call("close", {"conversation_id": cid}))["ok"]
    assert (await ana.take(cid))["error"]["code"] == "closed"
    assert (await maria.say(cid, "still there?"))["error"]["code"] == "closed"


async def test_release_returns_it_to_the_queue_and_visitor_closes(server: Server, visitors, representatives) -> None:
    maria = await representatives(server, "Maria")
    visitor = await queued_visitor(server, visitors)
    cid = visitor.conversation["id"]
    await maria.take(cid)
    assert (await maria.call("release", {"conversation_id": cid}))["ok"]
    state = await visitor.next("state", lambda s: s["state"] == "queued" and s.get("reason") == "released")
    assert state["queue_position"] == 1
    await maria.next("queue", lambda q: any(c["id"] == cid for c in q))
    assert (await maria.take(cid))["ok"]
    assert (await visitor.call("close", {}))["ok"]
    closed = await maria.next("state", lambda s: s["state"] == "closed")
    assert closed["reason"] == "closed_by_visitor"


async def test_watch_follows_without_taking_and_sees_typing(server: Server, visitors, representatives) -> None:
    maria = await representatives(server, "Maria")
    visitor = await visitors(server.url)
    cid = visitor.conversation["id"]
    ack = await maria.call("watch", {"conversation_id": cid})
    assert ack["ok"] and ack["conversation"]["state"] == "bot" and "token" not in ack["conversation"]
    await visitor.ask("what is a bone spur?")
    bot = await maria.next("message", lambda m: m["sender"] == "bot")
    assert bot["intent"] == "bone_spurs"
    await visitor.call("typing", {"typing": True})
    typing = await maria.next("typing")
    assert typing == {"conversation_id": cid, "sender": "visitor", "typing": True}
    suggestion = await maria.next("suggestions")
    assert suggestion["conversation_id"] == cid
    assert suggestion["suggestions"][0]["intent"] == "bone_spurs" and suggestion["suggestions"][0]["text"]
    assert len(suggestion["suggestions"]) <= 3


async def test_visitor_sees_representative_typing(server: Server, visitors, representatives) -> None:
    maria = await representatives(server, "Maria")
    visitor = await queued_visitor(server, visitors)
    await maria.take(visitor.conversation["id"])
    assert (await maria.call("typing", {"conversation_id": visitor.conversation["id"], "typing": True}))["ok"]
    typing = await visitor.next("typing")
    assert typing["sender"] == "agent" and typing["typing"] is True


async def test_capacity_limits_takes(make_server, visitors, representatives) -> None:
    server = await make_server(agent_capacity=2)
    maria = await representatives(server, "Maria")
    waiting = [await queued_visitor(server, visitors) for _ in range(3)]
    assert (await maria.take(waiting[0].conversation["id"]))["ok"]
    assert (await maria.take(waiting[1].conversation["id"]))["ok"]
    assert (await maria.take(waiting[2].conversation["id"]))["error"]["code"] == "at_capacity"


async def test_queue_positions_move_and_agents_online_is_right(server: Server, visitors, representatives) -> None:
    first = await queued_visitor(server, visitors)
    second = await queued_visitor(server, visitors)
    state = second.received("state")[-1]
    assert state["queue_position"] == 2 and state["agents_online"] == 0
    maria = await representatives(server, "Maria")
    online = await second.next("state", lambda s: s["agents_online"] == 1)
    assert online["queue_position"] == 2
    await maria.take(first.conversation["id"])
    moved = await second.next("state", lambda s: s.get("queue_position") == 1)
    assert moved["agents_online"] == 1
    await maria.disconnect()
    await second.next("state", lambda s: s["agents_online"] == 0)


async def test_a_handoff_tells_the_visitor_their_place_once(server: Server, visitors) -> None:
    first = await queued_visitor(server, visitors)
    second = await queued_visitor(server, visitors)
    await second.next("message", lambda m: m["sender"] == "system")
    await asyncio.sleep(0.3)  # the queue update that follows the notice would come now
    assert [s["queue_position"] for s in second.received("state")] == [2]
    assert [s["queue_position"] for s in first.received("state")] == [1], "a newcomer behind moves nobody"


async def test_grace_period_keeps_then_releases(make_server, visitors, representatives) -> None:
    server = await make_server(agent_grace_seconds=0.5)
    maria = await representatives(server, "Maria")
    kept = await queued_visitor(server, visitors)
    await maria.take(kept.conversation["id"])
    await maria.disconnect()
    back = Representative("Maria", maria.token)
    await back.sign_in(server.url)
    await asyncio.sleep(0.8)
    assert (await back.say(kept.conversation["id"], "still here"))["ok"], "reconnect within grace keeps it"
    await back.disconnect()
    state = await kept.next("state", lambda s: s["state"] == "queued" and s.get("reason") == "released", timeout=3)
    assert state["queue_position"] == 1


async def test_idle_conversations_close_and_write_a_transcript(make_server, visitors) -> None:
    server = await make_server(idle_bot_seconds=0.4, idle_seconds=0.6)
    chatting = await visitors(server.url)
    await chatting.ask("hello")
    waiting = await queued_visitor(server, visitors)
    for visitor in (chatting, waiting):
        state = await visitor.next("state", lambda s: s["state"] == "closed", timeout=4)
        assert state["reason"] == "idle"
        assert (server.settings.transcripts_dir / f"{visitor.conversation['id']}.txt").exists()


async def test_offline_contact_is_validated_stored_and_shown_in_queue(
    server: Server, visitors, representatives
) -> None:
    visitor = await queued_visitor(server, visitors)
    bad = [
        {},
        {"name": "Ann"},
        {"name": "Ann", "email": "not-an-email"},
        {"name": "Ann", "phone": "12"},
        {"name": "", "email": "a@b.co"},
        "x",
    ]
    for body in bad:
        assert (await visitor.call("contact", body))["error"]["code"] == "bad_request", body
    assert (await visitor.call("contact", {"name": "Ann", "email": "ann@example.org", "phone": "+1 555 0100"}))["ok"]
    thanks = await visitor.next("message", lambda m: m["sender"] == "system" and "Ann" in m["text"])
    assert "contact" in thanks["text"]
    maria = await representatives(server, "Maria")
    queue = maria.received("queue")[-1]
    entry = next(c for c in queue if c["id"] == visitor.conversation["id"])
    assert entry["contact"] == {"name": "Ann", "email": "ann@example.org", "phone": "+1 555 0100"}


async def test_twenty_representatives_racing_to_take_exactly_one_wins(
    server: Server, visitors, representatives
) -> None:
    reps = [await representatives(server, f"Rep {i}") for i in range(20)]
    for _ in range(50):
        visitor = await visitors(server.url)
        acks = await asyncio.gather(*(rep.take(visitor.conversation["id"]) for rep in reps))
        winners = [a for a in acks if a["ok"]]
        assert len(winners) == 1, acks
        assert {a["error"]["code"] for a in acks if not a["ok"]} == {"taken"}
        await visitor.call("close", {})
        await visitor.disconnect()
