"""A group commit's turns written in one trip to the database: touch the open conversations, insert the messages.

Why: at a steady load (150 visitors, each asking once a second) a group commit
holds about one turn, so a batch's fixed cost is a turn's. Through the ORM
session it was 0.82-0.86 ms of CPU, more than the rest of a turn's server work
(``bench/turn_write.py``): on SQLite each cursor, statement, fetch, close and
commit is a hop to aiosqlite's thread and back, about ten a batch; on
PostgreSQL the pool's ping, BEGIN, two statements and COMMIT are five round
trips. Here SQLite runs the whole transaction in one call on aiosqlite's thread
(its connection stays checked out of the pool meanwhile, so nothing else uses
it), and PostgreSQL runs one statement — data-modifying CTEs, atomic on their
own — straight on asyncpg, which prepares it once per connection.

What a batch does, on both: for the conversations not closed, set
``last_message_at`` and return their state; insert each turn's message, and its
bot reply only where the conversation is still with the bot (a representative
who took it meanwhile speaks instead), keeping the reply's language; all in
arrival order. A ``client_id`` stored before fails the whole batch with
``DuplicateMessage`` and writes nothing (the caller then writes turn by turn).

Tested in tests/test_store_batch.py (the batch's rules, on both databases),
tests/test_faults.py (durability: SIGKILL and a PostgreSQL restart), and
through every chat test.
"""

from __future__ import annotations

import json
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import asyncpg
from sqlalchemy import Table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from chatbot.store.base import StoreUnavailable
from chatbot.store.models import Message, State

_messages = cast(Table, Message.__table__)
COLUMNS = tuple(c.key for c in _messages.c if c.key != "seq")
"""The columns a turn's messages fill, in this order everywhere below."""


class DuplicateMessage(Exception):
    """A message of the batch repeats a ``client_id`` already stored (a retry): nothing was written."""


@dataclass(frozen=True)
class PendingTurn:
    """One turn's rows, made before the write: the client's message, and the bot's reply if one was worked out."""

    message: Message
    reply: tuple[Message, str] | None  # the bot's reply and the conversation's language from then on


Opened = dict[str, str]
"""Each conversation of the batch that was not closed, and its state: what decided which rows were kept."""


class TurnWriter(ABC):
    """Writes a batch of turns in one trip; ``for_engine`` picks the database's way."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @staticmethod
    def for_engine(engine: AsyncEngine) -> TurnWriter:
        if engine.dialect.name == "sqlite":
            return SqliteTurnWriter(engine)
        return PostgresTurnWriter(engine)

    @staticmethod
    def messages(turns: Sequence[PendingTurn]) -> Iterator[tuple[Message, str | None]]:
        """Every message of the batch in arrival order, each with its language when it is a bot reply."""
        for turn in turns:
            yield turn.message, None
            if turn.reply is not None:
                yield turn.reply

    @abstractmethod
    async def write(self, turns: Sequence[PendingTurn], now: datetime) -> Opened:
        """Store the batch, or raise ``DuplicateMessage`` or ``StoreUnavailable`` having stored none of it."""


# -- SQLite: the transaction in one call on aiosqlite's thread ------------------------------------------------

_SQLITE_TOUCH = (
    "UPDATE conversations SET last_message_at = ?, updated_at = ? "
    "WHERE id IN (SELECT value FROM json_each(?)) AND state != ? RETURNING id, state"
)
_SQLITE_SET_LANG = "UPDATE conversations SET lang = ? WHERE id = ? AND lang != ?"
_SQLITE_INSERT = f"INSERT INTO messages ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"

_Row = tuple[str, bool, tuple[Any, ...]]
"""A message's conversation, whether it is a bot reply, and its bound values in ``COLUMNS`` order."""


def _sqlite_batch(connection: sqlite3.Connection, now: Any, ids: str, rows: Sequence[_Row],
                  langs: Sequence[tuple[str, str]]) -> Opened:
    """Runs on aiosqlite's thread: the batch's transaction, committed, or rolled back on any error."""
    try:
        opened: Opened = dict(connection.execute(_SQLITE_TOUCH, (now, now, ids, State.CLOSED)).fetchall())
        connection.executemany(_SQLITE_SET_LANG, [(lang, cid, lang) for cid, lang in langs
                                                  if opened.get(cid) == State.BOT])
        connection.executemany(_SQLITE_INSERT, [values for cid, reply, values in rows
                                                if cid in opened and (not reply or opened[cid] == State.BOT)])
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    return opened


