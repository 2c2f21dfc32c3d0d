"""The admin HTTP API under ``/admin/``: intent reload, the unanswered report, transcripts, stats, the dashboard's
figures (the dashboard page itself, ``/admin``, is served by ``chatbot/web/pages.py`` and asks for the token), the
audit trail.

Every read of visitors' words (a conversation, a transcript, a search, the unanswered report) and every
deletion appends who, what and from where to the audit trail before answering.

Every endpoint but the OpenAPI document needs ``Authorization: Bearer
<CHATBOT_ADMIN_TOKEN>``, or the session cookie of a staff member whose role is
admin (``POST /auth/login``); with no token configured and no cookie sent the
API is off (403). One
middleware authenticates and turns every refusal into the chat protocol's
error shape, ``{"error": {"code", "message"}}``: bad input is a 4xx, never a
500. The routes live in a sub-application so that the middleware covers
``/admin/`` and nothing else.

Tested in tests/test_admin.py, tests/test_dashboard.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware

from chatbot.admin import dashboard, openapi, reports, tryout, unanswered
from chatbot.admin.reload import Reloaded, Reloader
from chatbot.admin.tradeoff import TRADE_OFF, TradeOff
from chatbot.bot.matcher.encoder import encoder_for
from chatbot.chat import transcripts
from chatbot.chat.keys import CLUSTER, GUARD, SERVICE, SETTINGS, STAFF, STORE
from chatbot.chat.metrics import METRICS
from chatbot.chat.protocol import iso
from chatbot.chat.staff import Role, cookie_token
from chatbot.content.passages import Passage
from chatbot.shared.cluster import Channel
from chatbot.shared.guard import bearer_token
from chatbot.store import StoreUnavailable
from chatbot.store.history import Search
from chatbot.store.models import AuditEntry

RELOADER = web.AppKey("reloader", Reloader)
CHANNEL = web.AppKey("reload_channel", Channel)
MAX_LIMIT = 200
MAX_QUERY = 200
_REASON = re.compile(r"[a-z_]{1,32}")
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # ids are hex; anything else cannot name a conversation
_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "admin_disabled",  # or "forbidden": a staff member whose role is not admin
    404: "not_found",
    405: "method_not_allowed",
    422: "invalid_intents",
    429: "rate_limited",
    503: "unavailable",
}
_DISABLED = (
    "The admin API is off: set CHATBOT_ADMIN_TOKEN (or --admin-token) to a long random secret, restart "
    "the server, and send it as 'Authorization: Bearer <token>'."
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ACTOR = web.RequestKey("audit_actor", str)
"""Who the request is, in the audit trail: the admin's email, or ``ADMIN_TOKEN_ACTOR``."""
ADMIN_TOKEN_ACTOR = "admin-token"


async def audit(request: web.Request, action: str, target: str | None = None) -> None:
    """Append who read or changed what, from where, to the audit trail (``GET /admin/audit``)."""
    address = request.config_dict[GUARD].request_address(request)
    await request.config_dict[STORE].append_audit(request[ACTOR], action, target, address)


class BadParameter(ValueError):
    """A query parameter the API cannot use; the message names it and says what it accepts."""


def error_response(status: int, message: str, headers: Mapping[str, str] | None = None,
                   code: str | None = None) -> web.Response:
    body = {"error": {"code": code or _CODES.get(status, "error"), "message": message}}
    return web.json_response(body, status=status, headers=headers)


def _token_matches(request: web.Request, token: str) -> bool:
    """The request carries ``Authorization: Bearer <token>`` (compared in constant time)."""
    given = bearer_token(request)
    return given is not None and hmac.compare_digest(given.encode("utf-8", "replace"), token.encode("utf-8"))


REPORTS = frozenset({"/admin/activity", "/admin/stats", "/admin/unanswered"})
"""What a supervisor's session may read of the admin API: the figures, not the intents, transcripts or audit."""


def _is_report(request: web.Request) -> bool:
    return request.method in ("GET", "HEAD") and request.path in REPORTS


