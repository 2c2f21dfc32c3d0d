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
from chatbot.store.reads import ReadQueries
from chatbot.store.service_levels import ServiceLevelQueries
from chatbot.store.users import UserQueries


class Store(HistoryQueries, LeadQueries, AccountQueries, UserQueries, AuditQueries, ApiKeyQueries,
            ServiceLevelQueries, ReadQueries):
    """Conversations, messages, state changes, leads, representatives, staff accounts, API keys and the audit trail
    in one database."""


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
