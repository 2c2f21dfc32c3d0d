"""``chatbot apikeys add|list|revoke``: keys of the REST API (``/api/v1/``), from the command line.

A key is printed once, when it is made; the database keeps only its digest. Revoking keeps the row, so the audit
trail's ``apikey:NAME`` rows still name a known key. Each change is appended to the audit trail as ``cli:USER``.

Tested in tests/test_api.py.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable

from chatbot.chat.protocol import iso
from chatbot.cli.representatives import valid_name
from chatbot.shared import config
from chatbot.store import Store, schema
from chatbot.store.audit import cli_actor


async def _add(store: Store, args: argparse.Namespace) -> int:
    try:
        key, secret = await store.create_api_key(args.name)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    await store.append_audit(cli_actor(), "api_key_added", key.name)
    print(f"Added API key {key.name}. Send it as 'Authorization: Bearer <key>' (shown once, keep it secret):")
    print(secret)
    return 0


async def _list(store: Store, args: argparse.Namespace) -> int:
    keys = await store.api_keys()
    if not keys:
        print("No API keys yet: add one with `chatbot apikeys add NAME`.")
    for key in keys:
        status = f"revoked {iso(key.revoked_at)}" if key.revoked_at else "live"
        print(f"{key.name}\tadded {iso(key.created_at)}\t{status}")
    return 0


async def _revoke(store: Store, args: argparse.Namespace) -> int:
    if not await store.revoke_api_key(args.name):
        print(f"error: no live API key named {args.name!r}", file=sys.stderr)
        return 1
    await store.append_audit(cli_actor(), "api_key_revoked", args.name)
    print(f"Revoked {args.name}: it no longer opens the API.")
    return 0


ACTIONS: dict[str, Callable[[Store, argparse.Namespace], Awaitable[int]]] = {
    "add": _add,
    "list": _list,
    "revoke": _revoke,
}


async def _with_store(settings: config.Settings, args: argparse.Namespace) -> int:
    store = Store(settings.database_url)
    try:
        await schema.ensure(store.engine)
        return await ACTIONS[args.action](store, args)
    finally:
        await store.close()


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("apikeys", help="manage keys of the REST API (/api/v1/)")
    actions = parser.add_subparsers(dest="action", required=True)
    for action, text in (("add", "make a key and print it once"), ("revoke", "stop a key from working")):
        action_parser = actions.add_parser(action, help=text)
        action_parser.add_argument("name", type=valid_name, help="who or what uses the key, e.g. crm")
        config.add_setting(action_parser, "database_url")
    config.add_setting(actions.add_parser("list", help="list keys (never the keys themselves)"), "database_url")
    parser.set_defaults(func=lambda args: asyncio.run(_with_store(config.load(args), args)))