async def _session_refusal(request: web.Request, cookie: str) -> web.Response | None:
    """An admin's session cookie is let in, and a supervisor's to the ``REPORTS``; another role's gets 403
    ``forbidden``, an ended or forged one 401 (counted as a failed sign-in)."""
    guard = request.config_dict[GUARD]
    address = guard.request_address(request)
    if not guard.may_sign_in(address):
        return error_response(
            429, "Too many failed sign-ins from your address; wait a minute.", headers={"Retry-After": "60"}
        )
    member = await request.config_dict[STAFF].member(cookie)
    if member is None:
        await guard.sign_in_failed(address)
        return error_response(401, "Your session has ended or is not valid; sign in again at POST /auth/login.")
    if member.role != Role.ADMIN and not (member.role == Role.SUPERVISOR and _is_report(request)):
        reports_too = " (supervisors may read the reports: GET " + ", ".join(sorted(REPORTS)) + ")"
        return error_response(403, f"The admin API is for admins{reports_too}; your role is {member.role}.",
                              code="forbidden")
    request[ACTOR] = member.email
    return None


async def _refusal(request: web.Request) -> web.Response | None:
    """403 when the admin API is off, 429 while the address is blocked after failed sign-ins, 401 for a
    missing or wrong token (each counted as a failed sign-in, like a representative's). Without an
    ``Authorization`` header, a staff session cookie is checked instead."""
    cookie = cookie_token(request.cookies)
    if cookie is not None and "Authorization" not in request.headers:
        return await _session_refusal(request, cookie)
    token = request.config_dict[SETTINGS].admin_token
    if not token:
        return error_response(403, _DISABLED)
    guard = request.config_dict[GUARD]
    address = guard.request_address(request)
    if not guard.may_sign_in(address):
        return error_response(
            429, "Too many failed sign-ins from your address; wait a minute.", headers={"Retry-After": "60"}
        )
    if not _token_matches(request, token):
        await guard.sign_in_failed(address)
        return error_response(
            401,
            "Send the admin token as 'Authorization: Bearer <token>'.",
            headers={"WWW-Authenticate": 'Bearer realm="chatbot-admin"'},
        )
    request[ACTOR] = ADMIN_TOKEN_ACTOR
    return None


Refusal = Callable[[web.Request], Awaitable[web.Response | None]]


def door(refusal: Refusal) -> Middleware:
    """A middleware that lets in what ``refusal`` does not refuse, and turns what any admin or API handler raises
    into a JSON error: a bad parameter 400, the database down 503, no such route or method 404 / 405."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            refused = await refusal(request)
            return refused if refused is not None else await handler(request)
        except BadParameter as exc:
            return error_response(400, str(exc))
        except StoreUnavailable:
            return error_response(503, "The database did not answer; try again in a few seconds.")
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            return error_response(exc.status, exc.reason)

    return guard


# -- query parameters ---------------------------------------------------------


def _since(query: Mapping[str, str], default: str = "7d") -> datetime:
    try:
        return reports.ago(query.get("since", default))
    except ValueError as exc:
        raise BadParameter(f"since: {exc}") from None


def int_param(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"-?\d{1,12}", raw.strip()) or not low <= int(raw) <= high:
        raise BadParameter(f"{name}: expected a whole number from {low} to {high}, got {raw!r}")
    return int(raw)


def moment_param(query: Mapping[str, str], name: str) -> datetime | None:
    """An ISO 8601 date or date-time; without a zone it is UTC."""
    raw = query.get(name)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise BadParameter(f"{name}: expected a date like 2024-05-31 or 2024-05-31T14:00:00Z, got {raw!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _search(query: Mapping[str, str]) -> Search:
    state, reason, text = query.get("state"), query.get("reason"), query.get("q")
    if state is not None and state not in reports.STATES:
        raise BadParameter(f"state: expected one of {', '.join(reports.STATES)}, got {state!r}")
    if reason is not None and not _REASON.fullmatch(reason):
        raise BadParameter(f"reason: expected a reason such as low_confidence or closed_by_visitor, got {reason!r}")
    if text is not None and (not 0 < len(text.strip()) <= MAX_QUERY or "\x00" in text):
        raise BadParameter(f"q: expected 1 to {MAX_QUERY} characters of text")
    created_from, created_to = moment_param(query, "from"), moment_param(query, "to")
    if created_from and created_to and created_from > created_to:
        raise BadParameter("from: must not be after 'to'")
    return Search(
        state=state,
        reason=reason,
        created_from=created_from,
        created_to=created_to,
        text=text.strip() if text else None,
    )


# -- handlers -----------------------------------------------------------------


def reloaded_json(result: Reloaded) -> dict[str, Any]:
    if result.ok:
        return {"ok": True, "intents": result.intents, "added": result.added, "removed": result.removed}
    return {
        "ok": False,
        "error": {
            "code": "invalid_intents",
            "message": "The intent files have problems; the running set is unchanged.",
        },
        "problems": [{"file": p.path, "line": p.line, "message": p.message, "text": str(p)} for p in result.problems],
    }


async def reload_intents(request: web.Request) -> web.Response:
    """Validate the intent folder and swap it in; 422 with every problem, leaving the bot as it was."""
    result = await request.config_dict[RELOADER].reload()
    await audit(request, "intents_reloaded" if result.ok else "intents_reload_refused",
                f"{result.intents} intents" if result.ok else None)
    if result.ok and CHANNEL in request.config_dict:
        await request.config_dict[CHANNEL].publish()
    return web.json_response(reloaded_json(result), status=200 if result.ok else 422)


async def unanswered_report(request: web.Request) -> web.Response:
    since = _since(request.query)
    limit = int_param(request.query, "limit", 50, 1, MAX_LIMIT)
    found = await request.config_dict[STORE].unanswered(since)
    await audit(request, "unanswered_read", f"since {iso(since)}")
    groups = await asyncio.to_thread(unanswered.group, found)
    passages = request.config_dict[SERVICE].passages
    return web.json_response(
        {
            "since": iso(since),
            "messages": len(found),
            "total_groups": len(groups),
            "groups": [g.as_json() | {"section": _section_json(passages.answering(g.examples))}
                       for g in groups[:limit]],
        }
    )


def _section_json(passage: Passage | None) -> dict[str, str] | None:
    """The content section that would answer a group: a topic to draft (``chatbot intents draft``), or an intent
    that lacks the group's words."""
    return None if passage is None else {"link": passage.link, "heading": passage.heading}


