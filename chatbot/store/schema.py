"""The database schema's version, through Alembic: upgrade it, or check it is current.

SQLite (the embedded default) upgrades itself at start-up. On PostgreSQL,
several processes share one database, so none of them migrates on its own: a
server facing an old schema refuses to start and says which command to run.

Tested in tests/test_migrations.py.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from chatbot.shared import config
from chatbot.store import make_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class SchemaOutOfDate(Exception):
    """The database is behind the code; the message names the command that fixes it."""


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _upgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def current(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(_current)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema to ``revision``, the newest by default (idempotent)."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade, revision)


async def ensure(engine: AsyncEngine) -> None:
    """Upgrade SQLite in place; on other databases refuse an out-of-date schema."""
    if engine.dialect.name == "sqlite":
        await upgrade(engine)
        return
    found, wanted = await current(engine), head()
    if found != wanted:
        raise SchemaOutOfDate(
            f"the database schema is at revision {found or 'none (empty database)'}, the code needs {wanted}: "
            f"run `chatbot db upgrade --database-url URL` (or `make migrate`) first"
        )


async def _command(args: argparse.Namespace) -> int:
    url = config.load(args).database_url
    engine = make_engine(url)
    try:
        if args.action == "upgrade":
            await upgrade(engine)
        revision = await current(engine)
        print(f"{revision or 'empty'} (head: {head()})")
        return 0
    finally:
        await engine.dispose()


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("db", help="database schema migrations (Alembic)")
    actions = parser.add_subparsers(dest="action", required=True)
    for action, text in (
        ("upgrade", "upgrade the schema to the newest revision"),
        ("current", "print the schema's revision"),
    ):
        config.add_setting(actions.add_parser(action, help=text), "database_url")
    parser.set_defaults(func=lambda args: asyncio.run(_command(args)))
