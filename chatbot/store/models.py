"""The database schema: conversations, their messages, their state changes, representatives.

Secrets are never stored: conversation and representative tokens are kept as
SHA-256 digests, so a leaked database opens no conversation. Tokens are 256-bit
random values, so an unsalted digest is enough (nothing to brute-force).

Tested in tests/test_migrations.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL wants BIGINT.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class State(StrEnum):
    """A conversation's state (``conversations.state``, ``state_changes.from_state``/``to_state``); the allowed
    changes are ``chat/lifecycle.py``'s table."""

    BOT = "bot"
    QUEUED = "queued"
    AGENT = "agent"
    CLOSED = "closed"


class Reason(StrEnum):
    """Why a conversation is in its state; stored with every change and sent in ``state`` events."""

    CREATED = "created"
    # bot -> queued: the bot hands off
    LOW_CONFIDENCE = "low_confidence"
    REQUESTED = "requested"
    URGENT = "urgent"
    PRICING = "pricing"
    BOOKING = "booking"
    PRESCRIPTION = "prescription"
    PERSONAL_RESULT = "personal_result"
    DIAGNOSIS = "diagnosis"
    NAMED_PERSON = "named_person"
    COMPLAINT = "complaint"
    AFTER_HOURS = "after_hours"
    # a representative acts
    TAKEOVER = "takeover"
    ASSIGNED = "assigned"
    RELEASED = "released"
    HANDBACK = "handback"
    TRANSFERRED = "transferred"
    # -> closed
    CLOSED_BY_VISITOR = "closed_by_visitor"
    CLOSED_BY_AGENT = "closed_by_agent"
    IDLE = "idle"


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Agent(Base):
    """A representative account; the token is shown once at creation and kept only as a digest."""

    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_state_queued", "state", "queued_at"),
        # The dashboard's range of days, covering what its counts read: per day and hour 0.16 -> 0.06 s at 100,000
        # conversations on SQLite, and a short range no longer reads every row (bench/dashboard.py).
        Index("ix_conversations_created", "created_at", "state", "after_hours_notice_at", "id"),
        # The ratings of a range of days (the dashboard's today, the admin's stats), without reading every row.
        Index("ix_conversations_rated", "rated_at", "rating", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32))
    lang: Mapped[str] = mapped_column(String(5))
    name: Mapped[str | None] = mapped_column(String(100))
    page: Mapped[str | None] = mapped_column(String(500))
    agent_id: Mapped[str | None] = mapped_column(String(32), index=True)
    agent_name: Mapped[str | None] = mapped_column(String(80))
    contact_name: Mapped[str | None] = mapped_column(String(100))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    after_hours_notice_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offered_to: Mapped[str | None] = mapped_column(String(32))
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offered_agents: Mapped[list[str]] = mapped_column(JSON, default=list)


class Message(Base):
    """One chat message; ``seq`` orders a conversation, ``id`` is what clients see."""

    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("conversation_id", "client_id", name="uq_messages_client_id"),)

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(32), unique=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    sender: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    client_id: Mapped[str | None] = mapped_column(String(64))
    intent: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float | None] = mapped_column(Float)
    agent_id: Mapped[str | None] = mapped_column(String(32))
    agent_name: Mapped[str | None] = mapped_column(String(80))
    quick_replies: Mapped[list[str]] = mapped_column(JSON, default=list)
    intents: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    """Every intent a bot reply answers, when it answers two questions at once; else empty (``intent`` says)."""
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    """The bot's emergency advice after a red flag: the widget shows it as a warning, so the server says which."""
    form_offer: Mapped[dict[str, str] | None] = mapped_column(JSON, nullable=True)
    """``{"id", "label"}``: a form the bot offers with this answer, as a button that opens it (``forms/``)."""


