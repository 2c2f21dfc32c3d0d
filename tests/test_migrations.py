"""Alembic migrations: from an empty database, and from the first revision with data in it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from chatbot.store import Store, make_engine, schema
from tests.conftest import need_service
from tests.processes import create_database, drop_database

FIRST_REVISION_ROWS = [
    "INSERT INTO conversations (id, token_hash, state, reason, lang, created_at, updated_at, last_message_at)"
    " VALUES ('c1', 'digest-1', 'closed', 'idle', 'es', '2026-01-01T10:00:00+00:00', '2026-01-01T10:00:00+00:00',"
    " '2026-01-01T10:00:00+00:00')",
    "INSERT INTO messages (id, conversation_id, sender, text, created_at, client_id, quick_replies)"
    " VALUES ('m1', 'c1', 'visitor', 'hola', '2026-01-01T10:00:01+00:00', 'k1', '[]')",
    "INSERT INTO state_changes (conversation_id, from_state, to_state, reason, created_at)"
    " VALUES ('c1', 'bot', 'closed', 'idle', '2026-01-01T10:05:00+00:00')",
]


@pytest.fixture(params=["sqlite", "postgresql"])
async def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrate.db'}"
        return
    try:
        url = await create_database()
    except OSError as exc:
        need_service(f"PostgreSQL on 127.0.0.1:5432 is not reachable: {exc}")
    yield url
    await drop_database(url)


async def test_upgrade_from_empty_reaches_head_and_serves(empty_database: str) -> None:
    engine = make_engine(empty_database)
    try:
        assert await schema.current(engine) is None
        await schema.upgrade(engine)
        assert await schema.current(engine) == schema.head()
        await schema.upgrade(engine)  # idempotent
    finally:
        await engine.dispose()
    store = Store(empty_database)
    try:
        conversation, token = await store.create_conversation("en", None, None)
        assert (await store.conversation_by_token(token)).id == conversation.id
        user = await store.create_user("ana@clinic.example", "Ana", "agent", "argon2-hash")
        assert (await store.user_by_email("ana@clinic.example")).id == user.id
    finally:
        await store.close()


async def test_upgrade_from_first_revision_keeps_the_data(empty_database: str) -> None:
    engine = make_engine(empty_database)
    try:
        await schema.upgrade(engine, "0001")
        async with engine.begin() as connection:
            for statement in FIRST_REVISION_ROWS:
                await connection.execute(text(statement))
        await schema.upgrade(engine)
    finally:
        await engine.dispose()
    store = Store(empty_database)
    try:
        conversation = await store.conversation("c1")
        assert conversation.lang == "es" and conversation.state == "closed" and conversation.rating is None
        assert conversation.offered_agents == []
        assert [(m.text, m.client_id) for m in await store.messages("c1")] == [("hola", "k1")]
    finally:
        await store.close()


async def test_server_refuses_an_out_of_date_postgresql_schema(make_server) -> None:
    try:
        url = await create_database()
    except OSError as exc:
        need_service(f"PostgreSQL on 127.0.0.1:5432 is not reachable: {exc}")
    try:
        engine = make_engine(url)
        await schema.upgrade(engine, "0001")
        await engine.dispose()
        with pytest.raises(schema.SchemaOutOfDate, match="chatbot db upgrade"):
            await make_server(database_url=url)
    finally:
        await drop_database(url)
