"""The visitor's side of the protocol (namespace /chat), end to end over real sockets."""

from __future__ import annotations

import asyncio

import yaml

from tests.conftest import INTENTS, Server


def answer(intent: str, lang: str) -> str:
    data = yaml.safe_load((INTENTS / f"{intent}.yaml").read_text(encoding="utf-8"))
    return data[lang]["answer"].strip()


async def test_new_conversation_is_sent_on_connect(server: Server, visitors) -> None:
    visitor = await visitors(server.url, lang="es", name="Ana", page="/upper-back")
    conversation = visitor.conversation
    assert conversation["state"] == "bot"
    assert conversation["lang"] == "es"
    assert conversation["messages"] == []
    assert len(conversation["token"]) >= 40 and len(conversation["id"]) == 32


async def test_bot_answers_a_faq_with_intent_confidence_and_quick_replies(server: Server, visitors) -> None:
    visitor = await visitors(server.url)
    ack = await visitor.say("does heat help with upper back pain?", client_id="c-1")
    assert ack["ok"] is True
    stored = ack["message"]
    assert stored["sender"] == "visitor" and stored["client_id"] == "c-1"
    assert stored["text"] == "does heat help with upper back pain?"
    reply = await visitor.next("message", lambda m: m["sender"] == "bot")
    assert reply["intent"] == "heat_therapy"
    assert 0.0 < reply["confidence"] <= 1.0
    assert reply["text"] == answer("heat_therapy", "en")
    assert reply["quick_replies"] and all(isinstance(q, str) for q in reply["quick_replies"])
    assert reply["conversation_id"] == visitor.conversation["id"]
    assert reply["created_at"].endswith("Z")
    own = await visitor.next("message", lambda m: m["sender"] == "visitor")
    assert own == stored


async def test_spanish_message_in_english_conversation_gets_spanish(server: Server, visitors) -> None:
    visitor = await visitors(server.url, lang="en")
    reply = await visitor.ask("¿El calor ayuda con el dolor de espalda?")
    assert reply["intent"] == "heat_therapy"
    assert reply["text"] == answer("heat_therapy", "es")


async def test_low_confidence_hands_off_and_says_nobody_is_online(server: Server, visitors) -> None:
    visitor = await visitors(server.url)
    await visitor.say("do you sell running shoes in size 12?")
    state = await visitor.next("state")
    assert state["state"] == "queued" and state["reason"] == "low_confidence"
    assert state["agents_online"] == 0 and state["queue_position"] == 1
    notice = await visitor.next("message", lambda m: m["sender"] == "system")
    assert "No representative is online" in notice["text"] and "seven days a week" in notice["text"]


async def test_bot_stays_silent_while_queued(server: Server, visitors) -> None:
    visitor = await visitors(server.url)
    await visitor.say("I want to talk to a real person")
    state = await visitor.next("state")
    assert state["reason"] == "requested"
    await visitor.next("message", lambda m: m["sender"] == "system")
    ack = await visitor.say("does heat help?")
    assert ack["ok"]
    await asyncio.sleep(0.3)
    after = [m for m in visitor.received("message") if m["created_at"] >= ack["message"]["created_at"]]
    assert [m["sender"] for m in after] == ["visitor"]


async def test_red_flag_gets_emergency_advice_and_urgent_handoff_before_any_faq(server: Server, visitors) -> None:
    visitor = await visitors(server.url)
    await visitor.say("does heat help? also since this morning I can't control my bladder")
    reply = await visitor.next("message", lambda m: m["sender"] == "bot")
    assert "911" in reply["text"] and reply["intent"] is None and reply["urgent"] is True
    state = await visitor.next("state")
    assert state["state"] == "queued" and state["reason"] == "urgent"
    assert not visitor.received("message", lambda m: m.get("intent") == "heat_therapy")
    others = visitor.received("message", lambda m: m["id"] != reply["id"])
    assert others and not any(m["urgent"] for m in others)  # the visitor's own message, the place in line


async def test_urgent_mark_is_kept_in_the_history(server: Server, visitors) -> None:
    first = await visitors(server.url)
    answer = await first.ask("does heat help?")
    assert answer["urgent"] is False
    await first.say("and now I suddenly can't feel my legs")
    await first.next("state")
    await first.disconnect()
    again = await visitors(server.url, token=first.conversation["token"])
    marked = [m["text"] for m in again.conversation["messages"] if m["urgent"]]
    assert len(marked) == 1 and "911" in marked[0]


async def test_red_flag_in_spanish_says_llame_al_911(server: Server, visitors) -> None:
    visitor = await visitors(server.url, lang="es")
    reply = await visitor.ask("tengo dolor en el pecho y me falta el aire")
    assert "911" in reply["text"] and "llame" in reply["text"].lower()
    assert (await visitor.next("state"))["reason"] == "urgent"


async def test_resume_by_token_returns_the_whole_history(server: Server, visitors) -> None:
    first = await visitors(server.url)
    await first.ask("hello")
    await first.disconnect()
    again = await visitors(server.url, token=first.conversation["token"])
    assert again.conversation["id"] == first.conversation["id"]
    texts = [(m["sender"], m["text"]) for m in again.conversation["messages"]]
    assert texts[0] == ("visitor", "hello") and texts[1][0] == "bot"


async def test_unknown_or_forged_token_starts_a_fresh_conversation(server: Server, visitors) -> None:
    owner = await visitors(server.url)
    for token in ["not-a-token", owner.conversation["id"], owner.conversation["token"][:-1] + "x", 42]:
        stranger = await visitors(server.url, token=token)
        assert stranger.conversation["id"] != owner.conversation["id"]
        assert stranger.conversation["messages"] == []


