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
from typing import Any

from aiohttp import web

from chatbot.chat.keys import GUARD, SETTINGS, STAFF, STORE
from chatbot.chat.staff import COOKIE, cookie_token
from chatbot.shared import passwords
from chatbot.store import StoreUnavailable

MAX_BODY = 4096
MAX_EMAIL = 254
ANONYMOUS = "anonymous"
"""The actor of a failed sign-in in the audit trail: the email typed is not recorded (it may be a password)."""
log = logging.getLogger(__name__)


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"ok": False, "error": {"code": code, "message": message}}, status=status,
                             headers=headers)


def _secure(request: web.Request) -> bool:
    if request.secure:
        return True
    trusted = request.config_dict[SETTINGS].trust_proxy
    return trusted and request.headers.get("X-Forwarded-Proto", "").lower() == "https"


async def _credentials(request: web.Request) -> tuple[str, str]:
    """The body's email and password, or a 400 that says what is wrong with it."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise web.HTTPBadRequest(reason=f"the body has at most {MAX_BODY} bytes")
    raw = await request.content.read(MAX_BODY + 1)
    try:
        body: Any = json.loads(raw) if len(raw) <= MAX_BODY else None
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(reason='send a JSON object {"email": ..., "password": ...}')
    email, password = body.get("email"), body.get("password")
    if not isinstance(email, str) or not 0 < len(email.strip()) <= MAX_EMAIL:
        raise web.HTTPBadRequest(reason=f"'email' must be text of 1 to {MAX_EMAIL} characters")
    if not isinstance(password, str) or not 0 < len(password) <= passwords.MAX_LENGTH:
        raise web.HTTPBadRequest(reason=f"'password' must be text of 1 to {passwords.MAX_LENGTH} characters")
    return email, password


async def login(request: web.Request) -> web.Response:
    guard = request.config_dict[GUARD]
    address = guard.request_address(request)
    if not guard.may_sign_in(address):
        return _error(429, "rate_limited", "Too many failed sign-ins from your address; wait a minute.",
                      {"Retry-After": "60"})
    try:
        email, password = await _credentials(request)
        signed_in = await request.config_dict[STAFF].sign_in(email, password)
    except web.HTTPBadRequest as exc:
        return _error(400, "bad_request", exc.reason)
    except StoreUnavailable:
        return _error(503, "unavailable", "The database did not answer; try again in a few seconds.")
    store = request.config_dict[STORE]
    if signed_in is None:
        await guard.sign_in_failed(address)
        log.info("failed staff sign-in from %s", address)
        await store.append_audit(ANONYMOUS, "sign_in_failed", None, address)
        return _error(401, "unauthorized", "Wrong email or password.")
    member, token = signed_in
    log.info("staff sign-in: user %s from %s", member.id, address)
    await store.append_audit(member.email, "sign_in", None, address)
    response = web.json_response({"ok": True, "user": {"id": member.id, "email": member.email, "name": member.name,
                                                        "role": member.role.value}})
    response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", secure=_secure(request), path="/")
    response.headers["Cache-Control"] = "no-store"
    return response


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
            return _error(503, "unavailable", "The database did not answer; try again in a few seconds.")
    response = web.Response(status=204)
    response.del_cookie(COOKIE, path="/")
    return response


def add_routes(app: web.Application) -> None:
    app.router.add_post("/auth/login", login)
    app.router.add_post("/auth/logout", logout)
