"""Leads (forms visitors sent), and the REST API's pages: conversations with their messages, leads, contacts.

A lead is stored in one transaction with the confirmation the visitor reads, so there is never one without the
other. The API's pages are keyset pages (``created_at``, ``id``), newest first: a cursor names the last row seen,
so rows added while a client pages through never shift a page, as an offset would.

Tested in tests/test_forms.py, tests/test_api.py.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, exists, select

from chatbot.store.base import NewMessage, chunks, new_id
from chatbot.store.chat import ChatQueries
from chatbot.store.models import Conversation, Lead, Message, State, StateChange, utcnow
from chatbot.store.outbox import record

Row = TypeVar("Row", Conversation, Lead)
Cursor = tuple[datetime, str]
"""The last row of the page before: its ``created_at`` and ``id``."""


@dataclass(frozen=True)
class NewLead:
    form_id: str
    values: dict[str, Any]
    consent_text: str
    confirmation: NewMessage


@dataclass(frozen=True)
class Filters:
    """Which rows an API page lists; every field is optional. ``reason``: handed off for that reason at any time."""

    state: str | None = None
    reason: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    form_id: str | None = None


@dataclass(frozen=True)
class ApiPage:
    conversations: list[Conversation]
    messages: dict[str, list[Message]]
    leads: list[Lead]
    more: bool


def _keyset(query: Select[Any], model: type[Row], after: Cursor | None, limit: int) -> Select[Any]:
    """Newest first, after the cursor, one row more than the page to tell whether another page follows."""
    if after is not None:
        query = query.where((model.created_at < after[0]) | ((model.created_at == after[0]) & (model.id < after[1])))
    return query.order_by(model.created_at.desc(), model.id.desc()).limit(limit + 1)


def _period(query: Select[Any], model: type[Row], filters: Filters) -> Select[Any]:
    if filters.created_from is not None:
        query = query.where(model.created_at >= filters.created_from)
    if filters.created_to is not None:
        query = query.where(model.created_at < filters.created_to)
    return query


def lead_event(lead: Lead) -> dict[str, Any]:
    """A lead as webhooks and emails describe it: the form, what the visitor sent in it and the consent they gave
    (the receiver is the clinic's own system, which the form exists to feed), and the contact fields on their own,
    where the form has them, for the email's summary."""
    contact = {key: lead.values[key] for key in ("name", "email", "phone") if lead.values.get(key)}
    return {"lead_id": lead.id, "form": lead.form_id, "conversation_id": lead.conversation_id, "lang": lead.lang,
            "page": lead.page, "created_at": lead.created_at.isoformat(), "values": lead.values,
            "consent_text": lead.consent_text, "contact": contact or None}


class LeadQueries(ChatQueries):
    async def add_lead(self, conversation_id: str, lead: NewLead) -> tuple[Lead, Message] | None:
        """Store the lead and its confirmation message together; None (nothing stored) once the conversation closed."""
        async with self.transaction() as session:
            conversation = await session.get(Conversation, conversation_id, populate_existing=True)
            if conversation is None or conversation.state == State.CLOSED:
                return None
            row = Lead(id=new_id(), conversation_id=conversation_id, form_id=lead.form_id, values=lead.values,
                       consent_text=lead.consent_text, lang=conversation.lang, page=conversation.page,
                       created_at=utcnow())
            message = self._row(conversation, lead.confirmation)
            session.add_all([row, message])
            await record(session, "lead.created", lead_event(row), email=True)
        return row, message

    async def leads_of(self, conversation_id: str) -> list[Lead]:
        async with self.transaction() as session:
            return list(await session.scalars(
                select(Lead).where(Lead.conversation_id == conversation_id).order_by(Lead.created_at, Lead.id)
            ))

    async def has_lead(self, conversation_id: str, form_id: str) -> bool:
        async with self.transaction() as session:
            found = await session.scalar(
                select(Lead.id).where(Lead.conversation_id == conversation_id, Lead.form_id == form_id).limit(1)
            )
        return found is not None

    # -- the REST API's pages ------------------------------------------------

    async def conversations_page(self, filters: Filters, after: Cursor | None, limit: int) -> ApiPage:
        """Conversations with all their messages, newest first."""
        query = _period(select(Conversation), Conversation, filters)
        if filters.state is not None:
            query = query.where(Conversation.state == filters.state)
        if filters.reason is not None:
            query = query.where(exists().where(StateChange.conversation_id == Conversation.id,
                                               StateChange.to_state == State.QUEUED,
                                               StateChange.reason == filters.reason))
        async with self.transaction() as session:
            found = list(await session.scalars(_keyset(query, Conversation, after, limit)))
            page = found[:limit]
            messages: dict[str, list[Message]] = defaultdict(list)
            for chunk in chunks([c.id for c in page]):
                for message in await session.scalars(
                    select(Message).where(Message.conversation_id.in_(chunk)).order_by(Message.seq)
                ):
                    messages[message.conversation_id].append(message)
        return ApiPage(page, dict(messages), [], len(found) > limit)

    async def leads_page(self, filters: Filters, after: Cursor | None, limit: int) -> ApiPage:
        query = _period(select(Lead), Lead, filters)
        if filters.form_id is not None:
            query = query.where(Lead.form_id == filters.form_id)
        async with self.transaction() as session:
            found = list(await session.scalars(_keyset(query, Lead, after, limit)))
        return ApiPage([], {}, found[:limit], len(found) > limit)

    async def contacts_page(self, filters: Filters, after: Cursor | None, limit: int) -> ApiPage:
        """Conversations in which the visitor left contact details (the offline form), newest first."""
        query = _period(select(Conversation).where(Conversation.contact_name.is_not(None)), Conversation, filters)
        async with self.transaction() as session:
            found = list(await session.scalars(_keyset(query, Conversation, after, limit)))
        return ApiPage(found[:limit], {}, [], len(found) > limit)

    async def conversation_with_messages(self, conversation_id: str) -> tuple[Conversation, list[Message]] | None:
        conversation = await self.conversation(conversation_id)
        return None if conversation is None else (conversation, await self.messages(conversation_id))

    async def lead(self, lead_id: str) -> Lead | None:
        async with self.transaction() as session:
            return await session.get(Lead, lead_id)