async def test_every_tab_receives_every_message(server: Server, visitors) -> None:
    tab1 = await visitors(server.url)
    tab2 = await visitors(server.url, token=tab1.conversation["token"])
    ack = await tab1.say("what is a herniated disc?")
    seen = await tab2.next("message", lambda m: m["sender"] == "visitor")
    assert seen["id"] == ack["message"]["id"]
    reply = await tab2.next("message", lambda m: m["sender"] == "bot")
    assert reply["intent"] == "herniated_disc"


async def test_same_client_id_twice_stores_one_message(server: Server, visitors) -> None:
    visitor = await visitors(server.url)
    first = await visitor.say("hello", client_id="retry-1")
    await visitor.next("message", lambda m: m["sender"] == "bot")
    second = await visitor.say("hello", client_id="retry-1")
    assert second["ok"] and second["message"] == first["message"]
    again = await visitors(server.url, token=visitor.conversation["token"])
    visitor_messages = [m for m in again.conversation["messages"] if m["sender"] == "visitor"]
    assert [m["id"] for m in visitor_messages] == [first["message"]["id"]]
    assert len([m for m in again.conversation["messages"] if m["sender"] == "bot"]) == 1, "a retry adds no bot reply"


async def test_a_retry_after_closing_still_gets_its_first_ack(server: Server, visitors) -> None:
    """The visitor's message was stored but its ack lost, then the conversation closed: the retry is still ok."""
    visitor = await visitors(server.url)
    first = await visitor.say("hello", client_id="before-close")
    assert (await visitor.call("close", {}))["ok"] is True
    retry = await visitor.say("hello", client_id="before-close")
    assert retry["ok"] and retry["message"] == first["message"]
    assert (await visitor.say("hello again", client_id="after-close"))["error"]["code"] == "closed"


async def test_bad_inputs_get_their_error_codes(server: Server, visitors) -> None:
    visitor = await visitors(server.url)
    cases = [
        ({"text": ""}, "empty"),
        ({"text": "   \n\t "}, "empty"),
        ({"text": "x" * 2001}, "too_long"),
        ({}, "bad_request"),
        ({"text": 42}, "bad_request"),
        ({"text": "hi", "client_id": 7}, "bad_request"),
        ({"text": "hi", "client_id": "x" * 65}, "bad_request"),
        ("just a string", "bad_request"),
        ([1, 2, 3], "bad_request"),
        (None, "bad_request"),
    ]
    for body, code in cases:
        ack = await visitor.call("message", body)
        assert ack["ok"] is False and ack["error"]["code"] == code, (body, ack)
        assert ack["error"]["message"]
    assert (await visitor.call("typing", {"typing": "yes"}))["error"]["code"] == "bad_request"
    assert (await visitor.call("typing", {"typing": True}))["ok"] is True
    again = await visitors(server.url, token=visitor.conversation["token"])
    assert again.conversation["messages"] == []


async def test_exactly_2000_characters_is_accepted(server: Server, visitors) -> None:
    visitor = await visitors(server.url)
    assert (await visitor.say("a" * 2000))["ok"] is True


async def test_a_flood_is_rate_limited(server: Server, visitors) -> None:
    visitor = await visitors(server.url)
    acks = await asyncio.gather(*(visitor.say(f"hello {i}") for i in range(25)))
    codes = [a["error"]["code"] for a in acks if not a["ok"]]
    assert sum(a["ok"] for a in acks) >= 10
    assert codes and set(codes) == {"rate_limited"}


async def test_html_is_stored_and_echoed_as_plain_text(server: Server, visitors) -> None:
    visitor = await visitors(server.url)
    text = "<img src=x onerror=alert(1)><script>alert('x')</script>"
    ack = await visitor.say(text)
    assert ack["message"]["text"] == text
    again = await visitors(server.url, token=visitor.conversation["token"])
    assert again.conversation["messages"][0]["text"] == text


async def test_close_tells_every_tab_writes_transcript_and_refuses_more(server: Server, visitors) -> None:
    visitor = await visitors(server.url)
    other_tab = await visitors(server.url, token=visitor.conversation["token"])
    await visitor.ask("what causes upper back pain?")
    assert (await visitor.call("close", {}))["ok"] is True
    state = await other_tab.next("state", lambda s: s["state"] == "closed")
    assert state["reason"] == "closed_by_visitor"
    ack = await visitor.say("one more thing")
    assert ack["error"]["code"] == "closed"
    assert (await visitor.call("close", {}))["error"]["code"] == "closed"
    transcript = server.settings.transcripts_dir / f"{visitor.conversation['id']}.txt"
    content = transcript.read_text(encoding="utf-8")
    assert "what causes upper back pain?" in content and "Visitor:" in content and "Bot:" in content


async def test_healthz_is_ok_while_the_database_answers(server: Server) -> None:
    status, body = await server.get("/healthz")
    assert status == 200 and body["status"] == "ok" and body["database"] == "ok" and body["redis"] == "off"


async def test_database_outage_answers_unavailable_and_recovers(make_server, throwaway_pg, visitors) -> None:
    server = await make_server(database_url=throwaway_pg.url)
    visitor = await visitors(server.url)
    acked = (await visitor.say("hello"))["message"]
    throwaway_pg.stop()
    ack = await visitor.say("are you there?")
    assert ack["ok"] is False and ack["error"]["code"] == "unavailable"
    assert (await server.get("/healthz"))[0] == 503
    throwaway_pg.start()
    ack = await visitor.say("back again")
    assert ack["ok"] is True, ack
    assert (await server.get("/healthz"))[0] == 200
    again = await visitors(server.url, token=visitor.conversation["token"])
    stored = [m["text"] for m in again.conversation["messages"] if m["sender"] == "visitor"]
    assert stored == [acked["text"], "back again"]
