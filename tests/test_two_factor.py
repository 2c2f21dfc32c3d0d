"""Two-step sign-in (chatbot/shared/totp.py, chatbot/chat/two_factor.py, chatbot/web/two_factor.py) against a real
server: enrolment with its QR code, codes refused when missing, wrong, expired or replayed, single-use recovery
codes, a role that must enrol, the rate limit, and no secret in the database dump or the logs."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
import pytest
from sqlalchemy import text

from chatbot.chat.staff import COOKIE
from chatbot.shared import totp
from chatbot.web.app import STORE
from tests.conftest import Server
from tests.test_staff_sessions import PASSWORD, REFUSED, Console, add_user, login, refused, signed_in
from tests.test_users import run

KEY = totp.new_key()
EMAIL = "ana@clinic.example"


async def post(server: Server, path: str, cookie: str, body: Any = None) -> tuple[int, Any]:
    async with aiohttp.ClientSession(cookies={COOKIE: cookie}) as http, http.post(
        server.url + path, json=body
    ) as response:
        return response.status, await response.json()


async def enrol(server: Server, cookie: str) -> tuple[str, list[str]]:
    """Turn two-step sign-in on through the endpoints; the secret and the recovery codes."""
    status, body = await post(server, "/auth/totp/setup", cookie)
    assert status == 200, body
    status, confirmed = await post(server, "/auth/totp/confirm", cookie, {"totp": code(body["secret"])})
    assert status == 200, confirmed
    return body["secret"], confirmed["recovery_codes"]


def code(secret: str, steps: int = 0) -> str:
    return totp.code_at(secret, totp.current_step() + steps)


async def attempt(server: Server, secret_code: str | None) -> tuple[int, Any]:
    body = {"email": EMAIL, "password": PASSWORD, **({"totp": secret_code} if secret_code else {})}
    status, answer, _ = await login(server, body)
    return status, answer if status == 200 else answer["error"]["code"]


async def test_enrol_with_the_qr_code_then_codes_are_refused_when_missing_wrong_expired_or_replayed(
        make_server, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="chatbot")
    server = await make_server(totp_key=KEY)
    await add_user(server, EMAIL, "supervisor")
    cookie = await signed_in(server, EMAIL)
    status, body = await post(server, "/auth/totp/confirm", cookie, {"totp": "123456"})
    assert (status, body["error"]["code"]) == (409, "totp_not_started")
    status, started = await post(server, "/auth/totp/setup", cookie)
    assert started["uri"].startswith("otpauth://totp/") and f"secret={started['secret']}" in started["uri"]
    status, svg = await server.get("/auth/totp/qr.svg", cookies={COOKIE: cookie})
    assert status == 200 and svg.startswith("<?xml") and "<svg" in svg
    wrong = f"{(int(code(started['secret'])) + 1) % 1_000_000:06d}"
    status, body = await post(server, "/auth/totp/confirm", cookie, {"totp": wrong})
    assert (status, body["error"]["code"]) == (400, "totp_invalid")
    status, confirmed = await post(server, "/auth/totp/confirm", cookie, {"totp": code(started["secret"])})
    secret, recovery = started["secret"], confirmed["recovery_codes"]
    assert status == 200 and len(set(recovery)) == 10
    assert (await post(server, "/auth/totp/setup", cookie))[0] == 409  # no silent replacement of the factor

    assert await attempt(server, None) == (401, "totp_required")
    assert await attempt(server, code(secret)) == (401, "totp_replayed")  # the step confirm used
    assert await attempt(server, code(secret, -5)) == (401, "totp_expired")
    assert await attempt(server, wrong) == (401, "totp_invalid")
    status, answer = await attempt(server, code(secret, 1))  # the app's clock a little ahead
    assert status == 200 and answer["user"]["totp"] is True
    assert await attempt(server, code(secret, 1)) == (401, "totp_replayed")

    status, answer = await attempt(server, recovery[0].lower().replace("-", " "))
    assert status == 200 and answer["recovery_codes_left"] == 9
    assert await attempt(server, recovery[0]) == (401, "totp_invalid")  # each recovery code works once

    store = server.app[STORE]
    async with store.engine.connect() as connection:
        rows = [*(await connection.execute(text("SELECT * FROM users"))).all(),
                *(await connection.execute(text("SELECT * FROM recovery_codes"))).all()]
    dump = " ".join(str(row) for row in rows)
    assert secret not in dump and all(c.replace("-", "") not in dump.replace("-", "") for c in recovery)
    actions = [(row.actor, row.action, row.target) for row in reversed(await store.audit_rows())]
    assert (EMAIL, "totp_enabled", None) in actions and (EMAIL, "recovery_code_used", None) in actions
    assert (EMAIL, "sign_in_failed", "totp_replayed") in actions
    assert (EMAIL, "sign_in_failed", "totp_expired") in actions
    for secret_text in (secret, wrong, *recovery, code(secret, 1), PASSWORD):
        assert secret_text not in caplog.text


async def test_a_role_that_requires_two_step_sign_in_may_only_enrol_until_it_does(make_server) -> None:
    server = await make_server(totp_key=KEY, require_2fa=("supervisor", "admin"))
    await add_user(server, EMAIL, "supervisor")
    await add_user(server, "bo@clinic.example", "agent", "Bo")
    status, body, cookies = await login(server, {"email": EMAIL, "password": PASSWORD})
    assert status == 200 and body["totp_setup_required"] is True
    cookie = cookies[0].split(";")[0].split("=", 1)[1]
    assert await refused(server.url, cookie) == REFUSED
    assert (await server.get("/console/me.json", cookies={COOKIE: cookie}))[0] == 401
    assert (await server.get("/admin/audit", cookies={COOKIE: cookie}))[0] == 401
    await enrol(server, cookie)
    console = await Console().open(server.url, cookie)  # the same session, now with its second factor
    await console.disconnect()
    agent_cookie = await signed_in(server, "bo@clinic.example")  # agents are not required to
    await (await Console().open(server.url, agent_cookie)).disconnect()


async def test_wrong_codes_are_rate_limited_and_an_admin_can_reset_a_lost_factor(make_server, capsys,
                                                                                  monkeypatch) -> None:
    server = await make_server(totp_key=KEY, failed_sign_ins_per_minute=2)
    await add_user(server, EMAIL, "agent")
    secret, _ = await enrol(server, await signed_in(server, EMAIL))
    assert await attempt(server, "000000" if code(secret) != "000000" else "111111") == (401, "totp_invalid")
    assert await attempt(server, code(secret, -4)) == (401, "totp_expired")
    status, body, _ = await login(server, {"email": EMAIL, "password": PASSWORD, "totp": code(secret, 1)})
    assert (status, body["error"]["code"]) == (429, "rate_limited")  # even with the right code

    database = ["--database-url", server.settings.database_url]
    assert (await asyncio.to_thread(run, capsys, monkeypatch, "users", "reset-2fa", EMAIL, *database))[0] == 0
    assert "\t2fa off\t" in (await asyncio.to_thread(run, capsys, monkeypatch, "users", "list", *database))[1]
    unblocked = await make_server(totp_key=KEY)
    assert (await attempt(unblocked, None))[0] == 200  # the lost phone no longer needed

    keyless = await make_server()
    await add_user(keyless, "bo@clinic.example", "agent", "Bo")
    status, body = await post(keyless, "/auth/totp/setup", await signed_in(keyless, "bo@clinic.example"))
    assert (status, body["error"]["code"]) == (503, "totp_unavailable")
    status, body, _ = await login(keyless, {"email": EMAIL, "password": PASSWORD, "totp": ["x"]})
    assert (status, body["error"]["code"]) == (400, "bad_request")
