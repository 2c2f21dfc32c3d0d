"""The wire format: acks, error codes, payload checks and the JSON shape of each object.

Errors are values in the protocol (``{"ok": false, "error": {...}}``), built
here and nowhere else; ``docs/protocol.md`` lists the codes.

Tested in tests/test_fuzz.py, tests/test_isolation.py.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

import socketio

from chatbot.shared.shapes import is_email, is_phone, storable
from chatbot.store import StoreUnavailable
from chatbot.store.models import Conversation, Lead, Message, Note, State

log = logging.getLogger(__name__)

MAX_TEXT = 2000

ERROR_MESSAGES = {
    "empty": "The message is empty.",
    "too_long": f"The message is longer than {MAX_TEXT} characters.",
    "rate_limited": "Too many messages at once; wait a moment and send again.",
    "closed": "This conversation is closed.",
    "bad_request": "The payload does not have the documented shape.",
    "unavailable": "The service is temporarily unavailable; try again in a few seconds.",
    "not_found": "No such conversation.",
    "taken": "Another representative has already taken this conversation.",
    "not_assigned": "You do not hold this conversation.",
    "at_capacity": "You already hold as many conversations as allowed.",
    "offer_expired": "That offer has expired or gone to someone else.",
    "routing_off": "Auto-assignment is off (CHATBOT_ROUTING=manual): take conversations from the queue.",
    "not_closed": "The conversation is still open; rate it once it has closed.",
    "no_agent": "Only conversations with a representative can be rated.",
    "already_rated": "This conversation has already been rated.",
    "unauthorized": "Your sign-in is no longer valid; sign in again.",
    "form_required": "Please fill in the form before your first message.",
    "forbidden": "Your role does not allow this.",
    "offline": "That representative is not online.",
    "internal": "Something went wrong on our side.",
}


class ChatError(Exception):
    """A documented protocol error; becomes an error ack."""

    def __init__(self, code: str, message: str | None = None, fields: Mapping[str, str] | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.message = message or ERROR_MESSAGES[code]
        self.fields = fields


def refusal(code: str, message: str) -> Exception:
    """A refused connect whose error reads ``{"code": ...}`` in every client.

    python-socketio clients get the packet's data as is; socket.io-client
    builds ``err.message`` from ``message`` and ``err.data`` from ``data``.
    """
    refused: Exception = socketio.exceptions.ConnectionRefusedError(message)
    refused.error_args = {  # type: ignore[attr-defined]  # read by python-socketio when it refuses the connect
        "code": code, "message": message, "data": {"code": code, "message": message}
    }
    return refused


def ok(**fields: Any) -> dict[str, Any]:
    return {"ok": True, **fields}


def error(code: str, message: str | None = None, fields: Mapping[str, str] | None = None) -> dict[str, Any]:
    """An error ack; ``fields`` (a form's submission) says what is wrong with each field, by field name."""
    body: dict[str, Any] = {"code": code, "message": message or ERROR_MESSAGES[code]}
    if fields:
        body["fields"] = dict(fields)
    return {"ok": False, "error": body}


Handler = TypeVar("Handler", bound=Callable[..., Awaitable[dict[str, Any]]])


def acked(handler: Handler) -> Handler:
    """Turn any failure of an event handler into its documented error ack; nothing escapes to crash a socket.

    The wrapper also absorbs a missing payload (``None``) and extra arguments
    (``bad_request``), which would otherwise be a ``TypeError`` inside python-socketio.
    """

    @functools.wraps(handler)
    async def wrapper(namespace: Any, sid: str, data: Any = None, *extra: Any) -> dict[str, Any]:
        if extra:
            return error("bad_request", "Send one payload object per event.")
        try:
            return await handler(namespace, sid, data)
        except ChatError as exc:
            return error(exc.code, exc.message, exc.fields)
        except StoreUnavailable as exc:
            log.warning("database unavailable during %s: %s", handler.__name__, exc)
            return error("unavailable")
        except Exception:
            log.exception("unexpected error in %s", handler.__name__)
            return error("internal")

    return wrapper  # type: ignore[return-value]


# -- payload checks ----------------------------------------------------------


def payload(data: Any) -> Mapping[str, Any]:
    """The event's payload as a mapping (``None`` counts as ``{}``)."""
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ChatError("bad_request", "The payload must be an object.")
    return data


def optional_str(data: Mapping[str, Any], key: str, max_len: int) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > max_len or not storable(value):
        raise ChatError("bad_request", f"'{key}' must be a string of 1 to {max_len} characters, without NUL.")
    return value


def message_text(data: Mapping[str, Any], key: str = "text") -> str:
    """The ``text`` field (or ``key``): a non-blank string of at most ``MAX_TEXT`` characters, trimmed.

    NUL and unpaired surrogates are refused as ``bad_request`` before anything else:
    no client sends them in real text, and neither could be stored.
    """
    value = data.get(key)
    if not isinstance(value, str):
        raise ChatError("bad_request", f"'{key}' must be a string.")
    if not storable(value):
        raise ChatError("bad_request", f"'{key}' must not contain NUL or unpaired surrogate characters.")
    value = value.strip()
    if not value:
        raise ChatError("empty")
    if len(value) > MAX_TEXT:
        raise ChatError("too_long")
    return value


def contact(data: Mapping[str, Any]) -> tuple[str, str | None, str | None]:
    """A visitor's contact details: a name and at least one of a valid email or phone number."""
    name = optional_str(data, "name", 100)
    email = optional_str(data, "email", 254)
    phone = optional_str(data, "phone", 40)
    if name is None or not name.strip():
        raise ChatError("bad_request", "Please give your name.")
    if email is None and phone is None:
        raise ChatError("bad_request", "Please give an email address or a phone number.")
    if email is not None and not is_email(email.strip()):
        raise ChatError("bad_request", "That email address does not look right.")
    if phone is not None and not is_phone(phone.strip()):
        raise ChatError("bad_request", "That phone number does not look right.")
    return name.strip(), email.strip() if email else None, phone.strip() if phone else None


def rating(data: Mapping[str, Any]) -> tuple[int, str | None]:
    """A score from 1 to 5 and an optional comment of at most 1,000 characters."""
    score = data.get("score")
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise ChatError("bad_request", "'score' must be a whole number from 1 to 5.")
    comment = optional_str(data, "comment", 1000)
    return score, comment.strip() if comment and comment.strip() else None


def form_id(data: Mapping[str, Any]) -> str:
    """The ``form_id`` of ``form_open`` and ``form_submit``."""
    value = data.get("form_id")
    if not isinstance(value, str) or not re.fullmatch(r"[a-z0-9_]{1,64}", value):
        raise ChatError("bad_request", "'form_id' must be the id of a form (a-z, 0-9 and _).")
    return value


def flag(data: Mapping[str, Any], key: str) -> bool:
    value = data.get(key)
    if not isinstance(value, bool):
        raise ChatError("bad_request", f"'{key}' must be true or false.")
    return value


# -- objects on the wire -----------------------------------------------------


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def agent_ref(agent_id: str | None, agent_name: str | None) -> dict[str, str] | None:
    return {"id": agent_id, "name": agent_name or ""} if agent_id else None


def note_json(note: Note) -> dict[str, Any]:
    """A private note, for representatives only (the ``note`` event, ``notes`` in watch and take)."""
    return {
        "id": note.id,
        "conversation_id": note.conversation_id,
        "author": {"id": note.author_id, "name": note.author_name},
        "text": note.text,
        "created_at": iso(note.created_at),
    }


def message_json(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "sender": message.sender,
        "text": message.text,
        "created_at": iso(message.created_at),
        "client_id": message.client_id,
        "intent": message.intent,
        "confidence": message.confidence,
        "agent": agent_ref(message.agent_id, message.agent_name),
        "quick_replies": list(message.quick_replies or []),
        "intents": list(message.intents or []),
        "urgent": bool(message.urgent),
        "form_offer": message.form_offer,
    }


def lead_json(lead: Lead) -> dict[str, Any]:
    """A Lead: a form a visitor sent, with the consent text they agreed to (representatives and the REST API)."""
    return {
        "id": lead.id,
        "conversation_id": lead.conversation_id,
        "form_id": lead.form_id,
        "values": lead.values,
        "consent_text": lead.consent_text,
        "lang": lead.lang,
        "page": lead.page,
        "created_at": iso(lead.created_at),
    }


def conversation_json(conversation: Conversation, messages: list[Message], token: str | None = None) -> dict[str, Any]:
    """The ``conversation`` event; the token only ever goes to the visitor who holds it."""
    body: dict[str, Any] = {
        "id": conversation.id,
        "state": conversation.state,
        "lang": conversation.lang,
        "messages": [message_json(m) for m in messages],
    }
    if token is not None:
        body["token"] = token
    return body


def summary_json(conversation: Conversation, last_message: Message | None) -> dict[str, Any]:
    """A ConversationSummary for representatives: never the token, always the contact they left."""
    contact = None
    if conversation.contact_name:
        contact = {
            "name": conversation.contact_name,
            "email": conversation.contact_email,
            "phone": conversation.contact_phone,
        }
    return {
        "id": conversation.id,
        "state": conversation.state,
        "reason": conversation.reason,
        "lang": conversation.lang,
        "name": conversation.name,
        "page": conversation.page,
        "created_at": iso(conversation.created_at),
        "updated_at": iso(conversation.updated_at),
        "last_message": message_json(last_message) if last_message is not None else None,
        "agent": agent_ref(conversation.agent_id, conversation.agent_name),
        "waiting_since": iso(conversation.queued_at) if conversation.state == State.QUEUED else None,
        "contact": contact,
    }
