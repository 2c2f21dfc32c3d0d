"""The admin HTTP API against a real server and database: auth, reload, unanswered, transcripts, stats."""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from chatbot.admin import openapi
from chatbot.web.app import SERVICE
from tests.conftest import INTENTS, Server
from tests.processes import redis_prefix

TOKEN = "test-admin-token"  # the conftest settings' admin token
SHOES = ["do you sell shoes", "do you sell running shoes?", "where can I buy shoes"]
PIZZA = ["what pizza toppings do you like", "pizza delivery tonight"]


@dataclass
class Reply:
    status: int
    body: Any
    headers: Any


async def call(server: Server, method: str, path: str, token: str | None = TOKEN, **kwargs: Any) -> Reply:
    headers = dict(kwargs.pop("headers", {}))
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, server.url + path, headers=headers, **kwargs) as response,
    ):
        json_body = response.content_type == "application/json"
        body = await response.json() if json_body else await response.text()
        return Reply(response.status, body, response.headers)


def write_intent(directory: Path, intent_id: str, en: list[str], es: list[str], answer: str) -> Path:
    """An intent file in the documented format (the examples are test data, not health content)."""
    lines = [f"id: {intent_id}"]
    for lang, examples in (("en", en), ("es", es)):
        lines += [f"{lang}:", "  examples:", *[f"    - {e}" for e in examples], f"  answer: {answer} ({lang})"]
    path = directory / f"{intent_id}.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


ACCESS_EN = [
    "is the clinic wheelchair accessible",
    "can I get in with a wheelchair",
    "do you have a ramp at the entrance",
    "is there an elevator in the building",
    "wheelchair access",
    "accessible entrance",
    "can my walker fit through the doors",
    "are the restrooms accessible",
    "do you have wheelchairs for patients",
    "accessibility for disabled patients",
]
ACCESS_ES = [
    "la clinica es accesible en silla de ruedas",
    "puedo entrar con silla de ruedas",
    "tienen rampa en la entrada",
    "hay ascensor en el edificio",
    "acceso para silla de ruedas",
    "entrada accesible",
    "mi andadera cabe por las puertas",
    "los baños son accesibles",
    "tienen sillas de ruedas para pacientes",
    "accesibilidad para pacientes con discapacidad",
]


@pytest.fixture
def intents_dir(tmp_path: Path) -> Path:
    """A private copy of the shipped intents, for tests that change files and reload."""
    return Path(shutil.copytree(INTENTS, tmp_path / "intents"))


@pytest.fixture
async def admin_server(make_server, intents_dir: Path) -> Server:
    return await make_server(intents_dir=intents_dir)


async def unanswered_by(visitors, server: Server, texts: list[str]) -> list[Any]:
    """One visitor per text (a handed-off conversation stops the bot); each is handed off for low confidence."""
    opened = []
    for text in texts:
        visitor = await visitors(server.url)
        reply = await visitor.ask(text)
        assert reply["intent"] is None, f"{text!r} was answered with {reply['intent']}"
        await visitor.next("state", lambda s: s["state"] == "queued" and s["reason"] == "low_confidence")
        opened.append(visitor)
    return opened


# -- authentication --------------------------------------------------------------

ENDPOINTS = [
    ("GET", "/admin/stats"),
    ("GET", "/admin/unanswered"),
    ("GET", "/admin/conversations"),
    ("GET", "/admin/conversations/abc"),
    ("DELETE", "/admin/conversations/abc"),
    ("POST", "/admin/intents/reload"),
]


async def test_without_a_configured_token_every_endpoint_is_403(make_server) -> None:
    server = await make_server(admin_token="")
    for method, path in ENDPOINTS:
        for token in (None, "", "anything"):
            reply = await call(server, method, path, token=token)
            assert reply.status == 403, (method, path, token)
            assert reply.body["error"]["code"] == "admin_disabled"
            assert "CHATBOT_ADMIN_TOKEN" in reply.body["error"]["message"]


