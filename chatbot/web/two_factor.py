"""``/auth/totp/*``: a signed-in staff member turns on two-step sign-in from the console.

``POST /auth/totp/setup`` starts it (a new secret, its otpauth address), ``GET /auth/totp/qr.svg`` draws that
secret's QR code, ``POST /auth/totp/confirm {"totp"}`` turns it on with the first code and answers the ten recovery
codes, once. A session that may only enrol (its role requires two-step sign-in, ``CHATBOT_REQUIRE_2FA``) is let in
here and nowhere else. Secrets and codes are never logged; turning it on goes into the audit trail.

Tested in tests/test_two_factor.py.
"""

from __future__ import annotations

import logging

from aiohttp import web

from chatbot.chat.keys import GUARD, STAFF, STORE
from chatbot.chat.staff import cookie_token
from chatbot.chat.two_factor import SignInRefused
from chatbot.store import StoreUnavailable
from chatbot.store.models import User
from chatbot.web.auth import error, json_body, totp_field

log = logging.getLogger(__name__)
NO_STORE = {"Cache-Control": "no-store"}


async def _account(request: web.Request) -> User:
    token = cookie_token(request.cookies)
    user = await request.config_dict[STAFF].session_account(token) if token is not None else None
    if user is None:
        raise web.HTTPUnauthorized()
    return user


def _refusal(exc: Exception) -> web.Response:
    if isinstance(exc, web.HTTPUnauthorized):
        return error(401, "unauthorized", "Sign in first (POST /auth/login).")
    if isinstance(exc, web.HTTPBadRequest):
        return error(400, "bad_request", exc.reason)
    if isinstance(exc, StoreUnavailable):
        return error(503, "unavailable", "The database did not answer; try again in a few seconds.")
    assert isinstance(exc, SignInRefused)
    status = {"totp_unavailable": 503, "totp_already_on": 409, "totp_not_started": 409}.get(exc.code, 400)
    return error(status, exc.code, exc.message)


async def setup(request: web.Request) -> web.Response:
    try:
        pending = await request.config_dict[STAFF].second_factor.begin(await _account(request))
    except (web.HTTPException, SignInRefused, StoreUnavailable) as exc:
        return _refusal(exc)
    return web.json_response({"ok": True, "secret": pending.secret, "uri": pending.uri, "qr": "/auth/totp/qr.svg"},
                             headers=NO_STORE)


async def qr(request: web.Request) -> web.Response:
    try:
        svg = await request.config_dict[STAFF].second_factor.pending_qr(await _account(request))
    except (web.HTTPException, SignInRefused, StoreUnavailable) as exc:
        return _refusal(exc)
    return web.Response(text=svg, content_type="image/svg+xml", headers=NO_STORE)


async def confirm(request: web.Request) -> web.Response:
    guard = request.config_dict[GUARD]
    address = guard.request_address(request)
    if not guard.may_sign_in(address):
        return error(429, "rate_limited", "Too many failed codes from your address; wait a minute.",
                     {"Retry-After": "60"})
    try:
        user = await _account(request)
        code = totp_field(await json_body(request, '{"totp": "123456"}'), required=True)
        assert code is not None
        codes = await request.config_dict[STAFF].second_factor.confirm(user, code)
    except SignInRefused as exc:
        if exc.code in ("totp_invalid", "totp_expired"):
            await guard.sign_in_failed(address)
        return _refusal(exc)
    except (web.HTTPException, StoreUnavailable) as exc:
        return _refusal(exc)
    log.info("two-step sign-in turned on: user %s from %s", user.id, address)
    await request.config_dict[STORE].append_audit(user.email, "totp_enabled", None, address)
    return web.json_response({"ok": True, "recovery_codes": codes}, headers=NO_STORE)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/auth/totp/setup", setup)
    app.router.add_get("/auth/totp/qr.svg", qr)
    app.router.add_post("/auth/totp/confirm", confirm)
