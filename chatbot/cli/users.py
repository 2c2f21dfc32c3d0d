"""``chatbot users add|list|disable|enable|set-role|reset-password|reset-2fa|totp-key``: staff accounts, from the
command line.

Every change is appended to the audit trail (``chatbot audit``). A password is read from the terminal without
echo (asked twice), or as one line from standard input with ``--password-stdin`` (for scripts); it never appears
in the command line, where ``ps`` and shell history see it.

Tested in tests/test_users.py.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import re
import sys
from collections.abc import Awaitable, Callable

from redis import asyncio as aioredis

from chatbot.chat.protocol import iso
from chatbot.chat.staff import SIGN_INS_CHANNEL, Role
from chatbot.cli.representatives import valid_name
from chatbot.shared import config, passwords, totp
from chatbot.shared.cluster import Channel
from chatbot.store import Store, schema
from chatbot.store.audit import cli_actor
from chatbot.store.sessions import RedisSessions

_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")


class Refused(Exception):
    """The command cannot go on; the message says why."""


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise Refused("the two passwords differ")
    try:
        passwords.check(password)
    except passwords.WeakPassword as exc:
        raise Refused(str(exc)) from None
    return passwords.hash_password(password)


async def _add(store: Store, args: argparse.Namespace) -> int:
    password_hash = _password(args)
    try:
        user = await store.create_user(args.email, args.name, args.role, password_hash)
    except ValueError as exc:
        raise Refused(str(exc)) from None
    await store.append_audit(cli_actor(), "user_added", f"{user.email} as {user.role}")
    print(f"Added {user.role} {user.name} <{user.email}>.")
    return 0


async def _list(store: Store, args: argparse.Namespace) -> int:
    users = await store.users()
    if not users:
        print("No users yet: add one with `chatbot users add EMAIL --name NAME --role agent`.")
    for user in users:
        status = "disabled" if user.disabled else "active"
        factor = "2fa on" if user.totp_secret else "2fa off"
        print(f"{user.email}\t{user.name}\t{user.role}\t{status}\t{factor}\tadded {iso(user.created_at)}")
    return 0


async def _disable(store: Store, args: argparse.Namespace) -> int:
    if await store.set_user_disabled(args.email, True) is None:
        raise Refused(f"no user with the email {args.email!r}")
    await store.append_audit(cli_actor(), "user_disabled", args.email)
    print(f"Disabled {args.email}: their sessions have ended and they cannot sign in.")
    return 0


async def _enable(store: Store, args: argparse.Namespace) -> int:
    if await store.set_user_disabled(args.email, False) is None:
        raise Refused(f"no user with the email {args.email!r}")
    await store.append_audit(cli_actor(), "user_enabled", args.email)
    print(f"Enabled {args.email}.")
    return 0


async def _set_role(store: Store, args: argparse.Namespace) -> int:
    changed = await store.set_user_role(args.email, args.role)
    if changed is None:
        raise Refused(f"no user with the email {args.email!r}")
    await store.append_audit(cli_actor(), "role_changed", f"{args.email}: {changed[1]} -> {args.role}")
    print(f"{args.email}: {changed[1]} -> {args.role}.")
    return 0


async def _reset_password(store: Store, args: argparse.Namespace) -> int:
    password_hash = _password(args)
    if not await store.set_user_password(args.email, password_hash):
        raise Refused(f"no user with the email {args.email!r}")
    await store.append_audit(cli_actor(), "password_reset", args.email)
    print(f"New password set for {args.email}; their sessions have ended.")
    return 0


async def _reset_2fa(store: Store, args: argparse.Namespace) -> int:
    if not await store.remove_totp(args.email):
        raise Refused(f"no user with the email {args.email!r}")
    await store.append_audit(cli_actor(), "totp_reset", args.email)
    print(f"Two-step sign-in is off for {args.email} and their recovery codes are void; they can turn it on again "
          "from the console.")
    return 0


ACTIONS: dict[str, Callable[[Store, argparse.Namespace], Awaitable[int]]] = {
    "add": _add,
    "list": _list,
    "disable": _disable,
    "enable": _enable,
    "set-role": _set_role,
    "reset-password": _reset_password,
    "reset-2fa": _reset_2fa,
}


ENDS_SIGN_INS = frozenset({"disable", "set-role", "reset-password"})
"""Changes after which the servers re-check their open consoles at once (with Redis; else within seconds)."""


async def _tell_servers(store: Store, settings: config.Settings, args: argparse.Namespace) -> None:
    """End the user's sessions kept in Redis (with a password reset or a disabled account), and announce the change
    on the servers' cluster channel, so that every process drops the consoles it ended now rather than at their
    next event or re-check."""
    if not settings.redis_url:
        return
    user = await store.user_by_email(args.email)
    if user is not None and args.action != "set-role":
        redis = aioredis.Redis.from_url(settings.redis_url, socket_connect_timeout=1)
        try:
            await RedisSessions(store, redis, settings.redis_prefix).end_user(user.id)
        finally:
            await redis.aclose()
    channel = Channel(settings.redis_url, f"{settings.redis_prefix}:{SIGN_INS_CHANNEL}", cli_actor())
    try:
        await channel.publish()
    finally:
        await channel.close()


async def _with_store(settings: config.Settings, args: argparse.Namespace) -> int:
    store = Store(settings.database_url)
    try:
        await schema.ensure(store.engine)
        code = await ACTIONS[args.action](store, args)
        if code == 0 and args.action in ENDS_SIGN_INS:
            await _tell_servers(store, settings, args)
        return code
    except Refused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        await store.close()


def _email(value: str) -> str:
    value = value.strip().lower()
    if len(value) > 254 or not _EMAIL.fullmatch(value):
        raise argparse.ArgumentTypeError(f"expected an email address like ana@clinic.example, got {value!r}")
    return value


def _main(args: argparse.Namespace) -> int:
    if args.action == "totp-key":
        print(totp.new_key())
        return 0
    return asyncio.run(_with_store(config.load(args), args))


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("users", help="manage staff accounts (email, password, role)")
    actions = parser.add_subparsers(dest="action", required=True)
    roles = [role.value for role in Role]
    add = actions.add_parser("add", help="create an account (asks for its password)")
    add.add_argument("email", type=_email)
    add.add_argument("--name", type=valid_name, required=True)
    add.add_argument("--role", choices=roles, required=True)
    add.add_argument("--password-stdin", action="store_true", help="read the password as one line of stdin")
    reset = actions.add_parser("reset-password", help="set a new password and end the user's sessions")
    reset.add_argument("email", type=_email)
    reset.add_argument("--password-stdin", action="store_true", help="read the password as one line of stdin")
    set_role = actions.add_parser("set-role", help="change a user's role")
    set_role.add_argument("email", type=_email)
    set_role.add_argument("role", choices=roles)
    for action, text in (("disable", "refuse their sign-ins and end their sessions"), ("enable", "allow again"),
                         ("reset-2fa", "turn their two-step sign-in off (a lost phone); they enrol again")):
        actions.add_parser(action, help=text).add_argument("email", type=_email)
    actions.add_parser("list", help="list staff accounts")
    actions.add_parser("totp-key", help="print a new random value for CHATBOT_TOTP_KEY")
    for action_parser in actions.choices.values():
        for setting in ("database_url", "redis_url", "redis_prefix"):
            config.add_setting(action_parser, setting)
    parser.set_defaults(func=_main)