async def test_a_missing_or_wrong_token_is_401(server: Server) -> None:
    for method, path in ENDPOINTS:
        for token in (None, "wrong", TOKEN + "x", TOKEN[:-1], "ünïcode"):
            reply = await call(server, method, path, token=token)
            assert reply.status == 401, (method, path, token)
            assert reply.headers["WWW-Authenticate"].startswith("Bearer")
            assert reply.body["error"]["code"] == "unauthorized"
        basic = await call(server, method, path, token=None, headers={"Authorization": f"Basic {TOKEN}"})
        assert basic.status == 401


async def test_openapi_document_needs_no_token_and_lists_every_admin_route(server: Server) -> None:
    reply = await call(server, "GET", "/admin/openapi.json", token=None)
    assert reply.status == 200 and reply.body["openapi"].startswith("3.")
    assert reply.body == openapi.document()
    served = set()
    for resource in server.app.router.resources():
        sub = getattr(resource, "_app", None)
        for route in sub.router.routes() if sub is not None else resource:
            path = route.resource.canonical if sub is not None else resource.canonical
            if path.startswith(("/admin", "/api/")) and route.method != "HEAD":
                served.add((route.method.lower(), path))
    documented = {(method, path) for path, item in reply.body["paths"].items() for method in item}
    assert served == documented


async def test_unknown_admin_path_is_a_json_404(server: Server) -> None:
    reply = await call(server, "GET", "/admin/nothing-here")
    assert reply.status == 404 and reply.body["error"]["code"] == "not_found"
    wrong_method = await call(server, "PUT", "/admin/stats")
    assert wrong_method.status == 405 and wrong_method.body["error"]["code"] == "method_not_allowed"


# -- bad input ---------------------------------------------------------------------

BAD = [
    "/admin/stats?since=abc",
    "/admin/stats?since=0d",
    "/admin/stats?since=-3d",
    "/admin/stats?since=99999999d",
    "/admin/stats?since=7",
    "/admin/unanswered?since=1y",
    "/admin/unanswered?limit=0",
    "/admin/conversations?limit=-1",
    "/admin/conversations?limit=abc",
    "/admin/conversations?limit=100000",
    "/admin/conversations?offset=-5",
    "/admin/conversations?offset=1e3",
    "/admin/conversations?state=bogus",
    "/admin/conversations?reason=DROP%20TABLE",
    "/admin/conversations?from=yesterday",
    "/admin/conversations?to=2024-13-45",
    "/admin/conversations?from=2025-02-01&to=2025-01-01",
    "/admin/conversations?q=",
    "/admin/conversations?q=" + "x" * 201,
    "/admin/conversations/abc?format=pdf",
]


async def test_bad_query_parameters_are_400_with_a_message(server: Server) -> None:
    for path in BAD:
        reply = await call(server, "GET", path)
        assert reply.status == 400, (path, reply.body)
        assert reply.body["error"]["code"] == "bad_request"
        name = path.split("?")[1].split("=")[0]
        assert reply.body["error"]["message"].startswith(name + ":"), (path, reply.body)


async def test_unknown_conversation_is_404(server: Server) -> None:
    for path in (
        "/admin/conversations/0123456789abcdef",
        "/admin/conversations/" + "z" * 300,
        "/admin/conversations/%00",
    ):
        reply = await call(server, "GET", path)
        assert reply.status == 404 and reply.body["error"]["code"] == "not_found"
    assert (await call(server, "DELETE", "/admin/conversations/nope")).status == 404


# -- hot reload ----------------------------------------------------------------------


