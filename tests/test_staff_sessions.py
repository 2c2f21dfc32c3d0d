"""Staff sign-in (chatbot/web/auth.py, chatbot/chat/staff.py, the sessions of chatbot/store/users.py) against a
real server: the cookie, the same answer for a wrong password and an unknown email, bad bodies, the rate limit,
idle and absolute expiry, and the ``/agent`` socket signed in by the cookie."""

from __future__ import annotations

import asyncio
import functools
import logging
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
import socketio
from sqlalchemy import select, update

from chatbot.chat.staff import COOKIE
from chatbot.shared import passwords
from chatbot.store import token_digest
from chatbot.store.models import StaffSession, utcnow
from chatbot.web.app import STORE
from tests.conftest import WAIT, Client, Server

PASSWORD = "a long and unusual passphrase"


@functools.cache
def password_hash() -> str:
    """PASSWORD's argon2id hash, made once: hashing is slow on purpose (64 MiB, about 0.2 s) and every test account
    has this password; signing in still verifies it against the hash for real."""
    return passwords.hash_password(PASSWORD)
REFUSED = "unauthorized: A valid representative token or staff sign-in is required."


async def add_user(server: Server, email: str, role: str = "agent", name: str = "Ana") -> None:
    await server.app[STORE].create_user(email, name, role, password_hash())


async def login(server: Server, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any, list[str]]:
    async with aiohttp.ClientSession() as http, http.post(
        server.url + "/auth/login", json=body, headers=headers
    ) as response:
        return response.status, await response.json(), response.headers.getall("Set-Cookie", [])


async def signed_in(server: Server, email: str) -> str:
    status, body, cookies = await login(server, {"email": email, "password": PASSWORD})
    assert status == 200, body
    return cookies[0].split(";")[0].split("=", 1)[1]


class Console(Client):
    """A console socket on ``/agent`` that signs in with the session cookie only (as a browser does)."""

    def __init__(self) -> None:
        super().__init__("/agent")

    async def open(self, url: str, cookie: str) -> Console:
        await self.sio.connect(url, namespaces=["/agent"], headers={"Cookie": f"{COOKIE}={cookie}"},
                               transports=["websocket"], wait_timeout=WAIT)
        await self.next("queue")
        return self


async def refused(url: str, cookie: str | None) -> str:
    """The code of the connect error ``/agent`` answers with this cookie (or none)."""
    client = socketio.AsyncClient(reconnection=False)
    errors: list[dict[str, Any]] = []
    client.on("connect_error", errors.append, namespace="/agent")
    headers = {"Cookie": f"{COOKIE}={cookie}"} if cookie else {}
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(url, namespaces=["/agent"], headers=headers, transports=["websocket"],
                             wait_timeout=WAIT)
    await client.disconnect()
    assert errors, "refused without saying why"
    return f"{errors[0]['code']}: {errors[0]['message']}"


