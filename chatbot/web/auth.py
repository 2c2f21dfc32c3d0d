"""``POST /auth/login`` and ``POST /auth/logout``: staff sign in with an email and a password and get a cookie.

The cookie holds a 256-bit random secret (the database keeps its digest): HttpOnly, so scripts never read it;
SameSite=Strict, so no other site's page can make the browser send it; Secure when the request came over
https (directly, or through a trusted proxy's ``X-Forwarded-Proto``). A wrong password and an unknown email
get the same 401 after the same hash work; each failure counts against the address in the guard, shared
with representative and admin token sign-ins. Passwords and cookies are never logged; sign-ins, failed
sign-ins and sign-outs are appended to the audit trail.

Tested in tests/test_staff_sessions.py.
"""

from __future__ import annotations

import json
import logging
from typing import Any, NamedTuple

from aiohttp import web

from chatbot.chat.keys import GUARD, SETTINGS, STAFF, STORE
from chatbot.chat.staff import COOKIE, cookie_token
from chatbot.chat.two_factor import SignInRefused
from chatbot.shared import passwords
from chatbot.store import StoreUnavailable

MAX_BODY = 4096
MAX_EMAIL = 254
MAX_CODE = 64
ANONYMOUS = "anonymous"
"""The actor of a failed sign-in in the audit trail: the email typed is not recorded (it may be a password)."""
log = logging.getLogger(__name__)


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"ok": False, "error": {"code": code, "message": message}}, status=status,
                             headers=headers)


def _secure(request: web.Request) -> bool:
    if request.secure:
        return True
    trusted = request.config_dict[SETTINGS].trust_proxy
    return trusted and request.headers.get("X-Forwarded-Proto", "").lower() == "https"


class Credentials(NamedTuple):
    email: str
    password: str
    totp: str | None


async def json_body(request: web.Request, shape: str) -> dict[str, Any]:
    """The request's JSON object (at most ``MAX_BODY`` bytes), or a 400 that shows the ``shape`` expected."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise web.HTTPBadRequest(reason=f"the body has at most {MAX_BODY} bytes")
    raw = await request.content.read(MAX_BODY + 1)
    try:
        body: Any = json.loads(raw) if len(raw) <= MAX_BODY else None
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(reason=f"send a JSON object {shape}")
    return body


def totp_field(body: dict[str, Any], required: bool) -> str | None:
    """The ``totp`` field: a 6-digit code or a recovery code, at most ``MAX_CODE`` characters."""
    code = body.get("totp")
    if code is None and not required:
        return None
    if not isinstance(code, str) or not 0 < len(code.strip()) <= MAX_CODE or not code.isprintable():
        raise web.HTTPBadRequest(reason=f"'totp' must be the 6-digit code or a recovery code ({MAX_CODE} characters "
                                        "at most)")
    return code


async def _credentials(request: web.Request) -> Credentials:
    """The body's email, password and second factor, or a 400 that says what is wrong with it."""
    body = await json_body(request, '{"email": ..., "password": ..., "totp": ...}')
    email, password = body.get("email"), body.get("password")
    if not isinstance(email, str) or not 0 < len(email.strip()) <= MAX_EMAIL:
        raise web.HTTPBadRequest(reason=f"'email' must be text of 1 to {MAX_EMAIL} characters")
    if not isinstance(password, str) or not 0 < len(password) <= passwords.MAX_LENGTH:
        raise web.HTTPBadRequest(reason=f"'password' must be text of 1 to {passwords.MAX_LENGTH} characters")
    return Credentials(email, password, totp_field(body, required=False))


async def login(request: web.Request) -> web.Response:
    guard = request.config_dict[GUARD]
    address = guard.request_address(request)
    if not guard.may_sign_in(address):
        return error(429, "rate_limited", "Too many failed sign-ins from your address; wait a minute.",
                      {"Retry-After": "60"})
    try:
        credentials = await _credentials(request)
        signed_in = await request.config_dict[STAFF].sign_in(*credentials)
    except web.HTTPBadRequest as exc:
        return error(400, "bad_request", exc.reason)
    except SignInRefused as exc:
        return await _refused(request, address, credentials.email, exc)
    except StoreUnavailable:
        return error(503, "unavailable", "The database did not answer; try again in a few seconds.")
    store, member = request.config_dict[STORE], signed_in.member
    log.info("staff sign-in: user %s from %s", member.id, address)
    await store.append_audit(member.email, "sign_in", None, address)
    user: dict[str, Any] = {"id": member.id, "email": member.email, "name": member.name, "role": member.role.value,
                            "totp": member.totp}
    extra: dict[str, Any] = {"totp_setup_required": True} if member.must_enrol else {}
    if signed_in.recovery_used:
        await store.append_audit(member.email, "recovery_code_used", None, address)
        extra["recovery_codes_left"] = await store.recovery_codes_left(member.id)
    response = web.json_response({"ok": True, "user": user, **extra})
    response.set_cookie(COOKIE, signed_in.token, httponly=True, samesite="Strict", secure=_secure(request), path="/")
    response.headers["Cache-Control"] = "no-store"
    return response


async def _refused(request: web.Request, address: str, email: str, exc: SignInRefused) -> web.Response:
    """The answer to a refused sign-in. A wrong password or second factor counts against the address and goes
    into the audit trail; a missing code (the first of two steps) and a server without its key do not."""
    if exc.code == "totp_unavailable":
        return error(503, exc.code, exc.message)
    if exc.code != "totp_required":
        await request.config_dict[GUARD].sign_in_failed(address)
        log.info("failed staff sign-in (%s) from %s", exc.code, address)
        # A wrong password's email is not kept (it may be a password typed in the wrong field); past the password,
        # the account is known and its second factor failed.
        actor = ANONYMOUS if exc.code == "unauthorized" else email.strip().lower()
        await request.config_dict[STORE].append_audit(actor, "sign_in_failed", None if actor == ANONYMOUS
                                                      else exc.code, address)
    return error(401, exc.code, exc.message)


async def logout(request: web.Request) -> web.Response:
    """End the session (if any) and clear the cookie; always 204, so it can be called twice."""
    token = cookie_token(request.cookies)
    if token is not None:
        try:
            member = await request.config_dict[STAFF].member(token)
            if member is not None and await request.config_dict[STAFF].sign_out(token):
                address = request.config_dict[GUARD].request_address(request)
                await request.config_dict[STORE].append_audit(member.email, "sign_out", None, address)
        except StoreUnavailable:
            return error(503, "unavailable", "The database did not answer; try again in a few seconds.")
    response = web.Response(status=204)
    response.del_cookie(COOKIE, path="/")
    return response


def add_routes(app: web.Application) -> None:
    app.router.add_post("/auth/login", login)
    app.router.add_post("/auth/logout", logout)