async def test_broken_file_is_refused_with_file_and_line_and_the_bot_answers_as_before(
    admin_server: Server, intents_dir: Path, visitors
) -> None:
    visitor = await visitors(admin_server.url)
    before = await visitor.ask("hello")
    write_intent(intents_dir, "accessibility", ACCESS_EN, ACCESS_ES, "Test answer about access")
    (intents_dir / "broken.yaml").write_text("id: broken\nen:\n  examples: [unclosed\n  answer: x\n", encoding="utf-8")

    reply = await call(admin_server, "POST", "/admin/intents/reload")

    assert reply.status == 422 and reply.body["ok"] is False
    assert reply.body["error"]["code"] == "invalid_intents"
    broken = [p for p in reply.body["problems"] if p["file"].endswith("broken.yaml")]
    assert broken and all(isinstance(p["line"], int) and p["line"] >= 1 for p in broken)
    assert broken[0]["text"].startswith(f"{broken[0]['file']}:{broken[0]['line']}: ")
    assert (await visitor.ask("hello"))["intent"] == before["intent"] == "greeting"
    other = await visitors(admin_server.url)
    assert (await other.ask(ACCESS_EN[0]))["intent"] != "accessibility", "a refused reload loads nothing"


async def test_reload_adds_an_intent_the_very_next_message_matches(
    admin_server: Server, intents_dir: Path, visitors
) -> None:
    talking = await visitors(admin_server.url)
    assert (await talking.ask("hello"))["intent"] == "greeting"
    write_intent(intents_dir, "accessibility", ACCESS_EN, ACCESS_ES, "Test answer about access")

    reply = await call(admin_server, "POST", "/admin/intents/reload")

    assert reply.status == 200, reply.body
    assert reply.body["ok"] is True and reply.body["added"] == ["accessibility"] and reply.body["removed"] == []
    answer = await talking.ask("is the clinic wheelchair accessible?")
    assert answer["intent"] == "accessibility" and answer["text"] == "Test answer about access (en)"
    assert talking.sio.connected and talking.received("conversation") == [talking.conversation]
    spanish = await visitors(admin_server.url, lang="es")
    assert (await spanish.ask("la clinica es accesible en silla de ruedas"))["intent"] == "accessibility"


async def test_reload_reports_removed_intents(admin_server: Server, intents_dir: Path) -> None:
    write_intent(intents_dir, "accessibility", ACCESS_EN, ACCESS_ES, "Test answer about access")
    assert (await call(admin_server, "POST", "/admin/intents/reload")).status == 200
    (intents_dir / "accessibility.yaml").unlink()
    reply = await call(admin_server, "POST", "/admin/intents/reload")
    assert reply.status == 200 and reply.body["removed"] == ["accessibility"]


# -- the unanswered report ---------------------------------------------------------------


async def test_unanswered_groups_largest_first_with_the_representatives_reply(
    server: Server, visitors, representatives
) -> None:
    shoes = await unanswered_by(visitors, server, SHOES)
    await unanswered_by(visitors, server, PIZZA)
    maria = await representatives(server, "Maria")
    assert (await maria.take(shoes[0].conversation["id"]))["ok"]
    assert (await maria.say(shoes[0].conversation["id"], "We only help with backs, not shoes."))["ok"]
    answered = await visitors(server.url)
    assert (await answered.ask("hello"))["intent"] == "greeting"

    reply = await call(server, "GET", "/admin/unanswered?since=1h")

    assert reply.status == 200 and reply.body["messages"] == len(SHOES) + len(PIZZA)
    first, second = reply.body["groups"][:2]
    assert first["count"] == 3 and sorted(first["examples"]) == sorted(SHOES) and first["lang"] == "en"
    assert first["answers"] == ["We only help with backs, not shoes."]
    assert shoes[0].conversation["id"] in first["conversations"]
    assert second["count"] == 2 and sorted(second["examples"]) == sorted(PIZZA) and second["answers"] == []
    limited = await call(server, "GET", "/admin/unanswered?since=1h&limit=1")
    assert len(limited.body["groups"]) == 1 and limited.body["total_groups"] == reply.body["total_groups"]


# -- transcripts -----------------------------------------------------------------------


