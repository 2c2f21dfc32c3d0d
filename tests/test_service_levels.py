"""Business hours, estimated wait, hand back to the bot, satisfaction rating, the visitor's transcript."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from chatbot.chat.hours import HoursError
from chatbot.chat.waiting import WaitEstimator
from chatbot.web.app import SERVICE, STORE, create_app
from tests.conftest import Server

HOURS = """\
timezone: America/New_York
weekly:
  monday: "08:00-18:00"
  tuesday: "08:00-18:00"
  wednesday: "08:00-18:00"
  thursday: "08:00-18:00"
  friday: "08:00-18:00"
  saturday: closed
holidays:
  - 2026-12-25
"""
SATURDAY_NOON = datetime(2026, 11, 28, 17, 0, tzinfo=UTC)  # 12:00 in New York
TUESDAY_NOON = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)


@pytest.fixture
async def hours_server(make_server, tmp_path: Path) -> Server:
    path = tmp_path / "hours.yaml"
    path.write_text(HOURS, encoding="utf-8")
    return await make_server(hours_file=path)


async def test_out_of_hours_handoff_tells_once_and_the_bot_keeps_answering(hours_server: Server, visitors) -> None:
    hours_server.app[SERVICE].clock = lambda: SATURDAY_NOON
    visitor = await visitors(hours_server.url)
    await visitor.say("do you sell running shoes?")
    unsure = await visitor.next("message", lambda m: m["sender"] == "bot")
    assert unsure["intent"] is None
    notice = await visitor.next("message", lambda m: m["sender"] == "system")
    assert "away" in notice["text"] and "Monday at 08:00" in notice["text"] and "seven days a week" in notice["text"]
    state = await visitor.next("state")
    assert (
        state["state"] == "bot" and state["reason"] == "after_hours" and state["back_at"].startswith("2026-11-30T08:00")
    )
    answer = await visitor.ask("does heat help with back pain?")
    assert answer["intent"] == "heat_therapy"
    await visitor.say("what is the capital of mongolia?")
    await visitor.next("message", lambda m: m["sender"] == "bot" and m["intent"] is None)
    assert len(visitor.received("message", lambda m: m["sender"] == "system")) == 1, "the notice is sent once"
    assert (await visitor.call("contact", {"name": "Ann", "phone": "+1 555 0100"}))["ok"]
    queued = await visitor.next("state", lambda s: s["state"] == "queued")
    assert queued["reason"] == "after_hours" and queued["queue_position"] == 1
    # Every event of the contact call came before its ack: the place in line came once.
    assert len(visitor.received("state", lambda s: s["state"] == "queued")) == 1


async def test_in_hours_handoff_queues_as_usual(hours_server: Server, visitors) -> None:
    hours_server.app[SERVICE].clock = lambda: TUESDAY_NOON
    visitor = await visitors(hours_server.url)
    await visitor.say("I want to talk to a person")
    assert (await visitor.next("state"))["state"] == "queued"


async def test_a_holiday_is_out_of_hours(hours_server: Server, visitors) -> None:
    hours_server.app[SERVICE].clock = lambda: datetime(2026, 12, 25, 17, 0, tzinfo=UTC)
    visitor = await visitors(hours_server.url)
    await visitor.say("I want to talk to a person")
    state = await visitor.next("state")
    assert state["reason"] == "after_hours" and state["back_at"].startswith("2026-12-28T08:00")


def test_a_malformed_hours_file_is_named_with_its_line(settings, tmp_path: Path) -> None:
    path = tmp_path / "hours.yaml"
    path.write_text("timezone: Mars/Olympus\nweekly:\n  monday: 9-5\n", encoding="utf-8")
    with pytest.raises(HoursError) as failed:
        create_app(settings.__class__(**{**settings.__dict__, "hours_file": path}))
    assert f"{path}:1: unknown timezone" in str(failed.value)
    assert f"{path}:3:" in str(failed.value)


async def test_queued_visitors_get_an_estimated_wait_from_recent_takes(
    server: Server, visitors, representatives
) -> None:
    maria = await representatives(server, "Maria")
    first = await visitors(server.url)
    await first.say("I want to talk to a person")
    state = await first.next("state", lambda s: s["state"] == "queued")
    assert state["estimated_wait_seconds"] is None, "no history yet"
    await maria.take(first.conversation["id"])
    server.app[SERVICE].wait = WaitEstimator(server.app[STORE])  # drop the cached median
    second = await visitors(server.url)
    await second.say("I want to talk to a person")
    state = await second.next("state", lambda s: s["state"] == "queued")
    assert isinstance(state["estimated_wait_seconds"], int) and state["estimated_wait_seconds"] >= 0


async def test_wait_estimate_is_median_times_rounds(server: Server, visitors) -> None:
    store = server.app[STORE]
    estimator = WaitEstimator(store)
    waits = [30.0, 60.0, 600.0]

    async def fake_waits(since: datetime, limit: int | None = None) -> list[float]:
        return waits

    store.take_waits = fake_waits  # type: ignore[method-assign]
    assert await estimator.estimate(position=1, agents_online=1) == 60
    estimator._computed_at = float("-inf")
    assert await estimator.estimate(position=4, agents_online=2) == 120
    assert await estimator.estimate(position=1, agents_online=0) == 60


async def test_take_waits_pairs_queued_and_taken(server: Server, visitors, representatives) -> None:
    maria = await representatives(server, "Maria")
    visitor = await visitors(server.url)
    await visitor.say("I want to talk to a person")
    await visitor.next("state", lambda s: s["state"] == "queued")
    await maria.take(visitor.conversation["id"])
    waits = await server.app[STORE].take_waits(datetime.now(UTC) - timedelta(minutes=5))
    assert len(waits) == 1 and 0 <= waits[0] < 5


async def test_hand_back_to_the_bot(server: Server, visitors, representatives) -> None:
    maria = await representatives(server, "Maria")
    visitor = await visitors(server.url)
    await visitor.ask("I want to talk to a person")
    cid = visitor.conversation["id"]
    await maria.take(cid)
    assert (await maria.call("handback", {"conversation_id": cid}))["ok"]
    state = await visitor.next("state", lambda s: s["state"] == "bot")
    assert state["reason"] == "handback"
    assert (await visitor.ask("what is a bone spur?"))["intent"] == "bone_spurs"
    assert (await maria.call("handback", {"conversation_id": cid}))["error"]["code"] == "not_assigned"


async def test_rating_after_a_conversation_with_a_representative(server: Server, visitors, representatives) -> None:
    maria = await representatives(server, "Maria")
    visitor = await visitors(server.url)
    await visitor.say("I want to talk to a person")
    cid = visitor.conversation["id"]
    await maria.take(cid)
    assert (await visitor.call("rate", {"score": 5}))["error"]["code"] == "not_closed"
    await maria.call("close", {"conversation_id": cid})
    for bad in [{"score": 0}, {"score": 6}, {"score": "5"}, {"score": True}, {"score": 4, "comment": "x" * 1001}, "5"]:
        assert (await visitor.call("rate", bad))["error"]["code"] == "bad_request", bad
    assert (await visitor.call("rate", {"score": 4, "comment": "Maria was kind"}))["ok"]
    assert (await visitor.call("rate", {"score": 1}))["error"]["code"] == "already_rated"
    transcript = (server.settings.transcripts_dir / f"{cid}.txt").read_text(encoding="utf-8")
    assert "Rating: 4/5 - Maria was kind" in transcript
    assert (await server.app[STORE].conversation(cid)).rating == 4


async def test_ratings_reach_the_stats_by_representative_and_week(server: Server, visitors, representatives) -> None:
    """A conversation handed back to the bot before closing is still rated, and counts for who held it last."""
    maria, daniel = await representatives(server, "Maria"), await representatives(server, "Daniel")
    scores = {"Maria": 4, "Daniel": 2}
    for rep, name in ((maria, "Maria"), (daniel, "Daniel")):
        visitor = await visitors(server.url)
        await visitor.say("I want to talk to a person")
        cid = visitor.conversation["id"]
        await rep.take(cid)
        if name == "Daniel":
            assert (await rep.call("handback", {"conversation_id": cid}))["ok"]
        await visitor.call("close", {})
        assert (await visitor.call("rate", {"score": scores[name]}))["ok"], name

    async with aiohttp.ClientSession() as http:
        headers = {"Authorization": f"Bearer {server.settings.admin_token}"}
        async with http.get(server.url + "/admin/stats?since=1h", headers=headers) as response:
            ratings = (await response.json())["ratings"]
    year, week, _ = datetime.now(UTC).isocalendar()
    assert ratings == {
        "count": 2,
        "average": 3.0,
        "by_representative": [
            {"representative": "Daniel", "count": 1, "average": 2.0},
            {"representative": "Maria", "count": 1, "average": 4.0},
        ],
        "by_week": [{"week": f"{year}-W{week:02d}", "count": 2, "average": 3.0}],
    }


async def test_a_conversation_without_a_representative_cannot_be_rated(server: Server, visitors) -> None:
    visitor = await visitors(server.url)
    await visitor.ask("hello")
    await visitor.call("close", {})
    assert (await visitor.call("rate", {"score": 3}))["error"]["code"] == "no_agent"


async def test_the_visitor_downloads_their_own_transcript_only(server: Server, visitors) -> None:
    visitor = await visitors(server.url)
    await visitor.ask("what causes upper back pain?")
    other = await visitors(server.url)
    await other.ask("hello")
    async with aiohttp.ClientSession() as http:
        headers = {"Authorization": f"Bearer {visitor.conversation['token']}"}
        async with http.get(server.url + "/transcript", headers=headers) as response:
            assert response.status == 200 and response.content_type == "text/plain"
            text = await response.text()
        assert "what causes upper back pain?" in text and "hello" not in text.split("\n", 5)[-1]
        async with http.get(server.url + "/transcript", headers={"Authorization": "Bearer wrong"}) as response:
            assert response.status == 404
        async with http.get(server.url + "/transcript") as response:
            assert response.status == 401
