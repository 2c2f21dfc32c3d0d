"""The REST API under ``/api/v1/``: the clinic's other systems read conversations, leads and contacts.

Each caller has its own API key (``chatbot apikeys add NAME``), sent as ``Authorization: Bearer <key>``; keys are
kept as digests and compared in constant time (``chatbot/store/apikeys.py``). Every conversation, lead or contact
a response holds appends a row to the audit trail naming the key (``apikey:NAME``), before the response leaves.
Lists are newest first, a page at a time: ``next_cursor`` (null on the last page) is passed back as ``cursor``.
Errors are JSON, ``{"error": {"code", "message"}}``, as in the admin API; the OpenAPI document
(``/admin/openapi.json``) describes both.

Tested in tests/test_api.py.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from aiohttp import web

from chatbot.admin.http import BadParameter, door, error_response, int_param, moment_param
from chatbot.chat.keys import GUARD, STORE
from chatbot.chat.lifecycle import Reason, State
from chatbot.chat.protocol import iso, lead_json, message_json, summary_json
from chatbot.shared.guard import bearer_token
from chatbot.store.leads import ApiPage, Cursor, Filters
from chatbot.store.models import Conversation, Message

PREFIX = "/api/v1"
MAX_PAGE = 100
KEY = web.RequestKey("api_key_name", str)
_FORM = re.compile(r"[a-z0-9_]{1,64}")
_ID = re.compile(r"[0-9a-f]{32}")
_HANDOFF_REASONS = sorted(r.value for r in (
    Reason.LOW_CONFIDENCE, Reason.REQUESTED, Reason.URGENT, Reason.PRICING, Reason.BOOKING, Reason.PRESCRIPTION,
    Reason.PERSONAL_RESULT, Reason.DIAGNOSIS, Reason.NAMED_PERSON, Reason.COMPLAINT, Reason.AFTER_HOURS,
))
"""Why the bot handed a conversation to people: what ``reason`` filters on (any handoff, not only the latest)."""
_STATES = sorted(s.value for s in State)


def actor(request: web.Request) -> str:
    return f"apikey:{request[KEY]}"


async def audit(request: web.Request, action: str, ids: list[str]) -> None:
    """One audit row per record the response holds, naming the key (nothing to record for an empty page)."""
    if ids:
        address = request.config_dict[GUARD].request_address(request)
        await request.config_dict[STORE].append_audits(actor(request), action, ids, address)


# -- authentication and errors --------------------------------------------------


async def _refusal(request: web.Request) -> web.Response | None:
    """429 while the address is blocked after failed attempts; 401 for a missing, unknown or revoked key."""
    guard = request.config_dict[GUARD]
    address = guard.request_address(request)
    if not guard.may_sign_in(address):
        return error_response(429, "Too many failed attempts from your address; wait a minute.",
                              headers={"Retry-After": "60"})
    secret = bearer_token(request)
    key = await request.config_dict[STORE].api_key(secret) if secret else None
    if key is None:
        if secret:
            await guard.sign_in_failed(address)
        return error_response(401, "Send a live API key as 'Authorization: Bearer <key>' (chatbot apikeys add NAME).",
                              headers={"WWW-Authenticate": 'Bearer realm="chatbot-api"'})
    request[KEY] = key.name
    return None


# -- query parameters -------------------------------------------------------------

_KNOWN = {
    "conversations": {"state", "reason", "from", "to", "cursor", "limit"},
    "leads": {"form", "from", "to", "cursor", "limit"},
    "contacts": {"from", "to", "cursor", "limit"},
}


def _cursor(query: Mapping[str, str]) -> Cursor | None:
    raw = query.get("cursor")
    if raw is None:
        return None
    try:
        moment, ident = json.loads(base64.urlsafe_b64decode(raw.encode("ascii") + b"=="))
        return datetime.fromisoformat(moment), str(ident)
    except (ValueError, TypeError, UnicodeError, binascii.Error):
        raise BadParameter("cursor: expected the next_cursor of a previous page, unchanged") from None


def _next_cursor(more: bool, last: Conversation | Any | None) -> str | None:
    if not more or last is None:
        return None
    raw = json.dumps([last.created_at.isoformat(), last.id]).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _filters(query: Mapping[str, str], kind: str) -> Filters:
    unknown = sorted(set(query) - _KNOWN[kind])
    if unknown:
        known = ", ".join(sorted(_KNOWN[kind]))
        raise BadParameter(f"{unknown[0]}: not a parameter of {PREFIX}/{kind} (known: {known})")
    state, reason, form = query.get("state"), query.get("reason"), query.get("form")
    if state is not None and state not in _STATES:
        raise BadParameter(f"state: expected one of {', '.join(_STATES)}, got {state!r}")
    if reason is not None and reason not in _HANDOFF_REASONS:
        raise BadParameter(f"reason: expected one of {', '.join(_HANDOFF_REASONS)}, got {reason!r}")
    if form is not None and not _FORM.fullmatch(form):
        raise BadParameter(f"form: expected a form id such as mri_review, got {form!r}")
    created_from, created_to = moment_param(query, "from"), moment_param(query, "to")
    if created_from and created_to and created_from > created_to:
        raise BadParameter("from: must not be after 'to'")
    return Filters(state=state, reason=reason, created_from=created_from, created_to=created_to, form_id=form)


def _page(request: web.Request, kind: str) -> tuple[Filters, Cursor | None, int]:
    query = request.query
    return _filters(query, kind), _cursor(query), int_param(query, "limit", 50, 1, MAX_PAGE)


# -- the objects -----------------------------------------------------------------


def conversation_out(conversation: Conversation, messages: list[Message]) -> dict[str, Any]:
    body = summary_json(conversation, messages[-1] if messages else None)
    del body["last_message"]
    return {**body, "closed_at": iso(conversation.closed_at), "rating": conversation.rating,
            "messages": [message_json(m) for m in messages]}


def contact_out(conversation: Conversation) -> dict[str, Any]:
    return {"conversation_id": conversation.id, "name": conversation.contact_name,
            "email": conversation.contact_email, "phone": conversation.contact_phone, "lang": conversation.lang,
            "page": conversation.page, "created_at": iso(conversation.created_at)}


def _listing(data: list[dict[str, Any]], page: ApiPage, last: Any) -> web.Response:
    return web.json_response({"data": data, "next_cursor": _next_cursor(page.more, last)})


# -- handlers -----------------------------------------------------------------------


async def conversations(request: web.Request) -> web.Response:
    page = await request.config_dict[STORE].conversations_page(*_page(request, "conversations"))
    found = page.conversations
    await audit(request, "api_conversation_read", [c.id for c in found])
    return _listing([conversation_out(c, page.messages.get(c.id, [])) for c in found], page,
                    found[-1] if found else None)


async def one_conversation(request: web.Request) -> web.Response:
    conversation_id = request.match_info["id"]
    found = (await request.config_dict[STORE].conversation_with_messages(conversation_id)
             if _ID.fullmatch(conversation_id) else None)
    if found is None:
        return error_response(404, "No conversation with that id.")
    await audit(request, "api_conversation_read", [conversation_id])
    return web.json_response(conversation_out(*found))


async def leads(request: web.Request) -> web.Response:
    page = await request.config_dict[STORE].leads_page(*_page(request, "leads"))
    await audit(request, "api_lead_read", [lead.id for lead in page.leads])
    return _listing([lead_json(lead) for lead in page.leads], page, page.leads[-1] if page.leads else None)


async def contacts(request: web.Request) -> web.Response:
    page = await request.config_dict[STORE].contacts_page(*_page(request, "contacts"))
    found = page.conversations
    await audit(request, "api_contact_read", [c.id for c in found])
    return _listing([contact_out(c) for c in found], page, found[-1] if found else None)


def add_routes(app: web.Application) -> None:
    """Mount the API on ``app`` (after its store and guard are set)."""
    api = web.Application(middlewares=[door(_refusal)])
    api.router.add_get("/conversations", conversations)
    api.router.add_get("/conversations/{id}", one_conversation)
    api.router.add_get("/leads", leads)
    api.router.add_get("/contacts", contacts)
    app.add_subapp(PREFIX, api)