async def test_login_sets_an_httponly_samesite_strict_cookie(server: Server) -> None:
    await add_user(server, "ana@clinic.example", "supervisor")
    status, body, cookies = await login(server, {"email": " Ana@Clinic.example ", "password": PASSWORD})
    assert status == 200
    user_id = (await server.app[STORE].user_by_email("ana@clinic.example")).id
    assert body == {"ok": True, "user": {"id": user_id, "email": "ana@clinic.example", "name": "Ana",
                                         "role": "supervisor", "totp": False}}
    assert len(cookies) == 1 and cookies[0].startswith(f"{COOKIE}=")
    attributes = {part.strip().lower() for part in cookies[0].split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/"} <= attributes and "secure" not in attributes
    secret = cookies[0].split(";")[0].split("=", 1)[1]
    assert len(secret) >= 40 and PASSWORD not in cookies[0]


async def test_the_cookie_is_secure_behind_https(make_server) -> None:
    server = await make_server(trust_proxy=True)
    await add_user(server, "ana@clinic.example")
    status, _, cookies = await login(server, {"email": "ana@clinic.example", "password": PASSWORD},
                                     headers={"X-Forwarded-Proto": "https"})
    assert status == 200 and "secure" in {part.strip().lower() for part in cookies[0].split(";")}


async def test_wrong_password_unknown_email_and_disabled_user_get_the_same_answer(server: Server) -> None:
    await add_user(server, "ana@clinic.example")
    await add_user(server, "old@clinic.example")
    await server.app[STORE].set_user_disabled("old@clinic.example", True)
    answers = [
        await login(server, {"email": "ana@clinic.example", "password": PASSWORD + "x"}),
        await login(server, {"email": "nobody@clinic.example", "password": PASSWORD}),
        await login(server, {"email": "old@clinic.example", "password": PASSWORD}),
    ]
    assert answers[0] == answers[1] == answers[2] == (
        401, {"ok": False, "error": {"code": "unauthorized", "message": "Wrong email or password."}}, []
    )


@pytest.mark.parametrize(("body", "names"), [
    ("not json", "JSON object"),
    (["ana@clinic.example", PASSWORD], "JSON object"),
    ({"password": PASSWORD}, "'email'"),
    ({"email": "ana@clinic.example", "password": 12}, "'password'"),
    ({"email": "ana@clinic.example", "password": "x" * 129}, "'password'"),
    ({"email": "a" * 300, "password": PASSWORD}, "'email'"),
])
async def test_malformed_bodies_are_answered_400(server: Server, body: Any, names: str) -> None:
    async with aiohttp.ClientSession() as http:
        kwargs: dict[str, Any] = {"data": body} if isinstance(body, str) else {"json": body}
        async with http.post(server.url + "/auth/login", **kwargs) as response:
            answer = await response.json()
    assert response.status == 400 and answer["error"]["code"] == "bad_request" and names in answer["error"]["message"]


async def test_failed_sign_ins_are_rate_limited_even_with_the_right_password(make_server) -> None:
    server = await make_server(failed_sign_ins_per_minute=2)
    await add_user(server, "ana@clinic.example")
    for _ in range(2):
        assert (await login(server, {"email": "ana@clinic.example", "password": "wrong password!"}))[0] == 401
    status, body, cookies = await login(server, {"email": "ana@clinic.example", "password": PASSWORD})
    assert status == 429 and body["error"]["code"] == "rate_limited" and cookies == []


async def test_the_agent_socket_signs_in_with_the_cookie(server: Server, visitors) -> None:
    await add_user(server, "ana@clinic.example")
    console = await Console().open(server.url, await signed_in(server, "ana@clinic.example"))
    try:
        visitor = await visitors(server.url)
        await visitor.ask("I want to talk to a person")
        cid = visitor.conversation["id"]
        assert (await console.call("take", {"conversation_id": cid}))["ok"]
        sent = await console.call("message", {"conversation_id": cid, "text": "Hello, I am Ana."})
        assert sent["ok"] and sent["message"]["agent"]["name"] == "Ana"
    finally:
        await console.disconnect()


async def test_no_forged_or_ended_cookie_opens_the_agent_socket(server: Server) -> None:
    await add_user(server, "ana@clinic.example")
    assert REFUSED == await refused(server.url, None)
    assert REFUSED == await refused(server.url, "forged-" + "x" * 40)
    cookie = await signed_in(server, "ana@clinic.example")
    console = await Console().open(server.url, cookie)
    async with aiohttp.ClientSession() as http, http.post(
        server.url + "/auth/logout", headers={"Cookie": f"{COOKIE}={cookie}"}
    ) as response:
        assert response.status == 204 and f"{COOKIE}=\"\"" in response.headers["Set-Cookie"]
    answer = await console.call("conversations", {})
    assert answer["error"]["code"] == "unauthorized", "an open console loses its sign-in with the session"
    await console.disconnect()
    assert REFUSED == await refused(server.url, cookie)


@pytest.mark.parametrize("aged", ["idle", "absolute"])
async def test_sessions_end_after_the_idle_limit_and_the_absolute_limit(server: Server, aged: str) -> None:
    await add_user(server, "ana@clinic.example")
    cookie = await signed_in(server, "ana@clinic.example")
    console = await Console().open(server.url, cookie)
    assert (await console.call("conversations", {}))["ok"]
    now = utcnow()
    values = ({"last_seen_at": now - timedelta(minutes=30, seconds=1)} if aged == "idle"
              else {"expires_at": now - timedelta(seconds=1)})
    async with server.app[STORE].transaction() as session:
        mine = StaffSession.token_hash == token_digest(cookie)
        await session.execute(update(StaffSession).where(mine).values(**values))
    assert (await console.call("conversations", {}))["error"]["code"] == "unauthorized"
    await console.disconnect()
    assert REFUSED == await refused(server.url, cookie)


async def test_a_disabled_users_open_console_is_refused_at_its_next_event(server: Server) -> None:
    await add_user(server, "ana@clinic.example")
    console = await Console().open(server.url, await signed_in(server, "ana@clinic.example"))
    await server.app[STORE].set_user_disabled("ana@clinic.example", True)
    assert (await console.call("conversations", {}))["error"]["code"] == "unauthorized"
    await console.disconnect()


async def test_representative_tokens_keep_working_beside_sessions(server: Server, representatives) -> None:
    maria = await representatives(server, "Maria")
    assert (await maria.call("conversations", {}))["ok"]


async def test_logs_hold_no_password_and_no_cookie(server: Server, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="chatbot")
    await add_user(server, "ana@clinic.example")
    await login(server, {"email": "ana@clinic.example", "password": PASSWORD + "x"})
    cookie = await signed_in(server, "ana@clinic.example")
    await (await Console().open(server.url, cookie)).disconnect()
    assert "staff sign-in" in caplog.text
    assert PASSWORD not in caplog.text and cookie not in caplog.text and token_digest(cookie) not in caplog.text


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site", "Origin": "https://sub.clinic.example"},
])
async def test_state_changes_from_another_sites_page_are_refused(server: Server, headers: dict[str, str]) -> None:
    await add_user(server, "ada@clinic.example", "admin")
    cookie = await signed_in(server, "ada@clinic.example")
    status, body, cookies = await login(server, {"email": "ada@clinic.example", "password": PASSWORD}, headers)
    assert (status, body["error"]["code"], cookies) == (403, "cross_site", []), "no login from another site"
    async with aiohttp.ClientSession() as http:
        with_cookie = {**headers, "Cookie": f"{COOKIE}={cookie}"}
        async with http.post(server.url + "/admin/intents/reload", headers=with_cookie) as response:
            assert response.status == 403 and (await response.json())["error"]["code"] == "cross_site"
        async with http.post(server.url + "/auth/logout", headers=with_cookie) as response:
            assert response.status == 403
        async with http.get(server.url + "/admin/stats", headers={"Cookie": f"{COOKIE}={cookie}"}) as response:
            assert response.status == 200, "the session survived the forged logout"


