"""The clinic's mail server, from ``CHATBOT_SMTP_URL``: ``smtp://[USER:PASSWORD@]HOST[:PORT]`` or ``smtps://…``.

``smtps://`` speaks TLS from the first byte (port 465 by default). ``smtp://`` (port 587 by default) upgrades
with STARTTLS when the server offers it, and insists on it when the URL carries a user name: a password never
crosses the network in the clear. The user name and password are percent-decoded (``%40`` for an ``@``).

Tested in tests/test_email.py, tests/test_config.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

EXPECTED = "expected smtp://[USER:PASSWORD@]HOST[:PORT] (STARTTLS) or smtps://[USER:PASSWORD@]HOST[:PORT] (TLS)"


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    implicit_tls: bool
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def require_starttls(self) -> bool:
        return not self.implicit_tls and self.username is not None


def parse(url: str) -> SmtpServer:
    """The server a ``CHATBOT_SMTP_URL`` names; ValueError saying what was expected otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValueError(EXPECTED) from None
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname or parts.path not in ("", "/") or port == 0:
        raise ValueError(EXPECTED)
    if parts.query or parts.fragment:
        raise ValueError(EXPECTED)
    if (parts.username is None) != (parts.password is None):
        raise ValueError(f"{EXPECTED}: a user name needs its password, and the other way round")
    implicit = parts.scheme == "smtps"
    return SmtpServer(
        host=parts.hostname,
        port=port or (465 if implicit else 587),
        implicit_tls=implicit,
        username=unquote(parts.username) if parts.username is not None else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


def check(url: str) -> str:
    """``url`` itself when it parses (the settings keep the text, which may hold a password)."""
    parse(url)
    return url
