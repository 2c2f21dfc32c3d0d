"""``chatbot webhooks list|retry|replay``: the outbox of webhook and email deliveries, seen and sent again.

``list`` shows the newest rows (``--status pending|delivered|dead``, ``--since``) with their attempts and last
error; ``retry [ID…]`` sends dead-lettered rows again (all of them without ids), with a new 24 h window;
``replay --since 2h`` sends again every event written since then, delivered or not, with the same event id
(a receiver that lost data rebuilds it; one that deduplicates on ``X-Chatbot-Delivery`` ignores what it has).
The running servers deliver what these commands make due, within a second.

Tested in tests/test_webhooks_cli.py.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime

from chatbot.admin import reports
from chatbot.chat.protocol import iso
from chatbot.shared import config
from chatbot.store import Store, schema
from chatbot.store.outbox import DEAD, DELIVERED, PENDING


async def _list(store: Store, args: argparse.Namespace) -> int:
    rows = await store.outbox_rows(args.status, args.since, args.limit)
    counts = await store.outbox_counts()
    print(f"{counts[PENDING]} pending, {counts[DELIVERED]} delivered, {counts[DEAD]} dead")
    for row in reversed(rows):
        print(f"{row.id}\t{iso(row.created_at)}\t{row.type}\t{row.status}\t{row.attempts} attempt(s)\t"
              f"{_where(row.target)}\t{row.last_error or '-'}")
    return 0


async def _retry(store: Store, args: argparse.Namespace) -> int:
    count = await store.retry_dead(args.ids or None)
    print(f"{count} dead-lettered deliveries will be tried again now.")
    return 0


async def _replay(store: Store, args: argparse.Namespace) -> int:
    count = await store.replay(args.since)
    print(f"{count} deliveries of events since {iso(args.since)} will be sent again now.")
    return 0


def _where(target: str) -> str:
    """The URL's scheme, host and path, never its query (which may carry a receiver's token)."""
    return target.split("?", 1)[0]


async def _with_store(args: argparse.Namespace) -> int:
    store = Store(config.load(args).database_url)
    try:
        await schema.ensure(store.engine)
        return await {"list": _list, "retry": _retry, "replay": _replay}[args.action](store, args)
    finally:
        await store.close()


def _since(value: str) -> datetime:
    """A duration back from now (``2h``, ``7d``) or a moment (``2026-12-01T08:00``, UTC unless it says)."""
    try:
        return reports.ago(value)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a duration (30m, 2h, 7d) or a time (2026-12-01T08:00)") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _limit(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 10_000:
        raise argparse.ArgumentTypeError("expected a whole number from 1 to 10000")
    return int(value)


def _id(value: str) -> int:
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"{value!r}: expected a row id from `chatbot webhooks list`")
    return int(value)


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("webhooks", help="the outbox of webhook and email deliveries: list, retry, replay")
    actions = parser.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="the newest deliveries, with their attempts and last error")
    listing.add_argument("--status", choices=[PENDING, DELIVERED, DEAD], default=None, help="only this status")
    listing.add_argument("--since", type=_since, default=None, help="only events this recent (7d, 12h, or a time)")
    listing.add_argument("--limit", type=_limit, default=100, help="at most this many rows, the newest (default 100)")
    retry = actions.add_parser("retry", help="send dead-lettered deliveries again (all, or these ids)")
    retry.add_argument("ids", nargs="*", type=_id, help="row ids from `webhooks list` (default: every dead one)")
    replay = actions.add_parser("replay", help="send every event since a time again, delivered or not")
    replay.add_argument("--since", type=_since, required=True, help="a duration back from now (2h, 7d) or a time")
    for action in (listing, retry, replay):
        config.add_setting(action, "database_url")
    parser.set_defaults(func=lambda args: asyncio.run(_with_store(args)))