async def test_the_same_sites_pages_and_headless_clients_may_change_state(server: Server) -> None:
    await add_user(server, "ada@clinic.example", "admin")
    credentials = {"email": "ada@clinic.example", "password": PASSWORD}
    for headers in ({"Origin": server.url, "Sec-Fetch-Site": "same-origin"}, {"Origin": server.url}, {}):
        assert (await login(server, credentials, headers))[0] == 200, headers


async def test_with_redis_sessions_live_in_redis_expire_there_and_a_password_reset_ends_them(
        make_server, redis_url: str, capsys, monkeypatch) -> None:
    from redis import asyncio as aioredis

    from tests.processes import redis_prefix
    from tests.test_users import run

    prefix = redis_prefix()
    server = await make_server(redis_url=redis_url, redis_prefix=prefix)
    await add_user(server, "ana@clinic.example", "agent")
    cookie = await signed_in(server, "ana@clinic.example")
    redis = aioredis.Redis.from_url(redis_url)
    try:
        key = f"{prefix}:session:{token_digest(cookie)}"
        assert await redis.hget(key, "user") is not None and 0 < await redis.ttl(key) <= 12 * 3600
        async with server.app[STORE].engine.connect() as connection:
            assert (await connection.execute(select(StaffSession))).all() == []  # not in the database
        await (await Console().open(server.url, cookie)).disconnect()
        await redis.hset(key, "seen", 0)  # last used long ago: past the idle limit
        assert (await server.get("/console/me.json", cookies={COOKIE: cookie}))[0] == 401
        assert not await redis.exists(key)

        cookie = await signed_in(server, "ana@clinic.example")
        assert (await server.get("/console/me.json", cookies={COOKIE: cookie}))[0] == 200
        database = ["--database-url", server.settings.database_url, "--redis-url", redis_url, "--redis-prefix", prefix]
        code, _, err = await asyncio.to_thread(run, capsys, monkeypatch, "users", "reset-password",
                                               "ana@clinic.example", "--password-stdin", *database,
                                               stdin=PASSWORD + " changed\n")
        assert code == 0, err
        assert (await server.get("/console/me.json", cookies={COOKIE: cookie}))[0] == 401
    finally:
        await redis.aclose()