async def stats(request: web.Request) -> web.Response:
    figures = await reports.stats(request.config_dict[STORE], _since(request.query))
    return web.json_response(figures.as_json())


async def activity(request: web.Request) -> web.Response:
    """The dashboard's figures for ``from``..``to`` (whole UTC days); a bad range is a 400 saying why."""
    try:
        when = dashboard.period(request.query)
    except ValueError as exc:
        raise BadParameter(str(exc)) from None
    return web.json_response(await dashboard.activity(request.config_dict[STORE], when))


async def list_intents(request: web.Request) -> web.Response:
    return web.json_response(tryout.intents_json(request.config_dict[SERVICE].bot))


async def try_intents(request: web.Request) -> web.Response:
    """What the running bot would do with ``text`` (``lang`` when the language is unclear); nothing is stored."""
    try:
        text, lang = tryout.message(request.query)
    except ValueError as exc:
        raise BadParameter(str(exc)) from None
    bot = request.config_dict[SERVICE].bot  # read per request: a reload replaces the bot
    return web.json_response(await asyncio.to_thread(tryout.tried, bot, text, lang))


async def trade_off(request: web.Request) -> web.Response:
    """The threshold trade-off of the running intents (chatbot/admin/tradeoff.py): 200 with the figures, or 202
    while they are worked out (the dashboard asks again after ``Retry-After`` seconds)."""
    figures = await request.app[TRADE_OFF].figures(request.config_dict[SERVICE].bot)
    if figures is None:
        return web.json_response({"state": "working"}, status=202, headers={"Retry-After": "2"})
    return web.json_response(figures)


async def _trade_off(admin: web.Application) -> AsyncIterator[None]:
    admin[TRADE_OFF] = TradeOff()
    yield
    await admin[TRADE_OFF].close()


async def list_conversations(request: web.Request) -> web.Response:
    criteria = _search(request.query)
    limit = int_param(request.query, "limit", 50, 1, MAX_LIMIT)
    offset = int_param(request.query, "offset", 0, 0, 10**9)
    page = await request.config_dict[STORE].search(criteria, limit, offset)
    await audit(request, "conversations_searched", request.query_string[:300] or None)
    return web.json_response({**reports.page_json(page), "limit": limit, "offset": offset})


