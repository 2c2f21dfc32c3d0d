"""``chatbot agents add|list|remove|rotate``: representative accounts, from the command line.

Tested in tests/test_representatives.py.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable

from chatbot.chat.protocol import iso
from chatbot.shared import config
from chatbot.store import Store, schema


async def _with_store(settings: config.Settings, args: argparse.Namespace) -> int:
    store = Store(settings.database_url)
    try:
        await schema.ensure(store.engine)
        return await ACTIONS[args.action](store, args)
    finally:
        await store.close()


async def _add(store: Store, args: argparse.Namespace) -> int:
    try:
        agent, token = await store.create_agent(args.name)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Added representative {agent.name} ({agent.id}).")
    print("Their sign-in token (shown once, keep it secret):")
    print(token)
    return 0


async def _list(store: Store, args: argparse.Namespace) -> int:
    agents = await store.agents()
    if not agents:
        print("No representatives yet: add one with `chatbot agents add NAME`.")
    for agent in agents:
        print(f"{agent.name}\t{agent.id}\tadded {iso(agent.created_at)}")
    return 0


async def _remove(store: Store, args: argparse.Namespace) -> int:
    if not await store.remove_agent(args.name):
        print(f"error: no representative named {args.name!r}", file=sys.stderr)
        return 1
    print(f"Removed {args.name}.")
    return 0


async def _rotate(store: Store, args: argparse.Namespace) -> int:
    token = await store.rotate_agent(args.name)
    if token is None:
        print(f"error: no representative named {args.name!r}", file=sys.stderr)
        return 1
    print(f"New token for {args.name} (the old one no longer works):")
    print(token)
    return 0


ACTIONS: dict[str, Callable[[Store, argparse.Namespace], Awaitable[int]]] = {
    "add": _add,
    "list": _list,
    "remove": _remove,
    "rotate": _rotate,
}


def valid_name(value: str) -> str:
    """A person's display name for the console and the visitor: 1 to 80 characters (staff and token accounts)."""
    value = value.strip()
    if not 0 < len(value) <= 80:
        raise argparse.ArgumentTypeError("a name is 1 to 80 characters")
    return value


def _main(args: argparse.Namespace) -> int:
    return asyncio.run(_with_store(config.load(args), args))


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("agents", help="manage representative accounts")
    actions = parser.add_subparsers(dest="action", required=True)
    for action, text in (
        ("add", "create one and print its token once"),
        ("remove", "delete one"),
        ("rotate", "issue a new token, revoking the old"),
    ):
        action_parser = actions.add_parser(action, help=text)
        action_parser.add_argument("name", type=valid_name)
        config.add_setting(action_parser, "database_url")
    config.add_setting(actions.add_parser("list", help="list representatives"), "database_url")
    parser.set_defaults(func=_main)
