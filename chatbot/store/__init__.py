"""Every query the server makes, behind one async ``Store`` over SQLAlchemy 2.

The same code runs on SQLite (aiosqlite) and PostgreSQL (asyncpg). Conditional
updates (``UPDATE … WHERE state IN …``) decide races such as two
representatives taking one conversation, so the database — not a process —
is the referee, and it holds across server processes. The store never emits:
it returns rows and the conversation service decides what to tell whom.
"""

from chatbot.store.accounts import AccountQueries
from chatbot.store.apikeys import ApiKeyQueries
from chatbot.store.audit import AuditQueries
from chatbot.store.base import (
    Appended,
    BotAnswer,
    NewMessage,
    StoreUnavailable,
    Transition,
    Turn,
    make_engine,
    new_id,
    new_token,
    token_digest,
)
from chatbot.store.history import HistoryQueries
from chatbot.store.leads import LeadQueries
from chatbot.store.notes import NoteQueries
from chatbot.store.outbox import OutboxQueries
from chatbot.store.rollups import RollupQueries
from chatbot.store.service_levels import ServiceLevelQueries
from chatbot.store.two_factor import TwoFactorQueries
from chatbot.store.users import UserQueries


class Store(HistoryQueries, LeadQueries, AccountQueries, UserQueries, TwoFactorQueries, NoteQueries, AuditQueries,
            ApiKeyQueries, ServiceLevelQueries, RollupQueries, OutboxQueries):
    """Conversations, messages, state changes, leads, representatives, staff accounts, API keys, the audit trail and
    the outbox of events in one database."""


__all__ = [
    "Appended",
    "BotAnswer",
    "NewMessage",
    "Store",
    "StoreUnavailable",
    "Transition",
    "Turn",
    "make_engine",
    "new_id",
    "new_token",
    "token_digest",
]
