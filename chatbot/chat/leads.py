"""Forms in the conversation: opened when the visitor accepts an offer, asked before the first message (pre-chat),
and sent; a sent form is stored as a lead with the consent text the visitor was shown.

Event → namespace (payload shape) → here (which form, its fields, the conversation's language) → store → emit:
the confirmation to the visitor's tabs and the representatives who follow the conversation, the lead to them.

Tested in tests/test_forms.py.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

from chatbot.bot.forms import Form
from chatbot.chat.conversations import ConversationService
from chatbot.chat.protocol import ChatError, lead_json, message_json
from chatbot.store.base import NewMessage
from chatbot.store.leads import NewLead
from chatbot.store.models import Lead

log = logging.getLogger(__name__)

SENT_CACHE_SIZE = 50_000
"""Conversations remembered per process as having sent the pre-chat form, so their messages skip the lookup."""


class Leads:
    """What visitors do with forms; ``prechat`` is the id of the form asked before the first message, or empty."""

    def __init__(self, service: ConversationService, prechat: str = "") -> None:
        self.service = service
        self.prechat = prechat
        self._sent: OrderedDict[str, None] = OrderedDict()  # conversation ids that sent the pre-chat form

    def _form(self, form_id: str) -> Form:
        form = self.service.bot.forms.get(form_id)  # read per call: a reload replaces the bot and its forms
        if form is None:
            raise ChatError("not_found", f"No form {form_id!r}.")
        return form

    async def _lang(self, conversation_id: str) -> str:
        return (await self.service.existing(conversation_id)).lang

    async def open(self, conversation_id: str, form_id: str) -> dict[str, Any]:
        """The visitor accepted an offer: the ``form`` event, in the conversation's language, to all their tabs."""
        form = self._form(form_id).json(await self._lang(conversation_id))
        await self.service.emitter.to_visitor("form", form, conversation_id)
        return form

    async def _owes_prechat(self, conversation_id: str) -> bool:
        """A pre-chat form is set (and loaded), and this conversation has not sent it yet."""
        if not self.prechat or self.prechat not in self.service.bot.forms or conversation_id in self._sent:
            return False
        if await self.service.store.has_lead(conversation_id, self.prechat):
            self._remember(conversation_id)
            return False
        return True

    def _remember(self, conversation_id: str) -> None:
        self._sent[conversation_id] = None
        if len(self._sent) > SENT_CACHE_SIZE:
            self._sent.popitem(last=False)

    async def prechat_form(self, conversation_id: str) -> dict[str, Any] | None:
        """The pre-chat form while the conversation has not sent it, else None."""
        if not await self._owes_prechat(conversation_id):
            return None
        return {**self._form(self.prechat).json(await self._lang(conversation_id)), "prechat": True}

    async def require_prechat(self, conversation_id: str) -> None:
        """Refuse a message (``form_required``) until the pre-chat form is sent."""
        if await self._owes_prechat(conversation_id):
            raise ChatError("form_required")

    async def submit(self, conversation_id: str, form_id: str, values: Any, consent: Any) -> Lead:
        """Check every field, then store the lead with its confirmation; with any error, store nothing."""
        form = self._form(form_id)
        lang = await self._lang(conversation_id)
        clean, errors = form.check(values, consent, lang)
        if errors:
            raise ChatError("bad_request", "Some fields need attention: see 'fields'.", errors)
        if not await self.service.limiter.allow(conversation_id):
            raise ChatError("rate_limited")
        texts = form.texts[lang]
        stored = await self.service.store.add_lead(conversation_id, NewLead(
            form_id=form.id, values=clean, consent_text=texts.consent,
            confirmation=NewMessage(sender="system", text=texts.confirmation),
        ))
        if stored is None:
            raise ChatError("closed")
        lead, confirmation = stored
        if form.id == self.prechat:
            self._remember(conversation_id)
        emitter = self.service.emitter
        await emitter.to_conversation("message", message_json(confirmation), conversation_id)
        await emitter.to_followers("lead", {"conversation_id": conversation_id, "lead": lead_json(lead)},
                                   conversation_id)
        log.info("conversation %s sent form %s", conversation_id, form.id)
        return lead
