"""Settings, read once from flags and ``CHATBOT_*`` environment variables, then passed down.

Every setting is declared once in ``OPTIONS``: the flag, the variable, the
default and the help text all come from that one row, so the README table,
``--help`` and the code cannot drift apart. A flag beats its variable, which
beats the default.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from chatbot.shared import smtp
from chatbot.shared.addresses import webhook_urls
from chatbot.shared.totp import parse_key
from chatbot.shared.values import flag, number, whole_number


@dataclass(frozen=True)
class Option:
    """One setting: its field name, parser and help text; the default is the ``Settings`` field's."""

    name: str
    parse: Callable[[str], Any]
    help: str
    alias: str | None = None
    secret: bool = False  # its value is never echoed in an error (it may hold a password)

    @property
    def default(self) -> Any:
        return _DEFAULTS[self.name]

    @property
    def env(self) -> str:
        return "CHATBOT_" + self.name.upper()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


def _boolean(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false")


def _routing(value: str) -> str:
    if value not in ("manual", "auto"):
        raise ValueError("expected manual or auto")
    return value


def _event_loop(value: str) -> str:
    if value not in ("auto", "uvloop", "asyncio"):
        raise ValueError("expected auto, uvloop or asyncio")
    return value


def _encoder(value: str) -> str:
    if value not in ("auto", "on", "off"):
        raise ValueError("expected auto, on or off")
    return value


def _roles(value: str) -> tuple[str, ...]:
    roles = ("agent", "supervisor", "admin")
    if value.strip().lower() == "all":
        return roles
    chosen = tuple(part.strip().lower() for part in value.split(",") if part.strip())
    unknown = [role for role in chosen if role not in roles]
    if unknown:
        raise ValueError(f"expected all, or roles among {', '.join(roles)}; not {', '.join(unknown)}")
    return chosen


def _origins(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _emails(value: str) -> tuple[str, ...]:
    addresses = _origins(value)
    for address in addresses:
        local, at, domain = address.rpartition("@")
        if not at or not local or "." not in domain or any(c.isspace() or c in "<>,;\"" for c in address):
            raise ValueError(f"{address!r}: expected NAME@DOMAIN, comma-separated for several")
    return addresses


def _public_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError("expected http(s)://HOST[:PORT][/PATH], the address staff open the console at")
    return value


OPTIONS: tuple[Option, ...] = (
    Option("host", str, "address to listen on"),
    Option("port", whole_number(0, 65535), "TCP port to listen on"),
    Option("database_url", str, "SQLAlchemy async URL: sqlite+aiosqlite:///FILE or postgresql+asyncpg://USER@HOST/DB"),
    Option("intents_dir", Path, "folder of intent YAML files", alias="--intents"),
    Option("forms_dir", Path, "folder of form YAML files (forms/README.md); reloaded with the intents; a missing "
           "folder has no forms"),
    Option("prechat_form", str, "id of a form (in the forms folder) visitors fill in before their first message; "
           "empty = none"),
    Option("transcripts_dir", Path, "folder where closed conversations' transcripts are written"),
    Option("admin_token", str, "bearer token for /admin/ endpoints; empty disables the admin API"),
    Option("log_level", str, "DEBUG, INFO, WARNING or ERROR (visitor text is logged at DEBUG only)"),
    Option("threshold", number(0, 1),
           "confidence below which the bot hands off (default: the matcher's calibrated value)"),
    Option("sentence_encoder", _encoder, "auto (where installed), on or off: the English matcher's second stage, "
           "a MiniLM sentence encoder for the messages the fast stage is unsure of (docs/matcher.md)"),
    Option("rate_burst", whole_number(1), "messages a conversation may send in a burst"),
    Option("rate_per_second", number(0, above=True), "sustained messages per second per conversation"),
    Option("allowed_origins", _origins, "comma-separated origins allowed for Socket.IO and CORS, * for any"),
    Option("redis_url", str, "redis://HOST:PORT/DB to share Socket.IO events, presence, limits and staff sessions "
           "across processes; empty = one process (sessions in the database)"),
    Option("redis_prefix", str, "prefix of every Redis key and of the Socket.IO channel (one per deployment)"),
    Option("event_loop", _event_loop, "auto (uvloop where installed, else asyncio), uvloop or asyncio: uvloop spends "
           "8-14% less CPU per reply (docs/performance.md)"),
    Option("commit_window_ms", number(0, 100), "group commit: milliseconds the writer waits for more visitors' and "
           "representatives' messages after the first, to store them in one transaction, when messages are already "
           "waiting; one that finds none waiting is stored at once (docs/performance.md)"),
    Option("commit_batch", whole_number(1), "group commit: at most this many messages per transaction"),
    Option("workers", whole_number(1),
           "server processes sharing the port (SO_REUSEPORT); more than 1 needs CHATBOT_REDIS_URL"),
    Option("max_connections_per_ip", whole_number(1), "open sockets one address may hold on one process"),
    Option("new_conversations_per_minute", whole_number(1), "new conversations one address may start per minute"),
    Option("failed_sign_ins_per_minute", whole_number(1),
           "failed representative or admin sign-ins one address may make before it is blocked for a minute"),
    Option("session_idle_minutes", whole_number(1),
           "staff sign-ins (POST /auth/login) end after this many minutes without use (and after 12 hours in all)"),
    Option("require_2fa", _roles, "roles that must sign in with a second factor (TOTP): all, or a comma-separated "
           "list such as supervisor,admin; empty = none (each person may still turn it on)"),
    Option("totp_key", parse_key, "32 random bytes, URL-safe base64 (`chatbot users totp-key` makes one): seals "
           "staff TOTP secrets in the database; empty = two-step sign-in cannot be turned on"),
    Option("trust_proxy", _boolean, "take the client address from X-Forwarded-For (only behind your own proxy)"),
    Option("content_dir", Path, "content snapshot (chatbot content import): passages offered to representatives when "
           "no intent is confident; a missing folder offers none"),
    Option("hours_file", Path, "YAML file of representatives' business hours (docs/hours.md); empty = always open"),
    Option("routing", _routing, "manual (representatives take from the queue) or auto (conversations are offered)"),
    Option("offer_seconds", number(0, above=True), "auto routing: how long a representative has to accept an offer"),
    Option("agent_capacity", whole_number(1), "conversations a representative may hold at once"),
    Option("agent_grace_seconds", number(0), "how long a disconnected representative keeps their conversations"),
    Option("idle_bot_seconds", number(0, above=True),
           "close a conversation in state bot after this long without a message"),
    Option("idle_seconds", number(0, above=True),
           "close a queued or agent conversation after this long without a message"),
    Option("webhook_url", webhook_urls, "comma-separated http(s) URLs every event is POSTed to, signed "
           "(docs/integrations.md); needs CHATBOT_WEBHOOK_SECRET"),
    Option("webhook_secret", str, "the key of the webhooks' HMAC-SHA256 signature (X-Chatbot-Signature)"),
    Option("webhook_allow_private", _boolean,
           "let webhooks reach loopback and private addresses (tests, intranets); link-local and cloud metadata "
           "addresses are always refused"),
    Option("webhook_retry_first_seconds", number(0, 30, above=True),
           "delay before the first retry of a failed delivery; later ones back off exponentially, with jitter, "
           "for up to 24 h"),
    Option("delivery_timeout_seconds", number(0, 120, above=True),
           "the most one webhook request or one email may take before it counts as failed"),
    Option("smtp_url", smtp.check, "the clinic's mail server: smtp://[USER:PASSWORD@]HOST[:PORT] (STARTTLS) or "
           "smtps://… (TLS); with CHATBOT_NOTIFY_EMAIL, emails contact details left and urgent handoffs when "
           "nobody is online", secret=True),
    Option("notify_email", _emails, "comma-separated addresses the clinic's notifications are emailed to"),
    Option("email_from", str, "the From address of notification emails (default: the first CHATBOT_NOTIFY_EMAIL)"),
    Option("email_include_text", _boolean,
           "put the conversation's messages in notification emails (health data: by default they hold only a "
           "link to the console)"),
    Option("public_url", _public_url, "the server's address as staff reach it, for the console links in emails "
           "(default http://HOST:PORT)"),
)


@dataclass(frozen=True)
class Settings:
    """The server's whole configuration; tests build their own with ``dataclasses.replace``."""

    host: str = "127.0.0.1"
    port: int = 8080
    database_url: str = "sqlite+aiosqlite:///chatbot.db"
    intents_dir: Path = Path("intents")
    forms_dir: Path = Path("forms")
    prechat_form: str = ""
    transcripts_dir: Path = Path("transcripts")
    admin_token: str = field(default="", repr=False)
    log_level: str = "INFO"
    threshold: float | None = None
    sentence_encoder: str = "auto"
    rate_burst: int = 10
    rate_per_second: float = 2.0
    allowed_origins: tuple[str, ...] = ("*",)
    redis_url: str = field(default="", repr=False)
    redis_prefix: str = "chatbot"
    event_loop: str = "auto"
    commit_window_ms: float = 2.0
    commit_batch: int = 64
    workers: int = 1
    max_connections_per_ip: int = 20
    new_conversations_per_minute: int = 10
    failed_sign_ins_per_minute: int = 5
    session_idle_minutes: int = 30
    require_2fa: tuple[str, ...] = ()
    totp_key: str = field(default="", repr=False)
    trust_proxy: bool = False
    content_dir: Path = Path("content")
    hours_file: Path | None = None
    routing: str = "manual"
    offer_seconds: float = 30.0
    agent_capacity: int = 5
    agent_grace_seconds: float = 60.0
    idle_bot_seconds: float = 1800.0
    idle_seconds: float = 7200.0
    webhook_url: tuple[str, ...] = ()
    webhook_secret: str = field(default="", repr=False)
    webhook_allow_private: bool = False
    webhook_retry_first_seconds: float = 10.0
    delivery_timeout_seconds: float = 10.0
    smtp_url: str = field(default="", repr=False)
    notify_email: tuple[str, ...] = ()
    email_from: str = ""
    email_include_text: bool = False
    public_url: str = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Defaults overridden by any ``CHATBOT_*`` variables that are set."""
        environ = os.environ if environ is None else environ
        values = {}
        for option in OPTIONS:
            raw = environ.get(option.env)
            if raw is not None and raw != "":
                values[option.name] = _parse(option, raw)
        return cls(**values)

    def with_args(self, args: argparse.Namespace) -> Settings:
        """These settings with every flag that was given on the command line."""
        given = {o.name: getattr(args, o.name) for o in OPTIONS if getattr(args, o.name, None) is not None}
        return dataclasses.replace(self, **given)


_DEFAULTS = {f.name: f.default for f in dataclasses.fields(Settings)}


def _parse(option: Option, raw: str) -> Any:
    try:
        return option.parse(raw)
    except ValueError as exc:
        shown = "(not shown)" if option.secret else repr(raw)
        raise SystemExit(f"{option.env}={shown}: {exc}") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add one flag per setting; unset flags stay ``None`` so the environment shows through."""
    for option in OPTIONS:
        _add(parser, option)


def add_setting(parser: argparse.ArgumentParser, name: str) -> None:
    """The flag of one setting, for the commands that need only a few (its ``CHATBOT_*`` variable applies too)."""
    _add(parser, next(o for o in OPTIONS if o.name == name))


def _add(parser: argparse.ArgumentParser, option: Option) -> None:
    flags = (option.flag, option.alias) if option.alias else (option.flag,)
    parser.add_argument(
        *flags,
        dest=option.name,
        type=flag(option.parse, show=not option.secret),
        default=None,
        help=f"{option.help} [{option.env}, default {option.default!r}]",
    )


def as_arguments(args: argparse.Namespace) -> list[str]:
    """The flags that were given, as a command line again (to start worker processes with)."""
    given: list[str] = []
    for option in OPTIONS:
        value = getattr(args, option.name, None)
        if value is not None and option.name != "workers":
            given += [option.flag, ",".join(value) if isinstance(value, tuple) else str(value)]
    return given


def load(args: argparse.Namespace | None = None) -> Settings:
    """Settings from the environment, then the flags."""
    settings = Settings.from_env()
    return settings.with_args(args) if args is not None else settings