async def three_conversations(server: Server, visitors, representatives) -> dict[str, str]:
    """A bot-only conversation (closed), a low-confidence one a representative answered (closed), and a
    visitor who asked for a person (still queued). Returns their ids by name."""
    happy = await visitors(server.url)
    assert (await happy.ask("hello"))["intent"] == "greeting"
    assert (await happy.call("close", {}))["ok"]
    (lost,) = await unanswered_by(visitors, server, ["do you sell shoes"])
    maria = await representatives(server, "Maria")
    assert (await maria.take(lost.conversation["id"]))["ok"]
    assert (await maria.say(lost.conversation["id"], "No, sorry: we are a spine clinic."))["ok"]
    assert (await maria.call("close", {"conversation_id": lost.conversation["id"]}))["ok"]
    person = await visitors(server.url)
    await person.ask("I want to talk to a real person")
    await person.next("state", lambda s: s["state"] == "queued" and s["reason"] == "requested")
    return {"happy": happy.conversation["id"], "lost": lost.conversation["id"], "person": person.conversation["id"]}


async def test_conversations_filters_search_and_pagination(server: Server, visitors, representatives) -> None:
    ids = await three_conversations(server, visitors, representatives)

    everything = await call(server, "GET", "/admin/conversations")
    assert everything.status == 200 and everything.body["total"] == 3
    assert [c["id"] for c in everything.body["conversations"]] == [ids["person"], ids["lost"], ids["happy"]]
    closed = await call(server, "GET", "/admin/conversations?state=closed")
    assert {c["id"] for c in closed.body["conversations"]} == {ids["happy"], ids["lost"]}
    assert all(c["closed_at"] for c in closed.body["conversations"])
    by_reason = await call(server, "GET", "/admin/conversations?reason=requested")
    assert [c["id"] for c in by_reason.body["conversations"]] == [ids["person"]]
    found = await call(server, "GET", "/admin/conversations", params={"q": "SELL SHOES"})
    assert [c["id"] for c in found.body["conversations"]] == [ids["lost"]]
    assert (await call(server, "GET", "/admin/conversations", params={"q": "100%_"})).body["total"] == 0
    page = await call(server, "GET", "/admin/conversations?limit=1&offset=1")
    assert page.body["total"] == 3 and [c["id"] for c in page.body["conversations"]] == [ids["lost"]]
    assert (page.body["limit"], page.body["offset"]) == (1, 1)
    assert (await call(server, "GET", "/admin/conversations?offset=10")).body["conversations"] == []
    future = await call(server, "GET", "/admin/conversations?from=2999-01-01")
    assert future.body["total"] == 0
    window = await call(server, "GET", "/admin/conversations?from=2000-01-01&to=2999-01-01T00:00:00Z")
    assert window.body["total"] == 3


async def test_one_conversation_as_json_or_text(server: Server, visitors, representatives) -> None:
    ids = await three_conversations(server, visitors, representatives)
    path = f"/admin/conversations/{ids['lost']}"

    as_json = await call(server, "GET", path)
    assert as_json.status == 200 and as_json.body["id"] == ids["lost"] and as_json.body["state"] == "closed"
    senders = [m["sender"] for m in as_json.body["messages"]]
    assert senders[0] == "visitor" and "bot" in senders and "agent" in senders
    changes = [(c["from"], c["to"], c["reason"]) for c in as_json.body["state_changes"]]
    assert changes[:3] == [
        (None, "bot", "created"),
        ("bot", "queued", "low_confidence"),
        ("queued", "agent", "assigned"),
    ]
    assert changes[-1][1:] == ("closed", "closed_by_agent")
    assert "token" not in as_json.body and "token_hash" not in as_json.body

    for reply in (
        await call(server, "GET", path + "?format=txt"),
        await call(server, "GET", path, headers={"Accept": "text/plain"}),
    ):
        assert reply.status == 200 and reply.headers["Content-Type"].startswith("text/plain")
        assert f"Conversation {ids['lost']}" in reply.body and "Visitor: do you sell shoes" in reply.body
        assert "Maria: No, sorry: we are a spine clinic." in reply.body
    assert (await call(server, "GET", path + "?format=json")).body["id"] == ids["lost"]


