"""What the browser is told: security headers on every response, CORS and Socket.IO only for allowed origins."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
import socketio
from multidict import CIMultiDictProxy

from chatbot.chat.keys import SIO
from chatbot.web.safety import content_security_policy
from tests.conftest import WAIT, Server, Visitor

CLINIC = "https://clinic.example"
EVIL = "https://evil.example"
# Every kind of response: pages, scripts, JSON, plain text, errors, and areas only we use.
PATHS = ["/", "/?lang=es", "/console", "/widget.js", "/healthz", "/transcript", "/no-such-page", "/admin/stats"]
PAGES = ["/", "/?lang=es", "/console"]


@dataclass
class Reply:
    status: int
    headers: CIMultiDictProxy[str]
    text: str


async def fetch(server: Server, path: str, method: str = "GET", **headers: str) -> Reply:
    async with aiohttp.ClientSession() as http, http.request(method, server.url + path, headers=headers) as response:
        return Reply(response.status, response.headers, await response.text())


def directives(policy: str) -> dict[str, list[str]]:
    parsed = (part.split() for part in policy.split(";") if part.strip())
    return {words[0]: words[1:] for words in parsed}


async def test_every_response_carries_the_security_headers(server: Server) -> None:
    for path in PATHS:
        reply = await fetch(server, path)
        assert reply.headers["X-Content-Type-Options"] == "nosniff", path
        assert reply.headers["Referrer-Policy"] == "no-referrer", path
        assert reply.headers["X-Frame-Options"] == "DENY", path
        assert "camera=()" in reply.headers["Permissions-Policy"], path
        policy = directives(reply.headers["Content-Security-Policy"])
        assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"], path


async def test_pages_run_only_their_own_scripts_and_talk_only_to_this_server(server: Server) -> None:
    host = server.url.removeprefix("http://")
    for path in PAGES:
        reply = await fetch(server, path)
        assert reply.status == 200 and reply.headers["Content-Type"].startswith("text/html"), path
        policy = directives(reply.headers["Content-Security-Policy"])
        assert policy["script-src"] == ["'self'"], "no inline script, no other host"
        assert policy["connect-src"] == ["'self'", f"ws://{host}", f"wss://{host}"]
        scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", reply.text, flags=re.S | re.I)
        assert scripts and all(body.strip() == "" for body in scripts), "every script is a file"
        assert not re.search(r"\son[a-z]+\s*=", reply.text, flags=re.I), "no inline event handlers"


def test_a_forged_host_cannot_write_into_the_policy() -> None:
    for host in ["evil.example; script-src *", "a b", "x'y", "[::1]:8080 *"]:
        policy = directives(content_security_policy(host))
        assert policy["script-src"] == ["'self'"] and policy["connect-src"] == ["'self'"], host
    assert directives(content_security_policy("[::1]:8080"))["connect-src"][1:] == ["ws://[::1]:8080", "wss://[::1]:8080"]


async def test_handlers_cannot_weaken_the_headers(server: Server) -> None:
    """pages.py sets its own Referrer-Policy and policy; the one decided for every response wins."""
    reply = await fetch(server, "/console")
    assert reply.headers.getall("Content-Security-Policy") == [reply.headers["Content-Security-Policy"]]
    assert reply.headers.getall("Referrer-Policy") == ["no-referrer"]


# -- CORS -------------------------------------------------------------------------


async def test_cors_answers_allowed_origins_only(make_server) -> None:
    server = await make_server(allowed_origins=(CLINIC,))
    allowed = await fetch(server, "/healthz", Origin=CLINIC)
    assert allowed.headers["Access-Control-Allow-Origin"] == CLINIC
    assert "Origin" in allowed.headers["Vary"]
    script = await fetch(server, "/widget.js", Origin=CLINIC)
    assert script.headers.getall("Access-Control-Allow-Origin") == [CLINIC], "once, not twice"
    for path in ("/healthz", "/widget.js", "/transcript"):
        refused = await fetch(server, path, Origin=EVIL)
        assert not [h for h in refused.headers if h.lower().startswith("access-control-")], path


async def test_preflights_are_answered_for_allowed_origins_only(make_server) -> None:
    server = await make_server(allowed_origins=(CLINIC,))
    asked = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}
    ok = await fetch(server, "/transcript", "OPTIONS", Origin=CLINIC, **asked)
    assert ok.status == 204
    assert ok.headers["Access-Control-Allow-Origin"] == CLINIC
    assert "Authorization" in ok.headers["Access-Control-Allow-Headers"]
    assert "GET" in ok.headers["Access-Control-Allow-Methods"]
    refused = await fetch(server, "/transcript", "OPTIONS", Origin=EVIL, **asked)
    assert refused.status == 403 and "Access-Control-Allow-Origin" not in refused.headers


async def test_representatives_and_operators_areas_are_never_cors(make_server) -> None:
    server = await make_server(allowed_origins=("*",))
    for path in ("/admin/stats", "/console", "/console/me.json", "/metrics"):
        reply = await fetch(server, path, Origin=CLINIC)
        assert "Access-Control-Allow-Origin" not in reply.headers, path
        preflight = await fetch(server, path, "OPTIONS", Origin=CLINIC, **{"Access-Control-Request-Method": "GET"})
        assert "Access-Control-Allow-Origin" not in preflight.headers, path


async def test_a_widget_on_the_clinics_site_can_fetch_its_transcript(make_server, visitors) -> None:
    server = await make_server(allowed_origins=(CLINIC,))
    visitor = await visitors(server.url)
    await visitor.ask("what causes upper back pain?")
    reply = await fetch(server, "/transcript", Origin=CLINIC, Authorization=f"Bearer {visitor.conversation['token']}")
    assert reply.status == 200 and "what causes upper back pain?" in reply.text
    assert reply.headers["Access-Control-Allow-Origin"] == CLINIC
    assert "Content-Disposition" in reply.headers["Access-Control-Expose-Headers"]


async def test_any_origin_when_allowed_origins_is_a_star(server: Server) -> None:
    reply = await fetch(server, "/healthz", Origin=EVIL)
    assert reply.headers["Access-Control-Allow-Origin"] == "*"


# -- Socket.IO ----------------------------------------------------------------------


async def open_from(server: Server, origin: str | None, transport: str) -> Visitor:
    visitor = Visitor()
    headers = {"Origin": origin} if origin else {}
    await visitor.sio.connect(
        server.url, namespaces=["/chat"], auth={}, headers=headers, transports=[transport], wait_timeout=WAIT
    )
    visitor.conversation = await visitor.next("conversation")
    return visitor


@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_socketio_refuses_a_disallowed_origin(make_server, transport: str) -> None:
    server = await make_server(allowed_origins=(CLINIC,))
    engine = server.app[SIO].eio
    engine.ping_interval = engine.ping_timeout = 1  # a polling client waits for its pending poll when it leaves
    with pytest.raises(socketio.exceptions.ConnectionError):
        await open_from(server, EVIL, transport)
    visitor = await open_from(server, CLINIC, transport)
    reply: dict[str, Any] = await visitor.ask("what causes upper back pain?")
    assert reply["text"]
    await visitor.disconnect()
    without = await open_from(server, None, transport)  # not a browser: the Origin check cannot apply
    assert without.conversation["id"]
    await without.disconnect()
