"""Alembic environment: runs on the connection the server hands over, or on its own engine from the CLI."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from chatbot.store import make_engine
from chatbot.store.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection, target_metadata=target_metadata, render_as_batch=connection.dialect.name == "sqlite"
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine(url: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
    else:
        url = config.get_main_option("sqlalchemy.url")
        if url is None:
            raise RuntimeError("no sqlalchemy.url: run migrations through chatbot db upgrade")
        asyncio.run(_run_with_own_engine(url))


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