async def test_delete_erases_the_conversation_and_its_transcript_file(
    server: Server, visitors, representatives
) -> None:
    ids = await three_conversations(server, visitors, representatives)
    transcript = server.settings.transcripts_dir / f"{ids['lost']}.txt"
    assert transcript.is_file()

    reply = await call(server, "DELETE", f"/admin/conversations/{ids['lost']}")

    assert reply.status == 204
    assert not transcript.exists()
    assert (await call(server, "GET", f"/admin/conversations/{ids['lost']}")).status == 404
    assert (await call(server, "DELETE", f"/admin/conversations/{ids['lost']}")).status == 404
    assert (await call(server, "GET", "/admin/conversations")).body["total"] == 2
    assert (await call(server, "GET", "/admin/unanswered?since=1h")).body["messages"] == 0


# -- stats -------------------------------------------------------------------------------


async def test_stats_for_the_period(server: Server, visitors, representatives) -> None:
    await three_conversations(server, visitors, representatives)

    reply = await call(server, "GET", "/admin/stats?since=1h")

    body = reply.body
    assert reply.status == 200
    assert (body["conversations"], body["closed"], body["bot_only"], body["bot_only_share"]) == (3, 2, 1, 0.5)
    assert body["handoffs"] == {"low_confidence": 1, "requested": 1}
    assert body["unanswered"] == 1
    assert body["wait_seconds"]["count"] == 1 and 0 <= body["wait_seconds"]["median"] <= body["wait_seconds"]["p90"]
    assert {"intent": "greeting", "count": 1} in body["top_intents"]
    assert body["messages"]["visitor"] == 3 and body["messages"]["agent"] == 1
    empty = await call(server, "GET", "/admin/stats?since=1s")
    assert empty.status == 200
    default = await call(server, "GET", "/admin/stats")
    assert default.body["conversations"] == 3


async def test_the_reports_run_on_postgresql(make_server, pg_url: str, visitors, representatives) -> None:
    server = await make_server(database_url=pg_url)
    ids = await three_conversations(server, visitors, representatives)

    stats = await call(server, "GET", "/admin/stats?since=1h")
    assert stats.body["handoffs"] == {"low_confidence": 1, "requested": 1} and stats.body["bot_only"] == 1
    assert stats.body["wait_seconds"]["count"] == 1
    report = await call(server, "GET", "/admin/unanswered?since=1h")
    assert report.body["groups"][0]["examples"] == ["do you sell shoes"]
    assert report.body["groups"][0]["answers"] == ["No, sorry: we are a spine clinic."]
    found = await call(server, "GET", "/admin/conversations", params={"q": "Sell Shoes", "state": "closed"})
    assert [c["id"] for c in found.body["conversations"]] == [ids["lost"]]
    assert (await call(server, "DELETE", f"/admin/conversations/{ids['lost']}")).status == 204
    assert (await call(server, "GET", "/admin/conversations")).body["total"] == 2


async def test_with_redis_a_reload_reaches_every_process(
    make_server, intents_dir: Path, redis_url: str, visitors
) -> None:
    shared = {"intents_dir": intents_dir, "redis_url": redis_url, "redis_prefix": redis_prefix()}
    first, second = await make_server(**shared), await make_server(**shared)
    await asyncio.sleep(0.2)  # both subscribed
    write_intent(intents_dir, "accessibility", ACCESS_EN, ACCESS_ES, "Test answer about access")

    assert (await call(first, "POST", "/admin/intents/reload")).status == 200

    for _ in range(100):
        if "accessibility" in second.app[SERVICE].bot.intents:
            break
        await asyncio.sleep(0.05)
    visitor = await visitors(second.url)
    assert (await visitor.ask(ACCESS_EN[0]))["intent"] == "accessibility"
