"""Conversations and their messages: the chat's hot path, and the race-deciding transitions.

Tested in tests/test_visitor_chat.py, tests/test_faults.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chatbot.store.base import (
    Appended,
    BotAnswer,
    Database,
    NewMessage,
    StoreUnavailable,
    Transition,
    Turn,
    new_id,
    new_token,
    rows_changed,
    token_digest,
)
from chatbot.store.batch import GroupCommit
from chatbot.store.models import Conversation, Message, Reason, State, StateChange, utcnow
from chatbot.store.outbox import Destinations, record, recorded
from chatbot.store.turns import DuplicateMessage, PendingTurn, TurnWriter


def _message(conversation_id: str, new: NewMessage, now: datetime) -> Message:
    """A message as clients see it (not attached to a session: Core inserts it)."""
    return Message(
        id=new_id(),
        conversation_id=conversation_id,
        sender=new.sender,
        text=new.text,
        created_at=now,
        client_id=new.client_id,
        intent=new.intent,
        confidence=new.confidence,
        agent_id=new.agent_id,
        agent_name=new.agent_name,
        quick_replies=list(new.quick_replies),
        intents=list(new.intents),
        urgent=new.urgent,
        form_offer=new.form_offer,
    )


def _pending(request: _TurnRequest, now: datetime) -> PendingTurn:
    reply = request.reply
    return PendingTurn(_message(request.conversation_id, request.new, now),
                       None if reply is None else (_message(request.conversation_id, reply.message, now), reply.lang))


def event_data(conversation: Conversation) -> dict[str, Any]:
    """A conversation as webhooks and emails describe it: ids, state, reason, page, who holds it, any contact
    details the visitor left; never message text (the receivers ask the API or the console for that)."""
    contact = None
    if conversation.contact_name is not None:
        contact = {"name": conversation.contact_name, "email": conversation.contact_email,
                   "phone": conversation.contact_phone}
    agent = {"id": conversation.agent_id, "name": conversation.agent_name} if conversation.agent_id else None
    return {
        "conversation_id": conversation.id,
        "state": conversation.state,
        "reason": conversation.reason,
        "urgent": conversation.reason == Reason.URGENT,
        "lang": conversation.lang,
        "page": conversation.page,
        "started_at": conversation.created_at.isoformat(),
        "agent": agent,
        "contact": contact,
    }


@dataclass(frozen=True)
class _TurnRequest:
    """One ``add_client_message`` call waiting for its group commit."""

    conversation_id: str
    new: NewMessage
    reply: BotAnswer | None


class ChatQueries(Database):
    def __init__(self, url: str, destinations: Destinations | None = None, **commit: Any) -> None:
        super().__init__(url, destinations, **commit)
        self._turns: GroupCommit[_TurnRequest, Turn] = GroupCommit(
            self._write_turns, self.commit_window, self.commit_batch)
        self._turn_writer = TurnWriter.for_engine(self.engine)

    async def close(self) -> None:
        await self._turns.close()
        await super().close()

    # -- conversations -------------------------------------------------------

    async def create_conversation(self, lang: str, name: str | None, page: str | None) -> tuple[Conversation, str]:
        """A new conversation in state ``bot``, and its token (returned once, stored as a digest)."""
        token = new_token()
        now = utcnow()
        conversation = Conversation(
            id=new_id(),
            token_hash=token_digest(token),
            state=State.BOT,
            lang=lang,
            name=name,
            page=page,
            created_at=now,
            updated_at=now,
            last_message_at=now,
        )
        async with self.transaction() as session:
            session.add(conversation)
            session.add(
                StateChange(
                    conversation_id=conversation.id,
                    from_state=None,
                    to_state=State.BOT,
                    reason=Reason.CREATED,
                    created_at=now,
                )
            )
            await record(session, "conversation.started", event_data(conversation))
        return conversation, token

    async def conversation_by_token(self, token: str) -> Conversation | None:
        async with self.transaction() as session:
            return await session.scalar(select(Conversation).where(Conversation.token_hash == token_digest(token)))

    async def conversation(self, conversation_id: str) -> Conversation | None:
        async with self.transaction() as session:
            return await session.get(Conversation, conversation_id)

    async def messages(self, conversation_id: str) -> list[Message]:
        """The whole history, oldest first."""
        async with self.transaction() as session:
            rows = await session.scalars(
                select(Message).where(Message.conversation_id == conversation_id).order_by(Message.seq)
            )
            return list(rows)

    async def queue_position(self, conversation: Conversation) -> int | None:
        """1 for the longest-waiting queued conversation; None when not queued."""
        if conversation.state != State.QUEUED or conversation.queued_at is None:
            return None
        async with self.transaction() as session:
            ahead = await session.scalar(
                select(func.count())
                .select_from(Conversation)
                .where(Conversation.state == State.QUEUED, Conversation.queued_at < conversation.queued_at)
            )
        return int(ahead or 0) + 1

    async def queued(self) -> list[Conversation]:
        """Queued conversations, longest waiting first."""
        async with self.transaction() as session:
            rows = await session.scalars(
                select(Conversation).where(Conversation.state == State.QUEUED).order_by(Conversation.queued_at)
            )
            return list(rows)

    # -- messages ------------------------------------------------------------

    async def add_client_message(self, conversation_id: str, new: NewMessage, reply: BotAnswer | None = None) -> Turn:
        """Store a visitor's or representative's message once per ``client_id``, and the bot's ``reply`` with it.

        The reply was worked out before the transaction (the store never calls
        back into the bot, so no connection is held while it computes) and is
        kept only if the conversation is still with the bot when the message is
        stored: a representative who took it meanwhile speaks instead. A retry
        (same ``client_id``) writes nothing and returns the first message (its
        reply was worked out for nothing: retries are rare); the message is None
        when the conversation is closed or missing. The turn is committed with
        the other conversations' turns of the same moment (group commit,
        chatbot/store/batch.py) and this returns only once it is committed.
        """
        return await self._turns.submit(_TurnRequest(conversation_id, new, reply))

    async def _write_turns(self, requests: Sequence[_TurnRequest]) -> list[Turn | BaseException]:
        """One trip to the database for a batch of turns; each on its own when one of them is a retry."""
        try:
            return list(await self._insert_turns(requests))
        except DuplicateMessage:
            # A client_id stored before (or twice in this batch) failed the whole batch, which wrote nothing.
            # Insert first, look up only on a duplicate: retries are rare, every message would pay for a lookup.
            return [await self._one_turn(request) for request in requests]

    async def _one_turn(self, request: _TurnRequest) -> Turn | BaseException:
        try:
            try:
                return (await self._insert_turns([request]))[0]
            except DuplicateMessage:
                async with self.transaction() as session:
                    state = await session.scalar(
                        select(Conversation.state).where(Conversation.id == request.conversation_id))
                return await self._not_stored(request, state or State.CLOSED)
        except StoreUnavailable as exc:
            return exc

    async def _insert_turns(self, requests: Sequence[_TurnRequest]) -> list[Turn]:
        """The batch's messages made here, written by ``TurnWriter`` (store/turns.py) in one trip; then each turn
        as it came out: stored with its reply while the bot speaks, without it once a representative holds the
        conversation, and for a closed one the first answer to a retried message, if any."""
        now = utcnow()
        pending = [_pending(request, now) for request in requests]
        opened = await self._turn_writer.write(pending, now)
        turns: list[Turn] = []
        for request, rows in zip(requests, pending, strict=True):
            cid, state = request.conversation_id, opened.get(request.conversation_id)
            if state is None:
                turns.append(await self._not_stored(request, State.CLOSED))
                continue
            replies = [rows.reply[0]] if rows.reply is not None and state == State.BOT else []
            turns.append(Turn(cid, state, rows.message, created=True, replies=replies))
        return turns

    async def _not_stored(self, request: _TurnRequest, state: str) -> Turn:
        """A turn that stored nothing: the retried message's first answer (None when it was never stored, or had
        no ``client_id``: then nothing is read)."""
        cid, client_id, existing = request.conversation_id, request.new.client_id, None
        if client_id is not None:
            async with self.transaction() as session:
                existing = await session.scalar(
                    select(Message).where(Message.conversation_id == cid, Message.client_id == client_id))
        return Turn(cid, state, existing, created=False)

    @staticmethod
    def _row(conversation: Conversation, new: NewMessage, now: datetime | None = None) -> Message:
        now = now or utcnow()
        conversation.last_message_at = now
        conversation.updated_at = now
        return _message(conversation.id, new, now)

    async def append(
        self,
        conversation_id: str,
        messages: Sequence[NewMessage],
        transition: Transition | None = None,
        lang: str | None = None,
        require: tuple[str, ...] | None = None,
    ) -> Appended | None:
        """Apply ``transition`` (if its precondition holds) and add ``messages``, in one transaction.

        Returns None, writing nothing, when the transition's precondition failed
        (someone else changed the state first), the conversation is not in one
        of the ``require`` states, or it does not exist.
        """
        async with self.transaction() as session:
            before = None
            if transition is not None:
                before = await self._transition(session, conversation_id, transition)
                if before is None:
                    return None
            conversation = await session.get(Conversation, conversation_id, populate_existing=True)
            if conversation is None or (require is not None and conversation.state not in require):
                return None
            if lang is not None:
                conversation.lang = lang
            rows = [self._row(conversation, new) for new in messages]
            session.add_all(rows)
            if transition is not None and transition.event is not None:
                data = {**event_data(conversation), "from_state": before, **transition.event_data}
                await record(session, transition.event, data, email=transition.notify)
        transitioned = transition is not None
        return Appended(conversation=conversation, messages=rows, transitioned=transitioned)

    @staticmethod
    async def _transition(session: AsyncSession, conversation_id: str, change: Transition) -> str | None:
        """The conditional update at the heart of every race: one writer wins. Returns the state it left, or None
        when the change did not happen."""
        now = utcnow()
        row = (
            await session.execute(
                select(
                    Conversation.state, Conversation.agent_id, Conversation.offered_to, Conversation.offer_expires_at
                ).where(Conversation.id == conversation_id)
            )
        ).first()
        if row is None or row.state not in change.expect:
            return None
        if change.expect_agent is not None and row.agent_id != change.expect_agent:
            return None
        if change.expect_offer_to is not None and not (
            row.offered_to == change.expect_offer_to and row.offer_expires_at is not None and row.offer_expires_at > now
        ):
            return None
        before = row.state
        values: dict[str, Any] = {
            "state": change.to_state,
            "reason": change.reason,
            "updated_at": now,
            "agent_id": change.agent_id,
            "agent_name": change.agent_name,
            **change.extra,
        }
        if change.to_state != State.QUEUED:
            values.update(offered_to=None, offer_expires_at=None, offered_agents=[])
        if change.to_state == State.QUEUED and before == State.BOT:
            values["queued_at"] = now  # a released conversation keeps its place in line
        if change.to_state == State.CLOSED:
            values["closed_at"] = now
        guard = [Conversation.agent_id == change.expect_agent] if change.expect_agent is not None else []
        result = await session.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id, Conversation.state == before, *guard)
            .values(**values)
        )
        if rows_changed(result) != 1:
            return None
        session.add(
            StateChange(
                conversation_id=conversation_id,
                from_state=before,
                to_state=change.to_state,
                reason=change.reason,
                agent_id=change.agent_id,
                created_at=now,
            )
        )
        return str(before)

    async def last_messages(self, conversation_ids: Sequence[str]) -> dict[str, Message]:
        """The newest message of each conversation, for queue summaries."""
        if not conversation_ids:
            return {}
        async with self.transaction() as session:
            newest = (
                select(func.max(Message.seq))
                .where(Message.conversation_id.in_(conversation_ids))
                .group_by(Message.conversation_id)
            )
            rows = await session.scalars(select(Message).where(Message.seq.in_(newest)))
            return {m.conversation_id: m for m in rows}

    async def conversations(self, state: str | None = None, limit: int = 50) -> list[Conversation]:
        """The most recently active conversations, optionally in one state."""
        query = select(Conversation).order_by(Conversation.updated_at.desc()).limit(limit)
        if state is not None:
            query = query.where(Conversation.state == state)
        async with self.transaction() as session:
            return list(await session.scalars(query))

    async def idle(self, state_limits: dict[str, datetime]) -> list[str]:
        """Ids of open conversations whose last message is older than their state's limit."""
        async with self.transaction() as session:
            found: list[str] = []
            for state, before in state_limits.items():
                rows = await session.scalars(
                    select(Conversation.id).where(Conversation.state == state, Conversation.last_message_at < before)
                )
                found.extend(rows)
            return found

    async def save_contact(self, conversation_id: str, name: str, email: str | None, phone: str | None,
                           notify: bool = False) -> bool:
        """Keep the visitor's contact details with an open conversation, and record ``contact.left`` with them
        (emailed to the clinic too when ``notify``: nobody is there to see them)."""
        async with self.transaction() as session:
            result = await session.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id, Conversation.state != State.CLOSED)
                .values(contact_name=name, contact_email=email, contact_phone=phone, updated_at=utcnow())
            )
            if rows_changed(result) != 1:
                return False
            await self._record_about(session, conversation_id, "contact.left", email=notify)
        return True

    async def mark_after_hours_notice(self, conversation_id: str) -> bool:
        """Record that the out-of-hours notice was sent; False if it already had been."""
        async with self.transaction() as session:
            result = await session.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id, Conversation.after_hours_notice_at.is_(None))
                .values(after_hours_notice_at=utcnow())
            )
        return rows_changed(result) == 1

    async def save_rating(self, conversation_id: str, score: int, comment: str | None) -> bool:
        """Keep the visitor's rating once, for a closed conversation."""
        async with self.transaction() as session:
            result = await session.execute(
                update(Conversation)
                .where(
                    Conversation.id == conversation_id,
                    Conversation.state == State.CLOSED,
                    Conversation.rating.is_(None),
                )
                .values(rating=score, rating_comment=comment, rated_at=utcnow())
            )
            if rows_changed(result) != 1:
                return False
            await self._record_about(session, conversation_id, "rating.created", {"rating": score, "comment": comment})
        return True

    @staticmethod
    async def _record_about(session: AsyncSession, conversation_id: str, type: str,
                            extra: dict[str, Any] | None = None, email: bool = False) -> None:
        """Record ``type`` with the conversation as just updated; it is read for the event only when the event
        goes somewhere (with no webhook and no email, nothing is read or written)."""
        if not recorded(session, email):
            return
        conversation = await session.get(Conversation, conversation_id, populate_existing=True)
        assert conversation is not None
        await record(session, type, {**event_data(conversation), **(extra or {})}, email=email)
