"""``chatbot audit [--since 7d] [--user EMAIL]`` lists the audit trail; ``chatbot audit verify`` checks its chain.

``verify`` exits 1 and names every broken row when a row was changed, inserted or deleted; it prints the last
row's hash, which an operator may write down elsewhere: rows cut from the end leave a valid but shorter chain,
whose last hash then differs from the one written down.

Tested in tests/test_audit.py.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime

from chatbot.admin import reports
from chatbot.chat.protocol import iso
from chatbot.shared import config
from chatbot.store import Store, schema


async def _list(store: Store, args: argparse.Namespace) -> int:
    rows = await store.audit_rows(args.since, args.user, args.limit)
    if not rows:
        print("No audit rows match.")
    for row in reversed(rows):
        print(f"{row.id}\t{iso(row.at)}\t{row.actor}\t{row.action}\t{row.target or '-'}\t{row.address or '-'}")
    return 0


async def _verify(store: Store, args: argparse.Namespace) -> int:
    verified = await store.verify_audit()
    for problem in verified.problems:
        print(f"broken: {problem}", file=sys.stderr)
    if verified.problems:
        print(f"The audit trail is BROKEN: {len(verified.problems)} problem(s) in {verified.rows} rows.")
        return 1
    print(f"The audit trail is intact: {verified.rows} rows, last hash {verified.head}.")
    return 0


async def _with_store(args: argparse.Namespace) -> int:
    store = Store(config.load(args).database_url)
    try:
        await schema.ensure(store.engine)
        return await (_verify if args.action == "verify" else _list)(store, args)
    finally:
        await store.close()


def _since(value: str) -> datetime:
    try:
        return reports.ago(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _limit(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 10_000:
        raise argparse.ArgumentTypeError("expected a whole number from 1 to 10000")
    return int(value)


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("audit", help="list the audit trail, or verify its hash chain")
    parser.add_argument("action", nargs="?", choices=["list", "verify"], default="list",
                        help="list (the default) or verify")
    parser.add_argument("--since", type=_since, default=None, help="only rows this recent (a duration: 7d, 12h)")
    parser.add_argument("--user", type=str.lower, default=None,
                        help="only this actor (an email, admin-token, cli:USER)")
    parser.add_argument("--limit", type=_limit, default=100, help="at most this many rows, the newest (default 100)")
    config.add_setting(parser, "database_url")
    parser.set_defaults(func=lambda args: asyncio.run(_with_store(args)))
