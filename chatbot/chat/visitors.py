"""Namespace ``/chat``: the visitor's widget. Thin: check the payload, call the service, return the ack.

Tested in tests/test_visitor_chat.py.
"""

from __future__ import annotations

import logging
from typing import Any

import socketio

from chatbot.bot.intents import LANGUAGES
from chatbot.chat.conversations import ConversationService
from chatbot.chat.emitter import CHAT
from chatbot.chat.leads import Leads
from chatbot.chat.protocol import (
    ChatError,
    acked,
    contact,
    flag,
    form_id,
    lead_json,
    message_json,
    message_text,
    ok,
    optional_str,
    payload,
    rating,
    refusal,
)
from chatbot.shared.guard import Guard
from chatbot.shared.shapes import storable
from chatbot.store import StoreUnavailable
from chatbot.store.models import Conversation

log = logging.getLogger(__name__)


def _auth_text(auth: dict[str, Any], key: str, max_len: int) -> str | None:
    """A string field of the connect ``auth``, or None when absent or unusable.

    Never an error: a visitor must always get in.
    """
    value = auth.get(key)
    if isinstance(value, str) and 0 < len(value) <= max_len and storable(value):
        return value
    return None


class VisitorNamespace(socketio.AsyncNamespace):  # type: ignore[misc]  # python-socketio ships no types
    """One visitor socket per browser tab; all tabs of a conversation share its room."""

    def __init__(self, service: ConversationService, guard: Guard, leads: Leads) -> None:
        super().__init__(CHAT)
        self.service = service
        self.guard = guard
        self.leads = leads

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        """Open or resume the conversation, then send its history once the connection is accepted."""
        auth = auth if isinstance(auth, dict) else {}
        address = self.guard.address(environ)
        if not self.guard.open_socket(address):
            raise refusal("too_many_connections", "Too many open connections from your address.")
        try:
            conversation, token = await self._conversation(auth, address)
        except BaseException:
            self.guard.close_socket(address)
            raise
        await self.save_session(sid, {"conversation_id": conversation.id, "address": address})
        # Emitting inside connect would reach the client before it is accepted; a task runs just after.
        self.server.start_background_task(self._welcome, sid, conversation.id, token)

    async def _conversation(self, auth: dict[str, Any], address: str) -> tuple[Conversation, str]:
        """The conversation ``auth`` resumes, or a new one if the address may start one."""
        token = _auth_text(auth, "token", 200)
        try:
            if token is not None:
                conversation = await self.service.resume(token)
                if conversation is not None:
                    return conversation, token
            if not await self.guard.may_start_conversation(address):
                raise refusal("rate_limited", "Too many new conversations from your address; try again in a minute.")
            lang = str(auth["lang"]) if auth.get("lang") in LANGUAGES else "en"
            return await self.service.start(lang, _auth_text(auth, "name", 100), _auth_text(auth, "page", 500))
        except StoreUnavailable:
            raise refusal("unavailable", "The service is temporarily unavailable.") from None

    async def on_disconnect(self, sid: str, *reason: Any) -> None:
        session = await self.get_session(sid)
        if "address" in session:
            self.guard.close_socket(session["address"])

    async def _welcome(self, sid: str, conversation_id: str, token: str) -> None:
        try:
            await self.enter_room(sid, conversation_id)
            await self.emit("conversation", await self.service.snapshot(conversation_id, token), to=sid)
            prechat = await self.leads.prechat_form(conversation_id)
            if prechat is not None:
                await self.emit("form", prechat, to=sid)
        except (StoreUnavailable, ChatError, KeyError) as exc:
            log.warning("could not send the conversation to %s: %s", sid, exc)
            await self.disconnect(sid)

    async def _conversation_id(self, sid: str) -> str:
        session = await self.get_session(sid)
        return str(session["conversation_id"])

    @acked
    async def on_message(self, sid: str, data: Any) -> dict[str, Any]:
        body = payload(data)
        text = message_text(body)
        client_id = optional_str(body, "client_id", 64)
        conversation_id = await self._conversation_id(sid)
        await self.leads.require_prechat(conversation_id)
        message = await self.service.visitor_message(conversation_id, text, client_id)
        return ok(message=message_json(message))

    @acked
    async def on_form_open(self, sid: str, data: Any) -> dict[str, Any]:
        """The visitor accepted a form the bot offered: the form comes in the ack and as a ``form`` event."""
        form = await self.leads.open(await self._conversation_id(sid), form_id(payload(data)))
        return ok(form=form)

    @acked
    async def on_form_submit(self, sid: str, data: Any) -> dict[str, Any]:
        """A filled-in form: ``bad_request`` with an error per field (nothing stored), or ok with the stored lead."""
        body = payload(data)
        extra = sorted(str(key)[:40] for key in body if key not in ("form_id", "values", "consent"))
        if extra:
            raise ChatError("bad_request", f"Unknown keys: {', '.join(extra)} (send form_id, values, consent).")
        lead = await self.leads.submit(await self._conversation_id(sid), form_id(body), body.get("values"),
                                       body.get("consent"))
        return ok(lead=lead_json(lead))

    @acked
    async def on_typing(self, sid: str, data: Any) -> dict[str, Any]:
        await self.service.visitor_typing(await self._conversation_id(sid), flag(payload(data), "typing"))
        return ok()

    @acked
    async def on_close(self, sid: str, data: Any) -> dict[str, Any]:
        payload(data)
        await self.service.close(await self._conversation_id(sid), "closed_by_visitor")
        return ok()

    @acked
    async def on_contact(self, sid: str, data: Any) -> dict[str, Any]:
        """Offline fallback: the visitor leaves a name and an email or phone number."""
        name, email, phone = contact(payload(data))
        await self.service.leave_contact(await self._conversation_id(sid), name, email, phone)
        return ok()

    @acked
    async def on_rate(self, sid: str, data: Any) -> dict[str, Any]:
        """After a conversation with a representative closes: a score from 1 to 5 and an optional comment."""
        score, comment = rating(payload(data))
        await self.service.rate(await self._conversation_id(sid), score, comment)
        return ok()
