"""The database connection and the shapes every query module shares.

The same code runs on SQLite (aiosqlite) and PostgreSQL (asyncpg). Conditional
updates (``UPDATE … WHERE state IN …``) decide races such as two
representatives taking one conversation, so the database — not a process —
is the referee, and it holds across server processes. The store never emits:
it returns rows and the conversation service decides what to tell whom.

Tested in tests/test_faults.py, tests/test_visitor_chat.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import ColumnElement, CursorResult, Result, event, func, text
from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from chatbot.store.models import Conversation, Message

if TYPE_CHECKING:
    from chatbot.store.outbox import Destinations

DESTINATIONS = "outbox_destinations"
"""The key of a session's ``info`` that holds where its transaction's events go (``store/outbox.py``)."""


class StoreUnavailable(Exception):
    """The database did not answer; the caller reports ``unavailable`` and tries again later."""


def new_id() -> str:
    return uuid.uuid4().hex


def new_token() -> str:
    """A 256-bit URL-safe secret."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()



CHUNK = 500
"""Ids per ``IN (...)`` list: well under every database's limit on bound parameters."""
T = TypeVar("T")


def chunks(ids: Sequence[T]) -> list[Sequence[T]]:
    """``ids`` in lists of at most ``CHUNK``."""
    return [ids[start : start + CHUNK] for start in range(0, len(ids), CHUNK)]


def rows_changed(result: Result[Any]) -> int:
    """How many rows an UPDATE changed: what decides a race (exactly one representative takes a conversation)."""
    return cast(CursorResult[Any], result).rowcount

@dataclass(frozen=True)
class NewMessage:
    """A message to append; the store gives it its id, order and time."""

    sender: str
    text: str
    client_id: str | None = None
    intent: str | None = None
    confidence: float | None = None
    agent_id: str | None = None
    agent_name: str | None = None
    quick_replies: Sequence[str] = ()
    intents: Sequence[str] = ()
    urgent: bool = False
    form_offer: dict[str, str] | None = None


@dataclass(frozen=True)
class Transition:
    """A change of state, applied only if the conversation is in one of ``expect``."""

    to_state: str
    reason: str
    expect: tuple[str, ...]
    expect_agent: str | None = None  # also require this representative to hold it
    expect_offer_to: str | None = None  # also require a live offer to this representative
    agent_id: str | None = None
    agent_name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    event: str | None = None  # the outbox event the change records in its transaction (``store/outbox.py``)
    event_data: dict[str, Any] = field(default_factory=dict)  # more fields for that event's data
    notify: bool = False  # also email the event to the clinic


@dataclass(frozen=True)
class Appended:
    """What ``append`` did: the stored messages, and the conversation after any transition."""

    conversation: Conversation
    messages: list[Message]
    transitioned: bool


@dataclass(frozen=True)
class BotAnswer:
    """The bot's answer to a visitor's message, stored in the message's transaction if the bot still speaks."""

    message: NewMessage
    lang: str  # the conversation's language from now on


@dataclass(frozen=True)
class Turn:
    """What ``add_client_message`` did: the message (the first one on a retry), and the replies stored with it."""

    conversation_id: str
    state: str  # the conversation's state when the message was stored ("closed" if it was not)
    message: Message | None
    created: bool
    replies: list[Message] = field(default_factory=list)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers run beside the writer; busy_timeout queues writers instead of failing."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> AsyncEngine:
    """SQLite gets one pooled connection: it has a single writer anyway, and sharing one
    connection turns lock errors between concurrent transactions into orderly waits.

    Its pool does not roll back a connection coming back: every user ends its own transaction first
    (SQLAlchemy's sessions and connections on close, ``store/turns.py`` by commit or rollback), and on
    aiosqlite that spare rollback was one more hop to its thread per transaction."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, pool_size=1, max_overflow=0, pool_timeout=30, pool_reset_on_return=None)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_async_engine(url, pool_size=10, max_overflow=10, pool_timeout=5)
    event.listen(engine.sync_engine, "checkout", _drop_closed)
    return engine


def _drop_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A pooled PostgreSQL connection the server closed (a restart, a terminated backend) is replaced at checkout.

    Why not ``pool_pre_ping``: on asyncpg its ping is three round trips (BEGIN, an empty query, ROLLBACK) before
    every transaction, three quarters of a turn's trips. asyncpg already knows a connection the server closed:
    its socket saw the end. A connection that dies during use fails that use, and the pool drops it
    (tests/test_faults.py restarts PostgreSQL under load).
    """
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the server closed this connection")


COMMIT_WINDOW = 0.0
"""Seconds a group commit waits for more turns after the first; the server passes ``CHATBOT_COMMIT_WINDOW_MS``."""
COMMIT_BATCH = 64
"""At most this many turns per group commit; the server passes ``CHATBOT_COMMIT_BATCH``."""


class Database:
    """One engine and its sessions; the query modules add their methods to it.

    ``commit_window`` and ``commit_batch`` shape the group commit of the hot
    path's writes (chatbot/store/batch.py, used by ``ChatQueries``).
    """

    def __init__(self, url: str, destinations: Destinations | None = None, *, commit_window: float = COMMIT_WINDOW,
                 commit_batch: int = COMMIT_BATCH) -> None:
        """``destinations``: where the events recorded in its transactions go (``store/outbox.py``); none by
        default (the command-line tools record nothing)."""
        self.engine = make_engine(url)
        info = {} if destinations is None else {DESTINATIONS: destinations}
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False, info=info)
        self.commit_window = commit_window
        self.commit_batch = commit_batch

    async def close(self) -> None:
        await self.engine.dispose()

    def clock(self, column: Any) -> tuple[ColumnElement[str], ColumnElement[str]]:
        """The UTC day (``2026-12-01``) and hour (``07``) of a time column, in this database's own words, so that
        reports group by day in the database rather than in Python."""
        if self.engine.dialect.name == "sqlite":  # stored as "2026-12-01 07:15:00.000000", already UTC
            return func.substr(column, 1, 10), func.substr(column, 12, 2)
        utc = func.timezone("UTC", column)
        return func.to_char(utc, "YYYY-MM-DD"), func.to_char(utc, "HH24")

    def seconds(self, later: Any, earlier: Any) -> ColumnElement[Any]:
        """Seconds from ``earlier`` to ``later``, computed by the database."""
        if self.engine.dialect.name == "sqlite":
            return (func.julianday(later) - func.julianday(earlier)) * 86400.0
        return func.extract("epoch", later - earlier)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction; connection failures become ``StoreUnavailable``."""
        try:
            async with self._sessions.begin() as session:
                yield session
        except IntegrityError:
            raise
        except (TimeoutError, DBAPIError, OSError, ConnectionError) as exc:
            raise StoreUnavailable(type(exc).__name__) from exc

    async def add_unique(self, row: Any, taken: str) -> None:
        """Insert ``row`` in a transaction of its own; ValueError(``taken``) when a unique column already holds its
        value (a name or an email in use): the database decides, so two processes adding one name cannot both win."""
        try:
            async with self.transaction() as session:
                session.add(row)
        except IntegrityError:
            raise ValueError(taken) from None

    async def ping(self) -> bool:
        try:
            async with self.transaction() as session:
                await asyncio.wait_for(session.execute(text("SELECT 1")), timeout=2)
            return True
        except (TimeoutError, StoreUnavailable):
            return False