class SqliteTurnWriter(TurnWriter):
    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine)
        dialect = engine.dialect
        processors = [_messages.c[key].type.dialect_impl(dialect).bind_processor(dialect) for key in COLUMNS]
        self._process: list[Callable[[Any], Any]] = [p or _same for p in processors]
        self._now = _messages.c.created_at.type.dialect_impl(dialect).bind_processor(dialect) or _same

    def _row(self, message: Message, reply: bool) -> _Row:
        values = tuple(process(getattr(message, key)) for process, key in zip(self._process, COLUMNS, strict=True))
        return message.conversation_id, reply, values

    async def write(self, turns: Sequence[PendingTurn], now: datetime) -> Opened:
        messages = list(self.messages(turns))
        rows = [self._row(message, lang is not None) for message, lang in messages]
        langs = [(message.conversation_id, lang) for message, lang in messages if lang is not None]
        ids = json.dumps(list(dict.fromkeys(turn.message.conversation_id for turn in turns)))
        try:
            async with self.engine.connect() as connection:
                raw = await connection.get_raw_connection()
                aio: Any = raw.driver_connection  # aiosqlite.Connection
                # aiosqlite runs each call on its connection's thread; ``_execute`` queues one function there, as
                # SQLAlchemy's own aiosqlite dialect does for the isolation level. The pool's one connection is
                # checked out meanwhile, so no other statement runs on it.
                return cast(Opened, await aio._execute(_sqlite_batch, aio._conn, self._now(now), ids, rows, langs))
        except sqlite3.IntegrityError as exc:
            raise DuplicateMessage(str(exc)) from exc
        except (sqlite3.Error, DBAPIError, TimeoutError, OSError, ValueError) as exc:
            raise StoreUnavailable(type(exc).__name__) from exc


def _same(value: Any) -> Any:
    return value


# -- PostgreSQL: one statement ---------------------------------------------------------------------------------

_POSTGRES_BATCH = f"""
WITH given AS (
    SELECT * FROM json_to_recordset(CAST($1 AS JSON)) AS m(
        ord INT, reply BOOLEAN, reply_lang TEXT, id TEXT, conversation_id TEXT, sender TEXT, text TEXT,
        client_id TEXT, intent TEXT, confidence FLOAT8, agent_id TEXT, agent_name TEXT, quick_replies JSON,
        intents JSON, urgent BOOLEAN, form_offer JSON)
), touched AS (
    UPDATE conversations AS c SET last_message_at = $2, updated_at = $2,
        lang = CASE WHEN c.state = '{State.BOT}' THEN COALESCE(
            (SELECT g.reply_lang FROM given AS g WHERE g.conversation_id = c.id AND g.reply
             ORDER BY g.ord DESC LIMIT 1), c.lang) ELSE c.lang END
    WHERE c.id IN (SELECT conversation_id FROM given) AND c.state <> '{State.CLOSED}'
    RETURNING c.id, c.state
), stored AS (
    INSERT INTO messages ({', '.join(COLUMNS)})
    SELECT g.id, g.conversation_id, g.sender, g.text, $2, g.client_id, g.intent, g.confidence, g.agent_id,
        g.agent_name, g.quick_replies, g.intents, g.urgent, g.form_offer
    FROM given AS g JOIN touched AS t ON t.id = g.conversation_id
    WHERE NOT g.reply OR t.state = '{State.BOT}'
    ORDER BY g.ord
    RETURNING 1
)
SELECT id, state FROM touched
"""


def _json_row(order: int, message: Message, reply_lang: str | None) -> dict[str, Any]:
    row = {key: getattr(message, key) for key in COLUMNS if key != "created_at"}
    return {**row, "ord": order, "reply": reply_lang is not None, "reply_lang": reply_lang}


class PostgresTurnWriter(TurnWriter):
    async def write(self, turns: Sequence[PendingTurn], now: datetime) -> Opened:
        rows = [_json_row(order, message, lang) for order, (message, lang) in enumerate(self.messages(turns))]
        try:
            async with self.engine.connect() as connection:
                raw = await connection.get_raw_connection()
                postgres: Any = raw.driver_connection  # asyncpg.Connection, outside any transaction: autocommit
                try:
                    # asyncpg prepares the statement once per connection (its statement cache).
                    records = await postgres.fetch(_POSTGRES_BATCH, json.dumps(rows), now)
                except (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError) as exc:
                    raw.invalidate(exc)
                    raise
                return {record["id"]: record["state"] for record in records}
        except asyncpg.UniqueViolationError as exc:
            raise DuplicateMessage(str(exc)) from exc
        except (asyncpg.PostgresError, asyncpg.InterfaceError, DBAPIError, TimeoutError, OSError) as exc:
            raise StoreUnavailable(type(exc).__name__) from exc
