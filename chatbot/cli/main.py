"""The ``chatbot`` command: ``serve`` and the admin and evaluation tools, one subcommand each.

Tested in tests/test_config.py, tests/test_admin_cli.py.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from aiohttp import web

from chatbot.admin import commands as admin_cli
from chatbot.admin import content as content_cli
from chatbot.bot.intents import IntentError
from chatbot.chat.hours import HoursError
from chatbot.cli import apikeys, audit, collector, users, webhooks
from chatbot.cli import representatives as accounts
from chatbot.cli.supervisor import Supervisor
from chatbot.integrations import delivery as integrations
from chatbot.quality import evaluation
from chatbot.shared import config
from chatbot.store import schema


def _event_loop(choice: str) -> asyncio.AbstractEventLoop:
    """uvloop when asked for or, with ``auto``, when installed (it is, except on Windows); else asyncio's own."""
    if choice == "asyncio":
        return asyncio.new_event_loop()
    try:
        import uvloop
    except ImportError:
        if choice == "uvloop":
            raise
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def _serve(args: argparse.Namespace) -> int:
    settings = config.load(args)
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        integrations.check(settings)
    except integrations.IntegrationError as exc:
        print(f"cannot start: {exc}", file=sys.stderr)
        return 2
    if settings.workers > 1:
        if not settings.redis_url:
            print(
                "cannot start: --workers above 1 needs CHATBOT_REDIS_URL (events must cross processes)", file=sys.stderr
            )
            return 2
        return Supervisor(config.as_arguments(args), settings.workers).run()
    from chatbot.web.app import create_app  # heavy imports only for the server

    try:
        app = create_app(settings)
    except IntentError as exc:
        print(f"cannot start: the intent files have problems:\n{exc}", file=sys.stderr)
        return 1
    except HoursError as exc:
        print(f"cannot start: the business hours file has problems:\n{exc}", file=sys.stderr)
        return 1

    try:
        loop = _event_loop(settings.event_loop)
    except ImportError:
        print("cannot start: --event-loop uvloop, but uvloop is not installed", file=sys.stderr)
        return 2
    collector.tune()
    loop_name = "uvloop" if type(loop).__module__.startswith("uvloop") else "asyncio"
    print(f"chatbot listening on http://{settings.host}:{settings.port} (event loop: {loop_name})", flush=True)
    try:
        web.run_app(
            app,
            host=settings.host,
            port=settings.port,
            print=None,
            shutdown_timeout=5,
            reuse_port=args.reuse_port or None,
            loop=loop,
        )
    except schema.SchemaOutOfDate as exc:
        print(f"cannot start: {exc}", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chatbot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the chat server")
    config.add_arguments(serve)
    serve.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)
    serve.set_defaults(func=_serve)
    accounts.register(commands)
    users.register(commands)
    audit.register(commands)
    webhooks.register(commands)
    apikeys.register(commands)
    schema.register(commands)
    admin_cli.register(commands)
    content_cli.register(commands)
    evaluation.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))