class StateChange(Base):
    """Every change of a conversation's state, with why and when: the audit trail and the stats' source."""

    __tablename__ = "state_changes"
    # The changes towards a person (queued, agent) by conversation, covering what the dashboard's endings, waits
    # and first replies read: 0.78 -> 0.29 s for the endings of 100,000 conversations on SQLite (bench/dashboard.py).
    __table_args__ = (
        Index("ix_state_changes_to_state", "to_state", "conversation_id", "from_state"),
        # Takes by time: the wait estimate a queued visitor sees, the stats' and the dashboard's queue waits.
        Index("ix_state_changes_taken", "to_state", "created_at", "from_state", "conversation_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32))
    agent_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class User(Base):
    """A staff member who signs in with an email and a password; the password is kept only as an argon2id hash
    (``chatbot/shared/passwords.py``). ``disabled`` keeps the row (the audit trail names them) but refuses sign-in."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    totp_secret: Mapped[str | None] = mapped_column(String(200))
    """The second factor's secret, encrypted with the server's key (``chatbot/shared/totp.py``); None: no 2FA."""
    totp_pending: Mapped[str | None] = mapped_column(String(200))
    """A secret being enrolled, until the first code from it is confirmed (then it becomes ``totp_secret``)."""
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    """The last 30-second step whose code signed in: a code of that step or an earlier one is a replay."""


class RecoveryCode(Base):
    """A single-use code that stands in for the second factor; kept only as a SHA-256 digest (80 random bits,
    nothing to brute-force) and deleted when used."""

    __tablename__ = "recovery_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)


class Note(Base):
    """A staff member's private note on a conversation: a table of its own, never a message, so nothing a
    visitor receives (events, history, transcript) is built from it."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[str] = mapped_column(String(32))
    author_name: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StaffSession(Base):
    """A signed-in browser: the cookie's secret is kept only as a SHA-256 digest (256 random bits, nothing to
    brute-force). It ends after ``idle`` minutes without use or at ``expires_at``, whichever comes first."""

    __tablename__ = "staff_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """One row of the append-only audit trail: who did what to what, when, from where.

    ``hash`` is SHA-256 over ``prev_hash`` and this row's own fields (``store/audit.py``), and ``prev_hash`` is
    unique, so the rows form one chain: a changed, inserted or deleted row breaks it where it happened.
    """

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(254), index=True)
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str | None] = mapped_column(String(300))
    address: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class DailyRollup(Base):
    """The dashboard's figures for one UTC day that can no longer change, kept so that a range of settled days is
    read, not counted again (chatbot/store/rollups.py)."""

    __tablename__ = "daily_rollups"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # "2026-12-01"
    version: Mapped[int] = mapped_column(Integer)
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxEvent(Base):
    """One event for one destination (a webhook URL, or the clinic's email), written in the transaction of the change
    it reports (``store/outbox.py``) and delivered, retried or dead-lettered by ``integrations/delivery.py``.

    ``event_id`` is what receivers deduplicate on (``X-Chatbot-Delivery``): one event sent to two URLs has two rows
    with one ``event_id``. ``claimed_until`` is a lease: the process that claimed the row delivers it until then; a
    process killed meanwhile leaves a lease that runs out, and another process claims the row again.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("event_id", "target", name="uq_outbox_event_target"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(32), index=True)
    type: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(600))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    status: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retry_until: Mapped[datetime] = mapped_column(UTCDateTime)
    """After a failure past this time the row is dead-lettered: 24 h after it was written, retried or replayed."""
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim: Mapped[str | None] = mapped_column(String(32))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))


class Lead(Base):
    """A form a visitor filled in and sent, with the consent text exactly as they were shown it and agreed to.

    ``values`` holds only the form's own fields, checked (``chatbot/bot/forms.py``); ``page`` and ``lang`` are the
    conversation's when the form was sent, so the lead still says where it came from if the form changes later.
    """

    __tablename__ = "leads"
    __table_args__ = (Index("ix_leads_created", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    form_id: Mapped[str] = mapped_column(String(64))
    values: Mapped[dict[str, Any]] = mapped_column(JSON)
    consent_text: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(5))
    page: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiKey(Base):
    """A key of the REST API (``/api/v1/``): shown once when made, kept only as its SHA-256 digest (256 random bits,
    nothing to brute-force). A revoked key keeps its row, so the audit trail's ``apikey:<name>`` still names it."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