def _wants_text(request: web.Request) -> bool:
    wanted = request.query.get("format")
    if wanted is None:
        accept = request.headers.get("Accept", "")
        return "text/plain" in accept and "application/json" not in accept
    if wanted not in ("json", "txt"):
        raise BadParameter(f"format: expected json or txt, got {wanted!r}")
    return wanted == "txt"


def _conversation_id(request: web.Request) -> str | None:
    """The id in the path, or None when it cannot name a conversation (so it never reaches the database)."""
    conversation_id = request.match_info["id"]
    return conversation_id if _ID.fullmatch(conversation_id) else None


_NO_SUCH = "No conversation with that id."


async def one_conversation(request: web.Request) -> web.Response:
    as_text = _wants_text(request)
    conversation_id = _conversation_id(request)
    found = await request.config_dict[STORE].history(conversation_id) if conversation_id else None
    await audit(request, "transcript_read" if as_text else "conversation_read", request.match_info["id"][:300])
    if found is None:
        return error_response(404, _NO_SUCH)
    if as_text:
        return web.Response(
            text=transcripts.render(found.conversation, found.messages), content_type="text/plain", charset="utf-8"
        )
    return web.json_response(reports.history_json(found))


async def delete_conversation(request: web.Request) -> web.Response:
    """Erase one conversation with its messages, state changes and transcript file (a visitor's request)."""
    conversation_id = _conversation_id(request)
    await audit(request, "conversation_deleted", request.match_info["id"][:300])
    if conversation_id is None or not await request.config_dict[STORE].delete_conversations([conversation_id]):
        return error_response(404, _NO_SUCH)
    reports.remove_transcripts(request.config_dict[SERVICE].transcripts_dir, [conversation_id])
    return web.Response(status=204)


def audit_json(row: AuditEntry) -> dict[str, Any]:
    return {"id": row.id, "at": iso(row.at), "actor": row.actor, "action": row.action, "target": row.target,
            "address": row.address, "hash": row.hash}


async def audit_trail(request: web.Request) -> web.Response:
    """The audit trail, newest first: ``since`` (a duration, default 7d), ``user`` (an email or admin-token)."""
    since = _since(request.query)
    user = request.query.get("user")
    if user is not None and not 0 < len(user) <= 254:
        raise BadParameter("user: expected an email address or admin-token")
    limit = int_param(request.query, "limit", 100, 1, MAX_LIMIT)
    rows = await request.config_dict[STORE].audit_rows(since, user.strip().lower() if user else None, limit)
    await audit(request, "audit_read", request.query_string[:300] or None)
    return web.json_response({"since": iso(since), "rows": [audit_json(row) for row in rows]})


async def openapi_document(request: web.Request) -> web.Response:
    return web.json_response(openapi.document())


# -- wiring -------------------------------------------------------------------


async def _listen_for_reloads(admin: web.Application) -> AsyncIterator[None]:
    channel = admin[CHANNEL]
    task = asyncio.create_task(channel.listen(admin[RELOADER].on_request), name="intent-reloads")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await channel.close()


def add_routes(app: web.Application) -> None:
    """Mount the admin API on ``app`` (after its settings, service and metrics are set)."""
    settings = app[SETTINGS]
    admin = web.Application(middlewares=[door(_refusal)])
    reloader = Reloader(app[SERVICE], settings.intents_dir, settings.threshold, app[METRICS],
                        encoder_for(settings.sentence_encoder), settings.forms_dir)
    admin[RELOADER] = reloader
    channel = app[CLUSTER].channel("intent-reloads")
    if channel is not None:
        admin[CHANNEL] = channel
        admin.cleanup_ctx.append(_listen_for_reloads)
    admin.router.add_post("/intents/reload", reload_intents)
    admin.router.add_get("/unanswered", unanswered_report)
    admin.router.add_get("/stats", stats)
    admin.router.add_get("/activity", activity)
    admin.router.add_get("/intents", list_intents)
    admin.router.add_get("/intents/try", try_intents)
    admin.router.add_get("/intents/trade-off", trade_off)
    admin.cleanup_ctx.append(_trade_off)
    admin.router.add_get("/conversations", list_conversations)
    admin.router.add_get("/conversations/{id}", one_conversation)
    admin.router.add_delete("/conversations/{id}", delete_conversation)
    admin.router.add_get("/audit", audit_trail)
    app.router.add_get("/admin/openapi.json", openapi_document)
    app.add_subapp("/admin", admin)
