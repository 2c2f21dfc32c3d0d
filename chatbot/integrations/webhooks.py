"""Webhooks: an outbox row as a signed HTTP POST, sent so that no receiver can hurt the server.

The body is ``{"id", "type", "created_at", "data"}``; the headers name the event (``X-Chatbot-Event``), the event
id receivers deduplicate on (``X-Chatbot-Delivery``), the time of sending (``X-Chatbot-Timestamp``, Unix seconds)
and ``X-Chatbot-Signature: sha256=<hex HMAC-SHA256 of timestamp + "." + body>`` under ``CHATBOT_WEBHOOK_SECRET``.
Signing the timestamp with the body lets a receiver refuse an old request replayed (docs/integrations.md).

A receiver is never trusted: one request takes at most ``CHATBOT_DELIVERY_TIMEOUT_SECONDS`` in all (a hanging
receiver is a failure), redirects are not followed (a redirect is a failure: a signed body must not be carried
somewhere else), at most ``ANSWER_BYTES`` of the answer are read (a receiver sending 10 MB costs 4 KB), no proxy
from the environment is used, and every address the host resolves to is checked before connecting
(``shared/addresses.py``): the connection goes to the checked addresses only, so a name re-pointed at a private
or metadata address (DNS rebinding) is refused at the next delivery.

Tested in tests/test_webhooks.py.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from chatbot.shared.addresses import host_refusal, literal, refusal
from chatbot.store.models import OutboxEvent

ANSWER_BYTES = 4096
"""How much of a receiver's answer is read (only its status matters); the rest is dropped with the connection."""
USER_AGENT = "clinic-chatbot-webhooks/1"


def body(row: OutboxEvent) -> bytes:
    """The request body: the event as JSON, UTF-8, in a stable key order."""
    event = {"id": row.event_id, "type": row.type, "created_at": row.created_at.isoformat(), "data": row.data}
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def signature(secret: str, timestamp: str, payload: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of timestamp + "." + body>``, the value of ``X-Chatbot-Signature``."""
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + payload, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


class RefusedAddress(OSError):
    """The host resolved to an address webhooks may not reach."""


class GuardedResolver(AbstractResolver):
    """The system resolver, refusing a host when any address it resolves to is refused."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private
        self.inner = aiohttp.ThreadedResolver()

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        found = await self.inner.resolve(host, port, family)
        for result in found:
            address = literal(result["host"])
            reason = "not an IP address" if address is None else refusal(address, self.allow_private)
            if reason is not None:
                raise RefusedAddress(f"{host} resolves to {result['host']}, {reason}")
        return found

    async def close(self) -> None:
        await self.inner.close()


class WebhookSender:
    """One HTTP client for every webhook delivery of the process (connections kept alive between them)."""

    def __init__(self, secret: str, timeout: float, allow_private: bool) -> None:
        self.secret = secret
        self.timeout = timeout
        self.allow_private = allow_private
        self._http: aiohttp.ClientSession | None = None

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            connector = aiohttp.TCPConnector(resolver=GuardedResolver(self.allow_private), use_dns_cache=False,
                                             limit=50)
            self._http = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=self.timeout),
                                               trust_env=False, headers={"User-Agent": USER_AGENT})
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    def headers(self, row: OutboxEvent, payload: bytes) -> dict[str, str]:
        timestamp = str(int(time.time()))
        return {
            "Content-Type": "application/json",
            "X-Chatbot-Event": row.type,
            "X-Chatbot-Delivery": row.event_id,
            "X-Chatbot-Timestamp": timestamp,
            "X-Chatbot-Signature": signature(self.secret, timestamp, payload),
        }

    async def send(self, url: str, row: OutboxEvent) -> str | None:
        """POST the event to ``url``; None when a 2xx came back, else what went wrong (for the outbox row)."""
        host = urlsplit(url).hostname or ""
        reason = host_refusal(host, self.allow_private)
        if reason is not None:  # a literal address skips the resolver: check it here
            return f"refused: {host} is {reason}"
        payload = body(row)
        try:
            async with self._session().post(url, data=payload, headers=self.headers(row, payload),
                                            allow_redirects=False) as response:
                await response.content.read(ANSWER_BYTES)
                return _verdict(response)
        except aiohttp.ClientConnectorError as exc:
            return _connect_error(exc)
        except TimeoutError:
            return f"timed out after {self.timeout:g} s"
        except (aiohttp.ClientError, OSError) as exc:
            return f"{type(exc).__name__}: {exc}"[:300]


def _verdict(response: aiohttp.ClientResponse) -> str | None:
    if 200 <= response.status < 300:
        return None
    if 300 <= response.status < 400:
        return f"HTTP {response.status}: redirects are not followed (to {response.headers.get('Location', '?')})"
    return f"HTTP {response.status}"


def _connect_error(exc: aiohttp.ClientConnectorError) -> str:
    cause: Any = exc.os_error
    if isinstance(cause, RefusedAddress):
        return f"refused: {cause}"
    return f"cannot connect: {exc}"[:300]
